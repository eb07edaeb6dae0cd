"""RFC 9162 Merkle tree: hashing, and proofs read from stored perfect subtrees.

Their verification is in `ledger.tlog.merkle_verify`."""

import functools
import hashlib
from collections.abc import Callable, Sequence

from ledger.tlog.encoding import sha256

LEAF_HASH_PREFIX = 0
NODE_HASH_PREFIX = 1
HASH_SIZE = 32
EMPTY_ROOT = sha256(b"")

NodeId = tuple[int, int]
"""(level, index): the perfect subtree over leaves [index << level, (index + 1) << level)."""
NodeReader = Callable[[int, int], bytes]
"""Returns the stored hash of the perfect subtree (level, index)."""
InclusionPlan = tuple[list[NodeId], int, int]
"""(nodes, edge, count): the stored nodes an inclusion proof reads, bottom-up, and where the
right edge of the tree sits among them: nodes[edge : edge + count] fold into one proof hash."""
InclusionPath = tuple[list[int], tuple[NodeId, ...], int]
"""(lower, upper, count): an `InclusionPlan` in two parts, nodes == [*enumerate(lower),
*upper] and edge == len(lower). lower[level] is the index of the leaf's sibling at each level
below the tree's right edge; upper, the right edge's `count` nodes then the left siblings
above. upper is the same for every leaf of the tree whose path has the same len(lower) and
count: one tuple, shared by the proofs of many leaves."""

_sha256 = hashlib.sha256
_NODE_PREFIX = bytes([NODE_HASH_PREFIX])


def leaf_hash(data: bytes) -> bytes:
    """Return the RFC 9162 hash of a leaf: SHA-256(0x00 || data)."""
    return sha256(bytes([LEAF_HASH_PREFIX]) + data)


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the RFC 9162 hash of an interior node: SHA-256(0x01 || left || right)."""
    return _sha256(_NODE_PREFIX + left + right).digest()


def root_from_leaves(leaf_hashes: Sequence[bytes]) -> bytes:
    """Return MTH over `leaf_hashes` by the RFC 9162 §2.1.1 recursion (reads every leaf)."""
    size = len(leaf_hashes)
    if size == 0:
        return EMPTY_ROOT
    if size == 1:
        return leaf_hashes[0]
    split = 1 << ((size - 1).bit_length() - 1)  # the largest power of two below size
    return node_hash(root_from_leaves(leaf_hashes[:split]), root_from_leaves(leaf_hashes[split:]))


def root_nodes(size: int) -> list[NodeId]:
    """Return the perfect subtrees, largest first, whose fold is the root of a tree of `size`."""
    if size < 0:
        raise ValueError(f"tree size must not be negative, got {size}")
    return _range_nodes(0, size)


def root_at(size: int, get_node: NodeReader) -> bytes:
    """Return the root of the tree of `size` leaves from its O(log n) stored subtrees."""
    nodes = root_nodes(size)
    return _fold([get_node(*node) for node in nodes]) if nodes else EMPTY_ROOT


def inclusion_nodes(index: int, size: int) -> list[NodeId]:
    """Return every stored node that `inclusion_proof(index, size, ...)` reads, in its order."""
    return inclusion_plan(index, size)[0]


def inclusion_proof(index: int, size: int, get_node: NodeReader) -> list[bytes]:
    """Return the RFC 9162 §2.1.3 inclusion proof of leaf `index` in the tree of `size`."""
    nodes, edge, count = inclusion_plan(index, size)
    return inclusion_from_hashes([get_node(level, idx) for level, idx in nodes], edge, count)


def inclusion_plan(index: int, size: int) -> InclusionPlan:
    """Return the stored nodes of the inclusion proof of leaf `index` in `size`, bottom-up."""
    lower, upper, count = inclusion_path(index, size)
    return [*enumerate(lower), *upper], len(lower), count


def inclusion_path(index: int, size: int) -> InclusionPath:
    """Return the inclusion plan of leaf `index` in `size` as (lower, upper, count).

    The leaf's path parts from the last leaf's at level `inner`, the bit length of
    index ^ (size - 1) (as `merkle_verify` splits a proof):
    - below `inner - 1` every sibling is a perfect subtree: node (level, lower[level]);
    - at `inner - 1` the sibling is on the right and is the last subtree of its level,
      `right_edge(inner - 1, size)`: one node, or several that fold into one proof hash;
    - from `inner` up the leaf's subtree is the last of its level, so a sibling exists only
      on the left (a one bit of the index, which there equals size - 1), and is perfect.
    The two last depend on (inner, size) alone and are memoised. Plain integer arithmetic
    and one list of integers a leaf: proofs are made often (docs/performance.md).
    """
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is outside a tree of size {size}")
    inner = (index ^ (size - 1)).bit_length()
    upper, count = _upper_path(inner, size)
    lower: list[int] = []
    append = lower.append
    for level in range(inner - 1):
        append((index >> level) ^ 1)
    return lower, upper, count


@functools.lru_cache(maxsize=1024)
def _upper_path(inner: int, size: int) -> tuple[tuple[NodeId, ...], int]:
    """The nodes of `inclusion_path` from level `inner - 1` up, and how many are the edge's."""
    nodes = right_edge(inner - 1, size) if inner else []
    count = len(nodes)
    level, high = inner, (size - 1) >> inner
    while high:
        if high & 1:
            nodes.append((level, high ^ 1))
        level, high = level + 1, high >> 1
    return tuple(nodes), count


def right_edge(level: int, size: int) -> list[NodeId]:
    """Return the stored nodes that fold into the last node of `level` in the tree of `size`.

    That node, (level, (size - 1) >> level), covers leaves [begin, size) with begin aligned
    to 2**level: one stored node when it is perfect, else the aligned perfect subtrees of
    the one bits of size - begin, largest first (RFC 9162's MTH of D[begin:size]).
    """
    return _range_nodes(((size - 1) >> level) << level, size)


def range_inclusion_proofs(start: int, size: int, get_node: NodeReader) -> list[list[bytes]]:
    """Return the inclusion proofs of leaves start..size-1 in the tree of `size`, at once.

    RFC 9162 §2.1.3's PATH, walked once for all of them: each sibling subtree's hash is read
    (or folded, on the right edge) once and appended to the proof of every leaf under its
    other half, the deepest first. Neighbouring leaves share most of their proofs; a batch of
    new entries costs a few appends per entry instead of a plan per entry.
    """
    if not 0 <= start < size:
        raise ValueError(f"leaf range [{start}, {size}) is empty or outside the tree")
    proofs: list[list[bytes]] = [[] for _ in range(size - start)]
    folded: dict[tuple[int, int], bytes] = {}

    def subtree(lo: int, hi: int) -> bytes:
        """MTH(D[lo:hi]) for lo aligned to the largest power of two below hi - lo."""
        count = hi - lo
        if count & (count - 1) == 0:
            level = count.bit_length() - 1
            return get_node(level, lo >> level)
        found = folded.get((lo, hi))
        if found is None:
            split = lo + (1 << ((count - 1).bit_length() - 1))
            found = folded[(lo, hi)] = node_hash(subtree(lo, split), subtree(split, hi))
        return found

    def walk(lo: int, hi: int) -> None:
        """Extend the proofs of the range's leaves in D[lo:hi] (hi > start) up to its root."""
        if hi - lo == 1:
            return
        split = lo + (1 << ((hi - lo - 1).bit_length() - 1))
        if split > start:
            walk(lo, split)
            sibling = subtree(split, hi)
            for proof in proofs[max(lo, start) - start : split - start]:
                proof.append(sibling)
        walk(split, hi)
        sibling = subtree(lo, split)
        for proof in proofs[max(split, start) - start : hi - start]:
            proof.append(sibling)

    walk(0, size)
    return proofs


def inclusion_from_hashes(hashes: list[bytes], edge: int, count: int) -> list[bytes]:
    """Return the inclusion proof from the hashes of an `inclusion_plan`'s nodes, in order."""
    if count < 2:
        return hashes
    node = hashes[edge + count - 1]
    for position in range(edge + count - 2, edge - 1, -1):
        node = _sha256(_NODE_PREFIX + hashes[position] + node).digest()
    return [*hashes[:edge], node, *hashes[edge + count :]]


def consistency_nodes(first: int, second: int) -> list[NodeId]:
    """Return every stored node that `consistency_proof(first, second, ...)` reads."""
    return [node for group in _consistency_groups(first, second) for node in group]


def consistency_proof(first: int, second: int, get_node: NodeReader) -> list[bytes]:
    """Return the RFC 9162 §2.1.4 proof that the tree of `first` is a prefix of `second`.

    Requires 0 < first <= second; for first == second the proof is empty (SUBPROOF(m, D[m],
    true) = {}). A proof from the empty tree is refused: it would prove nothing, and
    verify_consistency rejects size1 == 0 as transparency-dev/merkle does.
    """
    return [_fold([get_node(*n) for n in group]) for group in _consistency_groups(first, second)]


class CompactRange:
    """The right edge of a growing tree: the O(log n) perfect subtrees that fold to its root."""

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        """Start from `hashes`, the hashes of root_nodes(size) in order (empty tree by default)."""
        if len(hashes) != len(root_nodes(size)):
            raise ValueError(f"a tree of size {size} needs {size.bit_count()} subtree hashes")
        self._size = size
        self._hashes = list(hashes)

    @classmethod
    def from_nodes(cls, size: int, get_node: NodeReader) -> "CompactRange":
        """Load the right edge of the tree of `size` from its stored subtrees."""
        return cls(size, [get_node(*node) for node in root_nodes(size)])

    @property
    def size(self) -> int:
        """The number of leaves appended so far."""
        return self._size

    def append(self, leaf_hash: bytes) -> list[tuple[int, int, bytes]]:
        """Append a leaf; return (level, index, hash) of every subtree it completes, leaf first."""
        if len(leaf_hash) != HASH_SIZE:
            raise ValueError(f"leaf hash must be {HASH_SIZE} bytes, got {len(leaf_hash)}")
        level, index, node = 0, self._size, leaf_hash
        completed = [(level, index, node)]
        # Each trailing one bit of the old size is a left sibling this leaf now completes.
        while index & 1:
            node = node_hash(self._hashes.pop(), node)
            level, index = level + 1, index >> 1
            completed.append((level, index, node))
        self._hashes.append(node)
        self._size += 1
        return completed

    def root(self) -> bytes:
        """Return the root of the tree covered so far."""
        return _fold(self._hashes) if self._hashes else EMPTY_ROOT


def _range_nodes(begin: int, end: int) -> list[NodeId]:
    """Split leaves [begin, end) into maximal aligned perfect subtrees, left to right."""
    nodes: list[NodeId] = []
    while begin < end:
        level = (end - begin).bit_length() - 1
        if begin:
            level = min(level, trailing_zeros(begin))
        nodes.append((level, begin >> level))
        begin += 1 << level
    return nodes


def _path_groups(level: int, index: int, size: int) -> list[list[NodeId]]:
    """Return, bottom-up, the siblings on the path from node (level, index) to the root.

    Each sibling is given as the stored subtrees whose fold is its hash: one node when the
    sibling is perfect, several when it is the right edge of the tree (RFC 9162's MTH of
    D[k:n]). A sibling wholly beyond `size` does not exist: the node is promoted.
    """
    groups: list[list[NodeId]] = []
    while index > 0 or (1 << level) < size:
        sibling = index ^ 1
        begin = sibling << level
        if begin + (1 << level) <= size:
            groups.append([(level, sibling)])  # a perfect subtree: one stored node
        elif begin < size:
            groups.append(_range_nodes(begin, size))
        level, index = level + 1, index >> 1
    return groups


def _consistency_groups(first: int, second: int) -> list[list[NodeId]]:
    if not 0 < first <= second:
        raise ValueError(f"consistency proof needs 0 < first <= second, got {first}, {second}")
    if first == second:
        return []
    # The largest perfect subtree ending at `first`, and its inclusion path in `second`.
    level = trailing_zeros(first)
    index = (first - 1) >> level
    groups = _path_groups(level, index, second)
    if index == 0:  # first is a power of two: that subtree is root1, which the verifier has
        return groups
    return [[(level, index)], *groups]


def _fold(hashes: Sequence[bytes]) -> bytes:
    """Hash subtrees that lie side by side, largest first, into the root of their range."""
    node = hashes[-1]
    for left in reversed(hashes[:-1]):
        node = node_hash(left, node)
    return node


def trailing_zeros(value: int) -> int:
    """The number of zero bits below the lowest one bit of `value` (> 0)."""
    return (value & -value).bit_length() - 1
