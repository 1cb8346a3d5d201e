"""Personal-data rights: subject-access export, erasure, retention (docs/privacy.md)."""
