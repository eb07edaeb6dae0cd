"""The scenario generator: replayed through the state machine, held to DOMAIN's numbers, and
read by the rules (honest chains raise nothing, every injected fraud raises its code)."""

import re
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from ledger.demo import PATTERNS, Scenario, ScenarioStep, generate, span
from ledger.lots.events import Event, parse_event
from ledger.lots.fields import ROLES
from ledger.lots.memory import MemoryState
from ledger.lots.rules import Flag, check_event
from ledger.lots.state import LotState, ParticipantState, Rejection, apply_event
from ledger.lots.tolerances import Tolerances
from ledger.tlog.encoding import canonical, sha256

START = datetime(2025, 1, 1, tzinfo=UTC)
CHAINS = 200
RATE = 0.12  # 24 frauds: every pattern once, the first ten (substitution among them) twice

# DOMAIN §1: metal fraction of each oxide (Ho, Er, Tm, Yb from atomic weights).
FRACTION = {
    "La": 0.8527, "Ce": 0.8141, "Pr": 0.8277, "Nd": 0.8574, "Sm": 0.8624, "Eu": 0.8636,
    "Gd": 0.8676, "Tb": 0.8502, "Dy": 0.8713, "Ho": 0.8730, "Er": 0.8745, "Tm": 0.8756,
    "Yb": 0.8782, "Lu": 0.8794, "Y": 0.7874,
}  # fmt: skip
REE = frozenset(FRACTION)
HREE = ("Ho", "Er", "Tm", "Yb", "Lu")
# DOMAIN §3, % of TREO; "<x" read as (0, x).
PATTERN = {
    "bastnaesite": {"La": (23, 33), "Ce": (47, 50), "Pr": (4, 5), "Nd": (12, 18),
                    "Sm": (0.8, 1.2), "Eu": (0.1, 0.2), "Gd": (0.2, 0.7), "Tb": (0, 0.1),
                    "Dy": (0, 0.1), "Y": (0.1, 0.3), "HREE": (0, 0.3)},
    "monazite": {"La": (20, 23), "Ce": (45, 49), "Pr": (5, 6), "Nd": (17, 19), "Sm": (2.5, 3),
                 "Eu": (0.05, 0.2), "Gd": (1, 2), "Tb": (0.1, 0.2), "Dy": (0.3, 0.8),
                 "Y": (1, 2.5), "HREE": (0, 1)},
    "heavy": {"La": (1.5, 3), "Ce": (0.5, 2), "Pr": (0.5, 1.5), "Nd": (3, 4), "Sm": (2, 3),
              "Eu": (0, 0.2), "Gd": (5, 7), "Tb": (1, 1.5), "Dy": (6, 8), "Y": (60, 66),
              "HREE": (10, 15)},
    "light": {"La": (28, 38), "Ce": (2, 8), "Pr": (6, 8), "Nd": (25, 31), "Sm": (4, 6),
              "Eu": (0.5, 1), "Gd": (3, 5), "Tb": (0.3, 0.6), "Dy": (1, 3), "Y": (8, 12),
              "HREE": (1, 3)},
}  # fmt: skip
HEAVY_CLAY_MINES = frozenset({"longnan-clay-mine", "pangwa-clay-mine"})
# DOMAIN §2: the typical recovery range and the China 2016 floor of each process.
TYPICAL = {
    "beneficiation": (0.75, 0.90), "cracking": (0.92, 0.97), "separation": (0.95, 0.99),
    "reduction": (0.95, 0.99), "alloying": (0.97, 0.995), "milling": (0.97, 0.995),
    "sintering": (0.97, 0.99), "machining": (0.60, 0.85),
}  # fmt: skip
FLOOR = {
    "beneficiation": 0.75, "cracking": 0.92, "separation": 0.96, "reduction": 0.95,
    "alloying": 0.97, "milling": 0.97, "sintering": 0.97, "machining": 0.60,
}  # fmt: skip
MASS_CONSERVING = frozenset({"beneficiation", "separation", "milling", "sintering", "machining"})
# DOMAIN §1: the HS codes that fit each product; §4: the controlled elements.
HS_FITS = {
    "concentrate": {"253090", "284610", "261220"},
    "oxide": {"284690", "284610"},
    "metal": {"280530"},
    "magnet_powder": {"280530", "720299", "382499"},
    "magnet": {"850511"},
}
CONTROLLED = ("Sm", "Gd", "Tb", "Dy", "Lu", "Sc", "Y")
TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")
LOT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
PARTICIPANT_ID = re.compile(r"[a-z0-9][a-z0-9.-]{1,62}")


@dataclass
class Entry:
    """One step as the ledger saw it: the lots it touched before it, and the flags it raised."""

    step: ScenarioStep
    event: Event
    before: dict[str, LotState]
    accepted: bool
    flags: list[Flag]

    @property
    def body(self) -> dict[str, Any]:
        return self.step.event

    @property
    def chain(self) -> str:
        event_id: str = self.step.event["id"]
        return event_id.split("-")[1]


def replay(scenario: Scenario, now: datetime | None = None) -> list[Entry]:
    """Every step through parse_event, apply_event and check_event, participants registered."""
    state = MemoryState()
    for index, p in enumerate(scenario.participants):
        state.participants[p.id] = ParticipantState(
            p.id, p.name, p.country, frozenset(p.roles), index
        )
    index, entries = len(scenario.participants), []
    for step in scenario.steps:
        payload = canonical(step.event)
        event = parse_event(payload)
        before = {lot: found for lot in step.event["prev"] if (found := state.lot(lot))}
        try:
            effects = apply_event(event, sha256(payload).hex(), index, state, now)
        except Rejection:
            entries.append(Entry(step, event, before, False, []))
            continue
        flags = check_event(event, state, Tolerances())
        state.apply(effects, event.id, index)
        entries.append(Entry(step, event, before, True, flags))
        index += 1
    return entries


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return generate(7, chains=CHAINS, fraud_rate=RATE, start=START)


@pytest.fixture(scope="module")
def entries(scenario: Scenario) -> list[Entry]:
    return replay(scenario)


@pytest.fixture(scope="module")
def honest(scenario: Scenario, entries: list[Entry]) -> list[Entry]:
    """The accepted entries of chains that received no injection."""
    injected = {injection.event_id.split("-")[1] for injection in scenario.injections}
    return [entry for entry in entries if entry.accepted and entry.chain not in injected]


def of_type(entries: list[Entry], event_type: str) -> list[Entry]:
    return [entry for entry in entries if entry.body["type"] == event_type]


def grams(mass_g: float, composition: Mapping[str, int]) -> dict[str, float]:
    return {element: mass_g * value / 1e6 for element, value in composition.items()}


def balance(entry: Entry) -> tuple[dict[str, float], dict[str, float]]:
    """Element grams into and out of a transform."""
    into: dict[str, float] = defaultdict(float)
    out: dict[str, float] = defaultdict(float)
    for ref in entry.body["inputs"]:
        for e, g in grams(ref["mass_g"], entry.before[ref["lot"]].composition_ppm).items():
            into[e] += g
    for made in entry.body["outputs"]:
        for e, g in grams(made["mass_g"], made["composition_ppm"]).items():
            out[e] += g
    return into, out


def oxide_pct(composition: Mapping[str, int]) -> dict[str, float]:
    """Each rare earth's share of TREO in %, oxide basis, the "other HREE" pooled."""
    oxides = {e: v / FRACTION[e] for e, v in composition.items() if e in REE}
    total = sum(oxides.values())
    shares = {e: 100 * v / total for e, v in oxides.items() if e not in HREE}
    return shares | {"HREE": sum(100 * oxides.get(e, 0) / total for e in HREE)}


# The generator's contract.


def test_the_same_seed_gives_the_same_scenario_and_another_seed_another() -> None:
    first = generate(3, chains=30, fraud_rate=0.5, start=START)
    assert generate(3, chains=30, fraud_rate=0.5, start=START) == first
    assert generate(4, chains=30, fraud_rate=0.5, start=START).steps != first.steps


def test_two_hundred_chains_make_over_two_thousand_lots_in_under_two_seconds() -> None:
    began = time.perf_counter()
    made = generate(11, chains=CHAINS, fraud_rate=RATE, start=START)
    assert time.perf_counter() - began < 2.0
    assert len(made.all_lots) >= 2_000


def test_generate_refuses_bad_arguments() -> None:
    with pytest.raises(ValueError, match="chains"):
        generate(1, chains=0, fraud_rate=0.1, start=START)
    with pytest.raises(ValueError, match="fraud_rate"):
        generate(1, chains=5, fraud_rate=1.5, start=START)
    with pytest.raises(ValueError, match="timezone"):
        generate(1, chains=5, fraud_rate=0.1, start=datetime(2025, 1, 1))


def test_the_first_event_is_dated_start_in_utc_to_the_second() -> None:
    local = datetime(2025, 1, 1, 8, 0, 0, 250_000, tzinfo=timezone(timedelta(hours=8)))
    made = generate(1, chains=3, fraud_rate=0, start=local)
    assert made.steps[0].event["time"] == "2025-01-01T00:00:00Z"


def test_without_frauds_every_lot_is_clean() -> None:
    made = generate(2, chains=20, fraud_rate=0, start=START)
    assert made.injections == ()
    assert made.clean_lots == made.all_lots


def test_participants_cover_every_role_with_valid_ids(scenario: Scenario) -> None:
    ids = [p.id for p in scenario.participants]
    assert len(set(ids)) == len(ids)
    assert all(PARTICIPANT_ID.fullmatch(p) and p != "operator" for p in ids)
    assert all(re.fullmatch(r"[A-Z]{2}", p.country) for p in scenario.participants)
    roles = {role for p in scenario.participants for role in p.roles}
    assert roles == set(ROLES)
    mines = [p for p in scenario.participants if "mine" in p.roles]
    assert {p.country for p in mines} >= {"CN", "US", "AU", "IN", "BR", "MM"}


def test_ids_are_unique_and_well_formed(scenario: Scenario, entries: list[Entry]) -> None:
    event_ids = [step.event["id"] for step in scenario.steps]
    assert len(set(event_ids)) == len(event_ids)
    made = [
        lot["id"]
        for entry in entries
        if entry.accepted
        for lot in entry.body.get("outputs", [entry.body.get("lot")])
        if isinstance(lot, dict)
    ]
    assert len(set(made)) == len(made) and set(made) == scenario.all_lots
    assert all(LOT_ID.fullmatch(lot) for lot in made)
    declared = [e.body["declaration"]["id"] for e in of_type(entries, "export.declare")]
    assert len(set(declared)) == len(declared)


# Replayed through the state machine.


def test_every_step_is_accepted_or_rejected_as_expected(entries: list[Entry]) -> None:
    wrong = [e.body["id"] for e in entries if e.accepted != (e.step.expect == "accept")]
    assert wrong == []
    assert any(not e.accepted for e in entries)


def test_every_chain_ends_with_goods_released_by_customs(
    scenario: Scenario, entries: list[Entry]
) -> None:
    released = {e.chain for e in of_type(entries, "customs.decide") if e.accepted}
    assert released == {f"{chain:05d}" for chain in range(CHAINS)}


def test_times_are_utc_increase_along_every_lot_and_stay_within_the_span(
    scenario: Scenario, entries: list[Entry]
) -> None:
    backdated = {i.event_id for i in scenario.injections if i.pattern == "time_travel"}
    assert scenario.steps[0].event["time"] == "2025-01-01T00:00:00Z"
    for entry in entries:
        assert TIME.fullmatch(entry.body["time"])
        when = datetime.fromisoformat(entry.body["time"])
        assert START <= when <= START + span(CHAINS)
        if entry.accepted and entry.body["id"] not in backdated:
            assert all(datetime.fromisoformat(lot.time) < when for lot in entry.before.values())


def test_masses_are_positive_integers_and_compositions_integer_ppm(entries: list[Entry]) -> None:
    for entry in entries:
        body = entry.body
        made = body.get("outputs", [body["lot"]] if body["type"] == "lot.extract" else [])
        compositions = [lot["composition_ppm"] for lot in made]
        compositions += [body["composition_ppm"]] if body["type"] == "lot.assay" else []
        declared = body.get("declaration")
        if isinstance(declared, dict) and "declared_composition_ppm" in declared:
            compositions.append(declared["declared_composition_ppm"])
        for composition in compositions:
            assert all(type(v) is int and v >= 0 for v in composition.values())
            assert sum(composition.values()) <= 1_000_000
        masses = [lot["mass_g"] for lot in made] + [
            ref["mass_g"] for key in ("inputs", "lots") for ref in body.get(key, [])
        ]
        assert all(type(mass) is int and mass >= 1 for mass in masses)


# Frauds.


def test_every_pattern_is_injected_once_the_rate_allows(
    scenario: Scenario, entries: list[Entry]
) -> None:
    assert len(scenario.injections) == round(CHAINS * RATE)
    assert {i.pattern for i in scenario.injections} == set(PATTERNS)
    substitution = {i.code for i in scenario.injections if i.pattern == "substitution_in_transit"}
    assert substitution == {"RECEIPT_MISMATCH", "COMPOSITION_MISMATCH"}
    chains = [i.event_id.split("-")[1] for i in scenario.injections]
    assert len(set(chains)) == len(chains)
    by_id = {e.body["id"]: e for e in entries}
    for injection in scenario.injections:
        rejected = not by_id[injection.event_id].accepted
        assert rejected == (injection.code == "REJECTED"), injection
        assert injection.lot in scenario.all_lots and injection.lot not in scenario.clean_lots


def test_clean_lots_are_the_lots_of_chains_without_injection(scenario: Scenario) -> None:
    injected = {i.event_id.split("-")[1] for i in scenario.injections}
    assert scenario.clean_lots == {
        lot for lot in scenario.all_lots if lot.split("-")[1] not in injected
    }


# Honest chains obey DOMAIN's physics.


def test_honest_transforms_make_no_element_from_nothing(honest: list[Entry]) -> None:
    for entry in of_type(honest, "lot.transform"):
        process = entry.body["process"]
        into, out = balance(entry)
        rounding = sum(made["mass_g"] for made in entry.body["outputs"]) * 0.5e-6 + 1e-6
        # Alloying adds Fe, B, Co from stock; cracking adds carbonate oxygen.
        added = {"alloying": set(out) - REE, "cracking": {"O"}}.get(process, set())
        for element, g in out.items():
            if element in added:
                continue
            assert g <= into[element] + rounding, (entry.body["id"], element, g, into[element])
        mass_in = sum(ref["mass_g"] for ref in entry.body["inputs"])
        mass_out = sum(made["mass_g"] for made in entry.body["outputs"])
        if process in MASS_CONSERVING:
            assert mass_out <= mass_in
        if process in ("split", "blend"):
            assert mass_out == mass_in


def test_honest_recovery_is_typical_and_clear_of_the_floors(honest: list[Entry]) -> None:
    seen = set()
    for entry in of_type(honest, "lot.transform"):
        process = entry.body["process"]
        if process not in TYPICAL:
            continue
        into, out = balance(entry)
        recovery = sum(out[e] for e in REE) / sum(into[e] for e in REE)
        low, high = TYPICAL[process]
        assert low - 0.005 <= recovery <= high + 0.005, (entry.body["id"], recovery)
        assert recovery >= FLOOR[process] + 0.01, (entry.body["id"], recovery)
        seen.add(process)
    assert seen == set(TYPICAL)


def test_honest_split_and_blend_are_exact_mixtures(honest: list[Entry]) -> None:
    seen = set()
    for entry in of_type(honest, "lot.transform"):
        process = entry.body["process"]
        if process not in ("split", "blend"):
            continue
        seen.add(process)
        into, _ = balance(entry)
        total = sum(ref["mass_g"] for ref in entry.body["inputs"])
        for made in entry.body["outputs"]:
            for element, value in made["composition_ppm"].items():
                assert abs(value - into[element] * 1e6 / total) <= 0.5
        if process == "blend":
            deposits = {entry.before[ref["lot"]].deposit for ref in entry.body["inputs"]}
            assert len(deposits) == 1
    assert seen == {"split", "blend"}


def test_honest_custody_masses_agree_with_the_record(honest: list[Entry]) -> None:
    for entry in of_type(honest, "lot.ship"):
        assert all(ref["mass_g"] == entry.before[ref["lot"]].mass_g for ref in entry.body["lots"])
    for entry in of_type(honest, "lot.receive"):
        for ref in entry.body["lots"]:
            shipped = entry.before[ref["lot"]].shipped_mass_g
            assert shipped is not None and abs(ref["mass_g"] - shipped) <= 0.002 * shipped + 1
    for entry in of_type(honest, "export.declare"):
        declared = entry.body["declaration"]
        recorded = sum(entry.before[lot].mass_g for lot in declared["lots"])
        assert declared["declared_mass_g"] == recorded


def test_honest_assays_read_within_two_percent(honest: list[Entry]) -> None:
    assays = of_type(honest, "lot.assay")
    assert assays
    for entry in assays:
        record = entry.before[entry.body["lot"]].composition_ppm
        reading = entry.body["composition_ppm"]
        assert reading.keys() == record.keys()
        assert all(abs(reading[e] - v) <= 0.02 * v + 1 for e, v in record.items())


def test_honest_ore_fits_its_deposit_pattern_and_grade(honest: list[Entry]) -> None:
    for entry in of_type(honest, "lot.extract"):
        deposit, composition = entry.body["deposit"], entry.body["lot"]["composition_ppm"]
        treo = sum(v / FRACTION[e] for e, v in composition.items() if e in REE) / 1e6
        if deposit == "ionic_clay":
            pattern = "heavy" if entry.body["actor"] in HEAVY_CLAY_MINES else "light"
            assert 0.0005 <= treo <= 0.003
        else:
            pattern = deposit
            assert 0.0399 <= treo <= 0.09
        # Integer ppm: in a clay ore of ~1000 ppm TREO, 1 ppm of Tb is 0.1 % of the pattern.
        resolution = 100 * 2 / (treo * 1e6) + 0.02
        for name, share in oxide_pct(composition).items():
            low, high = PATTERN[pattern][name]
            assert low - resolution <= share <= high + resolution, (entry.body["id"], name)


def test_honest_products_have_domain_compositions(honest: list[Entry]) -> None:
    seen = set()
    for entry in of_type(honest, "lot.transform"):
        for made in entry.body["outputs"]:
            c, product = made["composition_ppm"], made["product"]
            seen.add(product)
            rare = sum(v for e, v in c.items() if e in REE) / 1e6
            reo = sum(v / FRACTION[e] for e, v in c.items() if e in REE) / 1e6
            if product == "concentrate":
                assert 0.30 <= reo <= 0.70
                if "Th" in c and c["Th"] > 20_000:  # monazite: ThO2 6-10 %
                    assert 0.06 <= c["Th"] / 0.8788 / 1e6 <= 0.10
            elif product == "mixed_compound":
                assert 0.40 <= reo <= 0.60
            elif product == "oxide":
                assert reo >= 0.99 - 1e-5
            elif product == "metal":
                assert rare >= 0.99
            elif c.get("Sm", 0) > 100_000:  # SmCo alloy, powder, magnet
                assert 0.23 <= c["Sm"] / 1e6 <= 0.35 and 0.50 <= c["Co"] / 1e6 <= 0.65
            else:  # NdFeB alloy, powder, magnet
                assert 0.29 <= (c["Nd"] + c["Pr"]) / 1e6 <= 0.325 and 0.27 <= rare <= 0.325
                assert 0.63 <= c["Fe"] / 1e6 <= 0.68 and 0.010 <= c["B"] / 1e6 <= 0.012
                assert c.get("Co", 0) <= 50_000 and c.get("Dy", 0) <= 12_000
    assert seen >= {"concentrate", "mixed_compound", "oxide", "metal", "alloy", "magnet"}


CN_EXPORTERS = {"ningbo-export", "tianjin-export"}


def test_honest_declarations_fit_the_goods(honest: list[Entry]) -> None:
    for entry in of_type(honest, "export.declare"):
        declared = entry.body["declaration"]
        lots = [entry.before[lot] for lot in declared["lots"]]
        assert all(declared["hs_code"] in HS_FITS[lot.product] for lot in lots)
        controlled = any(lot.composition_ppm.get(e, 0) >= 1_000 for lot in lots for e in CONTROLLED)
        # China's list judges China's exporters only (DESIGN §9.1).
        assert ("licence" in declared) == (controlled and entry.step.actor in CN_EXPORTERS)
        stated = declared.get("declared_composition_ppm", {})
        total = sum(lot.mass_g for lot in lots)
        for element, value in stated.items():
            held = sum(lot.mass_g * lot.composition_ppm.get(element, 0) for lot in lots) / total
            assert held * 0.99 - 1 <= value <= held


# Read by the rules (ledger/lots/rules).


def test_honest_chains_raise_no_flag(honest: list[Entry]) -> None:
    flagged = [(e.body["id"], f.code, f.message) for e in honest for f in e.flags]
    assert flagged == []


def test_each_injection_raises_its_code_on_its_lot(
    scenario: Scenario, entries: list[Entry]
) -> None:
    by_id = {e.body["id"]: e for e in entries}
    for injection in scenario.injections:
        if injection.code == "REJECTED":
            continue
        raised = {(f.code, f.lot) for f in by_id[injection.event_id].flags}
        assert (injection.code, injection.lot) in raised, (injection, raised)


@pytest.mark.parametrize("seed", range(6))
def test_every_chain_injected_still_replays_and_is_caught(seed: int) -> None:
    made = generate(seed, chains=24, fraud_rate=1.0, start=START)
    assert len(made.injections) == 24 and made.clean_lots == frozenset()
    entries = replay(made, now=START + span(24))
    assert all(e.accepted == (e.step.expect == "accept") for e in entries)
    by_id = {e.body["id"]: e for e in entries}
    for injection in made.injections:
        if injection.code != "REJECTED":
            raised = {(f.code, f.lot) for f in by_id[injection.event_id].flags}
            assert (injection.code, injection.lot) in raised, injection
