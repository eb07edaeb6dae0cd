"""An extraction reads its mine's open quotas (StateReader.open_quotas) and, beyond their
room, the last covering quota (StateReader.last_quota; licences.quotas_for), never all the
quotas its year has accumulated: held to its plain twin, the full list.

The plain twin is a reader whose open quotas are all of its quotas and whose last quota is
found in that list: licences.quotas_for then covers the full list, which is what every
extraction read before. The findings (codes, messages, evidence) and the quotas' stored use
must be the same either way, entry by entry, on a log with hundreds of quotas per (mine,
year), exceeded ones among them; and the fast reader never reads a full list.
"""

import random
from typing import Any

import msgspec

from ledger.lots import licences
from ledger.lots.memory import MemoryState
from ledger.lots.records import Effects, ParticipantState, QuotaState
from ledger.lots.rules import check_event
from ledger.lots.state import apply_event
from tests.unit.test_rules_builders import TOL, build

MINES = {"bayan-mine": "bastnaesite", "ganzhou-mine": "ionic_clay"}  # each with its deposit
DEPOSITS = ("bastnaesite", "ionic_clay")
YEARS = (2025, 2026)
ORE = {"La": 22_000, "Ce": 35_000, "Nd": 13_000, "Fe": 100_000}
BARREN = {"Fe": 300_000, "Si": 200_000}  # no rare earth: an extraction that uses 0 g


def plain_last(quotas: tuple[QuotaState, ...], deposit: str | None) -> QuotaState | None:
    """StateReader.last_quota by its definition: the last of the list with that deposit."""
    found = [quota for quota in quotas if quota.deposit == deposit]
    return found[-1] if found else None


class FullList(MemoryState):
    """The plain twin: every quota counts as open, so each extraction reads the full list."""

    def open_quotas(self, holder: str, year: int) -> tuple[QuotaState, ...]:
        return self.quotas(holder, year)

    def last_quota(self, holder: str, year: int, deposit: str | None) -> QuotaState | None:
        return plain_last(self.quotas(holder, year), deposit)


class OpenOnly(MemoryState):
    """The fast reader, refusing to give a full list: no rule may read one."""

    def quotas(self, holder: str, year: int) -> tuple[QuotaState, ...]:
        raise AssertionError(f"the full list of {holder}'s {year} quotas was read")


def _open(quotas: tuple[QuotaState, ...]) -> tuple[QuotaState, ...]:
    return tuple(quota for quota in quotas if quota.used_g < quota.reo_mass_g)


def held_to_the_full_list(state: MemoryState, mine: str, year: int) -> None:
    """open_quotas and last_quota of `state` are what their definitions read off the full list."""
    listed = MemoryState.quotas(state, mine, year)
    assert state.open_quotas(mine, year) == _open(listed)
    for deposit in (None, *DEPOSITS, "xenotime"):
        assert state.last_quota(mine, year, deposit) == plain_last(listed, deposit)


def scenario(seed: int, quotas_per_year: int) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(type, actor, time, fields): per (mine, year), quotas issued one by one, most of them
    exactly the REO of the extraction that follows (as the bench's authority does), some
    smaller or none, some for a deposit; now and then a second extraction, one from the other
    deposit, or one in a year without quotas."""
    rng = random.Random(seed)
    events: list[tuple[str, str, str, dict[str, Any]]] = []
    for n in range(quotas_per_year * len(MINES) * len(YEARS)):
        mine = rng.choice(list(MINES))
        year = rng.choice(YEARS) if rng.random() < 0.98 else 2027
        time = f"{year}-{rng.randint(1, 12):02d}-10T08:00:00Z"
        lots = []
        for extra in range(1 if rng.random() < 0.9 else 2):
            composition = BARREN if rng.random() < 0.03 else ORE
            lot = {
                "id": f"L{n}-{extra}",
                "product": "ore",
                "mass_g": rng.randint(1, 20) * 100_000,
                "composition_ppm": composition,
            }
            lots.append(lot)
        deposit = MINES[mine] if rng.random() < 0.9 else rng.choice(list(DEPOSITS))
        if year in YEARS and rng.random() < 0.95:
            reo = max(licences.reo_g(lots[0]["mass_g"], lots[0]["composition_ppm"]), 1)
            grant = reo if rng.random() < 0.9 else rng.randint(1, reo)
            quota = {"id": f"Q{n}", "holder": mine, "year": year, "reo_mass_g": grant}
            if rng.random() < 0.2:
                quota["deposit"] = rng.choice(DEPOSITS)
            events.append(("quota.issue", "mofcom", time, {"quota": quota}))
        for lot in lots:
            site = {"id": "pit", "name": "Pit", "country": "CN"}
            events.append(
                ("lot.extract", mine, time, {"lot": lot, "site": site, "deposit": deposit})
            )
    return events


def replay(
    state: MemoryState, events: list[tuple[str, str, str, dict[str, Any]]], start: int = 0
) -> list[list[tuple[str, str, str, Any]]]:
    """Apply the events to `state`, checking each against it first; the findings per entry."""
    for pid, country, roles in [("mofcom", "CN", {"authority"})] + [
        (mine, "CN", {"mine"}) for mine in MINES
    ]:
        if state.participant(pid) is None:
            state.participants[pid] = ParticipantState(pid, pid, country, frozenset(roles), 0)
    found = []
    for index, (type_, actor, time, fields) in enumerate(events, start=start + 1):
        event = msgspec.structs.replace(build(type_, actor, time, **fields), id=f"ev-{index}")
        effects = apply_event(event, f"{index:064x}", index, state, None)
        flags = check_event(event, state, TOL)
        state.apply(effects, event.id, index)
        found.append([(f.code, f.lot, f.message, f.evidence) for f in flags])
    return found


def quota_records(state: MemoryState) -> dict[str, QuotaState]:
    return {
        quota.id: quota
        for mine in MINES
        for year in YEARS
        for quota in MemoryState.quotas(state, mine, year)
    }


def test_open_quotas_give_the_full_lists_findings_and_charges() -> None:
    events = scenario(seed=14, quotas_per_year=150)
    fast, plain = OpenOnly(), FullList()
    found, expected = replay(fast, events), replay(plain, events)
    assert found == expected
    assert quota_records(fast) == quota_records(plain)
    # The scenario reaches what the fast path must go past its open quotas for.
    codes = [flag for flags in expected for flag in flags if flag[0] == "QUOTA_EXCEEDED"]
    exceeded = [flag for flag in codes if flag[3]["quotas"]]
    assert len(exceeded) >= 20 and len(codes) - len(exceeded) >= 2
    extractions = sum(type_ == "lot.extract" for type_, *_ in events)
    assert len(codes) < extractions / 2  # most take the open quotas alone
    # The evidence names the quotas drawn on, the last one taking the excess; not the
    # year's hundreds of quotas.
    for flag in exceeded:
        evidence = flag[3]
        assert evidence["quotas"][-1] == evidence["excess_on"]
        assert evidence["excess_g"] == evidence["reo_g"] - evidence["room_g"] > 0
    assert max(len(flag[3]["quotas"]) for flag in exceeded) <= 5
    records = quota_records(plain)
    assert len(records) >= 400 and any(q.used_g > q.reo_mass_g for q in records.values())
    for mine in MINES:
        for year in YEARS:
            assert len(MemoryState.quotas(fast, mine, year)) >= 100
            held_to_the_full_list(fast, mine, year)


def test_a_layers_open_quotas_are_its_quotas_with_room_left() -> None:
    """A batch's layer over the store (MemoryState over a base) reads the base's open quotas
    and last quotas as it changed them and its own, entry by entry, as read off its full
    list."""
    events = scenario(seed=7, quotas_per_year=60)
    half = len(events) // 2
    base, plain = MemoryState(), FullList()
    replay(base, events[:half])
    replay(plain, events[:half])
    layer, plain_layer = OpenOnly(base), FullList(plain)
    for offset, item in enumerate(events[half:], start=half):
        # Some years are read before their first charge in the layer, some after.
        assert replay(layer, [item], offset) == replay(plain_layer, [item], offset)
        mine, year = item[1], int(item[2][:4])
        if item[0] == "lot.extract":
            held_to_the_full_list(layer, mine, year)
    assert quota_records(layer) == quota_records(plain_layer)
    for mine in MINES:
        for year in YEARS:
            held_to_the_full_list(layer, mine, year)


def test_quotas_used_up_before_the_open_list_is_made_are_not_in_it() -> None:
    """Charges applied before a layer (or a replay) first reads its open quotas: the list is
    then made from the base's open ones and this layer's records, and leaves the used-up out;
    the last quota is the layer's version of the base's."""
    mine, year = "bayan-mine", 2026
    issued = [QuotaState(f"Q{n}", "mofcom", mine, year, 100, None, n, 0) for n in range(1, 5)]
    base = MemoryState()
    for quota in issued:
        base.apply(Effects(quotas=(quota,)), f"issue-{quota.id}", quota.issued_index)
    layer = MemoryState(base)
    layer.apply(Effects(quotas=licences.charge_quotas(issued, 250)), "e10", 10)
    assert [q.id for q in layer.open_quotas(mine, year)] == ["Q3", "Q4"]
    held_to_the_full_list(layer, mine, year)
    layer.apply(
        Effects(quotas=licences.charge_quotas(layer.open_quotas(mine, year), 400)), "e11", 11
    )
    assert layer.last_quota(mine, year, None) == QuotaState(
        "Q4", "mofcom", mine, year, 100, None, 4, 350
    )
    held_to_the_full_list(layer, mine, year)
    base.apply(Effects(quotas=licences.charge_quotas(issued, 100)), "e12", 12)
    assert [q.id for q in base.open_quotas(mine, year)] == ["Q2", "Q3", "Q4"]
    assert [q.id for q in MemoryState(base).open_quotas(mine, year)] == ["Q2", "Q3", "Q4"]
    held_to_the_full_list(base, mine, year)
