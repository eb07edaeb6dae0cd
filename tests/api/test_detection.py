"""The detection benchmark at a small size: every injected fraud caught, no clean lot flagged."""

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from bench.detect import REJECTED, run_scenario, score
from ledger.demo import generate, span
from ledger.home import Home
from ledger.lots.rules import FLAG_CODES


def test_every_injected_fraud_is_caught_and_clean_lots_stay_clean(
    client: TestClient, home: Home
) -> None:
    chains = 40
    start = datetime.now(UTC) - span(chains) - timedelta(days=1)
    scenario = generate(3, chains=chains, fraud_rate=0.4, start=start)
    outcome = run_scenario(client, home, scenario)
    result = score(scenario, outcome)
    injected = {row.code for row in result.rows if row.injected}
    assert injected == {*FLAG_CODES, REJECTED}, "every flag code and a refusal are exercised"
    missed = [row.code for row in result.rows if row.injected and row.caught < row.injected]
    assert missed == []
    assert result.false_positive_rate <= 0.01, result
    assert result.clean_lots > 200
