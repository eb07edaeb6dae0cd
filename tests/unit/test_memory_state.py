"""MemoryState (ledger/lots/memory.py): a layer over a base reads as the two merged."""

from ledger.lots.licences import charge_quotas, covering
from ledger.lots.memory import MemoryState
from ledger.lots.records import Effects, QuotaState

MINE, YEAR = "bayan-mine", 2026


def quota(qid: str, index: int, reo: int = 100, deposit: str | None = None) -> QuotaState:
    return QuotaState(qid, "mofcom", MINE, YEAR, reo, deposit, index, 0)


def merged(base: MemoryState, layer: MemoryState) -> tuple[QuotaState, ...]:
    """What the layer's quotas of MINE and YEAR must read as, built the plain way: the base's,
    each as the layer last left it, and the layer's own, by issue index."""
    found = {**base.quota_records, **layer.quota_records}
    mine = [q for q in found.values() if (q.holder, q.year) == (MINE, YEAR)]
    return tuple(sorted(mine, key=lambda q: q.issued_index))


def test_a_layers_quotas_follow_its_charges_and_issues() -> None:
    base = MemoryState()
    issued = [
        quota("Q1", 1),
        quota("Q2", 2, deposit="bastnaesite"),
        quota("Q3", 3, 50),
        QuotaState("Q4", "mofcom", MINE, YEAR - 1, 100, None, 4, 0),
    ]
    for q in issued:
        base.apply(Effects(quotas=(q,)), f"issue-{q.id}", q.issued_index)
    layer = MemoryState(base)
    # Charged before the layer first reads the list (made from the base's then), then after;
    # a quota issued in the layer is listed last.
    first = charge_quotas(covering(base.quotas(MINE, YEAR), "monazite"), 70)
    layer.apply(Effects(quotas=first), "e10", 10)
    assert layer.quotas(MINE, YEAR) == merged(base, layer)
    layer.apply(Effects(quotas=(quota("Q5", 11),)), "issue-Q5", 11)
    for index, use in enumerate((90, 40, 300), start=12):
        listed = covering(layer.quotas(MINE, YEAR), "bastnaesite")
        layer.apply(Effects(quotas=charge_quotas(listed, use)), f"e{index}", index)
        assert layer.quotas(MINE, YEAR) == merged(base, layer)
    # Deposit-named first, then by issue; used-up quotas take nothing, the last the excess.
    assert [(q.id, q.used_g) for q in layer.quotas(MINE, YEAR)] == [
        ("Q1", 100),
        ("Q2", 100),
        ("Q3", 50),
        ("Q5", 250),
    ]
    assert [q.id for q in layer.quotas(MINE, YEAR - 1)] == ["Q4"]
    assert base.quotas(MINE, YEAR) == tuple(issued[:3])
