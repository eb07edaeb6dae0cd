"""The ledger's home directory: key files (0600), the database, and the log identity they make."""

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.store import log as logstore
from ledger.store.engine import Database
from ledger.store.identity import LogIdentity
from ledger.store.migrate import upgrade
from ledger.tlog import keys
from ledger.tlog.encoding import b64decode, b64encode
from ledger.tlog.errors import EncodingError

LOG_KEY_FILE = "log-key.pem"
OPERATOR_KEY_FILE = "operator-key.pem"
# The operator's public key alone: API servers need it, only the CLI needs the private key.
OPERATOR_PUBLIC_FILE = "operator-key.pub"


class HomeError(Exception):
    """The home or a key file is missing, unsafe or inconsistent; the message says what to do."""


def write_private_key(path: Path, key: Ed25519PrivateKey) -> None:
    """Write a PKCS#8 PEM readable by the owner only; never overwrite an existing key."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise HomeError(f"{path} already exists: refusing to overwrite a private key") from exc
    with os.fdopen(fd, "wb") as out:
        out.write(keys.private_key_to_pem(key))


def read_private_key(path: Path) -> Ed25519PrivateKey:
    """Load a private key, refusing a file that others can read or write."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError as exc:
        raise HomeError(f"key file {path} not found") from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise HomeError(
            f"key file {path} has mode {stat.S_IMODE(mode):o}: others can read it; "
            f"run `chmod 600 {path}`"
        )
    try:
        return keys.private_key_from_pem(path.read_bytes())
    except EncodingError as exc:
        raise HomeError(f"{path} is not an Ed25519 PKCS#8 PEM private key: {exc}") from exc


@dataclass(frozen=True)
class Home:
    path: Path

    @property
    def log_key_path(self) -> Path:
        return self.path / LOG_KEY_FILE

    @property
    def operator_key_path(self) -> Path:
        return self.path / OPERATOR_KEY_FILE

    @property
    def operator_public_path(self) -> Path:
        return self.path / OPERATOR_PUBLIC_FILE

    def operator_key(self) -> Ed25519PrivateKey:
        return read_private_key(self.operator_key_path)

    def operator_public_key(self) -> bytes:
        if self.operator_public_path.exists():
            return b64decode(self.operator_public_path.read_text().strip())
        return keys.raw_public_key(self.operator_key())

    def identity(self, origin: str) -> LogIdentity:
        if not self.log_key_path.exists():
            raise HomeError(
                f"{self.path} is not a ledger home (no {LOG_KEY_FILE}): "
                f"run `ree-ledger init --home {self.path}` first"
            )
        return LogIdentity(
            origin=origin,
            log_key=read_private_key(self.log_key_path),
            operator_public_key=self.operator_public_key(),
        )


def init_home(path: Path, database_url: str, origin: str) -> LogIdentity:
    """Create the keys (if absent), migrate the database and record the log identity in it."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    home = Home(path)
    for key_path in (home.log_key_path, home.operator_key_path):
        if not key_path.exists():
            write_private_key(key_path, keys.generate_private_key())
    if not home.operator_public_path.exists():
        public = keys.raw_public_key(home.operator_key())
        home.operator_public_path.write_text(b64encode(public) + "\n")
    identity = home.identity(origin)
    db = Database(database_url)
    try:
        upgrade(database_url)
        bind_identity(db, identity)
    finally:
        db.dispose()
    return identity


def bind_identity(db: Database, identity: LogIdentity) -> None:
    """Record the identity in an unbound database, or check it matches the one recorded.

    Two servers with different keys on one database would sign conflicting checkpoints.
    """
    with db.write_session() as session:
        stored = logstore.read_meta(session)
        wanted = identity.meta()
        if not stored:
            logstore.write_meta(session, wanted)
            session.commit()
            return
    _same_log(stored, wanted, "use the home whose keys created it")


def check_replica(db: Database, identity: LogIdentity) -> None:
    """Check that a read replica holds this log (its recorded identity is `identity`): a
    replica of another log would serve that log's entries under this one's name."""
    with db.pinned() as view, view.read_session() as session:
        stored = logstore.read_meta(session)
    where = db.engine.url.render_as_string(hide_password=True)
    _same_log(stored, identity.meta(), f"check REE_LEDGER_READ_DATABASE_URL ({where})")


def _same_log(stored: dict[str, str], wanted: dict[str, str], advice: str) -> None:
    if stored != wanted:
        differing = sorted(name for name in wanted if stored.get(name) != wanted[name])
        raise HomeError(
            f"the database belongs to another log ({', '.join(differing)} differ): {advice}"
        )
