"""`participant add|key-add --public-key`: an openssl PEM registers a key whose private half
signs entries the ledger accepts; a private key or another algorithm is refused, nothing written."""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa, x25519

from ledger.home import Home
from ledger.service.ingest import ingest
from ledger.store import log as logstore
from ledger.store.engine import Database
from ledger.tlog import keys
from tests.cli.conftest import Run
from tests.unit.test_key_files import OPENSSL, openssl_pair

ORIGIN = "ree-ledger.local/log"
SPKI = (serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def _size(database_url: str) -> int:
    db = Database(database_url)
    try:
        with db.read_session() as session:
            return logstore.current_size(session)
    finally:
        db.dispose()


def _ed25519_pem_pair(tmp_path: Path) -> tuple[Path, Path]:
    """An Ed25519 key pair as openssl writes it (pyca's identical output where it is missing)."""
    if OPENSSL is not None:
        private_pem, public_pem = openssl_pair(tmp_path, "-algorithm", "ed25519")
    else:
        key = ed25519.Ed25519PrivateKey.generate()
        private_pem = keys.private_key_to_pem(key)
        public_pem = key.public_key().public_bytes(*SPKI)
    private, public = tmp_path / "signer.pem", tmp_path / "signer.pub.pem"
    private.write_bytes(private_pem)
    private.chmod(0o600)
    public.write_bytes(public_pem)
    return private, public


def _add(run: Run, public: Path, expect: int = 0) -> str:
    args = ("--name", "Baotou Mine", "--country", "CN", "--role", "mine")
    result = run(
        "participant", "add", "baotou-mine", *args, "--public-key", str(public), expect=expect
    )
    return result.stdout if expect == 0 else result.stderr


def test_an_openssl_pem_public_key_registers_and_its_private_key_signs(
    run: Run, tmp_path: Path, database_url: str
) -> None:
    run("init")
    private, public = _ed25519_pem_pair(tmp_path)
    raw = keys.raw_public_key(keys.private_key_from_pem(private.read_bytes()))
    assert f"keyid {keys.key_id('baotou-mine', raw)}" in _add(run, public)
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
    (tmp_path / "event.json").write_text(json.dumps(event))
    envelope = json.loads(run("sign", str(tmp_path / "event.json"), "--key", str(private)).stdout)
    db = Database(database_url)
    try:
        [accepted] = ingest(
            db, Home(tmp_path / "home").identity(ORIGIN), [envelope], datetime.now(UTC)
        )
    finally:
        db.dispose()
    assert accepted.index == 1


def test_key_add_reads_a_pem_public_key_too(run: Run, tmp_path: Path) -> None:
    run("init")
    run("keygen", str(tmp_path / "first.pem"))
    _add(run, tmp_path / "first.pem.pub")
    _, public = _ed25519_pem_pair(tmp_path)
    loaded = serialization.load_pem_public_key(public.read_bytes())
    assert isinstance(loaded, ed25519.Ed25519PublicKey)
    raw = keys.raw_public_key(loaded)
    said = run("participant", "key-add", "baotou-mine", "--public-key", str(public)).stdout
    assert f"added key {keys.key_id('baotou-mine', raw)} at index 1" in said


def _private_pem(tmp_path: Path) -> bytes:
    return keys.private_key_to_pem(keys.generate_private_key())


REFUSED = {
    "keygen-private-pem": (_private_pem, "a private key (PRIVATE KEY), not a public one"),
    "rsa": (
        lambda _: rsa.generate_private_key(65537, 2048).public_key().public_bytes(*SPKI),
        "an RSA-2048 key, not Ed25519",
    ),
    "x25519": (
        lambda _: x25519.X25519PrivateKey.generate().public_key().public_bytes(*SPKI),
        "an X25519 key",
    ),
    "garbage": (lambda _: b"\x00\x01garbage", "bytes of binary"),
}


@pytest.mark.parametrize("case", REFUSED)
def test_a_key_that_is_not_an_ed25519_public_key_is_refused_and_nothing_written(
    run: Run, tmp_path: Path, database_url: str, case: str
) -> None:
    run("init")
    make, reason = REFUSED[case]
    bad = tmp_path / "bad.key"
    bad.write_bytes(make(tmp_path))
    said = _add(run, bad, expect=2)
    assert said.startswith(f"ree-ledger: {bad}: ") and reason in said and said.count("\n") == 1
    assert _size(database_url) == 0
