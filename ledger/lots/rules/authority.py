"""Rules against the authority's record (DESIGN §9.1): LICENCE_INVALID and QUOTA_EXCEEDED.

A licence number on a declaration is read against the licence the authority signed, not
trusted as text; an extraction in a quota-controlled jurisdiction is read against the mine's
quotas for the year. Each rule reads the state before the event (the running totals the
earlier declarations and extractions left) and the event's own lots: O(lots × elements).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from ledger.lots import licences
from ledger.lots.events import Declaration, ExportDeclare, LotExtract, LotShip
from ledger.lots.records import LicenceState, LotState, StateReader
from ledger.lots.rules.flags import (
    CONTROLLED_WITHOUT_LICENCE,
    LICENCE_INVALID,
    QUOTA_EXCEEDED,
    Flag,
    grams,
    make_flag,
    parse_time,
    ppm,
)
from ledger.lots.tolerances import Tolerances


@dataclass(frozen=True)
class Filing:
    """A declaration about to be filed by `actor` at `time` (the check that writes nothing)."""

    declaration: Declaration
    actor: str
    time: str


def check_licence(
    event: ExportDeclare | Filing,
    lots: Sequence[LotState],
    reader: StateReader,
    controlled: frozenset[str],
    tolerances: Tolerances,
    totals: bool = True,
) -> list[Flag]:
    """LICENCE_INVALID: the licence a declaration names does not cover it. `controlled` is
    the exporting jurisdiction's list (Tolerances.controlled_for the exporter's country);
    `totals` False skips the running total (a bundle holds only its own declarations)."""
    declaration = event.declaration
    if declaration.licence is None:
        return []  # no licence at all: CONTROLLED_WITHOUT_LICENCE's, if anything
    licence = reader.licence(declaration.licence)
    if licence is None:
        reasons = [f"licence {declaration.licence} was never issued by an authority"]
        evidence: dict[str, object] = {
            "declaration": declaration.id,
            "licence": declaration.licence,
        }
    else:
        this = licences.elemental_g(licence.elements, lots)
        reasons = [
            *_foreign(event.actor, licence, reader),
            *_reasons(event, lots, licence, controlled, tolerances, totals, this),
        ]
        if not reasons:
            return []
        evidence = {
            "declaration": declaration.id,
            "licence": licence.id,
            "holder": licence.holder,
            "elements": list(licence.elements),
            "max_mass_g": licence.max_mass_g,
            "used_g": licence.used_g,
            "this_g": this,
        }
    evidence["reasons"] = reasons
    more = f" (and {len(reasons) - 1} more)" if len(reasons) > 1 else ""
    message = f"declaration {declaration.id}: {reasons[0]}{more}"
    return [make_flag(LICENCE_INVALID, lots[0].id, message, evidence, tolerances)]


def _reasons(
    event: ExportDeclare | Filing,
    lots: Sequence[LotState],
    licence: LicenceState,
    controlled: frozenset[str],
    tolerances: Tolerances,
    totals: bool,
    this: int,
) -> list[str]:
    """Every way `licence` fails to cover the declaration, in DESIGN §9.1's order; `this`:
    the grams of the licence's elements in `lots` (licences.elemental_g)."""
    declaration, name = event.declaration, f"licence {licence.id}"
    when = datetime.fromisoformat(event.time)
    # A declaration is made after its lots' last events (less the clocks' slack), whatever
    # date it bears: a date set back into the licence's validity does not renew it.
    latest = max((lot.time for lot in lots if lot.time), default=event.time, key=parse_time)
    made = parse_time(latest) - timedelta(seconds=tolerances.time_slack_s)
    reasons = []
    if licence.revoked_index is not None:
        reasons.append(f"{name} was revoked at entry {licence.revoked_index}")
    if max(when, made) > datetime.fromisoformat(licence.valid_until):
        after = "" if made <= when else f" after its lots' last event at {latest}"
        reasons.append(f"{name} expired {licence.valid_until}, declared {event.time}{after}")
    if when < datetime.fromisoformat(licence.valid_from):
        reasons.append(f"{name} is valid from {licence.valid_from}, declared {event.time}")
    if licence.holder != event.actor:
        reasons.append(f"{name} is held by {licence.holder}, not {event.actor}")
    if licence.destination is not None and declaration.destination not in licence.destination:
        allowed = ", ".join(licence.destination)
        reasons.append(f"{name} is for {allowed}, not {declaration.destination}")
    if licence.hs_codes is not None and not declaration.hs_code.startswith(licence.hs_codes):
        allowed = ", ".join(licence.hs_codes)
        reasons.append(f"{name} covers HS {allowed}, not {declaration.hs_code}")
    carried = _carried(lots, controlled, tolerances) - set(licence.elements)
    if carried:
        reasons.append(f"{name} does not name {', '.join(sorted(carried))}, which the lots carry")
    if totals and licence.holder == event.actor and licence.used_g + this > licence.max_mass_g:
        reasons.append(
            f"{name} allows {grams(licence.max_mass_g)} of {'+'.join(licence.elements)}; "
            f"{grams(licence.used_g)} already declared + {grams(this)} here"
        )
    return reasons


def check_border(
    event: LotShip, lots: Sequence[LotState], reader: StateReader, tolerances: Tolerances
) -> list[Flag]:
    """CONTROLLED_WITHOUT_LICENCE: lots holding an element the sender's country controls, at or
    above the threshold, shipped to a participant of another country. Leaving the country is
    an export, and on the ledger an export is a declaration customs releases (its lots then
    move no more): a shipment across the border is an export no declaration, so no licence,
    covers. Countries without a control list are not judged."""
    sender, receiver = reader.participant(event.actor), reader.participant(event.to)
    if sender is None or receiver is None or sender.country == receiver.country:
        return []
    controlled = tolerances.controlled_for(sender.country)
    threshold = tolerances.controlled_threshold_ppm
    holders = [
        (lot, found)
        for lot in lots
        if (
            found := {
                e: v
                for e, v in sorted(lot.composition_ppm.items())
                if e in controlled and v >= threshold
            }
        )
    ]
    if not holders:
        return []
    lot, found = holders[0]
    held = ", ".join(f"{e} {ppm(v)}" for e, v in found.items())
    tail = f" (and {len(holders) - 1} more lots)" if len(holders) > 1 else ""
    message = (
        f"{lot.id} holds {held}, controlled in {sender.country} at ≥ {ppm(threshold)}, and is "
        f"shipped from {sender.country} ({event.actor}) to {receiver.country} ({event.to}) "
        f"with no export declaration, so no licence{tail}"
    )
    evidence = {
        "from_country": sender.country,
        "to_country": receiver.country,
        "lots": [{"lot": held.id, "controlled_ppm": elements} for held, elements in holders],
        "threshold_ppm": threshold,
    }
    return [make_flag(CONTROLLED_WITHOUT_LICENCE, lot.id, message, evidence, tolerances)]


def _foreign(actor: str, licence: LicenceState, reader: StateReader) -> list[str]:
    """An authority licenses the exports of its own country only: a licence from another
    country's authority does not cover the exporter's goods."""
    issuer, exporter = reader.participant(licence.authority), reader.participant(actor)
    if issuer is None or exporter is None or issuer.country == exporter.country:
        return []
    return [
        f"licence {licence.id} was issued by {licence.authority} of {issuer.country}, "
        f"not an authority of {exporter.country}, the exporter's country"
    ]


def _carried(
    lots: Sequence[LotState], controlled: frozenset[str], tolerances: Tolerances
) -> set[str]:
    """The controlled elements some lot carries at or above the threshold."""
    threshold = tolerances.controlled_threshold_ppm
    return {
        element
        for lot in lots
        for element, value in lot.composition_ppm.items()
        if element in controlled and value >= threshold
    }


def check_quota(event: LotExtract, reader: StateReader, tolerances: Tolerances) -> list[Flag]:
    """QUOTA_EXCEEDED: a mine in a quota-controlled jurisdiction extracts without a quota for
    the year (and deposit) or beyond it. The jurisdiction is the mine's registered country
    (signed by the operator) or the site's (claimed by the mine): either one under quota
    judges it, so a quota-bound mine cannot escape by naming a site across the border.

    The evidence names the quotas the extraction draws on (its open ones and the last one,
    which takes the excess), not every quota of the year: a mine's year may hold thousands,
    and the finding reads only what licences.quotas_for reads."""
    mine = reader.participant(event.actor)
    countries = {event.site.country} | ({mine.country} if mine is not None else set())
    judged = sorted(countries & tolerances.quota_countries)
    if not judged:
        return []
    year = int(event.time[:4])
    use = licences.reo_g(event.lot.mass_g, event.lot.composition_ppm)
    quotas = licences.quotas_for(reader, event.actor, year, event.deposit, use)
    room = licences.room_g(quotas)
    if quotas and use <= room:
        return []
    drawn = [quota.id for quota in licences.charge_quotas(quotas, use)]
    last = quotas[-1].id if quotas else None
    if last is not None:
        said = (
            f"REO {grams(use)} extracted, {grams(room)} left of its {year} {event.deposit} "
            f"quotas ({', '.join(drawn)}): {grams(use - room)} beyond them, charged to {last}"
        )
    else:
        said = f"no quota for {year} and {event.deposit} in {'/'.join(judged)}"
    message = f"{event.actor}, lot {event.lot.id}: {said}"
    evidence = {
        "mine": event.actor,
        "year": year,
        "deposit": event.deposit,
        "jurisdiction": judged,
        "reo_g": use,
        "room_g": room,
        "quotas": drawn,
        "excess_on": last,
        "excess_g": use - room,
    }
    return [make_flag(QUOTA_EXCEEDED, event.lot.id, message, evidence, tolerances)]
