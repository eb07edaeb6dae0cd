"""Verify the entries of one lot's ancestry against a checkpoint: steps (1)–(4), (11) and (12)."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ledger.lots.events import Event
from ledger.lots.records import KeyState, Rejection
from ledger.tlog import merkle
from ledger.tlog.encoding import parse_json
from ledger.tlog.errors import EncodingError, VerificationError
from ledger.tlog.note import Checkpoint
from ledger.verify.entry import ParsedEntry, check_signature, parse_entry


@dataclass(frozen=True)
class ProvenEntry:
    """An entry as served: its stored bytes and an inclusion proof to the checkpoint's size."""

    index: int
    envelope: bytes
    proof: tuple[bytes, ...]


@dataclass(frozen=True)
class StepResult:
    """One entry's verification: `problems` is empty when every step passed."""

    index: int
    event_hash: str
    problems: tuple[str, ...]
    event: Event | None  # None when the envelope could not be parsed

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class TrustRoots:
    """What the verifier trusts: the checkpoint (already signature-checked) and the keys."""

    checkpoint: Checkpoint
    keys: Mapping[str, KeyState]
    operator_keyid: str
    operator_public_key: bytes


def verify_entries(
    entries: Sequence[ProvenEntry], roots: TrustRoots, history: Mapping[str, Sequence[int]]
) -> list[StepResult]:
    """Check every entry; `history` lists, per lot, the indices of the entries touching it."""
    problems: dict[int, list[str]] = {entry.index: [] for entry in entries}
    parsed: dict[int, ParsedEntry] = {}
    for entry in entries:
        found = _parse(entry, problems[entry.index])
        if found is not None:
            parsed[entry.index] = found
            _check_key_and_signature(found, entry.index, roots, problems[entry.index])
            _check_inclusion(found, entry, roots.checkpoint, problems[entry.index])
    for index, found in parsed.items():
        _check_links(parsed, index, found, history, problems[index])
    results = []
    for index, listed in sorted(problems.items()):
        done = parsed.get(index)
        event_hash, event = (done.event_hash, done.event) if done else ("", None)
        results.append(StepResult(index, event_hash, tuple(listed), event))
    return results


def _parse(entry: ProvenEntry, problems: list[str]) -> ParsedEntry | None:
    # (1)-(3): the stored bytes are a canonical envelope of a valid event.
    try:
        found = parse_entry(parse_json(entry.envelope))
    except (EncodingError, Rejection) as exc:
        problems.append(f"(1) envelope: {getattr(exc, 'detail', exc)}")
        return None
    if found.leaf_bytes != entry.envelope:
        problems.append("(1) the stored envelope is not in canonical form")
    return found


def _check_key_and_signature(
    found: ParsedEntry, index: int, roots: TrustRoots, problems: list[str]
) -> None:
    # (4): signed by a key of the actor, valid at this index.
    if found.keyid == roots.operator_keyid:
        public_key = roots.operator_public_key
    else:
        key = roots.keys.get(found.keyid)
        if key is None or key.participant != found.event.actor or not key.valid_at(index):
            problems.append(f"(4) key {found.keyid} was not a valid key of {found.event.actor}")
            return
        public_key = key.public_key
    try:
        check_signature(found, public_key)
    except Rejection as exc:
        problems.append(f"(4) {exc.detail}")


def _check_inclusion(
    found: ParsedEntry, entry: ProvenEntry, checkpoint: Checkpoint, problems: list[str]
) -> None:
    # (11): the entry is in the tree the checkpoint signs.
    try:
        merkle.verify_inclusion(
            entry.index, checkpoint.size, found.leaf_hash, list(entry.proof), checkpoint.root
        )
    except (VerificationError, ValueError) as exc:
        problems.append(f"(11) inclusion in checkpoint {checkpoint.size}: {exc}")


def _check_links(
    parsed: Mapping[int, ParsedEntry],
    index: int,
    found: ParsedEntry,
    history: Mapping[str, Sequence[int]],
    problems: list[str],
) -> None:
    # (12): each prev head is the event hash of the lot's previous entry. Lots outside the
    # ancestry (shipped along with it, say) have no history here and are not judged.
    for lot, head in found.event.prev.items():
        if lot not in history:
            continue
        earlier = [i for i in history.get(lot, ()) if i < index]
        previous = parsed.get(earlier[-1]) if earlier else None
        if previous is None or previous.event_hash != head:
            problems.append(f"(12) prev of {lot} is {head[:16]}…, not the lot's previous entry")
