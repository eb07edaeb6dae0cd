"""Flags, each lot's history (lot_events), and the lot facts the rules read.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "flags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idx", sa.BigInteger(), nullable=False),
        sa.Column("event_hash", sa.String(length=64), nullable=False),
        sa.Column("lot", sa.String(length=64), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("severity", sa.String(length=8), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_flags_code_idx", "flags", ["code", "idx"], unique=False)
    op.create_index(op.f("ix_flags_idx"), "flags", ["idx"], unique=False)
    op.create_index(op.f("ix_flags_lot"), "flags", ["lot"], unique=False)

    op.create_table(
        "lot_events",
        sa.Column("lot", sa.String(length=64), nullable=False),
        sa.Column("idx", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("lot", "idx"),
    )
    with op.batch_alter_table("lots", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deposit", sa.String(length=16), nullable=True))
        # Lots written before this revision get an empty time: the rules treat it as unknown.
        batch_op.add_column(
            sa.Column("time", sa.String(length=32), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("shipped_mass_g", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("lots", schema=None) as batch_op:
        batch_op.drop_column("shipped_mass_g")
        batch_op.drop_column("time")
        batch_op.drop_column("deposit")

    op.drop_table("lot_events")
    op.drop_index(op.f("ix_flags_lot"), table_name="flags")
    op.drop_index(op.f("ix_flags_idx"), table_name="flags")
    op.drop_index("ix_flags_code_idx", table_name="flags")

    op.drop_table("flags")
