"""Whatever a log with two branches sends, in whatever order, with true or stale old sizes,
everything the witness cosigns is one history: each cosigned checkpoint extends the one before,
and the witness's state is the last of them (hypothesis, on its real SQLite state)."""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.tlog import keys
from ledger.tlog.witness_protocol import AddCheckpoint, format_add_checkpoint
from ledger.witness.service import Witness
from ledger.witness.store import WitnessStore, database_url, upgrade
from tests.witness.logs import ORIGIN, Log

SPLIT = 3  # the branches share their first SPLIT leaves
LONGEST = 12

# One step: which branch, which of its sizes, and which old size to claim (the witness's
# true size, or another one the client believes).
steps = st.lists(
    st.tuples(
        st.sampled_from("ab"), st.integers(0, LONGEST), st.integers(0, LONGEST), st.booleans()
    ),
    min_size=1,
    max_size=25,
)


def _branches() -> dict[str, Log]:
    trunk = Log.make(size=SPLIT)
    return {
        "a": trunk.fork().grow(LONGEST - SPLIT, tag="a"),
        "b": trunk.fork().grow(LONGEST - SPLIT, tag="b"),
    }


def _consistent(older: tuple[int, bytes], newer: tuple[int, bytes], log: Log) -> bool:
    """Is the tree (size, root) `older` a prefix of `newer`? Both must be trees of `log`'s
    leaves for a proof to exist; any other pair is not."""
    if older[0] > newer[0]:
        return False
    if older[0] == 0:
        return True
    return log.root(older[0]) == older[1] and log.root(newer[0]) == newer[1]


@settings(max_examples=60, deadline=None)
@given(steps)
def test_everything_cosigned_is_one_history(plan: list[tuple[str, int, int, bool]]) -> None:
    branches = _branches()
    with tempfile.TemporaryDirectory() as tmp:
        url = database_url(Path(tmp) / "w.db")
        upgrade(url)
        store = WitnessStore(url)
        key = Ed25519PrivateKey.from_private_bytes(bytes([5]) * 32)
        log_key = keys.parse_verifier_key(branches["a"].vkey)
        witness = Witness("w.test/p", key, [log_key], store)
        cosigned: list[tuple[int, bytes, str]] = []
        held = 0
        for name, delta, claimed, truthful in plan:
            log = branches[name]
            size = min(max(held + delta, 0), LONGEST)
            old = held if truthful else claimed
            proof = tuple(log.proof(old, size)) if 0 < old <= size else ()
            body = format_add_checkpoint(AddCheckpoint(old, proof, log.note(size)))
            answer = witness.add_checkpoint(body)
            assert answer.status in (200, 400, 409, 422), answer
            if answer.status == 200:
                cosigned.append((size, log.root(size), name))
                held = size
        # One history: sizes never go down and each cosigned tree is a prefix of the next,
        # on the branch of the later one (a tree of size <= SPLIT is on both).
        for (s1, r1, _b1), (s2, r2, b2) in itertools.pairwise(cosigned):
            assert _consistent((s1, r1), (s2, r2), branches[b2]), cosigned
        assert len({b for s, _r, b in cosigned if s > SPLIT}) <= 1, cosigned
        latest = store.latest(ORIGIN)
        if cosigned:
            assert latest is not None and (latest.size, latest.root) == cosigned[-1][:2]
        else:
            assert latest is None
        store.dispose()
