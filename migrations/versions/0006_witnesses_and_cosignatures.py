"""Witnesses, the quorum, their cosignatures and the submitter's lease (DESIGN §9.3).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06

`witnesses` names the witnesses the log submits its checkpoints to (`ree-ledger witness
add`), `witness_quorum` how many of them must cosign a checkpoint before `GET /v1/checkpoint`
serves it (0: none, as in v1), `cosignatures` the cosignature lines they sent, one per
witness and checkpoint size, and `witness_lease` which serving process submits (one per
database). A log written before this revision has no witness: quorum 0, no cosignature, so
it is served as before. The downgrade drops them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "witnesses",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("vkey", sa.String(length=512), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
        sa.UniqueConstraint("vkey"),
    )
    op.create_table(
        "witness_quorum",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("quorum", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "cosignatures",
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("vkey", sa.String(length=512), nullable=False),
        sa.Column("line", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("size", "vkey"),
    )
    op.create_table(
        "witness_lease",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=False),
        sa.Column("expires_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.bulk_insert(
        sa.table("witness_quorum", sa.column("id", sa.Integer()), sa.column("quorum")),
        [{"id": 1, "quorum": 0}],
    )
    op.bulk_insert(
        sa.table(
            "witness_lease",
            sa.column("id", sa.Integer()),
            sa.column("holder", sa.String()),
            sa.column("expires_ms", sa.BigInteger()),
        ),
        [{"id": 1, "holder": "", "expires_ms": 0}],
    )


def downgrade() -> None:
    op.drop_table("witness_lease")
    op.drop_table("cosignatures")
    op.drop_table("witness_quorum")
    op.drop_table("witnesses")
