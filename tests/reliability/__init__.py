"""Reliability and security: crashes, concurrency, tampering, hostile input, authorisation."""
