"""The add-checkpoint request and the 409 body (ledger/tlog/witness_protocol)."""

from __future__ import annotations

import pytest

from ledger.tlog.errors import EncodingError
from ledger.tlog.note import Checkpoint, split_note
from ledger.tlog.witness_protocol import (
    AddCheckpoint,
    format_add_checkpoint,
    format_size_body,
    parse_add_checkpoint,
    parse_size_body,
)
from tests.witness.logs import Log

# The example request body of c2sp.org/tlog-witness.
SPEC_EXAMPLE = (
    "old 20852014\n"
    "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n"
    "jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=\n"
    "5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=\n"
    "/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=\n"
    "\n"
    "example.com/behind-the-sofa\n"
    "20852163\n"
    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    "\n"
    "— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcy"
    "v2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
    "— example.com/behind-the-sofa opLqBQsREYCgu6xQkYQwJr9fo45a62DN9EdmHXnZdXNqlcVGlCum2Wks+49/V62"
    "67UEjw6QUXTS5Rovnzv++qbSzm9Q=\n"
)


def test_spec_example_parses_and_formats_back() -> None:
    request = parse_add_checkpoint(SPEC_EXAMPLE.encode())
    assert request.old_size == 20852014
    assert len(request.proof) == 4 and all(len(h) == 32 for h in request.proof)
    text, signatures = split_note(request.note)
    assert Checkpoint.parse(text).size == 20852163
    assert [s.name for s in signatures] == ["example.com/behind-the-sofa"] * 2
    assert format_add_checkpoint(request).decode() == SPEC_EXAMPLE


def test_round_trip_of_a_log_request() -> None:
    log = Log.make(size=13)
    body = log.request(6)
    request = parse_add_checkpoint(body)
    assert request == AddCheckpoint(6, tuple(log.proof(6)), log.note())
    assert format_add_checkpoint(request) == body


def test_empty_proof_has_no_lines() -> None:
    note = Log.make(size=1).note()
    assert format_add_checkpoint(AddCheckpoint(0, (), note)) == b"old 0\n\n" + note.encode()


@pytest.mark.parametrize(
    "request_",
    [
        AddCheckpoint(-1, (), "n\n"),
        AddCheckpoint(2**64, (), "n\n"),
        AddCheckpoint(1, (bytes(31),), "n\n"),
        AddCheckpoint(1, (bytes(32),) * 64, "n\n"),
    ],
)
def test_format_refuses_what_no_witness_would_read(request_: AddCheckpoint) -> None:
    with pytest.raises(EncodingError):
        format_add_checkpoint(request_)


def test_size_body() -> None:
    assert format_size_body(42) == "42\n"
    assert parse_size_body("42\n") == 42
    assert parse_size_body("0\n") == 0
    for bad in ("42", "042\n", "-1\n", " 42\n", "42\n\n", "4 2\n", ""):
        with pytest.raises(EncodingError):
            parse_size_body(bad)
