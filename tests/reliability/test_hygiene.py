"""Hygiene: private key files, secrets kept out of logs and error messages, pinned dependencies."""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import stat
import tomllib
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from ledger.cli.main import app
from ledger.home import HomeError, init_home, read_private_key, write_private_key
from ledger.tlog import keys
from tests.reliability.client import acks_from
from tests.reliability.harness import REPO, Server, make_home
from tests.support import Party, extract, register

GROUP_OR_OTHER_BITS = [stat.S_IRGRP, stat.S_IWGRP, stat.S_IXGRP, stat.S_IROTH, stat.S_IWOTH]
GROUP_OR_OTHER_BITS.append(stat.S_IXOTH)


# --- private key files ------------------------------------------------------------------


def test_key_files_are_written_0600_even_with_a_lax_umask(tmp_path: Path) -> None:
    previous = os.umask(0)
    try:
        write_private_key(tmp_path / "k.pem", keys.generate_private_key())
        init_home(tmp_path / "home", f"sqlite:///{tmp_path / 'ledger.db'}", "h.local/log")
        CliRunner().invoke(app, ["keygen", str(tmp_path / "participant.pem")])
    finally:
        os.umask(previous)
    for path in (
        tmp_path / "k.pem",
        tmp_path / "home" / "log-key.pem",
        tmp_path / "home" / "operator-key.pem",
        tmp_path / "participant.pem",
    ):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE((tmp_path / "home").stat().st_mode) == 0o700


@pytest.mark.parametrize("bit", GROUP_OR_OTHER_BITS, ids=lambda bit: f"{bit:03o}")
def test_a_key_file_open_to_group_or_others_is_refused(tmp_path: Path, bit: int) -> None:
    path = tmp_path / "key.pem"
    write_private_key(path, keys.generate_private_key())
    path.chmod(0o600 | bit)
    with pytest.raises(HomeError, match="chmod 600"):
        read_private_key(path)
    event = tmp_path / "event.json"
    event.write_text(json.dumps(extract(Party("chmod-mine"), "ORE-1")))
    result = CliRunner().invoke(app, ["sign", str(event), "--key", str(path)])
    assert result.exit_code == 2 and "chmod 600" in result.output, result.output


def test_an_existing_key_is_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "key.pem"
    write_private_key(path, keys.generate_private_key())
    before = path.read_bytes()
    with pytest.raises(HomeError, match="refusing to overwrite"):
        write_private_key(path, keys.generate_private_key())
    assert path.read_bytes() == before


# --- secrets in logs and answers ----------------------------------------------------------


def _with_password(database_url: str, password: str) -> str:
    """A PostgreSQL URL with a password (the test server trusts everyone and ignores it)."""
    if not database_url.startswith("postgresql"):
        return database_url
    return database_url.replace("postgres@", f"postgres:{password}@", 1)


def _secrets_of(home: Path, token: str, password: str) -> list[str]:
    found = [token, token.removeprefix("rlt_")]
    if password:
        found.append(password)
    for pem in ("log-key.pem", "operator-key.pem"):
        body = (home / pem).read_text()
        found.append(body)
        found.extend(line for line in body.splitlines() if not line.startswith("-----"))
    return found


def _hostile_reads(url: str, token: str) -> list[httpx.Response]:
    """Errors a client can cause while holding (or guessing at) a token."""
    bad = token[:-1] + ("A" if token[-1] != "A" else "B")
    with httpx.Client(base_url=url, timeout=30) as http:
        return [
            http.get("/v1/lots/ORE-S1", headers={"Authorization": f"Bearer {bad}"}),
            http.get("/v1/lots/ORE-S1", headers={"Authorization": f"Basic {token}"}),
            http.get("/v1/lots/ORE-S1", headers={"Authorization": f"Bearer {token} {token}"}),
            http.get("/v1/lots/NO-SUCH-LOT", headers={"Authorization": f"Bearer {token}"}),
            http.get("/v1/entries/99999", headers={"Authorization": f"Bearer {token}"}),
            http.get("/v1/flags", headers={"Authorization": f"Bearer {token}"}),
            http.post("/v1/entries", content=b"{not json", headers={"Authorization": token}),
            http.post("/v1/entries", json={"payloadType": "x", "payload": "", "signatures": []}),
            http.get("/no/such/route", headers={"Authorization": f"Bearer {token}"}),
        ]


def test_no_secret_in_server_logs_or_problem_bodies(
    database_url: str, backend: str, tmp_path: Path
) -> None:
    password = "pw-Secret-7f3a9c" if backend == "postgresql" else ""
    home = make_home(tmp_path / "home", _with_password(database_url, password))
    mine = Party("secret-mine")
    log = tmp_path / "serve.log"
    with Server(home, log) as server:
        operator = home.operator
        envelopes = [operator.envelope(register(operator, mine, ["mine"]))]
        envelopes.append(mine.envelope(extract(mine, "ORE-S1")))
        answer = httpx.post(f"{server.url}/v1/entries/batch", json={"envelopes": envelopes})
        acks_from(answer.json(), envelopes)
        token = home.run("token", "issue", mine.id).stdout.strip()
        answers = _hostile_reads(server.url, token)
        assert {a.status_code for a in answers} >= {401, 403, 404, 400}, answers
        # An internal error while the token is being looked up: the traceback goes to the log.
        engine = create_engine(database_url)
        try:
            with engine.begin() as connection:
                connection.execute(text("ALTER TABLE read_tokens RENAME TO read_tokens_gone"))
            broken = httpx.get(
                f"{server.url}/v1/lots/ORE-S1", headers={"Authorization": f"Bearer {token}"}
            )
            with engine.begin() as connection:
                connection.execute(text("ALTER TABLE read_tokens_gone RENAME TO read_tokens"))
        finally:
            engine.dispose()
        assert broken.status_code == 500 and broken.json()["code"] == "internal_error"
        answers.append(broken)
    logged = log.read_text(errors="replace")
    assert "Traceback" in logged, "the internal error was not logged: the scan would be vacuous"
    said = logged + "".join(a.text + str(a.headers) for a in answers)
    for secret in _secrets_of(home.path, token, password):
        assert secret not in said, f"a secret ({secret[:6]}…) is in the log or an answer"
    for answer in answers:
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert "Traceback" not in answer.text and "SELECT" not in answer.text, answer.text


# --- pinned dependencies -----------------------------------------------------------------

BOOTSTRAP = {"pip", "setuptools", "wheel"}  # left out by `pip freeze`, as by `make lock`


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins() -> dict[str, str]:
    pins = {}
    for line in (REPO / "constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"constraints.txt: {line!r} is not pinned with =="
            pins[_normalise(name)] = version
    return pins


def test_every_installed_distribution_is_pinned_at_its_version() -> None:
    pins = _pins()
    project = _normalise(tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["name"])
    unpinned, differing = [], []
    for dist in importlib.metadata.distributions():
        name = _normalise(dist.metadata["Name"])
        if name == project or name in BOOTSTRAP:
            continue
        if name not in pins:
            unpinned.append(f"{name}=={dist.version}")
        elif pins[name] != dist.version:
            differing.append(f"{name}: installed {dist.version}, pinned {pins[name]}")
    assert not unpinned, f"installed but not in constraints.txt (run `make lock`): {unpinned}"
    assert not differing, f"installed versions differ from constraints.txt: {differing}"


def test_every_declared_dependency_is_pinned() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    declared = [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    pins = _pins()
    names = [_normalise(re.split(r"[\[<>=!~ ;]", spec, maxsplit=1)[0]) for spec in declared]
    assert [name for name in names if name not in pins] == []
