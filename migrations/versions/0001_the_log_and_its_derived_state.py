"""The log (entries, tree nodes, checkpoints) and the state derived from it.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "checkpoints",
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("root", sa.LargeBinary(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("size"),
    )
    op.create_table(
        "declarations",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("exporter", sa.String(length=64), nullable=False),
        sa.Column("lots", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("declared_index", sa.BigInteger(), nullable=False),
        sa.Column("hs_code", sa.String(length=10), nullable=False),
        sa.Column("declared_mass_g", sa.BigInteger(), nullable=False),
        sa.Column("destination", sa.String(length=2), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "entries",
        sa.Column("idx", sa.BigInteger(), nullable=False),
        sa.Column("envelope", sa.LargeBinary(), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("event_hash", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.String(length=128), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("keyid", sa.String(length=96), nullable=False),
        sa.Column("integrated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("idx"),
        sa.UniqueConstraint("event_id"),
    )
    op.create_index(op.f("ix_entries_actor"), "entries", ["actor"], unique=False)
    op.create_index(op.f("ix_entries_event_hash"), "entries", ["event_hash"], unique=False)

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
        "ledger_meta",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "log_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("root", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    # The sequencer's row: an empty tree (RFC 9162: the root of size 0 is SHA-256 of nothing).
    op.bulk_insert(
        sa.table(
            "log_head",
            sa.column("id", sa.Integer()),
            sa.column("size", sa.BigInteger()),
            sa.column("root", sa.LargeBinary()),
        ),
        [{"id": 1, "size": 0, "root": hashlib.sha256(b"").digest()}],
    )
    op.create_table(
        "lot_edges",
        sa.Column("child", sa.String(length=64), nullable=False),
        sa.Column("parent", sa.String(length=64), nullable=False),
        sa.Column("mass_g", sa.BigInteger(), nullable=False),
        sa.Column("idx", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("child", "parent"),
    )
    op.create_index(op.f("ix_lot_edges_parent"), "lot_edges", ["parent"], unique=False)

    op.create_table(
        "lot_events",
        sa.Column("lot", sa.String(length=64), nullable=False),
        sa.Column("idx", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("lot", "idx"),
    )
    op.create_table(
        "lots",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("product", sa.String(length=32), nullable=False),
        sa.Column("spec", sa.String(length=64), nullable=True),
        sa.Column("mass_g", sa.BigInteger(), nullable=False),
        sa.Column("composition_ppm", sa.JSON(), nullable=False),
        sa.Column("custodian", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("head", sa.String(length=64), nullable=False),
        sa.Column("created_index", sa.BigInteger(), nullable=False),
        sa.Column("updated_index", sa.BigInteger(), nullable=False),
        sa.Column("pending_to", sa.String(length=64), nullable=True),
        sa.Column("origins", sa.JSON(), nullable=False),
        sa.Column("deposit", sa.String(length=16), nullable=True),
        sa.Column("time", sa.String(length=32), nullable=False),
        sa.Column("shipped_mass_g", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_lots_custodian_status", "lots", ["custodian", "status"], unique=False)

    op.create_table(
        "participant_keys",
        sa.Column("keyid", sa.String(length=96), nullable=False),
        sa.Column("participant", sa.String(length=64), nullable=False),
        sa.Column("public_key", sa.LargeBinary(length=32), nullable=False),
        sa.Column("valid_from", sa.BigInteger(), nullable=False),
        sa.Column("revoked_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("keyid"),
    )
    op.create_index(
        op.f("ix_participant_keys_participant"), "participant_keys", ["participant"], unique=False
    )

    op.create_table(
        "participants",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("registered_index", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "read_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("participant", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    op.create_index(
        op.f("ix_read_tokens_participant"), "read_tokens", ["participant"], unique=False
    )

    op.create_table(
        "tree_nodes",
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("idx", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("level", "idx"),
    )


def downgrade() -> None:
    op.drop_table("tree_nodes")
    op.drop_index(op.f("ix_read_tokens_participant"), table_name="read_tokens")

    op.drop_table("read_tokens")
    op.drop_table("participants")
    op.drop_index(op.f("ix_participant_keys_participant"), table_name="participant_keys")

    op.drop_table("participant_keys")
    op.drop_index("ix_lots_custodian_status", table_name="lots")

    op.drop_table("lots")
    op.drop_table("lot_events")
    op.drop_index(op.f("ix_lot_edges_parent"), table_name="lot_edges")

    op.drop_table("lot_edges")
    op.drop_table("log_head")
    op.drop_table("ledger_meta")
    op.drop_index(op.f("ix_flags_lot"), table_name="flags")
    op.drop_index(op.f("ix_flags_idx"), table_name="flags")
    op.drop_index("ix_flags_code_idx", table_name="flags")

    op.drop_table("flags")
    op.drop_index(op.f("ix_entries_event_hash"), table_name="entries")
    op.drop_index(op.f("ix_entries_actor"), table_name="entries")

    op.drop_table("entries")
    op.drop_table("declarations")
    op.drop_table("checkpoints")
