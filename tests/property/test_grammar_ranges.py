"""grammar.range_flag against the literal rule: a lot fits its product when some amount it
can hold lies in the product's range. range_flag reads the listed rare-earth total first and
reads the unlisted remainder only when that total is out of range; the verdict must be the
one of the rule read in full, for every composition."""

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.lots.composition import PPM, RARE_EARTHS
from ledger.lots.rules.grammar import range_flag
from ledger.lots.tolerances import Tolerances

TOLERANCES = Tolerances()
_PRODUCTS = sorted(TOLERANCES.product_re_ppm)
_OTHERS = ["Fe", "Co", "B", "Ca", "O"]
# Amounts at and around the range bounds, so that totals land on the edges.
_EDGES = sorted(
    {b + d for r in TOLERANCES.product_re_ppm.values() for b in r for d in (-1, 0, 1)} - {PPM + 1}
)


def fits_literally(product: str, composition: dict[str, int]) -> bool:
    low, high = TOLERANCES.product_re_ppm[product]
    listed = sum(ppm for element, ppm in composition.items() if element in RARE_EARTHS)
    rest = max(0, PPM - sum(composition.values()))
    most = listed if composition.keys() >= RARE_EARTHS else listed + rest
    return listed <= high and most >= low


@st.composite
def lots(draw: st.DrawFn) -> tuple[str, dict[str, int]]:
    """A product and a composition whose rare-earth total is often on a range's edge, with
    some rare earths or all of them listed, and other elements besides."""
    product = draw(st.sampled_from(_PRODUCTS))
    total = draw(st.one_of(st.sampled_from(_EDGES), st.integers(0, PPM)))
    if draw(st.booleans()):
        rare_earths = sorted(RARE_EARTHS)  # every rare earth listed: no remainder
    else:
        rare_earths = draw(st.lists(st.sampled_from(sorted(RARE_EARTHS)), min_size=1, unique=True))
    composition = {}
    left = total
    for element in rare_earths[1:]:
        composition[element] = draw(st.integers(0, left))
        left -= composition[element]
    composition[rare_earths[0]] = left
    left = PPM - total
    for element in draw(st.lists(st.sampled_from(_OTHERS), unique=True)):
        composition[element] = draw(st.integers(0, left))
        left -= composition[element]
    return product, composition


@settings(max_examples=600, deadline=None)
@given(lots())
def test_range_flag_is_the_literal_rule(lot: tuple[str, dict[str, int]]) -> None:
    product, composition = lot
    flag = range_flag("L1", product, composition, TOLERANCES)
    assert (flag is None) == fits_literally(product, composition)
