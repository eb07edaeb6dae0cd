"""A witness's state: the latest cosigned checkpoint of each log, and refused forks.

Revision ID: w0001
Revises:
Create Date: 2026-12-06

`witness_logs` holds, per origin, the size, root and time of the latest checkpoint the
witness cosigned and that note with its cosignature; `witness_refusals` the checkpoints
validly signed by a log but inconsistent with it. The downgrade drops both.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "w0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "witness_logs",
        sa.Column("origin", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("root", sa.LargeBinary(length=32), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("origin"),
    )
    op.create_table(
        "witness_refusals",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("origin", sa.Text(), nullable=False),
        sa.Column("received_at", sa.BigInteger(), nullable=False),
        sa.Column("old_size", sa.BigInteger(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_witness_refusals_origin", "witness_refusals", ["origin"])


def downgrade() -> None:
    op.drop_index("ix_witness_refusals_origin", table_name="witness_refusals")
    op.drop_table("witness_refusals")
    op.drop_table("witness_logs")
