"""Schema steps of the leads module (`core.migrate`: `v<version>__<slug>.py`, run once each)."""
