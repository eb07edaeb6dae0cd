"""A witness's home: its Ed25519 key (0600), its verifier key and its state database.

witness-key.pem   the private key (PKCS#8 PEM, mode 0600)
witness.vkey      its cosignature/v1 verifier key `<name>+<key id>+<base64>`, to hand out
witness.db        SQLite: the latest cosigned checkpoint of each log (ledger/witness/store)
"""

from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.home import HomeError, read_private_key, write_private_key
from ledger.tlog import keys
from ledger.tlog.cosignature import parse_witness_vkey, witness_vkey
from ledger.tlog.errors import EncodingError
from ledger.witness.store import database_url, upgrade

KEY_FILE = "witness-key.pem"
VKEY_FILE = "witness.vkey"
DATABASE_FILE = "witness.db"


@dataclass(frozen=True)
class WitnessHome:
    path: Path

    @property
    def key_path(self) -> Path:
        return self.path / KEY_FILE

    @property
    def vkey_path(self) -> Path:
        return self.path / VKEY_FILE

    @property
    def database_url(self) -> str:
        return database_url(self.path / DATABASE_FILE)

    def identity(self) -> tuple[str, Ed25519PrivateKey]:
        """The witness's name and key, checked against each other."""
        if not self.key_path.exists():
            raise HomeError(
                f"{self.path} is not a witness home (no {KEY_FILE}): "
                f"run `ree-ledger witness init --home {self.path} --name NAME` first"
            )
        key = read_private_key(self.key_path)
        vkey = self.vkey()
        try:
            witness = parse_witness_vkey(vkey)
        except EncodingError as exc:
            raise HomeError(f"{self.vkey_path}: {exc}") from exc
        if witness.public_key_raw != keys.raw_public_key(key):
            raise HomeError(f"{self.vkey_path} is not the verifier key of {self.key_path}")
        return witness.name, key

    def vkey(self) -> str:
        try:
            return self.vkey_path.read_text().strip()
        except FileNotFoundError as exc:
            raise HomeError(f"{self.vkey_path} is missing: the witness's name is in it") from exc


def init_witness(path: Path, name: str) -> str:
    """Create the key (unless there is one, made for the same name) and the database.

    Returns the witness's verifier key. Run again on an initialised home, it changes nothing
    and prints the same key; with another name it refuses (the name is part of the key id).
    """
    home = WitnessHome(path)
    if home.key_path.exists():
        existing, _key = home.identity()
        if existing != name:
            raise HomeError(
                f"{path} is already the witness {existing!r}: a witness keeps its name "
                "(its key id depends on it); make another home for another witness"
            )
    else:
        key = keys.generate_private_key()
        vkey = witness_vkey(name, keys.raw_public_key(key))  # refuses a bad name before writing
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_private_key(home.key_path, key)
        home.vkey_path.write_text(vkey + "\n")
    upgrade(home.database_url)
    return home.vkey()
