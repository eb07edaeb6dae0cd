"""Byte compatibility with another implementation of the specs: tlog-scales (PyPI), written by
the operator of a public witness, verifies what `ree-ledger witness serve` answers, and signs a
log's checkpoints that the witness cosigns."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from tlog_scales.signing import PlainEd25519Signer, Vkey
from tlog_scales.tlog import Checkpoint as ScalesCheckpoint

from ledger.tlog.witness_protocol import AddCheckpoint, format_add_checkpoint
from tests.witness.harness import WitnessProcess, init_witness_home
from tests.witness.logs import Log

SCALES_ORIGIN = "scales.test/log"
SCALES_SEED = bytes([11]) * 32


@pytest.fixture
def log() -> Log:
    return Log.make(size=6)


@pytest.fixture
def scales_log() -> Log:
    """A log with the same leaves, whose checkpoints tlog-scales signs."""
    return Log.make(seed=11, origin=SCALES_ORIGIN, size=4)


@pytest.fixture
def served(tmp_path: Path, log: Log) -> Iterator[tuple[WitnessProcess, str]]:
    vkey = init_witness_home(tmp_path / "w", "witness.test/interop")
    scales_vkey = PlainEd25519Signer(SCALES_ORIGIN, SCALES_SEED).vkey.serialize()
    logs = [log.vkey, scales_vkey]
    with WitnessProcess(tmp_path / "w", logs, tmp_path / "witness.log") as process:
        yield process, vkey


def test_tlog_scales_derives_the_same_witness_key_id(served: tuple[WitnessProcess, str]) -> None:
    _process, vkey = served
    parsed = Vkey.from_string(vkey)
    assert parsed.sig_type == 0x04
    assert Vkey(parsed.name, None, parsed.sig_type, parsed.pubkey).key_id == parsed.key_id


def test_tlog_scales_verifies_the_cosigned_checkpoint(
    served: tuple[WitnessProcess, str], log: Log
) -> None:
    process, vkey = served
    answer = process.add_checkpoint(log.request(0))
    assert answer.status_code == 200, answer.text
    cosigned = ScalesCheckpoint.from_text(log.note() + answer.text)
    cosigned.verify(Vkey.from_string(vkey))  # raises if the cosignature does not verify
    cosigned.verify(Vkey.from_string(log.vkey))
    forged = ScalesCheckpoint.from_text(log.note().replace("\n6\n", "\n7\n") + answer.text)
    with pytest.raises(InvalidSignature):
        forged.verify(Vkey.from_string(vkey))


def test_the_witness_cosigns_checkpoints_tlog_scales_signed(
    served: tuple[WitnessProcess, str], scales_log: Log
) -> None:
    process, vkey = served
    signer = PlainEd25519Signer(SCALES_ORIGIN, SCALES_SEED)
    for old, size in ((0, 4), (4, 9)):
        scales_log.grow(size - len(scales_log.leaves))
        unsigned = ScalesCheckpoint(SCALES_ORIGIN, size, scales_log.root(), [])
        signed = ScalesCheckpoint(SCALES_ORIGIN, size, scales_log.root(), [signer.sign(unsigned)])
        body = AddCheckpoint(old, tuple(scales_log.proof(old)), signed.serialize())
        answer = process.add_checkpoint(format_add_checkpoint(body))
        assert answer.status_code == 200, answer.text
        ScalesCheckpoint.from_text(signed.serialize() + answer.text).verify(Vkey.from_string(vkey))
