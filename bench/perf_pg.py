"""A private PostgreSQL for the benchmark, with durable commits (fsync and synchronous_commit on).

tests/pgserver.py starts its throw-away server with fsync off; a benchmark of durable ingest
must not, so this one rewrites those start options and checks the settings afterwards.
"""

from __future__ import annotations

import subprocess
from typing import Any

import psycopg

from tests.pgserver import TemporaryPostgres

_DURABLE = {
    "-F ": "",
    "-c fsync=off": "-c fsync=on",
    "-c synchronous_commit=off": "-c synchronous_commit=on",
    "-c full_page_writes=off": "-c full_page_writes=on",
}
DURABLE_SETTINGS = ("fsync", "synchronous_commit", "full_page_writes")


class DurablePostgres(TemporaryPostgres):
    """TemporaryPostgres with fsync, synchronous_commit and full_page_writes on."""

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        rewritten = []
        for arg in args:
            for old, new in _DURABLE.items():
                arg = arg.replace(old, new)
            rewritten.append(arg)
        return super()._run(*rewritten, timeout=timeout)

    def settings(self) -> dict[str, Any]:
        with psycopg.connect(self.conninfo()) as conn:
            return {
                name: conn.execute(f"SHOW {name}").fetchone()[0]  # type: ignore[index]
                for name in DURABLE_SETTINGS
            }


def server_settings(url: str) -> dict[str, Any]:
    """fsync, synchronous_commit and full_page_writes of the server behind a SQLAlchemy URL."""
    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo) as conn:
        return {
            name: conn.execute(f"SHOW {name}").fetchone()[0]  # type: ignore[index]
            for name in DURABLE_SETTINGS
        }
