"""Honest export declarations: the HS code, words and licence that fit what is exported."""

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

from ledger.demo import reference as ref
from ledger.demo.book import Lot
from ledger.demo.cast import COUNTRY
from ledger.demo.chemistry import mean, three_figures
from ledger.demo.plan import Plan

# Oxide and metal cuts in words, for specs and declarations.
CUT_NAMES: Mapping[str, str] = MappingProxyType(
    {
        "la": "lanthanum", "ce": "cerium", "ndpr": "praseodymium-neodymium",
        "sm": "samarium", "dy": "dysprosium", "tb": "terbium", "y": "yttrium",
        "lace": "lanthanum-cerium", "seg": "samarium-europium-gadolinium and heavy rare earth",
    }
)  # fmt: skip
CONCENTRATE_NAMES: Mapping[str, str] = MappingProxyType(
    {
        "bastnaesite": "Bastnaesite rare earth concentrate",
        "monazite": "Monazite rare earth concentrate",
        "ionic_clay": "Ionic clay mixed rare earth concentrate",
    }
)


def hs_code(lot: Lot, plan: Plan) -> str:
    """The 6-digit code of DOMAIN §1 that fits `lot`."""
    if lot.product == "concentrate":
        return ref.HS_CODE[plan.mine.deposit]
    if lot.product == "magnet_powder":
        return ref.HS_CODE["smco_powder" if plan.magnet == "smco" else "ndfeb_powder"]
    if lot.product == "oxide" and lot.spec is not None and lot.spec.startswith("CeO2"):
        return ref.HS_CODE["CeO2"]
    return ref.HS_CODE[lot.product]


def description(lot: Lot, plan: Plan) -> str:
    if lot.product == "concentrate":
        grade = _treo_percent(lot.composition)
        return f"{CONCENTRATE_NAMES[plan.mine.deposit]}, {grade:.0f} % REO"
    if lot.product in ("oxide", "metal"):
        return f"Rare earth {lot.product}: {lot.spec}"
    family = "samarium-cobalt (SmCo)" if plan.magnet == "smco" else "NdFeB"
    if lot.product == "magnet_powder":
        return f"Rare earth magnet alloy powder, {family}, {lot.spec}"
    return f"Sintered {family} rare earth permanent magnets, {lot.spec}"


def controlled(lots: Sequence[Lot]) -> list[str]:
    """The elements China controls (DOMAIN §4) that some lot holds above the threshold."""
    return sorted(
        element
        for element in ref.CONTROLLED
        if any(lot.composition.get(element, 0) >= ref.CONTROLLED_PPM for lot in lots)
    )


def declaration(plan: Plan, lots: Sequence[Lot], number: int, year: int) -> dict[str, Any]:
    """The declaration an honest exporter files for `lots`: every field fits the record."""
    first = lots[0]
    declared: dict[str, Any] = {
        "id": f"dec-{plan.chain:05d}-{number}",
        "lots": [lot.id for lot in lots],
        "hs_code": hs_code(first, plan),
        "description": description(first, plan),
        "declared_mass_g": sum(lot.mass_g for lot in lots),
        "destination": plan.destination,
    }
    if plan.declared_composition:
        mixed = mean([(lot.mass_g, lot.composition) for lot in lots])
        declared["declared_composition_ppm"] = three_figures(mixed)
    # China's list judges China's exporters only (DESIGN §9.1): they name a licence.
    country = COUNTRY[first.custodian]
    if country == "CN" and controlled(lots):
        declared["licence"] = f"{country}-EL-{year}-{plan.chain:05d}-{number}"
    return declared


def _treo_percent(composition: Mapping[str, int]) -> float:
    return sum(
        value / ref.METAL_FRACTION[element] / 10_000
        for element, value in composition.items()
        if element in ref.METAL_FRACTION
    )
