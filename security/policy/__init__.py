"""security.policy (being built)."""
