"""`ree-ledger verify-bundle FILE --log-key VKEY --operator-key B64`: report and exit status."""

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from ledger.cli.main import app
from ledger.tlog.encoding import b64encode
from tests.unit.test_bundle import OfflineLog, honest_chain, without
from tests.unit.test_bundle_tampering import checkpoint_mutations, edited, flip_bit


@pytest.fixture
def log() -> OfflineLog:
    return honest_chain()[0]


def verify(log: OfflineLog, bundle: Any, tmp_path: Path, *extra: str, **keys: str) -> Result:
    path = tmp_path / "bundle.json"
    path.write_text(bundle if isinstance(bundle, str) else json.dumps(bundle))
    args = [
        "verify-bundle",
        str(path),
        "--log-key",
        keys.get("log_key", log.vkey),
        "--operator-key",
        keys.get("operator_key", b64encode(log.operator_key)),
        *extra,
    ]
    return CliRunner().invoke(app, args, catch_exceptions=False)


def test_an_intact_bundle_passes_with_a_report(log: OfflineLog, tmp_path: Path) -> None:
    bundle = log.bundle("OX-1")
    result = verify(log, bundle, tmp_path)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "Bundle of lot OX-1"
    assert any(line.strip().startswith("verdict     VERIFIED: 14 entries") for line in lines)
    for entry in bundle["entries"]:
        assert any(line.startswith(f"  ✓ {entry['index']:>6}  ") for line in lines), entry
    assert "RECEIPT_MISMATCH" in result.output  # a finding, printed, not a failure
    assert "  ORE-1  baotou-mine  Pit One (pit-1), CN, bastnaesite  100.0% of" in result.output
    assert lines[-1] == f"bundle ok: lot OX-1, 14 entries, checkpoint {len(log.envelopes)}"


def test_one_changed_byte_fails_naming_the_entry(log: OfflineLog, tmp_path: Path) -> None:
    bundle = edited(log.bundle("OX-1"), 7, "sig", lambda sig: flip_bit(sig, 5))
    result = verify(log, bundle, tmp_path)
    assert result.exit_code == 1
    assert result.output.splitlines()[-1].startswith("BUNDLE FAILED: entry 7: (3) leaf_hash")
    assert "(4) the signature by baotou-mine/" in result.output
    assert "  ✗      7  lot.ship" in result.output


def test_a_changed_checkpoint_fails_naming_it(log: OfflineLog, tmp_path: Path) -> None:
    for what, _, bundle in checkpoint_mutations(log.bundle("OX-1")):
        result = verify(log, bundle, tmp_path)
        assert result.exit_code == 1, what
        assert "BUNDLE FAILED: checkpoint: (14)" in result.output, what


def test_a_removed_entry_fails(log: OfflineLog, tmp_path: Path) -> None:
    result = verify(log, without(log.bundle("OX-1"), 10), tmp_path)
    assert result.exit_code == 1
    assert "BUNDLE FAILED: entry 11: (12) prev.OX-1" in result.output


def test_keys_other_than_the_bundles_fail(log: OfflineLog, tmp_path: Path) -> None:
    other = OfflineLog()
    bundle = log.bundle("OX-1")
    wrong_log = verify(log, bundle, tmp_path, log_key=other.vkey)
    assert wrong_log.exit_code == 1 and "BUNDLE FAILED: bundle: (13)" in wrong_log.output
    wrong_operator = verify(log, bundle, tmp_path, operator_key=b64encode(other.operator_key))
    assert wrong_operator.exit_code == 1
    assert "BUNDLE FAILED: bundle: (13) it states the operator key" in wrong_operator.output
    assert "entry 0: (4)" in wrong_operator.output


@pytest.mark.parametrize(
    ("content", "keys", "message"),
    [
        ("{not json", {}, "not a bundle: invalid JSON"),
        ('{"format": "ree-ledger.bundle.v1"}', {}, "not a bundle: bundle.lot: field required"),
        (None, {"log_key": "not-a-key"}, "--log-key or --operator-key: malformed verifier key"),
        (None, {"operator_key": "AAAA"}, "public key must be 32 bytes"),
        (None, {"operator_key": "not base64"}, "--operator-key: not padded standard base64"),
    ],
)
def test_unusable_input_exits_2_with_one_line(
    log: OfflineLog, tmp_path: Path, content: str | None, keys: dict[str, str], message: str
) -> None:
    result = verify(log, content or log.bundle("OX-1"), tmp_path, **keys)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("ree-ledger: ") and message in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_a_missing_file_exits_2(log: OfflineLog, tmp_path: Path) -> None:
    args = ["verify-bundle", str(tmp_path / "nope.json"), "--log-key", log.vkey]
    result = CliRunner().invoke(app, [*args, "--operator-key", b64encode(log.operator_key)])
    assert result.exit_code == 2 and "No such file" in result.stderr


def test_the_bundle_can_come_on_standard_input(log: OfflineLog) -> None:
    args = ["verify-bundle", "-", "--log-key", log.vkey]
    args += ["--operator-key", b64encode(log.operator_key)]
    result = CliRunner().invoke(app, args, input=json.dumps(log.bundle("OX-1")))
    assert result.exit_code == 0, result.output
