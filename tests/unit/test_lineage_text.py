"""A lineage budget's stored text: the store's only conversion (lineage.text, lineage.parse)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.lots import lineage

BUDGETS = st.lists(st.integers(0, 10**15), min_size=2 * lineage.N, max_size=2 * lineage.N).map(
    tuple
)


@given(BUDGETS)
def test_a_budget_reads_back_from_its_text(budget: tuple[int, ...]) -> None:
    stored = lineage.text(budget)
    assert lineage.parse(stored) == budget
    assert stored == ",".join(str(x) for x in budget)


@given(BUDGETS, st.data())
def test_only_a_budgets_own_text_reads_as_it(budget: tuple[int, ...], data: st.DataObject) -> None:
    """Text that int() would read as the same numbers but is not the canonical text is
    refused, so that a changed lots.lineage never reads as the budget the replay holds."""
    stored = lineage.text(budget)
    i = data.draw(st.integers(0, 2 * lineage.N - 1))
    numbers = stored.split(",")
    for variant in ("0" + numbers[i], "+" + numbers[i], " " + numbers[i], numbers[i] + " "):
        changed = ",".join([*numbers[:i], variant, *numbers[i + 1 :]])
        with pytest.raises(ValueError, match="not a lineage budget"):
            lineage.parse(changed)
    for changed in (stored + ",0", stored.rsplit(",", 1)[0], "Dy:1:0", ""):
        with pytest.raises(ValueError, match="not a lineage budget"):
            lineage.parse(changed)


def test_what_a_lot_is_made_with_is_a_tuple_the_store_writes_and_reads() -> None:
    budget = lineage.extracted(1_000, {"Nd": 100_000, "Ce": 300_000}, "bastnaesite")
    assert type(budget) is tuple and len(budget) == 2 * lineage.N
    assert lineage.parse(lineage.text(budget)) == budget
