"""The adversary at its smallest: each evasion strategy, in both its variants, is caught by a
code it expects (a medium or high flag on an event from the evasion on), and each honest case,
played in each of its variants, raises no medium or high flag. `make bench-detect` carries
the volume (docs/detection.md)."""

from datetime import UTC, datetime

import pytest

from ledger.demo.adversary import HONEST_CASES, STRATEGIES, Adversary, play
from ledger.demo.play import Play
from ledger.lots.events import parse_event
from ledger.lots.memory import MemoryState
from ledger.lots.rules import Flag, check_event
from ledger.lots.state import ParticipantState, Rejection, apply_event
from ledger.lots.tolerances import Tolerances
from ledger.tlog.encoding import canonical, sha256

START = datetime(2025, 3, 1, tzinfo=UTC)
SERIOUS = frozenset({"medium", "high"})


def replay(adversary: Adversary) -> dict[str, list[Flag]]:
    """Every step through the state machine and the rules: the flags by event id. A step the
    state machine refuses fails the test (no campaign is meant to be refused)."""
    state = MemoryState()
    for index, p in enumerate(adversary.scenario.participants):
        state.participants[p.id] = ParticipantState(
            p.id, p.name, p.country, frozenset(p.roles), index
        )
    index, flags = len(adversary.scenario.participants), {}
    for step in adversary.scenario.steps:
        payload = canonical(step.event)
        event = parse_event(payload)
        try:
            effects = apply_event(event, sha256(payload).hex(), index, state, None)
        except Rejection as exc:
            raise AssertionError(f"{step.event['id']} refused: {exc.detail}") from exc
        flags[step.event["id"]] = check_event(event, state, Tolerances())
        state.apply(effects, event.id, index)
        index += 1
    return flags


def serious(adversary: Adversary, flags: dict[str, list[Flag]]) -> list[tuple[str, Flag]]:
    return [
        (campaign.kind, flag)
        for campaign in adversary.campaigns
        for event_id in campaign.judged
        for flag in flags[event_id]
        if flag.severity in SERIOUS
    ]


def _strategies() -> list[object]:
    """The strategies; one the record cannot show (`unseen`) is a strict xfail: catching it
    one day fails the test, so that its entry in docs/detection.md is revisited."""
    return [
        pytest.param(kind, id=kind.name, marks=pytest.mark.xfail(strict=True, reason=kind.unseen))
        if kind.unseen
        else pytest.param(kind, id=kind.name)
        for kind in STRATEGIES
    ]


@pytest.mark.parametrize("kind", _strategies())
def test_each_evasion_is_caught_by_a_code_it_expects(kind: type[Play]) -> None:
    # Two instances: variant 0 and 1 of each strategy (quota_shift's second is caught by
    # ORIGIN_MISMATCH, shaved_receipts' weighs heavy, backdated_declaration's posts a lab
    # certificate first, ...).
    adversary = play(5, instances=2, start=START, kinds=(kind,))
    flags = replay(adversary)
    for campaign in adversary.campaigns:
        caught = {
            flag.code
            for event_id in campaign.judged
            for flag in flags[event_id]
            if flag.severity in SERIOUS
        }
        assert caught & set(campaign.expected), (campaign.note, caught)


@pytest.mark.parametrize("kind", HONEST_CASES, ids=lambda kind: kind.name)
def test_each_honest_edge_case_raises_no_medium_or_high_flag(kind: type[Play]) -> None:
    adversary = play(5, instances=2, start=START, kinds=(kind,))
    found = serious(adversary, replay(adversary))
    assert found == [], [(kind, flag.code, flag.message) for kind, flag in found]


def test_at_least_twelve_strategies_and_six_honest_cases_with_distinct_names() -> None:
    names = [kind.name for kind in STRATEGIES + HONEST_CASES]
    assert len(STRATEGIES) >= 12 and len(HONEST_CASES) >= 6
    assert len(set(names)) == len(names)
    assert all(not kind.honest and kind.expected for kind in STRATEGIES)
    assert all(kind.honest and not kind.expected for kind in HONEST_CASES)


def test_the_seed_decides_the_sizes_and_the_same_seed_gives_the_same_campaigns() -> None:
    kinds = tuple(STRATEGIES[:3])
    first = play(1, instances=2, start=START, kinds=kinds)
    assert play(1, instances=2, start=START, kinds=kinds) == first
    other = play(2, instances=2, start=START, kinds=kinds)
    assert [c.note for c in other.campaigns] != [c.note for c in first.campaigns]
    # Instances of one strategy differ from each other too.
    assert first.campaigns[0].note != first.campaigns[1].note


def test_play_refuses_bad_arguments() -> None:
    with pytest.raises(ValueError, match="instances"):
        play(1, instances=0, start=START)
    with pytest.raises(ValueError, match="timezone"):
        play(1, instances=1, start=datetime(2025, 1, 1))
