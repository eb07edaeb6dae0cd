"""Steps (4), (12), (16) and (17): the bundle's custody and flags, replayed from an empty state."""

from dataclasses import dataclass, field
from typing import Any

from msgspec.structs import replace

from ledger.lots.events import CustomsDecide, Event, LotExtract, LotReceive, LotShip, LotTransform
from ledger.lots.memory import MemoryState
from ledger.lots.policy import DEFAULT_POLICY, CustodyPolicy
from ledger.lots.records import ACTIVE, DECLARED, IN_TRANSIT, LotState, Rejection
from ledger.lots.rules import Flag, check_event
from ledger.lots.state import apply_event, authorise_key
from ledger.lots.tolerances import Tolerances
from ledger.verify.bundle_format import BundleEntry
from ledger.verify.entry import ParsedEntry, check_signature

# Events whose rules judge each lot on its own, so that a stand-in cannot sway another's flags.
_PER_LOT_RULES = (LotShip, LotReceive, CustomsDecide)


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
        return tuple(sorted({*event.prev, *created(event)})) if event else ()

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class FoundFlag:
    index: int
    flag: Flag


def created(event: Event) -> tuple[str, ...]:
    """The lots `event` creates."""
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


class Replay:
    """Steps (4), (12), (16) and (17) over the entries in index order, from an empty state."""

    def __init__(
        self,
        operator_key: bytes,
        operator_keyid: str,
        scope: frozenset[str],
        rules: Tolerances,
        policy: CustodyPolicy = DEFAULT_POLICY,
    ) -> None:
        self.state = MemoryState()
        self.operator_key = operator_key
        self.operator_keyid = operator_keyid
        self.scope = scope
        self.rules = rules
        self.policy = policy
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
        touched = {*event.prev, *created(event)}
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
        for lot in (*event.prev, *created(event)):
            self.heads[lot] = (check.entry.index, parsed.event_hash)

    def _apply(self, parsed: ParsedEntry, check: EntryCheck) -> bool:
        # (16): the custody state machine, replayed from the bundle alone, accepts the event.
        event, index = parsed.event, check.entry.index
        outside = sorted(lot for lot in event.prev if lot not in self.scope)
        for lot in outside:
            self.state.lots[lot] = _stand_in(event, lot, self.state.lots.get(lot))
        try:
            effects = apply_event(event, parsed.event_hash, index, self.state, None, self.policy)
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
            # A bundle holds part of the log: a quota's or a licence's running total is the
            # whole log's, so the findings on it are the audit's to recompute, not the bundle's.
            found = check_event(event, self.state, self.rules, whole_log=False)
        except LookupError as exc:
            check.notes.append(f"flags not recomputed: {exc}")
            return
        kept = (flag for flag in found if not only or flag.lot in self.scope)
        self.flags.extend(FoundFlag(index, flag) for flag in kept)
