"""docs/witnesses.md's example is true: its request carries a checkpoint signed by its log key,
and its cosignature line verifies with its witness key over that checkpoint."""

from __future__ import annotations

import re
from pathlib import Path

from ledger.tlog.note import open_checkpoint
from ledger.tlog.witness_protocol import parse_add_checkpoint
from tests.witness.spec import cosignature_time

DOC = Path(__file__).resolve().parents[2] / "docs" / "witnesses.md"


def test_the_worked_example_verifies() -> None:
    text = DOC.read_text()
    blocks = re.findall(r"^```[a-z]*\n(.*?)^```$", text, flags=re.S | re.M)
    witness_vkey = next(b for b in blocks if b.startswith("witness.example/w1+")).strip()
    log_vkey = re.search(r"--log-key '([^']+)'", text)
    assert log_vkey is not None
    request = parse_add_checkpoint(next(b for b in blocks if b.startswith("old ")).encode())
    checkpoint = open_checkpoint(request.note, log_vkey.group(1))
    assert (request.old_size, checkpoint.size, len(request.proof)) == (5, 8, 4)
    line = next(b for b in blocks if b.startswith("— witness.example/w1 "))
    body = request.note.split("\n\n")[0] + "\n"
    assert cosignature_time(body, line, witness_vkey) > 0
