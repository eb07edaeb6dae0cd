"""An honest mine-to-export chain with DOMAIN's numbers, through the state machine: no flag."""

import itertools
from collections.abc import Mapping
from typing import Any

import pytest

from ledger.lots.composition import OXIDE_METAL_FRACTION, RARE_EARTHS, element_masses
from ledger.lots.events import CustomsDecide, parse_event, touched_lots
from ledger.lots.memory import MemoryState
from ledger.lots.records import ParticipantState
from ledger.lots.rules import Flag, check_event
from ledger.lots.state import apply_event
from ledger.lots.tolerances import Tolerances
from ledger.tlog.encoding import canonical, sha256

ROLES = {
    "mine-a": {"mine"},
    "mine-c": {"mine"},
    "proc-b": {"processor"},
    "mag-c": {"processor", "exporter"},
    "lab-e": {"lab"},
    "cus-d": {"customs"},
    "ministry": {"authority"},
}
# Mountain Pass-like bastnaesite ore, 6.8 % REY (about 8 % TREO), elemental ppm.
MP_ORE = {
    "La": 22_600, "Ce": 33_400, "Pr": 2_950, "Nd": 8_160, "Sm": 540, "Eu": 80, "Gd": 110,
    "Dy": 20, "Y": 60, "Fe": 30_000, "Ca": 180_000, "Ba": 60_000, "F": 40_000, "Si": 100_000,
}  # fmt: skip
# Longnan-type ionic clay, 800 ppm REY, Y 60 %.
CLAY_ORE = {
    "Y": 490, "Dy": 60, "Gd": 50, "Er": 45, "Yb": 35, "Ho": 14, "Tb": 10, "Nd": 30,
    "La": 20, "Sm": 20, "Ce": 12, "Pr": 8, "Lu": 6, "Si": 300_000, "Al": 120_000,
}  # fmt: skip


class Ledger:
    """Posts events as consecutive entries through the state machine, checking each first."""

    def __init__(self, tolerances: Tolerances) -> None:
        self.state = MemoryState()
        for pid, roles in ROLES.items():
            self.state.participants[pid] = ParticipantState(pid, pid, "AU", frozenset(roles), 0)
        self.tolerances = tolerances
        self.index = 1
        self.days = itertools.count(1)
        self.flags: list[Flag] = []
        self.made: dict[str, int] = {}  # the mass each transform output was created with

    def post(self, type_: str, actor: str, **fields: Any) -> None:
        day = next(self.days)
        time = f"2026-03-{day:02d}T08:00:00Z" if day <= 31 else f"2026-04-{day - 31:02d}T08:00:00Z"
        body = {"type": type_, "id": f"ev-{self.index}", "actor": actor, "time": time, **fields}
        event = parse_event(canonical({**body, "prev": {}}))
        lots: Any = touched_lots(event)
        if isinstance(event, CustomsDecide):
            lots = self.state.declarations[event.declaration].lots
        prev = {lot_id: self.state.lots[lot_id].head for lot_id in lots}
        payload = canonical({**body, "prev": prev})
        event = parse_event(payload)
        self.flags += check_event(event, self.state, self.tolerances)
        effects = apply_event(event, sha256(payload).hex(), self.index, self.state, None)
        self.state.apply(effects, event.id, self.index)
        self.index += 1

    def mass(self, lot_id: str) -> int:
        return self.state.lots[lot_id].mass_g

    def transform(
        self, actor: str, process: str, inputs: Mapping[str, int], outputs: list[dict[str, Any]]
    ) -> None:
        refs = [{"lot": lot_id, "mass_g": mass} for lot_id, mass in inputs.items()]
        self.post("lot.transform", actor, process=process, inputs=refs, outputs=outputs)
        self.made.update((out["id"], out["mass_g"]) for out in outputs)

    def move(self, lots: list[str], sender: str, to: str, loss: float = 0.002) -> None:
        shipped = [{"lot": lot_id, "mass_g": self.mass(lot_id)} for lot_id in lots]
        self.post("lot.ship", sender, to=to, lots=shipped)
        weighed = [{"lot": r["lot"], "mass_g": round(r["mass_g"] * (1 - loss))} for r in shipped]
        self.post("lot.receive", to, lots=weighed, **{"from": sender})


def new(lot_id: str, product: str, mass_g: float, composition: Mapping[str, int]) -> dict[str, Any]:
    return {
        "id": lot_id,
        "product": product,
        "mass_g": round(mass_g),
        "composition_ppm": dict(composition),
    }


def rare_earth_grams(ledger: Ledger, lot_id: str, mass_g: int | None = None) -> dict[str, float]:
    held = ledger.state.lots[lot_id]
    grams = element_masses(held.mass_g if mass_g is None else mass_g, held.composition_ppm)
    return {e: g for e, g in grams.items() if e in RARE_EARTHS}


def product_of(
    lot_id: str, product: str, grams: Mapping[str, float], re_fraction: float, filler: str
) -> dict[str, Any]:
    """A lot holding `grams` of rare earths making `re_fraction` of its mass; `filler` the rest."""
    mass = sum(grams.values()) / re_fraction
    composition = {e: round(g / mass * 1e6) for e, g in grams.items() if g / mass * 1e6 >= 1}
    composition[filler] = 1_000_000 - sum(composition.values())
    return new(lot_id, product, mass, composition)


def oxide_of(lot_id: str, grams: Mapping[str, float]) -> dict[str, Any]:
    """A separated oxide lot: the oxide mass follows each element's metal fraction."""
    mass = sum(g / OXIDE_METAL_FRACTION[e] for e, g in grams.items())
    return product_of(lot_id, "oxide", grams, sum(grams.values()) / mass, "O")


def kept(
    grams: Mapping[str, float], recovery: float, elements: set[str] | None = None
) -> dict[str, float]:
    return {e: g * recovery for e, g in grams.items() if elements is None or e in elements}


def run_light_chain(ledger: Ledger, separation: float = 0.97) -> None:
    """Bastnaesite ore to NdPr metal: mine-a then proc-b; `separation` is its recovery."""
    site = {"id": "MP", "name": "Mountain Pass", "country": "US"}
    ledger.post(
        "lot.extract",
        "mine-a",
        lot=new("ORE-MP", "ore", 1e9, MP_ORE),
        site=site,
        deposit="bastnaesite",
    )
    ore_re = rare_earth_grams(ledger, "ORE-MP")  # beneficiation recovers 80 %, 51 % RE
    conc = product_of("CONC-MP", "concentrate", kept(ore_re, 0.80), 0.51, "Ca")
    ledger.transform("mine-a", "beneficiation", {"ORE-MP": 10**9}, [conc])
    ledger.move(["CONC-MP"], "mine-a", "proc-b")
    conc_re = rare_earth_grams(ledger, "CONC-MP")  # cracking recovers 95 %; mass grows
    mrec = product_of("MREC-MP", "mixed_compound", kept(conc_re, 0.95), 0.38, "Cl")
    ledger.transform("proc-b", "cracking", {"CONC-MP": ledger.mass("CONC-MP")}, [mrec])
    mrec_re = kept(rare_earth_grams(ledger, "MREC-MP"), separation)
    oxides = [
        oxide_of("NDPR-OX", kept(mrec_re, 1, {"Nd", "Pr"})),
        oxide_of("LA-OX", kept(mrec_re, 1, {"La"})),
        oxide_of("CE-OX", kept(mrec_re, 1, {"Ce"})),
        oxide_of("SEG-OX", kept(mrec_re, 1, {"Sm", "Eu", "Gd", "Dy", "Y"})),
    ]
    ledger.transform("proc-b", "separation", {"MREC-MP": ledger.mass("MREC-MP")}, oxides)
    metal = product_of(
        "NDPR-M", "metal", kept(rare_earth_grams(ledger, "NDPR-OX"), 0.97), 0.995, "Fe"
    )
    ledger.transform("proc-b", "reduction", {"NDPR-OX": ledger.mass("NDPR-OX")}, [metal])


def run_authority(ledger: Ledger) -> None:
    """The ministry's quota for the clay mine (a CN site) and the licence the export names."""
    quota = {"id": "Q-2026-C", "holder": "mine-c", "year": 2026, "reo_mass_g": 12_000_000}
    ledger.post("quota.issue", "ministry", quota=quota)
    licence = {
        "id": "MOFCOM-2026-0042",
        "holder": "mag-c",
        "elements": ["Dy", "Tb"],
        "destination": ["DE"],
        "hs_codes": ["850511"],
        "max_mass_g": 50_000_000,
        "valid_from": "2026-01-01T00:00:00Z",
        "valid_until": "2026-12-31T23:59:59Z",
    }
    ledger.post("licence.issue", "ministry", licence=licence)


def run_clay_chain(ledger: Ledger) -> None:
    """Ionic clay to Dy metal: mine-c leaches, proc-b separates and reduces."""
    site = {"id": "LN", "name": "Longnan", "country": "CN"}
    ledger.post(
        "lot.extract",
        "mine-c",
        lot=new("CLAY", "ore", 1e10, CLAY_ORE),
        site=site,
        deposit="ionic_clay",
    )
    leach = product_of(
        "MREC-CL", "mixed_compound", kept(rare_earth_grams(ledger, "CLAY"), 0.85), 0.45, "C"
    )
    ledger.transform("mine-c", "beneficiation", {"CLAY": 10**10}, [leach])
    ledger.move(["MREC-CL"], "mine-c", "proc-b")
    mrec_re = kept(rare_earth_grams(ledger, "MREC-CL"), 0.95)  # ionic clay feed: floor 0.94
    rest = set(mrec_re) - {"Dy", "Y"}
    oxides = [
        oxide_of("DY-OX", kept(mrec_re, 1, {"Dy"})),
        oxide_of("Y-OX", kept(mrec_re, 1, {"Y"})),
    ]
    oxides.append(oxide_of("HREE-OX", kept(mrec_re, 1, rest)))
    ledger.transform("proc-b", "separation", {"MREC-CL": ledger.mass("MREC-CL")}, oxides)
    metal = product_of("DY-M", "metal", kept(rare_earth_grams(ledger, "DY-OX"), 0.96), 0.995, "Fe")
    ledger.transform("proc-b", "reduction", {"DY-OX": ledger.mass("DY-OX")}, [metal])


def run_magnet_chain(ledger: Ledger) -> None:
    """NdPr and Dy metal to finished magnets, assayed, declared and released."""
    ledger.move(["NDPR-M", "DY-M"], "proc-b", "mag-c")
    ndpr = rare_earth_grams(ledger, "NDPR-M")
    alloy_mass = sum(ndpr.values()) * 0.98 / 0.30  # Nd+Pr 30 % of the alloy, 98 % recovery
    dy_metal = ledger.state.lots["DY-M"].composition_ppm["Dy"] / 1e6
    dy_used = round(alloy_mass * 0.01 / 0.98 / dy_metal)  # Dy 1 % of the alloy
    grams = kept({**ndpr, **rare_earth_grams(ledger, "DY-M", dy_used)}, 0.98)
    alloy = product_of("ALLOY", "alloy", grams, sum(grams.values()) / alloy_mass, "Fe")
    alloy["composition_ppm"].update(Fe=alloy["composition_ppm"]["Fe"] - 20_000, B=10_000, Co=10_000)
    ledger.transform(
        "mag-c", "alloying", {"NDPR-M": ledger.mass("NDPR-M"), "DY-M": dy_used}, [alloy]
    )
    steps = [
        ("milling", "ALLOY", "POWDER", "magnet_powder", 0.99),
        ("sintering", "POWDER", "BLOCK", "magnet", 0.985),
        ("machining", "BLOCK", "MAG", "magnet", 0.75),  # 25 % scrap
    ]
    for process, source, made, product, kept_share in steps:
        held = ledger.state.lots[source]
        out = new(made, product, held.mass_g * kept_share, held.composition_ppm)
        ledger.transform("mag-c", process, {source: held.mass_g}, [out])
    record = ledger.state.lots["MAG"].composition_ppm
    noisy = {e: round(v * (1.02 if e in {"Nd", "Dy"} else 0.99)) for e, v in record.items()}
    ledger.post(
        "lot.assay", "lab-e", lot="MAG", composition_ppm=noisy, method="ICP-OES", lab="Lab E"
    )
    declaration = {
        "id": "CN-EXP-1",
        "lots": ["MAG"],
        "hs_code": "85051110",
        "description": "sintered NdFeB magnets, Dy-doped",
        "declared_mass_g": ledger.mass("MAG"),
        "declared_composition_ppm": record,
        "destination": "DE",
        "licence": "MOFCOM-2026-0042",
    }
    ledger.post("export.declare", "mag-c", declaration=declaration)
    ledger.post("customs.decide", "cus-d", declaration="CN-EXP-1", decision="release")


@pytest.fixture(scope="module")
def chain() -> Ledger:
    ledger = Ledger(Tolerances())
    run_authority(ledger)
    run_light_chain(ledger)
    run_clay_chain(ledger)
    run_magnet_chain(ledger)
    return ledger


def test_honest_chain_raises_no_flag(chain: Ledger) -> None:
    assert chain.flags == []
    assert chain.state.lots["MAG"].status == "exported"


def test_honest_chain_has_domain_numbers(chain: Ledger) -> None:
    lots, made = chain.state.lots, chain.made
    conc_re = sum(v for e, v in lots["CONC-MP"].composition_ppm.items() if e in RARE_EARTHS)
    assert 500_000 < conc_re < 520_000  # concentrate 60 % REO
    assert made["MREC-MP"] > made["CONC-MP"]  # cracking adds carbonate, chloride, water
    assert made["ALLOY"] > 3 * made["NDPR-M"]  # alloying adds Fe, B, Co
    magnet = lots["MAG"].composition_ppm
    assert 295_000 < magnet["Nd"] + magnet["Pr"] < 305_000 and 9_500 < magnet["Dy"] < 10_500
    assert made["MAG"] == pytest.approx(0.75 * made["BLOCK"], abs=1)  # 25 % machining scrap


def test_the_same_chain_with_a_diverted_separation_is_flagged() -> None:
    ledger = Ledger(Tolerances())
    run_light_chain(ledger, separation=0.85)
    [flag] = ledger.flags
    assert flag.code == "YIELD_BELOW_FLOOR" and flag.lot == "MREC-MP"
    assert flag.message.startswith("rare-earth recovery 85 %")
