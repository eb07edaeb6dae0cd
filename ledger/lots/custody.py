"""Custody transitions of lots: extract, transform, assay, ship, receive."""

from datetime import datetime

from msgspec.structs import replace

from ledger.errors import Kind
from ledger.lots import licences, lineage
from ledger.lots.events import LotAssay, LotExtract, LotReceive, LotShip, LotTransform, NewLot
from ledger.lots.guards import (
    check_prev,
    require_custodian,
    require_lots,
    require_new_lot,
    require_participant,
    require_role,
    require_status,
    touch,
)
from ledger.lots.records import (
    ACTIVE,
    CONSUMED,
    DECLARED,
    IN_TRANSIT,
    Edge,
    Effects,
    LotState,
    Rejection,
    StateReader,
)

_SPLIT_OR_BLEND = frozenset({"split", "blend"})
_MINE = frozenset({"mine"})
_MAKERS = frozenset({"mine", "processor"})
_ONLY_ACTIVE = frozenset({ACTIVE})
_ONLY_IN_TRANSIT = frozenset({IN_TRANSIT})
_TESTERS = frozenset({"lab", "customs"})


def _effects(
    lots: tuple[LotState, ...],
    edges: tuple[Edge, ...] = (),
    shares: tuple[lineage.Vector, ...] | None = None,
) -> Effects:
    return Effects(lots=lots, edges=edges, lineage_shares=shares)


# Processes after which a lot still carries its deposit's REE pattern (separation destroys it).
PATTERN_KEEPING = frozenset({"beneficiation", "cracking", "split", "blend"})
_ASSAYABLE = frozenset({ACTIVE, IN_TRANSIT, DECLARED})


def extract(event: LotExtract, event_hash: str, index: int, reader: StateReader) -> Effects:
    require_role(reader, event.actor, _MINE, event.type)
    check_prev(event.prev, [])
    require_new_lot(reader, event.lot.id, "lot.id", ())
    # An extracted lot is its own origin: every descendant carries its id back to the mine.
    lot = _new_lot(
        event.lot,
        event.actor,
        event_hash,
        index,
        origins=(event.lot.id,),
        deposit=event.deposit,
        time=event.time,
        budget=lineage.extracted(event.lot.mass_g, event.lot.composition_ppm, event.deposit),
    )
    use = licences.reo_g(event.lot.mass_g, event.lot.composition_ppm)
    quotas = licences.quotas_for(reader, event.actor, int(event.time[:4]), event.deposit, use)
    if not quotas:
        return _effects((lot,))
    return replace(_effects((lot,)), quotas=licences.charge_quotas(quotas, use))


def transform(event: LotTransform, event_hash: str, index: int, reader: StateReader) -> Effects:
    if event.process in _SPLIT_OR_BLEND:
        # Mixing changes no material, so any custodian may split or blend what it holds.
        require_participant(reader, event.actor, "actor")
    else:
        require_role(reader, event.actor, _MAKERS, event.type)
    refs = [(f"inputs.{i}.lot", ref.lot) for i, ref in enumerate(event.inputs)]
    inputs = require_lots(reader, refs)
    check_prev(event.prev, inputs)
    require_custodian(inputs, refs, event.actor)
    require_status(inputs, refs, _ONLY_ACTIVE, "lot_not_active")
    consumed = _consume(event, inputs, event_hash, index)
    origins = tuple(sorted({origin for lot in inputs for origin in lot.origins}))
    deposits = {lot.deposit for lot in inputs}
    deposit = deposits.pop() if len(deposits) == 1 and event.process in PATTERN_KEEPING else None
    outputs: list[LotState] = []
    made: set[str] = set()
    claims = [(new.mass_g, new.composition_ppm) for new in event.outputs]
    used = [(lot, ref.mass_g) for lot, ref in zip(inputs, event.inputs, strict=True)]
    shares = lineage.transform_shares(event.process, used, claims)
    for i, new in enumerate(event.outputs):
        require_new_lot(reader, new.id, f"outputs.{i}.id", made)
        made.add(new.id)
        budget = None if shares is None else lineage.rebased(shares[i], *claims[i])
        outputs.append(
            _new_lot(new, event.actor, event_hash, index, origins, deposit, event.time, budget)
        )
    edges = tuple(
        Edge(ref.lot, new.id, ref.mass_g, index) for ref in event.inputs for new in event.outputs
    )
    return _effects((*consumed, *outputs), edges, None if shares is None else tuple(shares))


def _consume(
    event: LotTransform, inputs: list[LotState], event_hash: str, index: int
) -> list[LotState]:
    """The inputs after the transform took its mass from each; an emptied lot is consumed."""
    changed = []
    time = event.time
    for i, (lot, ref) in enumerate(zip(inputs, event.inputs, strict=True)):
        if ref.mass_g > lot.mass_g:
            raise Rejection(
                Kind.CONFLICT,
                "insufficient_mass",
                f"inputs.{i}.mass_g: {ref.mass_g} g is more than the {lot.mass_g} g lot "
                f"{lot.id!r} holds; consume at most what remains",
                field=f"inputs.{i}.mass_g",
                value=ref.mass_g,
            )
        remaining = lot.mass_g - ref.mass_g
        status = CONSUMED if remaining == 0 else ACTIVE
        budget = lineage.remaining(lot, ref.mass_g)
        changed.append(
            touch(
                lot,
                event_hash,
                index,
                mass_g=remaining,
                status=status,
                time=time,
                lineage=budget,
            )
        )
    return changed


def _new_lot(
    new: NewLot,
    custodian: str,
    event_hash: str,
    index: int,
    origins: tuple[str, ...],
    deposit: str | None,
    time: str,
    budget: lineage.Budget | None,
) -> LotState:
    return LotState(
        id=new.id,
        product=new.product,
        spec=new.spec,
        mass_g=new.mass_g,
        composition_ppm=dict(new.composition_ppm),
        custodian=custodian,
        status=ACTIVE,
        head=event_hash,
        created_index=index,
        updated_index=index,
        pending_to=None,
        origins=origins,
        deposit=deposit,
        time=time,
        shipped_mass_g=None,
        lineage=budget,
        created_time=time,
    )


def assay(event: LotAssay, event_hash: str, index: int, reader: StateReader) -> Effects:
    actor = require_participant(reader, event.actor, "actor")
    refs = [("lot", event.lot)]
    lots = require_lots(reader, refs)
    check_prev(event.prev, lots)
    # A lab or customs officer may test a lot it does not hold; anyone else must hold it.
    if actor.roles.isdisjoint(_TESTERS):
        require_custodian(lots, refs, event.actor)
    require_status(lots, refs, _ASSAYABLE, "lot_not_active")
    # A certificate dated at its sampling may be posted after the lot moved on: the lot's
    # last event stays the latest, or a late certificate would set the lot's clock back.
    time = max(lots[0].time, event.time, key=_instant) if lots[0].time else event.time
    return _effects((touch(lots[0], event_hash, index, time=time),))


def ship(event: LotShip, event_hash: str, index: int, reader: StateReader) -> Effects:
    if event.to == event.actor:
        raise Rejection(
            Kind.INVALID,
            "self_shipment",
            f"to: {event.to!r} is the sender; ship to another participant",
            field="to",
            value=event.to,
        )
    require_participant(reader, event.to, "to")
    refs = [(f"lots.{i}.lot", ref.lot) for i, ref in enumerate(event.lots)]
    lots = require_lots(reader, refs)
    check_prev(event.prev, lots)
    require_custodian(lots, refs, event.actor)
    require_status(lots, refs, _ONLY_ACTIVE, "lot_not_active")
    moved = (
        touch(
            lot,
            event_hash,
            index,
            status=IN_TRANSIT,
            pending_to=event.to,
            shipped_mass_g=ref.mass_g,
            time=event.time,
        )
        for lot, ref in zip(lots, event.lots, strict=True)
    )
    return _effects(tuple(moved))


def receive(event: LotReceive, event_hash: str, index: int, reader: StateReader) -> Effects:
    refs = [(f"lots.{i}.lot", ref.lot) for i, ref in enumerate(event.lots)]
    lots = require_lots(reader, refs)
    check_prev(event.prev, lots)
    require_status(lots, refs, _ONLY_IN_TRANSIT, "lot_not_in_transit")
    for lot, (field, _) in zip(lots, refs, strict=True):
        if lot.pending_to != event.actor:
            # Who it was shipped to is not the sender's to know (DESIGN §6).
            raise Rejection(
                Kind.FORBIDDEN,
                "not_receiver",
                f"{field}: lot {lot.id!r} is not in transit to {event.actor!r}; only the "
                "participant it was shipped to may receive it",
                field=field,
                value=lot.id,
            )
        if lot.custodian != event.from_:
            # The receiver may read the lot it receives, shipper included.
            raise Rejection(
                Kind.INVALID,
                "sender_mismatch",
                f"from: lot {lot.id!r} was shipped by {lot.custodian!r}, not {event.from_!r}; "
                "name the shipper in from",
                field="from",
                value=event.from_,
            )
    # The weighed mass is the record from now on; a gap to the shipped mass is flagged, not refused.
    received = (
        touch(
            lot,
            event_hash,
            index,
            custodian=event.actor,
            mass_g=ref.mass_g,
            status=ACTIVE,
            pending_to=None,
            shipped_mass_g=None,
            time=event.time,
            lineage=lineage.received(lot, ref.mass_g),
        )
        for lot, ref in zip(lots, event.lots, strict=True)
    )
    return _effects(tuple(received))


def _instant(time: str) -> datetime:
    return datetime.fromisoformat(time)
