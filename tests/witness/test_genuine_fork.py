"""A genuine fork of a real ledger, refused by a real witness: a copy of the log's home taken
between two batches, different events posted to each copy by `ree-ledger serve`, both branches'
checkpoints signed by the real log key. The witness cosigns the history it was shown first and
refuses the other branch, also after it is SIGKILLed and restarted."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx

from ledger.tlog.encoding import b64decode
from ledger.tlog.note import open_checkpoint
from ledger.tlog.witness_protocol import AddCheckpoint, format_add_checkpoint
from tests.reliability.harness import LedgerHome, Server, make_home
from tests.support import Party, extract, register
from tests.witness.harness import WitnessProcess, init_witness_home
from tests.witness.spec import cosignature_time


def _post(url: str, envelopes: list[dict[str, object]]) -> None:
    answer = httpx.post(f"{url}/v1/entries/batch", json={"envelopes": envelopes}, timeout=30)
    assert answer.status_code == 201, answer.text


def _checkpoint(url: str) -> str:
    answer = httpx.get(f"{url}/v1/checkpoint", params={"unwitnessed": 1}, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.text


def _request(url: str, old: int, note: str, vkey: str) -> bytes:
    """The add-checkpoint body for `note`, with the log's own consistency proof from `old`."""
    size = open_checkpoint(note, vkey).size
    proof: list[bytes] = []
    if 0 < old < size:
        answer = httpx.get(
            f"{url}/v1/proofs/consistency", params={"first": old, "second": size}, timeout=30
        )
        assert answer.status_code == 200, answer.text
        proof = [b64decode(h) for h in answer.json()["hashes"]]
    return format_add_checkpoint(AddCheckpoint(old, tuple(proof), note))


def test_a_witness_refuses_the_other_branch_of_a_real_fork(tmp_path: Path) -> None:
    home = make_home(tmp_path / "log", f"sqlite:///{tmp_path / 'log' / 'ledger.db'}")
    mine = Party("mine-fork")
    with Server(home, tmp_path / "log.out") as server:
        _post(server.url, [home.operator.envelope(register(home.operator, mine, ["mine"]))])
        _post(server.url, [mine.envelope(extract(mine, "LOT-COMMON"))])
        common = _checkpoint(server.url)
    # The copy: the same database and the same log key, taken between two batches.
    shutil.copytree(tmp_path / "log", tmp_path / "copy")
    copy = LedgerHome(
        tmp_path / "copy",
        f"sqlite:///{tmp_path / 'copy' / 'ledger.db'}",
        home.log_vkey,
        home.operator_key_b64,
    )
    vkey = init_witness_home(tmp_path / "w", "witness.test/fork")
    witness = WitnessProcess(tmp_path / "w", [home.log_vkey], tmp_path / "witness.out")
    original_server = Server(home, tmp_path / "log.out")
    copy_server = Server(copy, tmp_path / "copy.out")
    with original_server, copy_server, witness:

        def submit(url: str, old: int, note: str) -> httpx.Response:
            return witness.add_checkpoint(_request(url, old, note, home.log_vkey))

        _post(original_server.url, [mine.envelope(extract(mine, "LOT-SHOWN-TO-ROTTERDAM"))])
        _post(copy_server.url, [mine.envelope(extract(mine, "LOT-SHOWN-TO-BEIJING"))])
        ours, theirs = _checkpoint(original_server.url), _checkpoint(copy_server.url)
        base = open_checkpoint(common, home.log_vkey)
        mine_cp = open_checkpoint(ours, home.log_vkey)
        fork_cp = open_checkpoint(theirs, home.log_vkey)
        assert mine_cp.size == fork_cp.size and mine_cp.root != fork_cp.root  # a real fork

        assert submit(original_server.url, 0, common).status_code == 200
        shown = submit(original_server.url, base.size, ours)
        assert shown.status_code == 200, shown.text
        cosignature_time(ours.split("\n\n")[0] + "\n", shown.text, vkey)

        def refused() -> None:
            # The other branch at the size the witness holds: the same size, another root.
            body = format_add_checkpoint(AddCheckpoint(mine_cp.size, (), theirs))
            same_size = witness.add_checkpoint(body)
            assert same_size.status_code == 422, same_size.text
            # From the common checkpoint, with the copy's own (valid) proof: 409, it moved on.
            stale = submit(copy_server.url, base.size, theirs)
            assert stale.status_code == 409 and int(stale.text) == mine_cp.size

        refused()
        witness.kill()
        witness.start()
        refused()
        # The copy grows past the witness: its proof from the witness's size leads from the
        # copy's root, not the one the witness cosigned.
        _post(copy_server.url, [mine.envelope(extract(mine, "LOT-BEIJING-2"))])
        answer = submit(copy_server.url, mine_cp.size, _checkpoint(copy_server.url))
        assert answer.status_code == 422, answer.text
        # The branch the witness saw goes on.
        _post(original_server.url, [mine.envelope(extract(mine, "LOT-ROTTERDAM-2"))])
        answer = submit(original_server.url, mine_cp.size, _checkpoint(original_server.url))
        assert answer.status_code == 200, answer.text
