"""Verification in numbered steps: one entry, the whole log (docs/verification.md)."""
