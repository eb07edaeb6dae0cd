"""Alembic environment of a witness's database: its schema exists only through these migrations.

Separate from the log's (migrations/): a witness is another party, with its own home and
database, and its own version table.
"""

from alembic import context
from sqlalchemy import create_engine

from ledger.witness.tables import METADATA, VERSION_TABLE


def run_migrations_online() -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("the witness migrations need sqlalchemy.url (ledger.witness.store)")
    engine = create_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=METADATA,
            version_table=VERSION_TABLE,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    raise RuntimeError("the witness database is migrated online only")
run_migrations_online()
