"""rules/lineage._judge against the literal rule it implements, element by element, and
Tolerances.lineage_held (derived once per configuration) against its definition."""

import random
from collections.abc import Mapping, Sequence
from dataclasses import replace

import pytest

from ledger.lots.composition import RARE_EARTHS
from ledger.lots.domain import LINEAGE_HIGH_VALUE
from ledger.lots.lineage import ELEMENTS, N
from ledger.lots.rules.lineage import _judge
from ledger.lots.tolerances import Tolerances

CONFIGS = [
    Tolerances(),
    Tolerances(include_ann57=True),
    # A control list naming an element that is no rare earth; no tolerance, no floor.
    Tolerances(
        controlled_ann18=frozenset({"Dy", "Co"}), lineage_tolerance=0.0, lineage_floor_ppm=0
    ),
    Tolerances(lineage_tolerance=0.25, lineage_floor_ppm=1_000),
]
OTHERS = ("Fe", "B", "Co", "O")


def off_literally(
    mass: int, composition: Mapping[str, int], shares: Sequence[int], tol: Tolerances
) -> list[str]:
    """Per rare earth: a listed one claiming more than its upper bound with the allowances;
    a controlled or high-value one, listed or not, claiming less than its lower bound."""
    held = tol.controlled | {"Nd", "Pr", "Tb", "Dy"}
    scale, slack = mass / 1000, tol.lineage_floor_ppm * mass / 1000
    off = []
    for k, element in enumerate(ELEMENTS):
        claim = composition.get(element, 0) * scale
        upper, lower = shares[k], shares[N + k]
        above = element in composition and claim > upper * (1 + tol.lineage_tolerance) + slack
        below = element in held and claim < lower * (1 - tol.lineage_tolerance) - slack
        if above or below:
            off.append(element)
    return off


@pytest.mark.parametrize("tol", CONFIGS)
def test_judge_equals_the_literal_rule(tol: Tolerances) -> None:
    rng = random.Random(14)
    for _ in range(3000):
        mass = rng.choice([1, rng.randrange(1, 10**7)])
        listed = rng.sample(ELEMENTS + OTHERS, rng.randrange(0, 12))
        composition = {element: rng.randrange(0, 200_000) for element in listed}
        shares = []
        for element in ELEMENTS:
            claim = composition.get(element, 0) * mass // 1000
            # Bounds around the claim, at it, or anywhere: both sides of every threshold.
            near = [claim, claim + 1, max(0, claim - 1), claim * 9 // 10, claim * 11 // 10]
            shares.append(rng.choice([*near, 0, rng.randrange(10**10)]))
        shares += [rng.choice([0, rng.randrange(upper + 2), upper * 2]) for upper in shares]
        flags = _judge("L-1", mass, composition, shares, "test", tol)
        found = [item["element"] for flag in flags for item in flag.evidence["elements"]]
        assert len(flags) <= 1
        assert found == off_literally(mass, composition, shares, tol)


@pytest.mark.parametrize("tol", CONFIGS)
def test_lineage_held_is_the_controlled_and_high_value_rare_earths(tol: Tolerances) -> None:
    assert set(tol.lineage_held) == (tol.controlled | LINEAGE_HIGH_VALUE) & RARE_EARTHS
    flipped = replace(tol, include_ann57=not tol.include_ann57)
    assert set(flipped.lineage_held) == (flipped.controlled | LINEAGE_HIGH_VALUE) & RARE_EARTHS
