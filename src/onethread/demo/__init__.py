"""Demo data: the customers of the five stories in SCENARIOS.md."""
