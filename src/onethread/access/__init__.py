"""Staff, teams, roles, principals, permission checks, tokens and the audit log."""
