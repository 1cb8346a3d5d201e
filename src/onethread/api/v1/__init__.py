"""onethread's own resources under /api/v1 (what TMF does not model)."""
