"""`ree-ledger epcis install-schema FILE`: GS1's schema into the home; a bad file writes nothing."""

import json
import os
from pathlib import Path

import pytest

from ledger.service.epcis_schema import SCHEMA_FILE, InstalledSchema
from tests.cli.conftest import Run
from tests.vectors import vector_path


def _one_line_refusal(run: Run, *args: str) -> str:
    result = run(*args, expect=2)
    assert result.stdout == ""
    assert result.stderr.startswith("ree-ledger: ") and result.stderr.count("\n") == 1
    return result.stderr


def test_install_schema_puts_gs1_schema_where_capture_applies_it(run: Run, home_dir: Path) -> None:
    run("init")
    gs1 = vector_path("epcis", "EPCIS-JSON-Schema.json")
    output = run("epcis", "install-schema", str(gs1)).output
    installed = home_dir / SCHEMA_FILE
    assert output == f"installed: {installed.resolve()}\n"
    assert installed.read_bytes() == gs1.read_bytes()
    assert InstalledSchema.of(home_dir, None).status() == "active"


@pytest.mark.parametrize(
    ("content", "said"),
    [(b"{not json", "not JSON"),
     (b'{"$schema": "http://json-schema.org/draft-04/schema#"}', "not draft-07"),
     (b'{"$schema": "http://json-schema.org/draft-07/schema#", "type": 7}',
      "not a valid draft-07 schema"),
     (b'{"$schema": "http://json-schema.org/draft-07/schema#"}', "not GS1's EPCIS 2.0")],
    ids=["not-json", "draft-04", "invalid-schema", "not-epcis"],
)  # fmt: skip
def test_bad_file_is_refused_in_one_line_and_nothing_is_written(
    run: Run, home_dir: Path, tmp_path: Path, content: bytes, said: str
) -> None:
    run("init")
    before = sorted(os.listdir(home_dir))
    bad = tmp_path / "schema.json"
    bad.write_bytes(content)
    assert said in _one_line_refusal(run, "epcis", "install-schema", str(bad))
    assert sorted(os.listdir(home_dir)) == before


def test_bad_file_keeps_the_schema_installed_before(
    run: Run, home_dir: Path, tmp_path: Path
) -> None:
    run("init")
    (home_dir / SCHEMA_FILE).write_text("kept")
    bad = tmp_path / "schema.json"
    bad.write_text(json.dumps({"$schema": "http://json-schema.org/draft-07/schema#"}))
    _one_line_refusal(run, "epcis", "install-schema", str(bad))
    assert (home_dir / SCHEMA_FILE).read_text() == "kept"


def test_missing_file_or_home_is_refused_in_one_line(
    run: Run, home_dir: Path, tmp_path: Path
) -> None:
    schema = tmp_path / "schema.json"
    schema.write_text("{}")
    assert "not a ledger home" in _one_line_refusal(run, "epcis", "install-schema", str(schema))
    assert not home_dir.exists()
    run("init")
    missing = str(tmp_path / "missing.json")
    assert "missing.json" in _one_line_refusal(run, "epcis", "install-schema", missing)
