"""Export licences and mining quotas with their running totals (DESIGN §9.1).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05

`licences` and `quotas` hold what licence.issue, licence.revoke and quota.issue recorded and
the totals the declarations and extractions drew (ledger/lots/licences.py);
`declarations.licence` and `declarations.licence_g` name the licence a declaration draws and
the grams it holds against it. A log written before this revision holds no authority event:
the tables start empty, no declaration draws a licence (licence NULL, licence_g 0), and the
audit's replay finds the same. The downgrade drops them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "licences",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("authority", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=False),
        sa.Column("elements", sa.JSON(), nullable=False),
        sa.Column("destination", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("hs_codes", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("max_mass_g", sa.BigInteger(), nullable=False),
        sa.Column("valid_from", sa.String(length=32), nullable=False),
        sa.Column("valid_until", sa.String(length=32), nullable=False),
        sa.Column("issued_index", sa.BigInteger(), nullable=False),
        sa.Column("revoked_index", sa.BigInteger(), nullable=True),
        sa.Column("used_g", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "quotas",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("authority", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=False),
        sa.Column("year", sa.BigInteger(), nullable=False),
        sa.Column("reo_mass_g", sa.BigInteger(), nullable=False),
        sa.Column("deposit", sa.String(length=16), nullable=True),
        sa.Column("issued_index", sa.BigInteger(), nullable=False),
        sa.Column("used_g", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_quotas_holder_year", "quotas", ["holder", "year"], unique=False)
    with op.batch_alter_table("declarations") as batch:
        batch.add_column(sa.Column("licence", sa.String(length=128), nullable=True))
        batch.add_column(
            sa.Column("licence_g", sa.BigInteger(), nullable=False, server_default="0")
        )
    # The default served the rows already stored; the application writes every value.
    with op.batch_alter_table("declarations") as batch:
        batch.alter_column("licence_g", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("declarations") as batch:
        batch.drop_column("licence_g")
        batch.drop_column("licence")
    op.drop_index("ix_quotas_holder_year", table_name="quotas")
    op.drop_table("quotas")
    op.drop_table("licences")
