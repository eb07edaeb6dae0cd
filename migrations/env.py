"""Alembic environment: the schema exists only through these migrations."""

import os

from alembic import context
from sqlalchemy import create_engine
from sqlmodel import SQLModel

import ledger.store.tables  # noqa: F401  (registers the tables on SQLModel.metadata)

target_metadata = SQLModel.metadata


def _database_url() -> str:
    url = context.config.get_main_option("sqlalchemy.url")
    if url:
        return url
    env_url = os.environ.get("REE_LEDGER_DATABASE_URL")
    if env_url:
        return env_url
    home = os.environ.get("REE_LEDGER_HOME", ".ree-ledger")
    return f"sqlite:///{os.path.abspath(os.path.join(home, 'ledger.db'))}"


def run_migrations_offline() -> None:
    context.configure(url=_database_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = create_engine(_database_url())
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
