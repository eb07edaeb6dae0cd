"""Consistency rules (pure): an accepted event or a declaration in, findings (list[Flag]) out.

The state machine refuses what is malformed or unauthorised; these rules read what it
accepted against physics and the record, and return flags as data. Only broken input (a
lot the state does not hold) raises. docs/rules.md explains every rule and threshold.
"""

from collections.abc import Sequence

from ledger.lots.events import (
    CustomsDecide,
    Event,
    ExportDeclare,
    LotAssay,
    LotExtract,
    LotReceive,
    LotShip,
    LotTransform,
)
from ledger.lots.records import Effects, StateReader
from ledger.lots.rules import authority, grammar, lineage, origin, recovery, transform
from ledger.lots.rules.declaration import check_declaration
from ledger.lots.rules.flags import FLAG_CODES, SEVERITIES, Flag, require_lot
from ledger.lots.rules.transit import (
    check_assay,
    check_assay_time,
    check_receive,
    check_ship,
    check_time,
)
from ledger.lots.tolerances import Tolerances

__all__ = ["FLAG_CODES", "SEVERITIES", "Flag", "check_declaration", "check_event"]


def check_event(
    event: Event,
    reader: StateReader,
    tolerances: Tolerances,
    *,
    whole_log: bool = True,
    derived: Effects | None = None,
) -> list[Flag]:
    """The flags `event` raises; `reader` holds the state before the event, which the state
    machine has accepted (its lots exist, custody is right). Registry events raise none.

    `whole_log` False: `reader` holds part of the log (a bundle), so the findings that read
    running totals over the whole log (a quota's, a licence's) are not computed. `derived`:
    the effects apply_event made of this event, if the caller has them: what the transition
    derived is read from them, not derived again (the same findings either way)."""
    match event:
        case LotExtract():
            return [
                *grammar.check_extract(event, tolerances),
                *origin.check_extract(event, tolerances),
                *(authority.check_quota(event, reader, tolerances) if whole_log else ()),
            ]
        case LotTransform():
            shares = None if derived is None else derived.lineage_shares
            return _check_transform(event, reader, tolerances, shares)
        case LotAssay():
            lot = require_lot(reader, event.lot)
            return [
                *check_assay(event, reader, tolerances),
                *check_assay_time(event.time, lot, tolerances),
            ]
        case LotShip() | LotReceive():
            lots = [require_lot(reader, ref.lot) for ref in event.lots]
            masses = (
                [
                    *check_ship(event, reader, tolerances),
                    *authority.check_border(event, lots, reader, tolerances),
                ]
                if isinstance(event, LotShip)
                else [
                    *check_receive(event, reader, tolerances),
                    *lineage.check_receive(event, reader, tolerances),
                ]
            )
            return [*masses, *check_time(event.type, event.time, lots, tolerances)]
        case ExportDeclare():
            return _check_declare(event, reader, tolerances, whole_log)
        case CustomsDecide():
            return _check_decide(event, reader, tolerances)
        case _:
            return []


def _check_declare(
    event: ExportDeclare, reader: StateReader, tolerances: Tolerances, whole_log: bool
) -> list[Flag]:
    lots = [require_lot(reader, lot_id) for lot_id in event.declaration.lots]
    exporter = reader.participant(event.actor)
    # The exporting jurisdiction (the declaring exporter's country) picks the control list.
    country = exporter.country if exporter is not None else None
    controlled = tolerances.controlled_for(country)
    return [
        *check_declaration(event.declaration, lots, tolerances, country),
        *authority.check_licence(event, lots, reader, controlled, tolerances, whole_log),
        *check_time(event.type, event.time, lots, tolerances),
    ]


def _check_transform(
    event: LotTransform,
    reader: StateReader,
    tolerances: Tolerances,
    shares: Sequence[Sequence[int]] | None,
) -> list[Flag]:
    inputs = [(require_lot(reader, ref.lot), ref.mass_g) for ref in event.inputs]
    found = transform.element_balance(event, inputs)
    # The inputs' mixture, which several rules read: made once, for the processes that do.
    feed = transform.feed_of(inputs) if event.process in transform.FEED_PROCESSES else None
    floor = transform.recovery_floor(event.process, inputs, tolerances, feed)
    recovered = transform.check_recovery(event, inputs, found, tolerances, floor)
    return [
        *grammar.check_transform(event, inputs, tolerances),
        *transform.check_mass(event, inputs, found, tolerances),
        *recovered,
        *recovery.check_elements(event, inputs, found, floor, tolerances, bool(recovered)),
        *transform.check_mixing(event, inputs, tolerances, feed),
        *origin.check_transform(event, inputs, tolerances, feed),
        *lineage.check_transform(event, inputs, tolerances, shares),
        *check_time(event.type, event.time, [lot for lot, _ in inputs], tolerances),
    ]


def _check_decide(event: CustomsDecide, reader: StateReader, tolerances: Tolerances) -> list[Flag]:
    declaration = reader.declaration(event.declaration)
    if declaration is None:
        raise LookupError(
            f"declaration {event.declaration!r} is not in the state: rules run on accepted events"
        )
    lots = [require_lot(reader, lot_id) for lot_id in declaration.lots]
    return check_time(event.type, event.time, lots, tolerances)
