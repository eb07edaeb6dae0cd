"""The benchmark runs end to end at a tiny size and prints its one table (no timing asserted)."""

import pytest

from bench import run


def test_bench_prints_its_table_at_a_tiny_size(capsys: pytest.CaptureFixture[str]) -> None:
    code = run.main(["--entries", "400", "--requests", "5", "--proofs", "200", "--jobs", "1"])
    out = capsys.readouterr().out
    assert code == 0
    assert "| raw Ed25519 verify/s, one core (pyca/cryptography) |" in out
    for figure in ("ingest entries/s", "PostgreSQL", "audit", "provenance", "inclusion", "RSS"):
        assert figure in out, figure
    with capsys.disabled():
        print("\n" + out)
