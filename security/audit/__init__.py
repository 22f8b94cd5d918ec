"""security.audit (being built)."""
