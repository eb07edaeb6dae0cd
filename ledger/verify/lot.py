"""Verify the entries of one lot's ancestry against a checkpoint: steps (1)–(4), (11) and (12).

Every step is checked on every call. What a call may reuse from earlier ones given the same
`Memos` (the service keeps one per process) is the result of the pure, costly parts,
memoised on their exact inputs: the parse of the stored envelope bytes (steps 1–3) and
whether the signature in those bytes verifies with a given public key (the arithmetic of
step 4), in `VerifiedEntries`; and whether an inclusion proof verifies against a checkpoint
(step 11), in `VerifiedInclusions`. A signature not verified before is checked with
libsodium, and one libsodium refuses with pyca/cryptography, whose verdict is the one
reported (as at ingest and in the audit).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ledger.lots.events import Event
from ledger.lots.records import KeyState, Rejection
from ledger.tlog import merkle_verify
from ledger.tlog.envelope import envelope_json, pae
from ledger.tlog.errors import EncodingError, VerificationError
from ledger.tlog.note import Checkpoint
from ledger.verify.entry import ParsedEntry, check_signature, parse_entry
from ledger.verify.memo import Memos, VerifiedEntries
from ledger.verify.signatures import failed_signatures


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
    entries: Sequence[ProvenEntry],
    roots: TrustRoots,
    history: Mapping[str, Sequence[int]],
    memos: Memos,
) -> list[StepResult]:
    """Check every entry; `history` lists, per lot, the indices of the entries touching it;
    `memos` holds what earlier calls verified and is added to."""
    problems: dict[int, list[str]] = {entry.index: [] for entry in entries}
    parsed: dict[int, ParsedEntry] = {}
    canonical: set[int] = set()
    to_verify: list[tuple[int, bytes, bytes, bytes]] = []  # (index, public key, sig, message)
    for entry in entries:
        found = _parse(entry, memos.entries, problems[entry.index])
        if found is None:
            continue
        parsed[entry.index] = found
        if found.leaf_bytes == entry.envelope:
            canonical.add(entry.index)
        public_key = _authorised_key(found, entry.index, roots, problems[entry.index])
        if public_key is not None and not memos.entries.verified(found, public_key):
            sig = found.envelope.signatures[0].sig
            message = pae(found.envelope.payload_type, found.envelope.payload)
            to_verify.append((entry.index, public_key, sig, message))
    _check_signatures(to_verify, parsed, canonical, memos.entries, problems)
    for entry in entries:
        if (found := parsed.get(entry.index)) is not None:
            _check_inclusion(found, entry, roots.checkpoint, memos, problems[entry.index])
    for index, found in parsed.items():
        _check_links(parsed, index, found, history, problems[index])
    results = []
    for index, listed in sorted(problems.items()):
        done = parsed.get(index)
        event_hash, event = (done.event_hash, done.event) if done else ("", None)
        results.append(StepResult(index, event_hash, tuple(listed), event))
    return results


def _parse(entry: ProvenEntry, memo: VerifiedEntries, problems: list[str]) -> ParsedEntry | None:
    # (1)-(3): the stored bytes are a canonical envelope of a valid event. A memo hit is
    # the parse of exactly these bytes, which were canonical.
    known = memo.parsed(entry.envelope)
    if known is not None:
        return known
    try:
        found = parse_entry(envelope_json(entry.envelope))
    except (EncodingError, Rejection) as exc:
        problems.append(f"(1) envelope: {getattr(exc, 'detail', exc)}")
        return None
    if found.leaf_bytes != entry.envelope:
        problems.append("(1) the stored envelope is not in canonical form")
    else:
        memo.remember(found)
    return found


def _authorised_key(
    found: ParsedEntry, index: int, roots: TrustRoots, problems: list[str]
) -> bytes | None:
    # (4), first half: signed by a key of the actor, valid at this index. Checked every time.
    if found.keyid == roots.operator_keyid:
        return roots.operator_public_key
    key = roots.keys.get(found.keyid)
    if key is None or key.participant != found.event.actor or not key.valid_at(index):
        problems.append(f"(4) key {found.keyid} was not a valid key of {found.event.actor}")
        return None
    return key.public_key


def _check_signatures(
    items: list[tuple[int, bytes, bytes, bytes]],
    parsed: Mapping[int, ParsedEntry],
    canonical: set[int],
    memo: VerifiedEntries,
    problems: Mapping[int, list[str]],
) -> None:
    # (4), second half: the signature over PAE(payloadType, payload) verifies with that key,
    # for those not verified before with these exact bytes and this key (the memo). libsodium
    # first; what it refuses is judged by pyca/cryptography, so the verdict is pyca's.
    refused = set(failed_signatures(items))
    for index, public_key, _, _ in items:
        found = parsed[index]
        if index in refused:
            try:
                check_signature(found, public_key)
            except Rejection as exc:
                problems[index].append(f"(4) {exc.detail}")
                continue
        if index in canonical:
            memo.remember(found, public_key)


def _check_inclusion(
    found: ParsedEntry,
    entry: ProvenEntry,
    checkpoint: Checkpoint,
    memos: Memos,
    problems: list[str],
) -> None:
    # (11): the entry is in the tree the checkpoint signs.
    digest = memos.inclusions.digest(
        entry.index, checkpoint.size, found.leaf_hash, entry.proof, checkpoint.root
    )
    if digest is not None and memos.inclusions.passed(digest):
        return
    try:
        merkle_verify.verify_inclusion(
            entry.index, checkpoint.size, found.leaf_hash, list(entry.proof), checkpoint.root
        )
    except (VerificationError, ValueError) as exc:
        problems.append(f"(11) inclusion in checkpoint {checkpoint.size}: {exc}")
        return
    if digest is not None:
        memos.inclusions.add(digest)


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
