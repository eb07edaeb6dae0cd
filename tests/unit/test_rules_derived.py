"""rules.check_event given the effects apply_event derived (as ingest and the audit do) finds
exactly what it finds deriving them again itself."""

from datetime import UTC, datetime

from ledger.demo import generate
from ledger.lots.events import parse_event
from ledger.lots.memory import MemoryState
from ledger.lots.rules import check_event
from ledger.lots.state import ParticipantState, Rejection, apply_event
from ledger.lots.tolerances import Tolerances
from ledger.tlog.encoding import canonical, sha256


def test_findings_from_derived_effects_equal_findings_derived_again() -> None:
    scenario = generate(14, chains=80, fraud_rate=0.5, start=datetime(2026, 1, 5, tzinfo=UTC))
    state, tolerances = MemoryState(), Tolerances()
    for index, p in enumerate(scenario.participants):
        state.participants[p.id] = ParticipantState(
            p.id, p.name, p.country, frozenset(p.roles), index
        )
    codes: set[str] = set()
    given = 0
    for index, step in enumerate(scenario.steps, start=len(scenario.participants)):
        payload = canonical(step.event)
        event = parse_event(payload)
        try:
            effects = apply_event(event, sha256(payload).hex(), index, state, None)
        except Rejection:
            continue
        found = check_event(event, state, tolerances, derived=effects)
        assert found == check_event(event, state, tolerances), event.id
        codes.update(flag.code for flag in found)
        given += effects.lineage_shares is not None
        state.apply(effects, event.id, index)
    assert given > 100, "transforms hand their lineage shares to the rules"
    assert "LINEAGE_IMBALANCE" in codes, "the scenario's frauds include lineage ones"
