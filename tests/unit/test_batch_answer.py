"""The batch answer written directly is, byte for byte, what pydantic writes for its models."""

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.schemas import BatchAccepted
from api.views import accepted, accepted_batch_json
from ledger.lots.rules.flags import Flag
from ledger.service.ingest import Accepted
from ledger.tlog import merkle

# Evidence as the rules write it: JSON values, floats included.
_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)
_FLAGS = st.builds(
    Flag,
    code=st.sampled_from(["MIX_INCONSISTENT", "ORIGIN_MISMATCH", "MASS_GAP"]),
    severity=st.sampled_from(["low", "medium", "high"]),
    lot=st.text(min_size=1, max_size=20),
    message=st.text(max_size=60),
    evidence=st.dictionaries(st.text(max_size=8), _JSON, max_size=4),
)
# Checkpoint notes: the log's origin may be any text; the signature line has an em dash.
_NOTES = st.builds(
    lambda origin, size: f"{origin}\n{size}\nroot\n\n\u2014 {origin} c2lnbmF0dXJl\n",
    st.text(min_size=1, max_size=30),
    st.integers(0, 2**40),
)


def _model_answer(results: list[Accepted]) -> bytes:
    return (
        BatchAccepted(results=[accepted(result) for result in results]).model_dump_json().encode()
    )


def _batch(start: int, count: int, note: str, flags: dict[int, list[Flag]]) -> list[Accepted]:
    """`count` entries appended at `start`, with the proofs ingest gives a batch."""
    size = start + count
    nodes = {(0, n): merkle.leaf_hash(n.to_bytes(8, "big")) for n in range(size)}
    for level in range(1, size.bit_length()):
        for idx in range(size >> level):
            left, right = nodes[(level - 1, 2 * idx)], nodes[(level - 1, 2 * idx + 1)]
            nodes[(level, idx)] = merkle.node_hash(left, right)
    proofs = merkle.range_inclusion_proofs(start, size, lambda level, idx: nodes[(level, idx)])
    return [
        Accepted(
            index,
            hashlib.sha256(nodes[(0, index)]).hexdigest(),
            nodes[(0, index)],
            note,
            size,
            proofs[index - start],
            tuple(flags.get(index, [])),
        )
        for index in range(start, size)
    ]


@settings(max_examples=60, deadline=None)
@given(
    start=st.integers(0, 40),
    count=st.integers(1, 24),
    note=_NOTES,
    flags=st.dictionaries(st.integers(0, 63), st.lists(_FLAGS, min_size=1, max_size=2)),
)
def test_direct_answer_equals_pydantics(
    start: int, count: int, note: str, flags: dict[int, list[Flag]]
) -> None:
    results = _batch(start, count, note, flags)
    assert accepted_batch_json(results) == _model_answer(results)


def test_direct_answer_of_a_one_leaf_tree_has_an_empty_proof() -> None:
    [result] = _batch(0, 1, "origin\n1\nroot\n\n\u2014 origin sig\n", {})
    assert result.inclusion_proof == []
    assert b'"hashes":[]' in accepted_batch_json([result])
    assert accepted_batch_json([result]) == _model_answer([result])


@pytest.mark.parametrize("event_hash", ['ab"cd', "ab\\cd", "ab\ncd", "\u00e9", ""])
def test_direct_answer_refuses_an_event_hash_it_would_have_to_escape(event_hash: str) -> None:
    [result] = _batch(0, 1, "n", {})
    bad = Accepted(result.index, event_hash, result.leaf_hash, "n", 1, [], ())
    with pytest.raises(ValueError, match="is not hex"):
        accepted_batch_json([bad])
