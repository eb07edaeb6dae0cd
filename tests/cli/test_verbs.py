"""The CLI verbs: init, keygen, participant add, token issue, sign."""

import json
import stat
from datetime import UTC, datetime
from pathlib import Path

from ledger.home import Home
from ledger.service.ingest import ingest
from ledger.service.tokens import resolve_token
from ledger.store import log as logstore
from ledger.store.engine import Database
from ledger.tlog import keys
from ledger.tlog.encoding import b64decode
from ledger.tlog.envelope import Envelope, verify_envelope
from tests.cli.conftest import Run

ORIGIN = "ree-ledger.local/log"


def _size(database_url: str) -> int:
    db = Database(database_url)
    with db.read_session() as session:
        size = logstore.current_size(session)
    db.dispose()
    return size


def test_init_creates_private_keys_and_prints_the_verifier_key(run: Run, home_dir: Path) -> None:
    output = run("init").output
    for name in ("log-key.pem", "operator-key.pem"):
        assert stat.S_IMODE((home_dir / name).stat().st_mode) == 0o600
    identity = Home(home_dir).identity(ORIGIN)
    assert identity.log_vkey in output
    assert run("init").output.count(identity.log_vkey) == 1  # idempotent: same keys


def test_keygen_writes_a_private_pem_and_a_public_key(run: Run, tmp_path: Path) -> None:
    out = tmp_path / "mine.pem"
    printed = run("keygen", str(out)).output.strip()
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert (tmp_path / "mine.pem.pub").read_text().strip() == printed
    assert len(b64decode(printed)) == 32
    assert "refusing to overwrite" in run("keygen", str(out), expect=2).output


def test_participant_add_registers_with_an_operator_signed_entry(
    run: Run, tmp_path: Path, database_url: str
) -> None:
    run("init")
    run("keygen", str(tmp_path / "mine.pem"))
    output = run(
        "participant",
        "add",
        "baotou-mine",
        "--name",
        "Baotou Mine",
        "--country",
        "CN",
        "--role",
        "mine",
        "--role",
        "processor",
        "--public-key",
        str(tmp_path / "mine.pem.pub"),
    ).output
    assert "registered baotou-mine at index 0" in output
    assert _size(database_url) == 1
    token = run("token", "issue", "baotou-mine").stdout.strip()
    db = Database(database_url)
    reader = resolve_token(db, token, datetime.now(UTC))
    db.dispose()
    assert reader is not None and reader.roles == frozenset({"mine", "processor"})


def test_bad_registration_exits_with_one_line_and_writes_nothing(
    run: Run, tmp_path: Path, database_url: str
) -> None:
    run("init")
    run("keygen", str(tmp_path / "k.pem"))
    result = run(
        "participant",
        "add",
        "x-mine",
        "--name",
        "X",
        "--country",
        "China",
        "--role",
        "mine",
        "--public-key",
        str(tmp_path / "k.pem.pub"),
        expect=2,
    )
    assert result.output.count("\n") == 1 and "country" in result.output
    assert _size(database_url) == 0
    assert "not registered" in run("token", "issue", "nobody", expect=2).output


def test_sign_prints_an_envelope_the_ledger_accepts(
    run: Run, tmp_path: Path, database_url: str
) -> None:
    run("init")
    run("keygen", str(tmp_path / "mine.pem"))
    run(
        "participant",
        "add",
        "baotou-mine",
        "--name",
        "Baotou Mine",
        "--country",
        "CN",
        "--role",
        "mine",
        "--public-key",
        str(tmp_path / "mine.pem.pub"),
    )
    event = {
        "type": "lot.extract",
        "id": "x-1",
        "actor": "baotou-mine",
        "time": "2026-03-01T08:00:00Z",
        "prev": {},
        "lot": {
            "id": "ORE-1",
            "product": "ore",
            "mass_g": 5_000,
            "composition_ppm": {"Ce": 30_000},
        },
        "site": {"id": "pit-1", "name": "Pit", "country": "CN"},
        "deposit": "bastnaesite",
    }
    (tmp_path / "event.json").write_text(json.dumps(event, indent=2))
    printed = run("sign", str(tmp_path / "event.json"), "--key", str(tmp_path / "mine.pem")).output
    envelope = Envelope.from_json(json.loads(printed))
    public = b64decode((tmp_path / "mine.pem.pub").read_text().strip())
    verify_envelope(envelope, public)
    assert envelope.signatures[0].keyid == keys.key_id("baotou-mine", public)
    db = Database(database_url)
    [accepted] = ingest(
        db, Home(tmp_path / "home").identity(ORIGIN), [envelope.to_json()], datetime.now(UTC)
    )
    db.dispose()
    assert accepted.index == 1


def test_a_key_readable_by_others_is_refused(run: Run, tmp_path: Path) -> None:
    run("init")
    run("keygen", str(tmp_path / "mine.pem"))
    (tmp_path / "mine.pem").chmod(0o644)
    (tmp_path / "e.json").write_text('{"actor": "a"}')
    result = run("sign", str(tmp_path / "e.json"), "--key", str(tmp_path / "mine.pem"), expect=2)
    assert "chmod 600" in result.output


def test_sign_refuses_floats(run: Run, tmp_path: Path) -> None:
    run("keygen", str(tmp_path / "k.pem"))
    (tmp_path / "e.json").write_text('{"actor": "a", "mass_g": 1.5}')
    result = run("sign", str(tmp_path / "e.json"), "--key", str(tmp_path / "k.pem"), expect=2)
    assert "float" in result.output.lower() or "integer" in result.output.lower()
