"""The REY readings the origin rules share (one distribution per composition) against the
literal definitions they were written as: the same floats, in the same order, exactly.

composition.ree_distribution sums and sorts in one pass; fingerprint_of and heavy_of read a
distribution made once; ratios.ratios takes it from its caller. Findings carry these floats
(evidence, messages), so "close" is not enough: every value must be bit for bit the same.
"""

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.lots.composition import (
    DEPOSIT_PROFILE_NAMES,
    DEPOSIT_PROFILES,
    FINGERPRINT_BINS,
    HEAVY,
    REY,
    ElementMap,
    closest_profile,
    distance,
    fingerprint,
    fingerprint_of,
    heavy_of,
    heavy_share,
    ree_distribution,
    unlisted_ppm,
)
from ledger.lots.rules import origin, ratios
from ledger.lots.tolerances import Tolerances

_OTHER_HREE = frozenset(("Ho", "Er", "Tm", "Yb", "Lu"))
_ELEMENTS = [*sorted(REY), "Sc", "Fe", "Ca", "Si", "Th", "Co", "B"]


def literal_rey_ppm(composition: ElementMap) -> float:
    return sum([ppm for element, ppm in composition.items() if element in REY])


def literal_distribution(composition: ElementMap) -> dict[str, float]:
    total = literal_rey_ppm(composition)
    if total <= 0:
        return {}
    held = sorted([(e, ppm) for e, ppm in composition.items() if e in REY and ppm > 0])
    return {e: ppm / total for e, ppm in held}


def literal_fingerprint(composition: ElementMap) -> dict[str, float]:
    shares = literal_distribution(composition)
    if not shares:
        return {}
    binned = dict.fromkeys(FINGERPRINT_BINS, 0.0)
    for element, share in shares.items():
        if element in _OTHER_HREE:
            binned["HREE"] += share
        elif element in binned:
            binned[element] += share
    return binned


def literal_heavy(composition: ElementMap) -> float:
    return sum([share for e, share in literal_distribution(composition).items() if e in HEAVY])


def literal_ratios(composition: ElementMap) -> dict[str, float]:
    found: dict[str, float] = {}
    nd = composition.get("Nd")
    most_nd = unlisted_ppm(composition) if nd is None else nd
    for name, element in (("Dy/Nd", "Dy"), ("Tb/Nd", "Tb")):
        if element in composition:
            found[name] = composition[element] / max(most_nd, 1.0)
    total = literal_rey_ppm(composition)
    if total > 0:
        found["Y"] = composition.get("Y", 0) / total
        found["heavy"] = literal_heavy(composition)
    return found


@st.composite
def compositions(draw: st.DrawFn) -> dict[str, float]:
    """Lot compositions (int ppm, as on the wire) and mixtures (float ppm): any subset of
    elements, in any order, zeros and trace amounts among them, summing to at most 10⁶."""
    listed = draw(st.lists(st.sampled_from(_ELEMENTS), unique=True, max_size=len(_ELEMENTS)))
    floats = draw(st.booleans())
    left = 1_000_000
    composition: dict[str, float] = {}
    for element in listed:
        if floats:
            value: float = draw(st.floats(0, left, allow_nan=False, allow_infinity=False))
        else:
            value = draw(st.one_of(st.just(0), st.integers(0, min(50, left)), st.integers(0, left)))
        composition[element] = value
        left -= value
    return composition


def _same(a: dict[str, float], b: dict[str, float]) -> bool:
    """Equal keys in equal order and identical floats (repr, so 0 is not 0.0)."""
    return [(k, repr(v)) for k, v in a.items()] == [(k, repr(v)) for k, v in b.items()]


@settings(max_examples=1500, deadline=None)
@given(compositions())
def test_shares_equal_the_literal_definitions(composition: dict[str, float]) -> None:
    shares = ree_distribution(composition)
    assert _same(shares, literal_distribution(composition))
    assert _same(fingerprint(composition), literal_fingerprint(composition))
    assert _same(fingerprint_of(shares), literal_fingerprint(composition))
    assert repr(heavy_share(composition)) == repr(literal_heavy(composition))
    assert repr(heavy_of(shares)) == repr(literal_heavy(composition))
    assert _same(ratios.ratios(composition), literal_ratios(composition))
    assert _same(ratios.ratios(composition, shares), literal_ratios(composition))


@settings(max_examples=500, deadline=None)
@given(compositions(), st.sampled_from(sorted(DEPOSIT_PROFILE_NAMES)))
def test_deposit_flag_given_a_reading_equals_reading_it_again(
    composition: dict[str, float], deposit: str
) -> None:
    tolerances = Tolerances()
    reading = origin._read(composition)
    given = origin._deposit_flag("L1", composition, deposit, tolerances, reading)
    assert given == origin._deposit_flag("L1", composition, deposit, tolerances)
    # Each profile's distance, read directly, is closest_profile's of that one profile.
    for name in DEPOSIT_PROFILES:
        found = closest_profile(composition, (name,))
        if found is not None:
            assert found[1] == distance(reading.pattern, DEPOSIT_PROFILES[name])
