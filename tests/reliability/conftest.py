"""Fixtures of the reliability tests: one populated ledger per backend, copied for each test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from ledger.cli.main import app
from tests.pgserver import TemporaryPostgres
from tests.reliability.tampering import LedgerCopies, Populated, populate

Audit = Callable[..., Result]


@pytest.fixture(scope="module")
def _populated_sources() -> dict[str, tuple[Populated, LedgerCopies]]:
    return {}


@pytest.fixture
def populated(
    backend: str,
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    _populated_sources: dict[str, tuple[Populated, LedgerCopies]],
) -> tuple[Populated, LedgerCopies]:
    """The populated ledger of this backend (written once per module) and its copier."""
    if backend not in _populated_sources:
        workdir = tmp_path_factory.mktemp(f"tamper-{backend}")
        postgres: TemporaryPostgres | None = None
        if backend == "sqlite":
            template: Path = request.getfixturevalue("_sqlite_template")
            copies = LedgerCopies(f"sqlite:///{template}", workdir, None)
        else:
            postgres = request.getfixturevalue("postgres")
            pg_template: str = request.getfixturevalue("_postgres_template")
            copies = LedgerCopies(postgres.database_url(pg_template), workdir, postgres)
        source = copies.snapshot(copies.source_url)  # a migrated, empty database of our own
        copies.source_url = source
        _populated_sources[backend] = (populate(source, workdir / "home", copies.snapshot), copies)
    return _populated_sources[backend]


@pytest.fixture
def damaged(populated: tuple[Populated, LedgerCopies]) -> Iterator[str]:
    """A fresh copy of the populated ledger, for this test to damage."""
    _, copies = populated
    with copies.copy() as url:
        yield url


@pytest.fixture
def audit(populated: tuple[Populated, LedgerCopies]) -> Audit:
    """`ree-ledger audit --database-url URL` with the published keys; returns the result."""
    ledger, _ = populated
    runner = CliRunner()

    def run(url: str, *, trusted: bool = True) -> Result:
        keys = ["--log-key", ledger.log_vkey, "--operator-key", ledger.operator_key_b64]
        args = ["audit", "--database-url", url, *(keys if trusted else [])]
        return runner.invoke(app, args, catch_exceptions=False)

    return run
