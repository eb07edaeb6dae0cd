"""The benchmark runs end to end at a tiny size and prints its one table (no timing asserted)."""

import pytest

from bench import run


def test_bench_prints_its_table_at_a_tiny_size(capsys: pytest.CaptureFixture[str]) -> None:
    tiny = ["--entries", "400", "--requests", "5", "--proofs", "200", "--jobs", "1"]
    # The streaming-replica row costs ~30 s even for 1 s of reads (a second durable server,
    # its standby, three API servers): run by `make bench`, skipped here.
    code = run.main([*tiny, "--witness-rounds", "1", "--replica-seconds", "0"])
    out = capsys.readouterr().out
    assert code == 0
    assert "| raw Ed25519 verify/s, one core (pyca/cryptography) |" in out
    figures = ("ingest entries/s", "PostgreSQL", "audit", "steps (1)–(4) alone", "provenance")
    for figure in (*figures, "two witnesses", "inclusion", "RSS"):
        assert figure in out, figure
    assert "streaming replica / primary | – |  | skipped" in out
    with capsys.disabled():
        print("\n" + out)
