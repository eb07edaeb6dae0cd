"""The conformance vectors' front door: `make vectors` (scripts/fetch_vectors.py) against a
local mirror served over HTTP, the manifest against a copy of the vectors, and what a pytest run
does when the vectors are absent (skips with one summary line, or fails under
$REE_LEDGER_REQUIRE_VECTORS=1)."""

import hashlib
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.vectors import ENV_DIR, ENV_REQUIRE, PROJECT, SKIP_REASON, vectors_dir

SCRIPT = PROJECT / "scripts" / "fetch_vectors.py"
MANIFEST: dict[str, Any] = json.loads((PROJECT / "tests" / "vectors.manifest.json").read_text())
# The directories fetched from repositories as they are (the others are rebuilt from upstream
# sources the mirror below does not hold, or are a CT log's answers).
UPSTREAM_DIRS = ["merkle", "jcs", "epcis", "epcis-openepcis"]


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def mirror(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The vectors laid out as raw.githubusercontent.com serves them
    (<owner>/<repository>/<commit>/<path>), served on 127.0.0.1: (base URL, its root)."""
    vectors, root = vectors_dir(), tmp_path / "mirror"
    for name, entry in MANIFEST["files"].items():
        if "source" in entry:
            source = MANIFEST["sources"][entry["source"]]
            path = root / source["repository"] / source["commit"] / entry["path"]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes((vectors / name).read_bytes())
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root
    finally:
        server.shutdown()
        server.server_close()


def _fetch(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(SCRIPT), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)


def _digests(directory: Path) -> dict[str, str]:
    return {
        str(path.relative_to(directory)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


def _wanted(dirs: list[str]) -> dict[str, str]:
    files = MANIFEST["files"].items()
    return {name: e["sha256"] for name, e in files if name.split("/", 1)[0] in dirs}


def test_manifest_lists_every_vector_file_with_its_hash() -> None:
    run = _fetch("--verify", str(vectors_dir()))
    assert run.returncode == 0, run.stderr
    assert len(MANIFEST["files"]) == len(_digests(vectors_dir())) == 339


def test_every_file_is_pinned_to_a_commit_or_says_how_it_is_made() -> None:
    for name, entry in MANIFEST["files"].items():
        assert len(entry["sha256"]) == 64, name
        if "source" in entry:
            assert len(MANIFEST["sources"][entry["source"]]["commit"]) == 40, name
        else:
            assert entry.get("derive") or entry.get("obtain"), name


def test_fetch_from_a_mirror_checks_and_installs_every_file(
    mirror: tuple[str, Path], tmp_path: Path
) -> None:
    base, _ = mirror
    target = tmp_path / "project" / ".vectors"
    run = _fetch("--base-url", base, "--into", str(target), "--only", *UPSTREAM_DIRS)
    assert run.returncode == 0, run.stderr
    assert _digests(target) == _wanted(UPSTREAM_DIRS)
    assert sorted(p.name for p in target.parent.iterdir()) == [".vectors"]  # no staging left


def test_one_altered_byte_refuses_the_fetch_and_changes_nothing(
    mirror: tuple[str, Path], tmp_path: Path
) -> None:
    base, root = mirror
    target = tmp_path / "project" / ".vectors"
    assert _fetch("--base-url", base, "--into", str(target), "--only", "jcs").returncode == 0
    before = _digests(target)
    source = MANIFEST["sources"]["merkle"]
    victim = root / source["repository"] / source["commit"] / "testdata/inclusion/1/happy-path.json"
    data = bytearray(victim.read_bytes())
    data[10] ^= 0x01
    victim.write_bytes(bytes(data))
    run = _fetch("--base-url", base, "--into", str(target), "--only", *UPSTREAM_DIRS)
    assert run.returncode == 1
    assert run.stderr.count("\n") == 1
    assert run.stderr.startswith("fetch_vectors: merkle/inclusion/1/happy-path.json: SHA-256 ")
    assert _digests(target) == before
    assert sorted(p.name for p in target.parent.iterdir()) == [".vectors"]


def test_unreachable_mirror_is_a_one_line_refusal(tmp_path: Path) -> None:
    run = _fetch("--base-url", "http://127.0.0.1:9", "--into", str(tmp_path / "v"), "--only", "jcs")
    assert run.returncode == 1 and run.stderr.count("\n") == 1
    assert "cannot fetch http://127.0.0.1:9/cyberphone/json-canonicalization/" in run.stderr
    assert not (tmp_path / "v").exists()


def test_ct_answers_are_named_when_absent_and_kept_when_present(tmp_path: Path) -> None:
    target = tmp_path / ".vectors"
    run = _fetch(
        "--base-url", "http://127.0.0.1:9", "--into", str(target), "--only", "ct-argon2020"
    )
    assert run.returncode == 0, run.stderr
    assert (
        "4 files are not in any repository" in run.stdout and "ct-argon2020/sth.json" in run.stdout
    )
    (target / "ct-argon2020").mkdir(parents=True)
    for name in ("consistency.json", "entries.json", "proof.json", "sth.json"):
        (target / "ct-argon2020" / name).write_bytes(
            (vectors_dir() / "ct-argon2020" / name).read_bytes()
        )
    run = _fetch(
        "--base-url", "http://127.0.0.1:9", "--into", str(target), "--only", "ct-argon2020"
    )
    assert run.returncode == 0 and "not in any repository" not in run.stdout
    assert _digests(target) == _wanted(["ct-argon2020"])


@pytest.mark.skipif(
    not os.environ.get("REE_LEDGER_VECTORS_MIRROR"),
    reason="needs $REE_LEDGER_VECTORS_MIRROR (or the internet): the upstream sources of the "
    "two derived files are not in the vectors",
)
def test_full_fetch_rebuilds_the_derived_files_byte_for_byte(tmp_path: Path) -> None:
    run = _fetch("--into", str(tmp_path / ".vectors"))
    assert run.returncode == 0, run.stderr
    assert _digests(tmp_path / ".vectors") == _wanted(
        ["merkle", "jcs", "epcis", "epcis-openepcis", "signed-note", "dsse"]
    )


# --- a pytest run without the vectors --------------------------------------------------------


def _pytest_without_vectors(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, ENV_DIR: str(tmp_path / "no-such-dir")}
    environ.pop(ENV_REQUIRE, None)
    environ.update(env)
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    command.append(str(PROJECT / "tests" / "unit" / "test_encoding.py"))
    return subprocess.run(
        command, capture_output=True, text=True, timeout=300, env=environ, cwd=PROJECT
    )


def test_without_vectors_the_vector_tests_skip_with_one_summary_line(tmp_path: Path) -> None:
    run = _pytest_without_vectors(tmp_path)
    assert run.returncode == 0, run.stdout
    summary = [line for line in run.stdout.splitlines() if "tests skipped:" in line]
    assert summary == [
        f"{summary[0].split()[0]} tests skipped: {SKIP_REASON} in {tmp_path / 'no-such-dir'}; "
        f"run `make vectors` or set {ENV_DIR}=DIR"
    ]
    assert int(summary[0].split()[0]) >= 10
    assert " passed" in run.stdout.splitlines()[-1]  # the module's other tests ran
    assert run.stdout.count(f": {SKIP_REASON}") == 2  # -ra's one line, and the summary


def test_without_vectors_a_ci_run_fails(tmp_path: Path) -> None:
    run = _pytest_without_vectors(tmp_path, **{ENV_REQUIRE: "1"})
    assert run.returncode == 1
    assert f"{ENV_REQUIRE}=1 but no vectors directory: looked in {tmp_path}" in run.stdout
    assert "tests skipped:" not in run.stdout
