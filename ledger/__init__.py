"""ree-ledger: a verifiable traceability ledger for rare-earth material."""
