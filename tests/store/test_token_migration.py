"""Migration 0002 on a database that already holds read tokens: each gets an id, an expiry
counted from the upgrade and the log's size, on both backends."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import create_engine, text

from ledger.service.tokens import DEFAULT_LIFETIME, token_id
from ledger.store.migrate import upgrade

TOKEN = "rlt_issued-before-tokens-expired"


def test_tokens_issued_before_0002_get_an_id_an_expiry_and_the_log_size(
    empty_database_url: str,
) -> None:
    upgrade(empty_database_url, "0001")
    engine = create_engine(empty_database_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text("INSERT INTO read_tokens VALUES (:hash, 'customs-cn', :at)"),
                {"hash": token_id(TOKEN) + "0" * 52, "at": datetime(2026, 1, 1, tzinfo=UTC)},
            )
            conn.execute(text("UPDATE log_head SET size = 7"))
        before = datetime.now(UTC)
        upgrade(empty_database_url, "0002")
        with engine.connect() as conn:
            row = conn.execute(
                text("SELECT token_id, expires_at, revoked_at, issued_size FROM read_tokens")
            ).one()
    finally:
        engine.dispose()
    assert row.token_id == token_id(TOKEN)
    # SQLite hands back text (raw SQL has no column type to convert it), PostgreSQL a datetime.
    expires = row.expires_at
    expires = datetime.fromisoformat(expires) if isinstance(expires, str) else expires
    expires = expires if expires.tzinfo else expires.replace(tzinfo=UTC)
    assert before + DEFAULT_LIFETIME - timedelta(minutes=1) <= expires
    assert expires <= datetime.now(UTC) + DEFAULT_LIFETIME
    assert row.revoked_at is None and row.issued_size == 7
