"""c2sp.org/tlog-proof text (ledger/tlog/proof.py): format, strict parse, verification."""

import pytest

from ledger.tlog import merkle
from ledger.tlog.encoding import b64decode, canonical
from ledger.tlog.errors import EncodingError, VerificationError
from ledger.tlog.keys import generate_private_key, raw_public_key, verifier_key
from ledger.tlog.proof import (
    TlogProof,
    check_tlog_proof,
    format_tlog_proof,
    parse_tlog_proof,
    verify_tlog_proof,
)
from tests.unit.test_bundle import ORIGIN, honest_chain

# The example of c2sp.org/tlog-proof, signatures shortened as there: parsing does not open them.
SPEC_EXAMPLE = """c2sp.org/tlog-proof@v1
extra YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6kYXJ3aW4tYXJ
index 73894
gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=
B95lDa8R83lS8n0eG+o0buTxRKQTYFi//1U8anccXmA=
EKNzoDWG8LGC0Yp9o+sv3qllpMP9uHQ9B20KNL+Q1zs=
RoopEkOdqkYqMB4MJXrbt/hMjOxsVn0IrWjpz1ZMMes=
AHCioX9nLjsrse6YhjRRmk1WUEirVOLLRoOQ6vfO5vk=

example.com/fancylog
109482
sFodV/vSp5O8n9a8QpW6PRY97tfOSW5bsc2Xl/EQi08=

— example.com/fancylog hI2DJw[...]1roloI=
— witness1.example mJirIklj[...]qY9v2B/5bg==
"""


def test_the_spec_example_parses_and_formats_back() -> None:
    proof = parse_tlog_proof(SPEC_EXAMPLE)
    assert proof.index == 73894
    assert proof.extra == b64decode("YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6kYXJ3aW4tYXJ")
    assert len(proof.hashes) == 5 and all(len(value) == 32 for value in proof.hashes)
    assert proof.checkpoint.startswith("example.com/fancylog\n109482\n")
    assert format_tlog_proof(proof) == SPEC_EXAMPLE


def test_a_proof_from_the_log_round_trips_and_verifies() -> None:
    log, _ = honest_chain()
    bundle = log.bundle("OX-1", tlog=True)
    for entry in bundle["entries"]:
        text = entry["tlog_proof"]
        proof = parse_tlog_proof(text)
        assert format_tlog_proof(proof) == text
        assert text.startswith(f"c2sp.org/tlog-proof@v1\nindex {entry['index']}\n")
        assert text.endswith("\n\n" + bundle["checkpoint"])
        leaf = merkle.leaf_hash(canonical(entry["envelope"]))
        checkpoint = verify_tlog_proof(proof, leaf, log.vkey, origin=ORIGIN)
        assert checkpoint.size == len(bundle["entries"])
        check_tlog_proof(text, entry["index"], leaf, log.vkey)


def test_verification_fails_for_another_leaf_index_or_key() -> None:
    log, _ = honest_chain()
    entry = log.bundle("OX-1", tlog=True)["entries"][3]
    leaf = merkle.leaf_hash(canonical(entry["envelope"]))
    proof = parse_tlog_proof(entry["tlog_proof"])
    with pytest.raises(VerificationError, match="calculated root"):
        verify_tlog_proof(proof, bytes(32), log.vkey)
    with pytest.raises(VerificationError, match="for entry 3, not 4"):
        check_tlog_proof(entry["tlog_proof"], 4, leaf, log.vkey)
    other = verifier_key(ORIGIN, raw_public_key(generate_private_key()))
    with pytest.raises(VerificationError, match="no valid signature"):
        verify_tlog_proof(proof, leaf, other)


def test_a_proof_with_no_hashes_is_a_tree_of_one() -> None:
    proof = TlogProof(0, (), "origin\n1\nroot\n\n— origin sig\n")
    text = format_tlog_proof(proof)
    assert text == "c2sp.org/tlog-proof@v1\nindex 0\n\norigin\n1\nroot\n\n— origin sig\n"
    assert parse_tlog_proof(text) == proof


HASH = "gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ="


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("c2sp.org/tlog-proof@v2\nindex 1\n\nnote\n", "must start with"),
        ("index 1\n\nnote\n", "must start with"),
        ("c2sp.org/tlog-proof@v1\nindex 1\nnote\n", "no blank line"),
        ("c2sp.org/tlog-proof@v1\n\nnote\n", "needs an 'index N' line"),
        ("c2sp.org/tlog-proof@v1\nindex 01\n\nnote\n", "without leading zeros"),
        ("c2sp.org/tlog-proof@v1\nindex -1\n\nnote\n", "without leading zeros"),
        ("c2sp.org/tlog-proof@v1\nindex  1\n\nnote\n", "without leading zeros"),
        (f"c2sp.org/tlog-proof@v1\nindex {2**64}\n\nnote\n", "beyond a uint64"),
        ("c2sp.org/tlog-proof@v1\nindex 1\nnot base64!\n\nnote\n", "proof hash 0"),
        (f"c2sp.org/tlog-proof@v1\nindex 1\n{HASH}\nAAAA\n\nnote\n", "hash 1 is 3 bytes"),
        ("c2sp.org/tlog-proof@v1\nextra ===\nindex 1\n\nnote\n", "extra data"),
        ("c2sp.org/tlog-proof@v1\nindex 1\nextra AAAA\n\nnote\n", "proof hash 0"),
    ],
)
def test_malformed_proofs_are_refused(text: str, message: str) -> None:
    with pytest.raises(EncodingError, match=message):
        parse_tlog_proof(text)


def test_format_refuses_what_it_could_not_write() -> None:
    with pytest.raises(EncodingError, match="negative"):
        format_tlog_proof(TlogProof(-1, (), "note\n"))
    with pytest.raises(EncodingError, match="32 bytes"):
        format_tlog_proof(TlogProof(1, (bytes(31),), "note\n"))
