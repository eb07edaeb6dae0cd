"""Persistence: SQLModel tables, engine, repository and the sequencer."""
