"""The CLI against a fresh database per test, with a populated ledger to audit."""

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from ledger.cli.main import app

Run = Callable[..., Result]


@pytest.fixture
def home_dir(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def run(home_dir: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Run:
    """Invoke `ree-ledger ARGS...` with this test's home and database."""
    monkeypatch.setenv("REE_LEDGER_HOME", str(home_dir))
    monkeypatch.setenv("REE_LEDGER_DATABASE_URL", database_url)
    runner = CliRunner()

    def invoke(*args: str, expect: int | None = 0) -> Result:
        result = runner.invoke(app, list(args), catch_exceptions=False)
        if expect is not None:
            assert result.exit_code == expect, result.output
        return result

    return invoke
