"""The fast Merkle code against a slow, literal RFC 9162 §2.1 reference, for every small size."""

import functools
import hashlib

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.tlog.errors import VerificationError
from ledger.tlog.merkle import (
    CompactRange,
    NodeId,
    consistency_proof,
    inclusion_from_hashes,
    inclusion_nodes,
    inclusion_path,
    inclusion_plan,
    inclusion_proof,
    range_inclusion_proofs,
    right_edge,
    root_at,
    root_nodes,
)
from ledger.tlog.merkle_verify import verify_consistency, verify_inclusion

MAX_SIZE = 256
ENTRIES = [b"entry %d" % i for i in range(2 * MAX_SIZE)]

# ---- RFC 9162 §2.1, written as the RFC writes it. D is a list of entries, here a range
# of indexes into ENTRIES so that D[k:n] reads as in the RFC and MTH can be memoised.


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _k(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


@functools.cache
def mth(d: range) -> bytes:
    """§2.1.1: MTH({}) = SHA-256(); MTH({d(0)}) = SHA-256(0x00 || d(0)); else split at k."""
    n = len(d)
    if n == 0:
        return _sha256(b"")
    if n == 1:
        return _sha256(b"\x00" + ENTRIES[d[0]])
    k = _k(n)
    return _sha256(b"\x01" + mth(d[0:k]) + mth(d[k:n]))


def path(m: int, d: range) -> list[bytes]:
    """§2.1.3.1: PATH(m, D[n])."""
    n = len(d)
    if n == 1:
        return []
    k = _k(n)
    if m < k:
        return [*path(m, d[0:k]), mth(d[k:n])]
    return [*path(m - k, d[k:n]), mth(d[0:k])]


def proof(m: int, d: range) -> list[bytes]:
    """§2.1.4.1: PROOF(m, D[n]) = SUBPROOF(m, D[n], true)."""
    return subproof(m, d, True)


def subproof(m: int, d: range, b: bool) -> list[bytes]:
    """§2.1.4.1: SUBPROOF(m, D[n], b)."""
    n = len(d)
    if m == n:
        return [] if b else [mth(d)]
    k = _k(n)
    if m <= k:
        return [*subproof(m, d[0:k], b), mth(d[k:n])]
    return [*subproof(m - k, d[k:n], False), mth(d[0:k])]


# ---- the fast code reads only stored perfect subtrees, as the store serves them.


def _store() -> dict[NodeId, bytes]:
    tree, nodes = CompactRange(), {}
    for i in range(MAX_SIZE):
        for level, index, node in tree.append(mth(range(i, i + 1))):
            nodes[(level, index)] = node
    return nodes


NODES = _store()


def _get(level: int, index: int) -> bytes:
    return NODES[(level, index)]


def _logged_get(read: list[NodeId], level: int, index: int) -> bytes:
    read.append((level, index))
    return _get(level, index)


def test_every_inclusion_proof_up_to_256_equals_rfc_path_and_verifies() -> None:
    for size in range(1, MAX_SIZE + 1):
        tree = range(size)
        root = mth(tree)
        assert root_at(size, _get) == root
        for index in range(size):
            got = inclusion_proof(index, size, _get)
            assert got == path(index, tree), (index, size)
            verify_inclusion(index, size, mth(range(index, index + 1)), got, root)


def test_every_inclusion_plan_up_to_256_reads_each_node_once_and_folds_to_the_rfc_path() -> None:
    for size in range(1, MAX_SIZE + 1):
        for index in range(size):
            nodes, edge, count = inclusion_plan(index, size)
            assert nodes == inclusion_nodes(index, size)
            assert len(set(nodes)) == len(nodes)
            assert all((idx + 1) << level <= size for level, idx in nodes)  # all stored
            got = inclusion_from_hashes([_get(*node) for node in nodes], edge, count)
            assert got == path(index, range(size)), (index, size)
            assert len(got) == len(nodes) - max(count - 1, 0)


def test_every_inclusion_path_up_to_256_is_the_plan_and_shares_its_upper_part() -> None:
    # The node cache reads the plan as (lower, upper, count) and memoises the hashes of
    # upper per (size, len(lower), count): upper must be the same for all those leaves.
    for size in range(1, MAX_SIZE + 1):
        uppers: dict[tuple[int, int], tuple[NodeId, ...]] = {}
        for index in range(size):
            lower, upper, count = inclusion_path(index, size)
            assert ([*enumerate(lower), *upper], len(lower), count) == inclusion_plan(index, size)
            assert uppers.setdefault((len(lower), count), upper) == upper, (index, size)
        assert len(uppers) <= size.bit_length() + 1


def test_range_inclusion_proofs_are_the_rfc_paths_from_the_right_edge_and_new_nodes() -> None:
    # Ingest proves the new leaves start..size-1 from the right edge of the tree of `start`
    # and the nodes the new leaves completed: nothing else may be read.
    for size in range(1, 101):
        for start in range(size):
            read: list[NodeId] = []
            proofs = range_inclusion_proofs(start, size, functools.partial(_logged_get, read))
            assert proofs == [path(index, range(size)) for index in range(start, size)]
            completed = {
                (level, idx)
                for level in range(size.bit_length())
                for idx in range(size >> level)
                if (idx + 1) << level > start
            }
            assert set(read) <= completed | set(root_nodes(start)), (start, size)


def test_right_edge_folds_to_the_last_subtree_of_every_level_up_to_256() -> None:
    for size in range(1, MAX_SIZE + 1):
        for level in range(size.bit_length() + 1):
            begin = ((size - 1) >> level) << level
            nodes = right_edge(level, size)
            assert all((idx + 1) << lv <= size for lv, idx in nodes)
            assert [lv for lv, _ in nodes] == sorted({lv for lv, _ in nodes}, reverse=True)
            hashes = [_get(*node) for node in nodes]
            assert inclusion_from_hashes(hashes, 0, len(hashes)) == [mth(range(begin, size))]


def test_every_consistency_proof_up_to_256_equals_rfc_proof_and_verifies() -> None:
    for second in range(1, MAX_SIZE + 1):
        tree = range(second)
        for first in range(1, second + 1):
            got = consistency_proof(first, second, _get)
            assert got == proof(first, tree), (first, second)
            verify_consistency(first, second, mth(range(first)), mth(tree), got)


# ---- every mutated proof fails.

sizes = st.integers(min_value=1, max_value=MAX_SIZE)


@st.composite
def inclusions(draw: st.DrawFn) -> tuple[int, int, list[bytes]]:
    size = draw(sizes)
    index = draw(st.integers(min_value=0, max_value=size - 1))
    return index, size, inclusion_proof(index, size, _get)


@st.composite
def consistencies(draw: st.DrawFn) -> tuple[int, int, list[bytes]]:
    second = draw(st.integers(min_value=2, max_value=MAX_SIZE))
    first = draw(st.integers(min_value=1, max_value=second - 1))
    return first, second, consistency_proof(first, second, _get)


def _flip(hashes: list[bytes], position: int, byte: int) -> list[bytes]:
    changed = bytearray(hashes[position])
    changed[byte] ^= 0x01
    return [*hashes[:position], bytes(changed), *hashes[position + 1 :]]


@st.composite
def mutations(draw: st.DrawFn, hashes: list[bytes]) -> list[bytes]:
    """Flip a byte, drop a hash or add a hash, anywhere in the proof."""
    kinds = ["add"] + (["flip", "drop"] if hashes else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "flip":
        position = draw(st.integers(0, len(hashes) - 1))
        return _flip(hashes, position, draw(st.integers(0, 31)))
    if kind == "drop":
        position = draw(st.integers(0, len(hashes) - 1))
        return hashes[:position] + hashes[position + 1 :]
    position = draw(st.integers(0, len(hashes)))
    extra = draw(st.sampled_from([*hashes, mth(range(0)), bytes(32)]))
    return [*hashes[:position], extra, *hashes[position:]]


@settings(max_examples=400, deadline=None)
@given(case=inclusions(), data=st.data())
def test_mutated_inclusion_proof_fails(
    case: tuple[int, int, list[bytes]], data: st.DataObject
) -> None:
    index, size, good = case
    bad = data.draw(mutations(good))
    try:
        verify_inclusion(index, size, mth(range(index, index + 1)), bad, mth(range(size)))
    except VerificationError:
        return
    raise AssertionError(f"mutated proof verified for leaf {index} of {size}")


@settings(max_examples=300, deadline=None)
@given(case=inclusions(), data=st.data())
def test_inclusion_proof_fails_for_wrong_index(
    case: tuple[int, int, list[bytes]], data: st.DataObject
) -> None:
    index, size, good = case
    wrong = data.draw(st.integers(min_value=-1, max_value=2 * size).filter(lambda i: i != index))
    leaf, root = mth(range(index, index + 1)), mth(range(size))
    try:
        verify_inclusion(wrong, size, leaf, good, root)
    except VerificationError:
        return
    raise AssertionError(f"proof for leaf {index} of {size} verified as leaf {wrong}")


@settings(max_examples=300, deadline=None)
@given(case=inclusions(), double=st.booleans())
def test_inclusion_proof_fails_for_wrong_size(
    case: tuple[int, int, list[bytes]], double: bool
) -> None:
    # A size that keeps the proof's shape (e.g. leaf 0 of 3 or of 4) can verify: the size is
    # bound by the signed checkpoint, not by the proof. Doubling or halving always changes it.
    index, size, good = case
    wrong = size * 2 if double else size // 2
    leaf, root = mth(range(index, index + 1)), mth(range(size))
    try:
        verify_inclusion(index, wrong, leaf, good, root)
    except VerificationError:
        return
    raise AssertionError(f"proof for leaf {index} of {size} verified at size {wrong}")


@settings(max_examples=400, deadline=None)
@given(case=consistencies(), data=st.data())
def test_mutated_consistency_proof_fails(
    case: tuple[int, int, list[bytes]], data: st.DataObject
) -> None:
    first, second, good = case
    bad = data.draw(mutations(good))
    try:
        verify_consistency(first, second, mth(range(first)), mth(range(second)), bad)
    except VerificationError:
        return
    raise AssertionError(f"mutated consistency proof {first} -> {second} verified")


@settings(max_examples=300, deadline=None)
@given(case=consistencies(), data=st.data())
def test_consistency_proof_fails_for_wrong_sizes(
    case: tuple[int, int, list[bytes]], data: st.DataObject
) -> None:
    first, second, good = case
    wrong = data.draw(
        st.sampled_from(
            [
                (first - 1, second),
                (first + 1, second),
                (first ^ 2, second),
                (first, second * 2),
                (first, second // 2),
            ]
        ).filter(lambda sizes: sizes != (first, second))
    )
    try:
        verify_consistency(*wrong, mth(range(first)), mth(range(second)), good)
    except VerificationError:
        return
    raise AssertionError(f"consistency proof {first} -> {second} verified as {wrong}")


@settings(max_examples=200, deadline=None)
@given(case=consistencies())
def test_consistency_proof_fails_for_swapped_or_wrong_roots(
    case: tuple[int, int, list[bytes]],
) -> None:
    first, second, good = case
    root1, root2 = mth(range(first)), mth(range(second))
    for r1, r2 in [(root2, root1), (mth(range(first + 1)), root2), (root1, mth(range(first)))]:
        try:
            verify_consistency(first, second, r1, r2, good)
        except VerificationError:
            continue
        raise AssertionError(f"consistency proof {first} -> {second} verified wrong roots")
