"""The open quotas of a mine's year as one index range (DESIGN §9.1).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06

An extraction within its quota reads only the quotas of its (mine, year) with room left
(StateReader.open_quotas), not the used-up ones the year has accumulated. `ix_quotas_open` is
a partial index over those rows only (`used_g < reo_mass_g`, on SQLite and PostgreSQL), by
holder, year and issue: that read is a range of it, and a quota leaves it when it is used up.
No column is added or changed. The downgrade drops it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = "used_g < reo_mass_g"


def upgrade() -> None:
    op.create_index(
        "ix_quotas_open",
        "quotas",
        ["holder", "year", "issued_index"],
        unique=False,
        sqlite_where=sa.text(OPEN),
        postgresql_where=sa.text(OPEN),
    )


def downgrade() -> None:
    op.drop_index("ix_quotas_open", table_name="quotas")
