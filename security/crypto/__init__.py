"""security.crypto (being built)."""
