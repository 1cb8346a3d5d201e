"""Full-text search over contacts, cases and customers (docs/search.md)."""
