"""`ree-ledger witness init|vkey|serve` as a person runs them: one-line reasons, exit 2, nothing
written on a refusal."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

from ledger.tlog.cosignature import parse_witness_vkey
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
