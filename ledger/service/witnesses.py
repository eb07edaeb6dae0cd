"""The log's witnesses (DESIGN §9.3): configuration, the quorum, and the checkpoints served
with their cosignatures."""

from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from ledger.service.queries import NotFound
from ledger.store import log as logstore
from ledger.store import witnesses as witnessstore
from ledger.store.engine import Database
from ledger.store.tables import CheckpointRow
from ledger.tlog.cosignature import WitnessKey, parse_witness_vkey, verify_cosignatures
from ledger.tlog.errors import EncodingError, VerificationError


class WitnessConfigError(ValueError):
    """A witness configuration that cannot be: the message says what and what to do."""


@dataclass(frozen=True)
class Witness:
    name: str
    vkey: str
    url: str
    key: WitnessKey


@dataclass(frozen=True)
class WitnessConfig:
    witnesses: tuple[Witness, ...]
    quorum: int

    @property
    def vkeys(self) -> frozenset[str]:
        return frozenset(witness.vkey for witness in self.witnesses)

    @property
    def keys(self) -> tuple[WitnessKey, ...]:
        return tuple(witness.key for witness in self.witnesses)

    def describe(self) -> str:
        if not self.witnesses:
            return "no witnesses: checkpoints are served with the log's signature alone"
        return (
            f"quorum {self.quorum} of {len(self.witnesses)} witnesses: GET /v1/checkpoint "
            f"serves the newest checkpoint {self.quorum} of them cosigned"
            if self.quorum
            else f"quorum 0 of {len(self.witnesses)} witnesses: GET /v1/checkpoint serves the "
            "newest checkpoint, with whatever cosignatures it has"
        )


def read_config(session: Session) -> WitnessConfig:
    rows = witnessstore.witnesses(session)
    return WitnessConfig(
        tuple(Witness(row.name, row.vkey, row.url, parse_witness_vkey(row.vkey)) for row in rows),
        witnessstore.quorum(session),
    )


def config(db: Database) -> WitnessConfig:
    with db.read_session() as session:
        return read_config(session)


def cosigned_sizes(db: Database) -> dict[str, int]:
    """Witness name -> the largest checkpoint size it cosigned for this log (0: none yet)."""
    with db.read_session() as session:
        return {
            row.name: witnessstore.last_cosigned_size(session, row.vkey)
            for row in witnessstore.witnesses(session)
        }


def check_url(url: str) -> str:
    """The witness's submission prefix, without a trailing slash; http(s) only."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise WitnessConfigError(
            f"witness URL {url!r} must be an http:// or https:// address (its submission prefix)"
        )
    if parts.query or parts.fragment:
        raise WitnessConfigError(f"witness URL {url!r} must not carry a query or fragment")
    return url.rstrip("/")


def add_witness(db: Database, url: str, vkey: str, quorum: int | None = None) -> WitnessConfig:
    """Configure a witness (its URL is updated if its key is already configured) and,
    when given, the quorum."""
    url = check_url(url)
    try:
        key = parse_witness_vkey(vkey)
    except EncodingError as exc:
        raise WitnessConfigError(str(exc)) from exc
    vkey = vkey.strip()
    with db.write_session() as session:
        current = read_config(session)
        same = next((w for w in current.witnesses if w.vkey == vkey), None)
        if same is not None:
            witnessstore.set_witness_url(session, same.name, url)
        elif any(w.name == key.name for w in current.witnesses):
            raise WitnessConfigError(
                f"a witness named {key.name!r} is configured with another key: "
                f"`ree-ledger witness remove {key.name}` first"
            )
        else:
            witnessstore.add_witness(session, key.name, vkey, url)
        count = len(current.witnesses) + (same is None)
        if quorum is not None:
            _set_quorum(session, quorum, count)
        try:
            session.commit()
        except IntegrityError as exc:  # another process added it meanwhile
            raise WitnessConfigError(f"witness {key.name!r} was added meanwhile: retry") from exc
        return read_config(session)


def remove_witness(db: Database, name: str) -> WitnessConfig:
    """Forget a witness; refused while the quorum needs it."""
    with db.write_session() as session:
        current = read_config(session)
        if name not in {w.name for w in current.witnesses}:
            raise WitnessConfigError(f"no witness named {name!r} is configured")
        if current.quorum > len(current.witnesses) - 1:
            raise WitnessConfigError(
                f"the quorum is {current.quorum}: lower it first "
                f"(`ree-ledger witness quorum {len(current.witnesses) - 1}`)"
            )
        witnessstore.remove_witness(session, name)
        session.commit()
        return read_config(session)


def set_quorum(db: Database, quorum: int) -> WitnessConfig:
    with db.write_session() as session:
        _set_quorum(session, quorum, len(witnessstore.witnesses(session)))
        session.commit()
        return read_config(session)


def _set_quorum(session: Session, quorum: int, count: int) -> None:
    if not 0 <= quorum <= count:
        raise WitnessConfigError(
            f"quorum {quorum} is impossible with {count} witnesses: choose 0 to {count}"
        )
    witnessstore.set_quorum(session, quorum)


# --- the checkpoints served -------------------------------------------------------------


@dataclass(frozen=True)
class ServedCheckpoint:
    """A stored checkpoint as served: the log's note with the stored cosignature lines of the
    configured witnesses appended (one note, every signature line)."""

    size: int
    root: bytes
    note: str


def cosigned_note(session: Session, row: CheckpointRow, witness_vkeys: frozenset[str]) -> str:
    lines = witnessstore.cosignature_lines(session, row.size, witness_vkeys)
    return row.note + "".join(line + "\n" for line in lines)


def served_checkpoint(db: Database, *, unwitnessed: bool = False) -> ServedCheckpoint:
    """What `GET /v1/checkpoint` serves: the newest checkpoint a quorum of the witnesses
    cosigned, or with `unwitnessed` (or quorum 0) the newest one."""
    with db.read_session() as session:
        current = read_config(session)
        if unwitnessed or current.quorum == 0:
            row = logstore.latest_checkpoint(session)
            if row is None:
                raise NotFound(
                    "the log is empty: no checkpoint has been signed yet", "no_checkpoint"
                )
        else:
            found = witnessstore.newest_cosigned(session, current.vkeys, current.quorum)
            if found is None:
                raise NotFound(
                    f"no checkpoint carries cosignatures of {current.quorum} of the "
                    f"{len(current.witnesses)} witnesses yet: GET /v1/checkpoint?unwitnessed=1 "
                    "serves the newest one, signed by the log alone",
                    "no_checkpoint",
                )
            row = found
        return ServedCheckpoint(
            row.size, bytes(row.root), cosigned_note(session, row, current.vkeys)
        )


def covering_checkpoint(session: Session, at_least: int) -> ServedCheckpoint | None:
    """The checkpoint a bundle or the lot page proves entries below `at_least` against: the
    newest one a quorum of the witnesses cosigned that covers them, else (quorum 0, or none
    cosigned yet) the newest one; None for an empty log."""
    current = read_config(session)
    row = witnessstore.newest_cosigned(session, current.vkeys, current.quorum, at_least)
    if row is None:
        row = logstore.latest_checkpoint(session)
    if row is None:
        return None
    return ServedCheckpoint(row.size, bytes(row.root), cosigned_note(session, row, current.vkeys))


def cosigners(note: str, keys: tuple[WitnessKey, ...]) -> tuple[dict[str, int], str | None]:
    """Witness name -> time of its valid cosignature on `note`, and why none counts when a
    line by one of `keys` does not verify (a stored cosignature was altered: audit step 18)."""
    if not keys:
        return {}, None
    try:
        return verify_cosignatures(note, keys), None
    except (EncodingError, VerificationError) as exc:
        return {}, str(exc)
