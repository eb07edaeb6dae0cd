"""guards.touch (one step) held to its plain twin, records.evolve with head and updated_index."""

import random

import pytest

from ledger.lots.guards import touch
from ledger.lots.records import LotState, evolve

_LOT = LotState(
    id="L1",
    product="concentrate",
    spec=None,
    mass_g=1000,
    composition_ppm={"Nd": 5000},
    custodian="mine-a",
    status="active",
    head="h0",
    created_index=1,
    updated_index=1,
    pending_to=None,
    origins=("L1",),
    deposit="bastnaesite",
    time="2026-01-01T00:00:00+00:00",
)

_CHANGES = {
    "mass_g": [0, 1, 999],
    "status": ["active", "in_transit", "consumed"],
    "custodian": ["mine-a", "proc-b"],
    "pending_to": [None, "proc-b"],
    "shipped_mass_g": [None, 0, 500],
    "time": ["2026-02-01T00:00:00+00:00"],
    "lineage": [None, (1, 2, 3)],
}


def test_touch_equals_evolve_on_every_change_set() -> None:
    rng = random.Random(7)
    for _ in range(500):
        names = rng.sample(sorted(_CHANGES), rng.randint(0, len(_CHANGES)))
        changes = {name: rng.choice(_CHANGES[name]) for name in names}
        index = rng.randint(2, 10**6)
        got = touch(_LOT, "h1", index, **changes)
        want = evolve(_LOT, head="h1", updated_index=index, **changes)
        assert got == want
        assert vars(got) == vars(want)
        assert type(got) is LotState
    assert vars(_LOT)["head"] == "h0"  # the lot it started from is unchanged


def test_touch_refuses_what_evolve_refuses() -> None:
    with pytest.raises(TypeError, match="no field 'colour'"):
        touch(_LOT, "h1", 2, colour="red")
    with pytest.raises(TypeError):
        touch(_LOT, "h1", 2, head="h2")
