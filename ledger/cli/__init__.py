"""The `ree-ledger` command: one small module per verb group."""
