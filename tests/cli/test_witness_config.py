"""`ree-ledger witness add|quorum|list|remove` on a log's home: one-line refusals, exit 2."""

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.tlog.cosignature import witness_vkey
from ledger.tlog.keys import raw_public_key
from tests.cli.conftest import Run


def _vkey(name: str) -> str:
    return witness_vkey(name, raw_public_key(Ed25519PrivateKey.generate()))


def test_add_set_quorum_list_and_remove(run: Run) -> None:
    run("init")
    a, b = _vkey("w.example/a"), _vkey("w.example/b")
    assert "quorum 0 of 1 witnesses" in run("witness", "add", "http://127.0.0.1:7001", a).stdout
    added = run("witness", "add", "http://127.0.0.1:7002", b, "--quorum", "2").stdout
    assert f"w.example/b  http://127.0.0.1:7002  {b}" in added
    assert "quorum 2 of 2 witnesses" in added
    listed = run("witness", "list").stdout
    assert "w.example/a  http://127.0.0.1:7001  has cosigned nothing yet" in listed
    assert f"w.example/b  http://127.0.0.1:7002  has cosigned nothing yet\n  {b}" in listed
    refused = run("witness", "remove", "w.example/a", expect=2)
    assert refused.output.startswith("ree-ledger: the quorum is 2: lower it first")
    run("witness", "quorum", "1")
    assert "quorum 1 of 1 witnesses" in run("witness", "remove", "w.example/a").stdout


def test_bad_witness_configuration_is_one_line_and_exit_2(run: Run) -> None:
    run("init")
    log_key = run("init").stdout.split("log key:")[1].split()[0]
    for args, reason in [
        (("add", "http://127.0.0.1:7001", log_key), "0x01"),
        (("add", "127.0.0.1:7001", _vkey("w.example/a")), "http:// or https://"),
        (("quorum", "1"), "quorum 1 is impossible with 0 witnesses"),
        (("remove", "w.example/z"), "no witness named 'w.example/z'"),
    ]:
        result = run("witness", *args, expect=2)
        assert result.output.count("\n") == 1 and reason in result.output, result.output
    assert "no witnesses" in run("witness", "list").stdout
