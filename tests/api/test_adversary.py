"""The adversary through the HTTP API, as `make bench-detect` runs it, at its smallest: the
lots the evasions pass off read `flagged` (the verdict from the whole history), and the
honest edge cases' lots read `ok`."""

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from bench import adversary as adversary_score
from bench.detect import run_scenario
from ledger.demo.adversary import HONEST_CASES, adversary_span, play
from ledger.demo.edge_cases import BlendTwoDeposits, LateCertificate
from ledger.demo.evasion_border import Transship
from ledger.demo.evasion_lineage import RatchetDown, SmallLots
from ledger.home import Home

KINDS = (SmallLots, RatchetDown, Transship, LateCertificate, BlendTwoDeposits)


def test_evasions_are_flagged_and_honest_edge_cases_read_ok(client: TestClient, home: Home) -> None:
    start = datetime.now(UTC) - adversary_span(len(KINDS)) - timedelta(days=1)
    adversary = play(4, instances=1, start=start, kinds=KINDS)
    outcome = run_scenario(client, home, adversary.scenario)
    verdicts = adversary_score.verdicts(client, adversary)
    scores = adversary_score.score(adversary, outcome.flags, outcome.refused, verdicts)
    for row in scores:
        if row.honest:
            assert (row.hits, row.flagged_verdicts) == (0, 0), row
        else:
            assert (row.hits, row.flagged_verdicts) == (1, 1), row
            assert set(row.codes) & set(row.expected), row
    assert {row.kind for row in scores if row.honest} <= {kind.name for kind in HONEST_CASES}
