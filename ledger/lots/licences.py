"""Authority transitions (DESIGN §9.1): export licences and mining quotas, and their totals.

A licence's running total counts, in grams of its elements, the lots of every declaration
that names it and is filed by its holder, from the declaration on: pending and held ones
count as released ones do, so two pending declarations cannot each fit the licence on their
own and together exceed it; a seizure gives its grams back. A quota's total counts the
REO-equivalent grams (DOMAIN §1's oxide factors) of every lot its holder extracts in its
year, deposit-named quotas first, then by issue.
"""

from collections.abc import Iterable, Sequence

from msgspec.structs import replace

from ledger.errors import Kind
from ledger.lots.composition import OXIDE_METAL_FRACTION, RARE_EARTHS
from ledger.lots.events import LicenceIssue, LicenceRevoke, QuotaIssue
from ledger.lots.guards import check_prev, require_participant, require_role
from ledger.lots.records import (
    Effects,
    LicenceState,
    LotState,
    QuotaState,
    Rejection,
    StateReader,
)

AUTHORITY = "authority"
PPM = 1_000_000


def issue_licence(event: LicenceIssue, index: int, reader: StateReader) -> Effects:
    require_role(reader, event.actor, {AUTHORITY}, event.type)
    check_prev(event.prev, [])
    claim = event.licence
    if reader.licence(claim.id) is not None:
        raise Rejection(
            Kind.CONFLICT,
            "duplicate_licence_id",
            f"licence.id: licence {claim.id!r} was already issued; licence ids are unique "
            "forever, choose another",
            field="licence.id",
            value=claim.id,
        )
    require_participant(reader, claim.holder, "licence.holder")
    if claim.valid_until <= claim.valid_from:
        raise Rejection(
            Kind.INVALID,
            "licence_period_empty",
            f"licence.valid_until: {claim.valid_until} is not after valid_from "
            f"{claim.valid_from}; give the licence a period",
            field="licence.valid_until",
            value=claim.valid_until,
        )
    licence = LicenceState(
        id=claim.id,
        authority=event.actor,
        holder=claim.holder,
        elements=tuple(sorted(claim.elements)),
        destination=None if claim.destination is None else tuple(sorted(claim.destination)),
        hs_codes=None if claim.hs_codes is None else tuple(sorted(claim.hs_codes)),
        max_mass_g=claim.max_mass_g,
        valid_from=claim.valid_from,
        valid_until=claim.valid_until,
        issued_index=index,
        revoked_index=None,
        used_g=0,
    )
    return Effects(licences=(licence,))


def revoke_licence(event: LicenceRevoke, index: int, reader: StateReader) -> Effects:
    require_role(reader, event.actor, {AUTHORITY}, event.type)
    check_prev(event.prev, [])
    licence = reader.licence(event.licence)
    if licence is None:
        raise Rejection(
            Kind.NOT_FOUND,
            "unknown_licence",
            f"licence: licence {event.licence!r} was never issued; check the id",
            field="licence",
            value=event.licence,
        )
    if licence.authority != event.actor:
        raise Rejection(
            Kind.FORBIDDEN,
            "not_issuing_authority",
            f"licence: licence {licence.id!r} was issued by {licence.authority!r}; only it may "
            f"revoke it, not {event.actor!r}",
            field="licence",
            value=event.licence,
        )
    if licence.revoked_index is not None:
        raise Rejection(
            Kind.CONFLICT,
            "licence_already_revoked",
            f"licence: licence {licence.id!r} was already revoked at entry {licence.revoked_index}",
            field="licence",
            value=event.licence,
        )
    return Effects(licences=(replace(licence, revoked_index=index),))


def issue_quota(event: QuotaIssue, index: int, reader: StateReader) -> Effects:
    require_role(reader, event.actor, {AUTHORITY}, event.type)
    check_prev(event.prev, [])
    claim = event.quota
    if reader.quota(claim.id) is not None:
        raise Rejection(
            Kind.CONFLICT,
            "duplicate_quota_id",
            f"quota.id: quota {claim.id!r} was already issued; quota ids are unique forever, "
            "choose another",
            field="quota.id",
            value=claim.id,
        )
    holder = require_participant(reader, claim.holder, "quota.holder")
    if "mine" not in holder.roles:
        raise Rejection(
            Kind.INVALID,
            "quota_holder_not_mine",
            f"quota.holder: {holder.id!r} has roles {sorted(holder.roles)}; a mining quota is "
            "issued to a mine",
            field="quota.holder",
            value=claim.holder,
        )
    quota = QuotaState(
        id=claim.id,
        authority=event.actor,
        holder=claim.holder,
        year=claim.year,
        reo_mass_g=claim.reo_mass_g,
        deposit=claim.deposit,
        issued_index=index,
        used_g=0,
    )
    return Effects(quotas=(quota,))


def elemental_g(elements: Iterable[str], lots: Sequence[LotState]) -> int:
    """Grams of `elements` in `lots` (each lot's mass times its ppm), rounded down once."""
    wanted = frozenset(elements)
    total = sum(
        lot.mass_g * ppm
        for lot in lots
        for element, ppm in lot.composition_ppm.items()
        if element in wanted
    )
    return total // PPM


def reo_g(mass_g: int, composition_ppm: dict[str, int]) -> int:
    """REO-equivalent grams of a lot's rare earths: each over its oxide's metal fraction."""
    micro = sum(
        mass_g * ppm / OXIDE_METAL_FRACTION[element]
        for element, ppm in composition_ppm.items()
        if element in RARE_EARTHS
    )
    return int(micro // PPM)


def covering(quotas: Sequence[QuotaState], deposit: str) -> list[QuotaState]:
    """The quotas that cover an extraction from `deposit`: deposit-named first, by issue.
    `quotas` are by issue index, as StateReader.quotas gives them."""
    named = [quota for quota in quotas if quota.deposit == deposit]
    return named + [quota for quota in quotas if quota.deposit is None]


def room_g(quotas: Sequence[QuotaState]) -> int:
    """The grams `quotas` have left: each one's limit less its use, none below zero."""
    return sum(max(quota.reo_mass_g - quota.used_g, 0) for quota in quotas)


def quotas_for(
    reader: StateReader, holder: str, year: int, deposit: str, use_g: int
) -> list[QuotaState]:
    """The covering quotas (`covering`) an extraction of `use_g` from `deposit` is charged to
    and judged against: its open ones (StateReader.open_quotas), and when `use_g` is beyond
    their room, the last covering quota too (the last general one, else the last one named
    for `deposit`: StateReader.last_quota), which takes the excess.

    These give the full list's charges, room and verdict: a used-up quota before the last
    takes nothing (charge_quotas), and adds nothing to the room. So an extraction reads its
    open quotas and at most two indexed rows, never the used-up quotas its mine's year has
    accumulated, even when it exceeds them."""
    found = covering(reader.open_quotas(holder, year), deposit)
    if found and use_g <= room_g(found):
        return found
    last = reader.last_quota(holder, year, None) or reader.last_quota(holder, year, deposit)
    if last is None or (found and found[-1].id == last.id):
        return found  # no quota at all; or the last one is open, so already last here
    return [*found, last]


def charge_quotas(quotas: Sequence[QuotaState], use_g: int) -> tuple[QuotaState, ...]:
    """`quotas` (covering, in order) after `use_g` is drawn from them: each to its limit, the
    excess on the last; no quota, nothing changes (the rule flags it)."""
    changed: list[QuotaState] = []
    left, last = use_g, len(quotas) - 1
    for position, quota in enumerate(quotas):
        room = quota.reo_mass_g - quota.used_g
        if room <= 0 and position < last:
            continue  # used up: takes nothing (a mine's year may hold many)
        take = left if position == last else min(left, room)
        if take:
            changed.append(replace(quota, used_g=quota.used_g + take))
        left -= take
        if not left:
            break
    return tuple(changed)
