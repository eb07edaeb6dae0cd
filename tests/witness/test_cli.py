"""`ree-ledger witness init|vkey|serve` as a person runs them: one-line reasons, exit 2, nothing
written on a refusal."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

from ledger.tlog.cosignature import parse_witness_vkey
from ledger.tlog.keys import parse_verifier_key
from ledger.witness.home import WitnessHome
from ledger.witness.service import Witness
from ledger.witness.store import WitnessStore
from tests.reliability.harness import CLI_TIMEOUT_S, REPO, cli
from tests.witness.logs import Log


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*cli(), "witness", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_S,
        check=False,
    )


def test_init_prints_the_vkey_and_keeps_the_key_private(tmp_path: Path) -> None:
    home = tmp_path / "w"
    done = _run("init", "--home", str(home), "--name", "witness.example/w1")
    assert done.returncode == 0, done.stderr
    vkey = done.stdout.strip()
    assert parse_witness_vkey(vkey).name == "witness.example/w1"
    assert stat.S_IMODE((home / "witness-key.pem").stat().st_mode) == 0o600
    assert (home / "witness.vkey").read_text().strip() == vkey
    assert (home / "witness.db").exists()
    # Again: the same key; `vkey` prints it too.
    assert _run("init", "--home", str(home), "--name", "witness.example/w1").stdout.strip() == vkey
    assert _run("vkey", "--home", str(home)).stdout.strip() == vkey


def test_init_refuses_another_name_on_an_initialised_home(tmp_path: Path) -> None:
    home = tmp_path / "w"
    vkey = _run("init", "--home", str(home), "--name", "a.example/w").stdout.strip()
    done = _run("init", "--home", str(home), "--name", "b.example/w")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "already the witness 'a.example/w'" in done.stderr
    assert (home / "witness.vkey").read_text().strip() == vkey


def test_init_refuses_a_bad_name_and_writes_nothing(tmp_path: Path) -> None:
    done = _run("init", "--home", str(tmp_path / "w"), "--name", "has space")
    assert done.returncode == 2 and "invalid witness name" in done.stderr
    assert not (tmp_path / "w").exists()


def test_serve_refuses_a_home_that_is_not_a_witness(tmp_path: Path) -> None:
    done = _run("serve", "--home", str(tmp_path), "--log-key", Log.make().vkey)
    assert done.returncode == 2
    assert "is not a witness home" in done.stderr and "witness init" in done.stderr


def test_serve_refuses_a_bad_log_key(tmp_path: Path) -> None:
    home = tmp_path / "w"
    witness_vkey = _run("init", "--home", str(home), "--name", "w.example/w").stdout.strip()
    for bad in ("nonsense", witness_vkey):  # a witness key is not a log key
        done = _run("serve", "--home", str(home), "--log-key", bad)
        assert done.returncode == 2 and done.stderr.startswith("ree-ledger: "), done.stderr


def test_serve_refuses_a_key_file_others_can_read(tmp_path: Path) -> None:
    home = tmp_path / "w"
    _run("init", "--home", str(home), "--name", "w.example/w")
    (home / "witness-key.pem").chmod(0o644)
    done = _run("serve", "--home", str(home), "--log-key", Log.make().vkey)
    assert done.returncode == 2 and "chmod 600" in done.stderr


def test_status_lists_the_state_and_writes_the_evidence(tmp_path: Path) -> None:
    home = tmp_path / "w"
    _run("init", "--home", str(home), "--name", "w.example/w")
    assert "no checkpoint cosigned yet" in _run("status", "--home", str(home)).stdout
    log = Log.make(size=4)
    branch = log.fork()
    branch.leaves[-1] = b"\x00" * 32
    name, key = WitnessHome(home).identity()
    store = WitnessStore(WitnessHome(home).database_url)
    witness = Witness(name, key, [parse_verifier_key(log.vkey)], store)
    assert witness.add_checkpoint(log.request(0)).status == 200
    assert witness.add_checkpoint(branch.request(4)).status == 422
    store.dispose()
    done = _run("status", "--home", str(home), "--evidence", str(tmp_path / "evidence"))
    assert done.returncode == 0, done.stderr
    assert f"log {log.origin}: size 4" in done.stdout
    assert "1 checkpoint(s) signed by a log and refused as inconsistent" in done.stdout
    assert (tmp_path / "evidence" / "refused-1.note").read_text() == branch.note()
