"""The last quota of a mine's year and deposit as one indexed row (DESIGN §9.1).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06

An extraction beyond its open quotas charges the excess to the last covering quota (the
last general one of its mine's year, else the last one named for its deposit) and reads
that one row (StateReader.last_quota), not the year's whole list. `ix_quotas_last` (holder,
year, deposit, issue) makes it the end of one range on SQLite and PostgreSQL (`deposit IS
NULL` is a range of it too). It replaces `ix_quotas_holder_year`, its prefix. No column is
added or changed. The downgrade restores the old index.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_quotas_last", "quotas", ["holder", "year", "deposit", "issued_index"], unique=False
    )
    op.drop_index("ix_quotas_holder_year", table_name="quotas")


def downgrade() -> None:
    op.create_index("ix_quotas_holder_year", "quotas", ["holder", "year"], unique=False)
    op.drop_index("ix_quotas_last", table_name="quotas")
