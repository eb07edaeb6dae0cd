"""The log stores no time it does not sign: entries.integrated_at and checkpoints.signed_at go.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05

Both were the server's clock at acceptance, signed by nobody: editing them was invisible to
the audit, yet the EPCIS export showed the first as recordTime. Signed times of the log will
come from witness cosignatures (DESIGN §9.3). The downgrade re-adds the columns nullable:
the times dropped are gone, and an unknown time is better than a made-up one.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("entries") as batch:
        batch.drop_column("integrated_at")
    with op.batch_alter_table("checkpoints") as batch:
        batch.drop_column("signed_at")


def downgrade() -> None:
    with op.batch_alter_table("checkpoints") as batch:
        batch.add_column(sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("entries") as batch:
        batch.add_column(sa.Column("integrated_at", sa.DateTime(timezone=True), nullable=True))
