"""Orchestration: ingest, queries and audit, joining the store to the pure core."""
