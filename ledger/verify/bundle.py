"""Verify one lot's offline bundle: steps (13)–(17), with (1)–(4), (11) and (12) for each entry."""

from dataclasses import dataclass, field, replace
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ledger.lots.events import CustomsDecide, Event, LotExtract, LotReceive, LotShip, LotTransform
from ledger.lots.memory import MemoryState
from ledger.lots.provenance import MineOrigin, OriginShare, origin_shares
from ledger.lots.records import ACTIVE, DECLARED, IN_TRANSIT, LotState, Rejection
from ledger.lots.rules import Flag, check_event
from ledger.lots.state import apply_event, authorise_key
from ledger.lots.tolerances import Tolerances
from ledger.tlog import merkle
from ledger.tlog.encoding import b64decode, b64encode
from ledger.tlog.errors import EncodingError, VerificationError
from ledger.tlog.keys import key_id, parse_verifier_key
from ledger.tlog.note import Checkpoint, open_checkpoint
from ledger.tlog.proof import check_tlog_proof
from ledger.verify.entry import ParsedEntry, check_signature, parse_entry

BUNDLE_FORMAT: Literal["ree-ledger.bundle.v1"] = "ree-ledger.bundle.v1"
# Refusals of parse_entry that concern the envelope (step 1); the others concern the payload (2).
_ENVELOPE_CODES = frozenset({"malformed_envelope", "wrong_payload_type", "wrong_signature_count"})
# Events whose rules judge each lot on its own, so that a stand-in cannot sway another's flags.
_PER_LOT_RULES = (LotShip, LotReceive, CustomsDecide)


class BundleFormatError(EncodingError):
    """The input is not a bundle (a field missing or of the wrong type): nothing was checked."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class BundleProof(_Strict):
    index: int
    size: int
    hashes: list[str] = Field(description="standard base64 node hashes, leaf's sibling first")


class BundleEntry(_Strict):
    """An entry as the bundle carries it; every field is checked, none is trusted."""

    index: int
    envelope: dict[str, Any] = Field(description="the stored DSSE envelope object")
    event_hash: str
    leaf_hash: str
    inclusion_proof: BundleProof = Field(description="to the bundle's checkpoint")
    tlog_proof: str | None = Field(None, description="c2sp.org/tlog-proof@v1 text, on request")


class Bundle(_Strict):
    """A lot's offline bundle (docs/audit.md): its ancestry's entries and the registry's."""

    format: Literal["ree-ledger.bundle.v1"]
    lot: str
    origin: str
    log_key: str = Field(description="the log verifier key, as the server states it")
    operator_key: str = Field(description="the operator key (base64), as the server states it")
    checkpoint: str = Field(description="the signed checkpoint note every proof leads to")
    entries: list[BundleEntry]


def parse_bundle(obj: object) -> Bundle:
    """Read a bundle's JSON object; raise BundleFormatError if it does not have the shape."""
    try:
        return Bundle.model_validate(obj)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in ("bundle", *error["loc"]))
        raise BundleFormatError(f"{where}: {error['msg'][0].lower()}{error['msg'][1:]}") from exc


@dataclass
class EntryCheck:
    """One entry of the bundle and what verifying it found."""

    entry: BundleEntry
    parsed: ParsedEntry | None = None  # None when the envelope could not be read
    problems: list[str] = field(default_factory=list)  # failed checks, "(n) reason"
    notes: list[str] = field(default_factory=list)  # what could not be checked offline, why

    @property
    def index(self) -> int:
        return self.entry.index

    @property
    def event(self) -> Event | None:
        return self.parsed.event if self.parsed else None

    @property
    def lots(self) -> tuple[str, ...]:
        """The lots the entry touched or created."""
        event = self.event
        return tuple(sorted({*event.prev, *_created(event)})) if event else ()

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class FoundFlag:
    index: int
    flag: Flag


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
    bundle: Bundle, log_vkey: str, operator_key: bytes, tolerances: Tolerances
) -> BundleReport:
    """Re-run every check on `bundle`, trusting nothing but `log_vkey` and `operator_key`.

    Findings go into the report; only a malformed trusted key raises (EncodingError).
    """
    parse_verifier_key(log_vkey)
    operator_keyid = key_id("operator", operator_key)
    problems = _check_keys(bundle, log_vkey, operator_key)
    checkpoint = _open_checkpoint(bundle, log_vkey, problems)
    checks = _parse_all(bundle.entries)
    for check in checks:
        _check_inclusion(check, checkpoint, bundle.origin, log_vkey)
    scope, gaps = _ancestry(bundle.lot, checks)
    replay = _Replay(operator_key, operator_keyid, scope, tolerances)
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
        tuple(replay.flags),
        replay.state.lots.get(bundle.lot),
        head[1] if head else None,
    )
    if report.ok and report.state is not None:
        mines = {mine.lot: mine for mine in report.mines}
        lots, edges = replay.state.lots, replay.state.edges
        report.shares = tuple(origin_shares(report.state, lots, edges, mines))
    return report


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
        merkle.verify_inclusion(
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
            for made in _created(check.parsed.event):
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


def _created(event: Event) -> tuple[str, ...]:
    if isinstance(event, LotExtract):
        return (event.lot.id,)
    if isinstance(event, LotTransform):
        return tuple(new.id for new in event.outputs)
    return ()


def _stand_in(event: Event, lot_id: str, known: LotState | None) -> LotState:
    """A lot outside the ancestry as `event` says it was: its history is not in the bundle, so
    the entry is taken at its word for it; only the ancestry's lots are really replayed."""
    refs = [*event.inputs] if isinstance(event, LotTransform) else []
    refs += [*event.lots] if isinstance(event, LotShip | LotReceive) else []
    mass = next((ref.mass_g for ref in refs if ref.lot == lot_id), 1)
    base = known or LotState(
        lot_id, "unknown", None, mass, {}, event.actor, ACTIVE, "", -1, -1, None, ()
    )
    changes: dict[str, Any]
    if isinstance(event, LotReceive):
        changes = {"custodian": event.from_, "status": IN_TRANSIT, "pending_to": event.actor}
    elif isinstance(event, CustomsDecide):
        changes = {"status": DECLARED}
    else:
        changes = {"custodian": event.actor, "status": ACTIVE, "pending_to": None}
        changes["mass_g"] = max(base.mass_g, mass)
    return replace(base, head=event.prev[lot_id], time=event.time, **changes)


class _Replay:
    """Steps (4), (12), (16) and (17) over the entries in index order, from an empty state."""

    def __init__(
        self, operator_key: bytes, operator_keyid: str, scope: frozenset[str], rules: Tolerances
    ) -> None:
        self.state = MemoryState()
        self.operator_key = operator_key
        self.operator_keyid = operator_keyid
        self.scope = scope
        self.rules = rules
        self.heads: dict[str, tuple[int, str]] = {}  # lot -> its last entry so far, and hash
        self.flags: list[FoundFlag] = []
        self.failed: set[str] = set()  # lots whose replay stopped at a failed entry
        self.unread: dict[str, int] = {}  # stated event_hash -> index of an unreadable entry

    def entry(self, check: EntryCheck) -> None:
        if check.parsed is None:
            # Unread, its lots are unknown: the entries naming its stated hash will tell.
            self.unread[check.entry.event_hash] = check.index
            return
        self._check_signature(check.parsed, check)
        event = check.parsed.event
        touched = {*event.prev, *_created(event)}
        # After a failed entry its lots are not replayed: what follows would only repeat the
        # failure. A failed entry is not replayed either: its content is not to be believed.
        self._check_links(check.parsed, check)
        after = sorted(touched & self.failed)
        if check.ok and not after and self._apply(check.parsed, check):
            return
        self.failed |= touched
        if after and check.ok:
            check.notes.append(f"custody not replayed: an earlier entry of {after[0]} failed")

    def _check_signature(self, parsed: ParsedEntry, check: EntryCheck) -> None:
        # (4): signed by a key of the actor that the replayed registry holds valid here.
        actor, index = parsed.event.actor, check.entry.index
        try:
            key = authorise_key(parsed.keyid, actor, index, self.state, self.operator_keyid)
            check_signature(parsed, self.operator_key if key is None else key)
        except Rejection as exc:
            check.problems.append(f"(4) {exc.detail}")

    def _check_links(self, parsed: ParsedEntry, check: EntryCheck) -> None:
        # (12): each prev head of an ancestry lot is the hash of its previous bundle entry.
        event = parsed.event
        for lot, head in sorted(event.prev.items()):
            last = self.heads.get(lot)
            if lot not in self.scope or lot in self.failed or (last and last[1] == head):
                continue
            if head in self.unread:
                self.failed.add(lot)
                continue
            said = "no earlier entry" if last is None else f"entry {last[0]} ({last[1][:16]}…)"
            check.problems.append(
                f"(12) prev.{lot} is {head[:16]}…, but the bundle's previous entry of lot {lot} "
                f"is {said}: an entry of its history is missing or changed"
            )
        for lot in (*event.prev, *_created(event)):
            self.heads[lot] = (check.entry.index, parsed.event_hash)

    def _apply(self, parsed: ParsedEntry, check: EntryCheck) -> bool:
        # (16): the custody state machine, replayed from the bundle alone, accepts the event.
        event, index = parsed.event, check.entry.index
        outside = sorted(lot for lot in event.prev if lot not in self.scope)
        for lot in outside:
            self.state.lots[lot] = _stand_in(event, lot, self.state.lots.get(lot))
        try:
            effects = apply_event(event, parsed.event_hash, index, self.state, None)
        except Rejection as exc:
            check.problems.append(f"(16) {exc.detail}")
            return False
        if not outside or isinstance(event, _PER_LOT_RULES):
            self._recompute_flags(event, index, check, bool(outside))
        if outside:
            checked = "custody and flags" if isinstance(event, _PER_LOT_RULES) else "custody"
            rest = "" if isinstance(event, _PER_LOT_RULES) else ", flags not recomputed"
            check.notes.append(
                f"also touches {', '.join(outside)}, outside the ancestry: {checked} checked "
                f"for the ancestry's lots only{rest}"
            )
        self.state.apply(effects, event.id, index)
        return True

    def _recompute_flags(self, event: Event, index: int, check: EntryCheck, only: bool) -> None:
        # (17): the consistency rules on the state before the event: findings, not failures.
        # `only`: the flags on the ancestry's lots, when the others are stand-ins.
        try:
            found = check_event(event, self.state, self.rules)
        except LookupError as exc:
            check.notes.append(f"flags not recomputed: {exc}")
            return
        kept = (flag for flag in found if not only or flag.lot in self.scope)
        self.flags.extend(FoundFlag(index, flag) for flag in kept)
