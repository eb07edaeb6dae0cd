"""Verify one lot's offline bundle: steps (13)–(17), with (1)–(4), (11) and (12) for each entry."""

from collections.abc import Sequence
from dataclasses import dataclass

from ledger.lots.events import Event, LotExtract, LotTransform
from ledger.lots.policy import DEFAULT_POLICY, CustodyPolicy
from ledger.lots.provenance import (
    HISTORY_SEVERITIES,
    MineOrigin,
    OriginShare,
    history_indexes,
    origin_shares,
)
from ledger.lots.records import Edge, LotState, Rejection
from ledger.lots.tolerances import Tolerances
from ledger.tlog import merkle_verify
from ledger.tlog.cosignature import WitnessKey, verify_cosignatures
from ledger.tlog.encoding import b64decode, b64encode
from ledger.tlog.errors import EncodingError, VerificationError
from ledger.tlog.keys import key_id, parse_verifier_key
from ledger.tlog.note import Checkpoint, open_checkpoint
from ledger.tlog.proof import check_tlog_proof
from ledger.verify.bundle_format import (
    BUNDLE_FORMAT,
    Bundle,
    BundleEntry,
    BundleFormatError,
    BundleProof,
    parse_bundle,
)
from ledger.verify.entry import ParsedEntry, parse_entry
from ledger.verify.replay import EntryCheck, FoundFlag, Replay, created

# The entry point: the bundle's shape (bundle_format) and the replay's results are named here too.
__all__ = [
    "BUNDLE_FORMAT",
    "Bundle",
    "BundleEntry",
    "BundleFormatError",
    "BundleProof",
    "BundleReport",
    "EntryCheck",
    "FoundFlag",
    "parse_bundle",
    "verify_bundle",
]

# Refusals of parse_entry that concern the envelope (step 1); the others concern the payload (2).
_ENVELOPE_CODES = frozenset({"malformed_envelope", "wrong_payload_type", "wrong_signature_count"})


@dataclass
class BundleReport:
    """Everything the verifier found; `failures` is empty when every check passed."""

    lot: str
    origin: str
    checkpoint: Checkpoint | None
    problems: tuple[str, ...]  # (13), (14): not tied to one entry
    entries: tuple[EntryCheck, ...]
    gaps: tuple[str, ...]  # (15): lots of the ancestry the bundle does not create
    ancestry: frozenset[str]  # the lot and every lot it was made from, per the bundle
    flags: tuple[FoundFlag, ...]
    state: LotState | None  # the lot as the replay leaves it
    head: str | None  # event_hash of the lot's last entry in the bundle
    shares: tuple[OriginShare, ...] = ()  # each mine's share; only when every check passed
    # The trusted witnesses whose cosignature of the checkpoint verifies, with its time.
    cosigners: tuple[tuple[str, int], ...] = ()

    @property
    def mines(self) -> tuple[MineOrigin, ...]:
        """The extracted lots of the ancestry, as their signed lot.extract entries say."""
        return tuple(
            MineOrigin(e.lot.id, e.actor, e.site.id, e.site.name, e.site.country, e.deposit)
            for e in (check.event for check in self.entries)
            if isinstance(e, LotExtract) and e.lot.id in self.ancestry
        )

    @property
    def failures(self) -> list[str]:
        """Every failed check, one line each: the bundle's first, then by entry, then gaps."""
        by_entry = [f"entry {check.index}: {p}" for check in self.entries for p in check.problems]
        return [*self.problems, *by_entry, *self.gaps]

    @property
    def ok(self) -> bool:
        return not self.failures


def verify_bundle(
    bundle: Bundle,
    log_vkey: str,
    operator_key: bytes,
    tolerances: Tolerances,
    policy: CustodyPolicy = DEFAULT_POLICY,
    witnesses: Sequence[WitnessKey] = (),
    quorum: int = 0,
) -> BundleReport:
    """Re-run every check on `bundle`, trusting nothing but `log_vkey` and `operator_key`,
    and, given `witnesses`, that `quorum` of them cosigned its checkpoint.

    Findings go into the report; only a malformed trusted key raises (EncodingError).
    """
    parse_verifier_key(log_vkey)
    operator_keyid = key_id("operator", operator_key)
    problems = _check_keys(bundle, log_vkey, operator_key)
    checkpoint = _open_checkpoint(bundle, log_vkey, problems)
    cosigners = _check_cosignatures(bundle.checkpoint, witnesses, quorum, problems)
    checks = _parse_all(bundle.entries)
    for check in checks:
        _check_inclusion(check, checkpoint, bundle.origin, log_vkey)
    scope, gaps = _ancestry(bundle.lot, checks)
    replay = Replay(operator_key, operator_keyid, scope, tolerances, policy)
    for check in checks:
        replay.entry(check)
    head = replay.heads.get(bundle.lot)
    report = BundleReport(
        bundle.lot,
        bundle.origin,
        checkpoint,
        tuple(problems),
        tuple(checks),
        gaps,
        scope,
        _counted(bundle.lot, scope, checks, replay.state.edges, replay.flags),
        replay.state.lots.get(bundle.lot),
        head[1] if head else None,
        cosigners=tuple(sorted(cosigners.items())),
    )
    if report.ok and report.state is not None:
        mines = {mine.lot: mine for mine in report.mines}
        lots, edges = replay.state.lots, replay.state.edges
        report.shares = tuple(origin_shares(report.state, lots, edges, mines))
    return report


def _counted(
    lot: str,
    scope: frozenset[str],
    checks: list[EntryCheck],
    edges: list[Edge],
    flags: list[FoundFlag],
) -> tuple[FoundFlag, ...]:
    """The findings that count for `lot`, as its page counts them (DESIGN §9.2): each one on
    a lot of its ancestry, and a medium or high one on another lot raised by an event of its
    history (a split's other output); not an ancestor's events after the lineage left it."""
    history: dict[str, list[int]] = {}
    for check in checks:
        for touched in check.lots:
            if touched in scope:
                history.setdefault(touched, []).append(check.index)
    counted = history_indexes(lot, history, [edge for edge in edges if edge.child in scope])
    return tuple(
        found
        for found in flags
        if found.flag.lot in scope
        or (found.index in counted and found.flag.severity in HISTORY_SEVERITIES)
    )


def _check_keys(bundle: Bundle, log_vkey: str, operator_key: bytes) -> list[str]:
    # (13): the bundle states the keys the verifier trusts; it never uses the stated ones.
    problems = []
    if bundle.log_key != log_vkey:
        problems.append(
            f"bundle: (13) it states the log key {bundle.log_key!r}, not the trusted {log_vkey!r}"
        )
    if bundle.operator_key != b64encode(operator_key):
        problems.append(
            f"bundle: (13) it states the operator key {bundle.operator_key!r}, not the trusted "
            f"{b64encode(operator_key)!r}"
        )
    return problems


def _open_checkpoint(bundle: Bundle, log_vkey: str, problems: list[str]) -> Checkpoint | None:
    # (14): the checkpoint is signed by the trusted log key, for the bundle's origin.
    try:
        return open_checkpoint(bundle.checkpoint, log_vkey, origin=bundle.origin)
    except VerificationError as exc:
        problems.append(f"checkpoint: (14) {exc}")
    # The entries are still checked against the root it claims, to say what else is wrong.
    try:
        return Checkpoint.parse(bundle.checkpoint.partition("\n\n")[0] + "\n")
    except EncodingError:
        return None


def _check_cosignatures(
    note: str, witnesses: Sequence[WitnessKey], quorum: int, problems: list[str]
) -> dict[str, int]:
    # (14): and `quorum` of the trusted witnesses cosigned it (c2sp.org/tlog-cosignature).
    if not witnesses:
        return {}
    try:
        found = verify_cosignatures(note, witnesses)
    except VerificationError as exc:
        problems.append(f"checkpoint: (14) {exc}")
        return {}
    if len(found) < quorum:
        names = ", ".join(sorted(found)) or "none"
        problems.append(
            f"checkpoint: (14) cosigned by {len(found)} of the {len(witnesses)} trusted "
            f"witnesses ({names}), fewer than the quorum of {quorum}"
        )
    return found


def _parse_all(entries: list[BundleEntry]) -> list[EntryCheck]:
    checks: list[EntryCheck] = []
    for entry in sorted(entries, key=lambda found: found.index):
        check = EntryCheck(entry)
        if checks and checks[-1].index == entry.index:
            check.problems.append("(11) the bundle holds this entry more than once")
        else:
            check.parsed = _parse(entry, check.problems)
        checks.append(check)
    return checks


def _parse(entry: BundleEntry, problems: list[str]) -> ParsedEntry | None:
    # (1)-(3): a DSSE envelope of a canonical, valid event; the stated hashes are the computed.
    try:
        parsed = parse_entry(entry.envelope)
    except Rejection as exc:
        problems.append(f"({1 if exc.code in _ENVELOPE_CODES else 2}) {exc.detail}")
        return None
    if entry.event_hash != parsed.event_hash:
        problems.append(f"(3) event_hash {entry.event_hash!r}, computed {parsed.event_hash}")
    if entry.leaf_hash != b64encode(parsed.leaf_hash):
        computed = b64encode(parsed.leaf_hash)
        problems.append(f"(3) leaf_hash {entry.leaf_hash!r}, computed {computed}")
    return parsed


def _check_inclusion(
    check: EntryCheck, checkpoint: Checkpoint | None, origin: str, vkey: str
) -> None:
    # (11): the entry is leaf `index` of the tree the checkpoint signs.
    entry, parsed = check.entry, check.parsed
    if parsed is None or checkpoint is None:
        return
    proof = entry.inclusion_proof
    if (proof.index, proof.size) != (entry.index, checkpoint.size):
        check.problems.append(
            f"(11) the inclusion proof is for entry {proof.index} in a tree of size "
            f"{proof.size}, not entry {entry.index} in the checkpoint's {checkpoint.size}"
        )
        return
    try:
        hashes = [b64decode(value) for value in proof.hashes]
        merkle_verify.verify_inclusion(
            entry.index, checkpoint.size, parsed.leaf_hash, hashes, checkpoint.root
        )
    except (EncodingError, VerificationError) as exc:
        check.problems.append(f"(11) not in the checkpoint's tree of size {checkpoint.size}: {exc}")
    if entry.tlog_proof is not None:
        try:
            check_tlog_proof(entry.tlog_proof, entry.index, parsed.leaf_hash, vkey, origin=origin)
        except (EncodingError, VerificationError) as exc:
            check.problems.append(f"(11) tlog_proof: {exc}")


def _ancestry(lot: str, checks: list[EntryCheck]) -> tuple[frozenset[str], tuple[str, ...]]:
    # (15): every lot the lot was made from is created by an entry of the bundle.
    makers: dict[str, Event] = {}
    for check in checks:
        if check.parsed is not None:
            for made in created(check.parsed.event):
                makers.setdefault(made, check.parsed.event)
    scope: set[str] = set()
    gaps: list[str] = []
    todo = [lot]
    while todo:
        current = todo.pop()
        if current in scope:
            continue
        scope.add(current)
        maker = makers.get(current)
        if maker is None:
            gaps.append(f"lot {current}: (15) no entry of the bundle creates it")
        elif isinstance(maker, LotTransform):
            todo.extend(ref.lot for ref in maker.inputs)
    return frozenset(scope), tuple(sorted(gaps))
