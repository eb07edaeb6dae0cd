"""The witness's tables (SQLAlchemy Core); migrations/ makes them, nothing else does."""

import sqlalchemy as sa

VERSION_TABLE = "witness_alembic_version"
METADATA = sa.MetaData()

# One row per log (origin): the latest checkpoint this witness cosigned. `size` and `root` are
# what every later checkpoint must be consistent with; `timestamp` is the time of the latest
# cosignature (never moves back, even if the clock does); `note` is that checkpoint with the
# log's signature and this witness's cosignature, as the monitoring endpoint serves it.
# A log never cosigned has no row: its size is 0 (the empty tree).
LOGS = sa.Table(
    "witness_logs",
    METADATA,
    sa.Column("origin", sa.Text(), primary_key=True),
    sa.Column("size", sa.BigInteger(), nullable=False),
    sa.Column("root", sa.LargeBinary(length=32), nullable=False),
    sa.Column("timestamp", sa.BigInteger(), nullable=False),
    sa.Column("note", sa.Text(), nullable=False),
)

# Checkpoints validly signed by a log's key but refused as inconsistent with the recorded one
# (a 422): evidence that the log showed someone a forked or rewritten history.
REFUSALS = sa.Table(
    "witness_refusals",
    METADATA,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("origin", sa.Text(), nullable=False, index=True),
    sa.Column("received_at", sa.BigInteger(), nullable=False),
    sa.Column("old_size", sa.BigInteger(), nullable=False),
    sa.Column("size", sa.BigInteger(), nullable=False),
    sa.Column("reason", sa.Text(), nullable=False),
    sa.Column("note", sa.Text(), nullable=False),
)
