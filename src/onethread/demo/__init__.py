"""Demo data: the customers of the five stories told in docs/stories.md."""
