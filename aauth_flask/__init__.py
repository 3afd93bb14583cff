"""AAuth adapter (being built)."""
