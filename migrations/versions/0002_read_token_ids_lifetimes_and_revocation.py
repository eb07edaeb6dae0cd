"""Read tokens get a public id, an expiry, a revocation time and the log size at issue.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05

Tokens issued before this revision never expired. They get the default lifetime counted from
the upgrade (not from their issue, which would lock their holders out at once): the operator
sees them in `ree-ledger token list` and revokes the ones that should go sooner. Their
`issued_size` is the log's size at the upgrade, so key revocations from then on count.
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# ledger.service.tokens.DEFAULT_LIFETIME when this revision was written; a migration keeps
# its own copy so that changing the default later does not change what this one did.
LIFETIME = timedelta(days=90)

_tokens = sa.table(
    "read_tokens",
    sa.column("token_hash", sa.String()),
    sa.column("token_id", sa.String()),
    sa.column("expires_at", sa.DateTime(timezone=True)),
    sa.column("issued_size", sa.BigInteger()),
)
_head = sa.table("log_head", sa.column("size", sa.BigInteger()))


def upgrade() -> None:
    with op.batch_alter_table("read_tokens") as batch:
        batch.add_column(sa.Column("token_id", sa.String(length=12), nullable=True))
        batch.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("issued_size", sa.BigInteger(), nullable=True))
    _backfill(op.get_bind())
    with op.batch_alter_table("read_tokens") as batch:
        batch.alter_column("token_id", existing_type=sa.String(length=12), nullable=False)
        batch.alter_column("expires_at", existing_type=sa.DateTime(timezone=True), nullable=False)
        batch.alter_column("issued_size", existing_type=sa.BigInteger(), nullable=False)
        batch.create_index(op.f("ix_read_tokens_token_id"), ["token_id"], unique=True)


def _backfill(bind: sa.Connection) -> None:
    size = bind.execute(sa.select(_head.c.size)).scalar() or 0
    expires = datetime.now(UTC) + LIFETIME
    for (digest,) in bind.execute(sa.select(_tokens.c.token_hash)).all():
        bind.execute(
            _tokens.update()
            .where(_tokens.c.token_hash == digest)
            .values(token_id=digest[:12], expires_at=expires, issued_size=size)
        )


def downgrade() -> None:
    with op.batch_alter_table("read_tokens") as batch:
        batch.drop_index(op.f("ix_read_tokens_token_id"))
        batch.drop_column("issued_size")
        batch.drop_column("revoked_at")
        batch.drop_column("expires_at")
        batch.drop_column("token_id")
