"""A lot's ancestry back to the mines: each mine's share of its rare earths, and a verdict."""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ledger.lots.composition import RARE_EARTHS
from ledger.lots.events import Event, LotAssay, LotExtract, LotReceive, LotTransform
from ledger.lots.records import Edge, LotState

OK = "ok"
FLAGGED = "flagged"
INTEGRITY_FAILURE = "integrity_failure"


@dataclass(frozen=True)
class MineOrigin:
    """Where an extracted lot came out of the ground, as its lot.extract entry says."""

    lot: str
    mine: str
    site_id: str
    site_name: str
    country: str
    deposit: str


@dataclass(frozen=True)
class OriginShare:
    origin: MineOrigin
    share: float  # of the lot's rare-earth mass, 0…1
    re_mass_g: int  # the rare-earth grams of the lot this mine accounts for


def re_mass_g(mass_g: int, composition_ppm: Mapping[str, int]) -> float:
    return (
        mass_g
        * sum(ppm for element, ppm in composition_ppm.items() if element in RARE_EARTHS)
        / 1e6
    )


def mine_shares(lot: str, lots: Mapping[str, LotState], edges: Sequence[Edge]) -> dict[str, float]:
    """Each extracted lot's share of `lot`'s rare earths, by mass balance through every transform.

    A transform's outputs are a mixture of its inputs, weighted by the rare-earth mass each
    input gave (consumed grams × its rare-earth fraction); by plain mass when no input holds
    rare earths. Shares add up to 1.
    """
    parents: dict[str, list[Edge]] = {}
    for edge in edges:
        parents.setdefault(edge.child, []).append(edge)
    shares: dict[str, dict[str, float]] = {}
    for current in _parents_first(lot, parents):
        inputs = parents.get(current, [])
        if not inputs:
            shares[current] = {current: 1.0}
            continue
        weights = [re_mass_g(edge.mass_g, lots[edge.parent].composition_ppm) for edge in inputs]
        if sum(weights) <= 0:
            weights = [float(edge.mass_g) for edge in inputs]
        total = sum(weights)
        mixed: dict[str, float] = {}
        for edge, weight in zip(inputs, weights, strict=True):
            for mine, share in shares[edge.parent].items():
                mixed[mine] = mixed.get(mine, 0.0) + share * weight / total
        shares[current] = mixed
    return shares[lot]


def _parents_first(lot: str, parents: Mapping[str, list[Edge]]) -> list[str]:
    """The ancestry in an order where every lot comes after all its parents (iterative DFS)."""
    order: list[str] = []
    seen: set[str] = set()
    stack: list[tuple[str, bool]] = [(lot, False)]
    while stack:
        current, expanded = stack.pop()
        if expanded:
            order.append(current)
            continue
        if current in seen:
            continue
        seen.add(current)
        stack.append((current, True))
        stack.extend((edge.parent, False) for edge in parents.get(current, []))
    return order


def origin_shares(
    lot: LotState,
    lots: Mapping[str, LotState],
    edges: Sequence[Edge],
    mines: Mapping[str, MineOrigin],
) -> list[OriginShare]:
    """The mines behind `lot`, largest share first."""
    here = re_mass_g(lot.mass_g, lot.composition_ppm)
    shares = mine_shares(lot.id, lots, edges)
    found = [
        OriginShare(mines[mine], share, round(here * share))
        for mine, share in shares.items()
        if mine in mines
    ]
    return sorted(found, key=lambda origin: (-origin.share, origin.origin.lot))


# The severities with which another lot's finding makes this lot's verdict flagged.
HISTORY_SEVERITIES = ("medium", "high")


def history_indexes(
    lot_id: str, history: Mapping[str, Sequence[int]], edges: Sequence[Edge]
) -> frozenset[int]:
    """The entries of `lot_id`'s history: every event of the lot itself, and each ancestor's
    events up to the last transform that took it into the lineage (DESIGN §9.2: a split that
    conjured Dy in one output casts doubt on the other). An ancestor's later events, after
    the lineage left it, are not this lot's history. `history` maps each lot of the ancestry
    to the entries that touched it; `edges` are the transform edges into the ancestry."""
    last: dict[str, int] = {}
    for edge in edges:
        last[edge.parent] = max(last.get(edge.parent, -1), edge.index)
    return frozenset(
        index
        for lot, found in history.items()
        for index in found
        if lot == lot_id or index <= last.get(lot, -1)
    )


def verdict(integrity_ok: bool, flag_count: int) -> str:
    """integrity_failure beats flagged beats ok."""
    if not integrity_ok:
        return INTEGRITY_FAILURE
    return FLAGGED if flag_count else OK


def claimed_assays(events: Iterable[tuple[int, Event]]) -> frozenset[int]:
    """The indexes of the assays among `events` (a lot's ancestry, in index order) posted by
    a participant that did not hold the lot then: any lab or customs participant may assay
    any lot (DESIGN §5), so such an assay is its author's claim, not the holder's record."""
    holder: dict[str, str] = {}
    claimed = []
    for index, event in events:
        match event:
            case LotExtract():
                holder[event.lot.id] = event.actor
            case LotTransform():
                holder.update((new.id, event.actor) for new in event.outputs)
            case LotReceive():
                holder.update((ref.lot, event.actor) for ref in event.lots)
            case LotAssay() if holder.get(event.lot) != event.actor:
                claimed.append(index)
    return frozenset(claimed)
