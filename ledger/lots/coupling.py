"""What couples events in the custody replay (pure): the state each event reads and writes,
named by key, so that a log splits into parts that replay independently (the audit's
partitioned replay, ledger/service/audit_parallel.py).

`coupling_keys(event)` names every record the state machine (`apply_event`) and the rules
(`check_event`) read or write for `event`, beyond the registry: its lots (named, created,
in `prev`), its declaration, licence and quota ids, and a mine's quota year. Events that
share a key must replay in one part, in log order; two parts that share none see exactly the
state they would see in one replay. The registry (participants and keys) is read by every
event and written only by registry events: those are GLOBAL, replayed in every part. Event
ids (`StateReader.event_index`) are not keys: their uniqueness across the log is checked
apart, by whoever splits it. tests/unit/test_coupling.py replays workloads through a reader
that records every read and holds each to the event's keys.
"""

from ledger.lots.events import (
    CustomsDecide,
    Event,
    ExportDeclare,
    LicenceIssue,
    LicenceRevoke,
    LotAssay,
    LotExtract,
    LotReceive,
    LotShip,
    LotTransform,
    QuotaIssue,
)

# A registry event: replayed in every part.
GLOBAL = None

# The kinds of key, one letter before the id (so that ids of two kinds never meet).
LOT, DECLARATION, LICENCE, QUOTA, QUOTA_YEAR = "L", "D", "C", "Q", "Y"


def quota_year(holder: str, year: int) -> str:
    """The key of the quotas of `holder` in `year`: what an extraction draws on
    (StateReader.quotas, open_quotas, last_quota) and a quota.issue adds to."""
    return f"{QUOTA_YEAR}{holder}\x00{year}"


def coupling_keys(event: Event) -> tuple[str, ...] | None:
    """The keys of the records `event` reads or writes in the replay; GLOBAL (None) for a
    registry event, which reads and writes only the registry."""
    keys = [LOT + lot_id for lot_id in event.prev]
    match event:
        case LotExtract():
            keys += (LOT + event.lot.id, quota_year(event.actor, int(event.time[:4])))
        case LotTransform():
            keys += (LOT + ref.lot for ref in event.inputs)
            keys += (LOT + new.id for new in event.outputs)
        case LotAssay():
            keys.append(LOT + event.lot)
        case LotShip() | LotReceive():
            keys += (LOT + ref.lot for ref in event.lots)
        case ExportDeclare():
            declaration = event.declaration
            keys += (LOT + lot_id for lot_id in declaration.lots)
            keys.append(DECLARATION + declaration.id)
            if declaration.licence is not None:
                keys.append(LICENCE + declaration.licence)
        case CustomsDecide():
            # Its lots and licence are those of the declaration, which shares their keys.
            keys.append(DECLARATION + event.declaration)
        case LicenceIssue():
            keys.append(LICENCE + event.licence.id)
        case LicenceRevoke():
            keys.append(LICENCE + event.licence)
        case QuotaIssue():
            quota = event.quota
            keys += (QUOTA + quota.id, quota_year(quota.holder, quota.year))
        case _:
            return GLOBAL
    return tuple(keys)
