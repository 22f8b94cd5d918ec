"""security.auth (being built)."""
