"""The node cache's store of hashes: a tree's levels, looked up by the node ids and paths of
merkle's plans (see ledger.store.node_cache)."""

from collections.abc import Sequence
from operator import getitem

from ledger.tlog.merkle import HASH_SIZE, NodeId

_CHUNK_BITS = 10  # a large level's hashes are kept in bytes objects of 1024 hashes (32 KiB)
_CHUNK_MASK = (1 << _CHUNK_BITS) - 1
_CHUNK_BYTES = HASH_SIZE << _CHUNK_BITS
# The levels of at most 2**_LISTED_BITS nodes (the top 14 of a tree) keep a bytes object per
# hash: about 2**15 hashes, ~80 bytes each instead of 32 (~1.5 MB more at most, whatever the
# size), and a lookup there is an index, not a slice (docs/performance.md, lever 33).
_LISTED_BITS = 14

Found = tuple[list[bytes | None], list[tuple[int, NodeId]]]
"""The hashes of some nodes in order (None: not held), and (position, node) of those None."""


def lowest_level(size: int, budget_bytes: int) -> int:
    """The lowest level from which every node of the tree of `size` fits in `budget_bytes`."""
    level, total = size.bit_length(), 0
    while level > 0:
        total += (size >> (level - 1)) * HASH_SIZE
        if total > budget_bytes:
            break
        level -= 1
    return level


class NodeLevels:
    """The hashes of nodes 0, 1, 2, ... of every level from `low` up: `count(level)` of each.

    A level below `split` has its hashes joined into bytes objects of 1,024 (32 KiB), so that
    a million hashes cost 32 MB and about a thousand objects, not a million; a lookup slices
    one out. The levels from `split` up, the top `_LISTED_BITS` of the tree, are small: they
    hold each hash as it was read, and a lookup only indexes.
    """

    def __init__(self) -> None:
        self.low = 0
        self.split = 0
        self._store: list[list[bytes]] = []  # per level: chunks below split, hashes above
        self._counts: list[int] = []  # per level: nodes 0 .. count - 1 are held
        self._listed: list[list[bytes]] = []  # self._store[split:]

    @property
    def top(self) -> int:
        """One above the highest level it has room for."""
        return len(self._counts)

    @property
    def nbytes(self) -> int:
        return sum(self._counts) * HASH_SIZE

    def count(self, level: int) -> int:
        return self._counts[level]

    def resize(self, levels: int, low: int) -> None:
        """Make room for `levels` levels, keep those from `low` up, and drop those below."""
        while len(self._counts) < levels:
            self._store.append([])
            self._counts.append(0)
        for level in range(low):
            self._store[level], self._counts[level] = [], 0
        split = max(low, levels - _LISTED_BITS)
        for level in range(max(low, min(split, self.split)), max(split, self.split)):
            data = b"".join(self._store[level])  # a level that passes split: the other form
            self._store[level] = _chunked(data) if level < split else _split(data, HASH_SIZE)
        self.low, self.split = low, split
        self._listed = self._store[split:]

    def append(self, level: int, hashes: list[bytes]) -> None:
        """Hold `hashes` as the next nodes of `level`."""
        if not hashes:
            return
        store = self._store[level]
        self._counts[level] += len(hashes)
        if level >= self.split:
            store += hashes
            return
        data = b"".join(hashes)
        if store and len(store[-1]) < _CHUNK_BYTES:
            room = _CHUNK_BYTES - len(store[-1])
            store[-1] += data[:room]
            data = data[room:]
        store += _chunked(data)

    def node(self, level: int, idx: int) -> bytes:
        """The hash of node (level, idx) (LookupError if not held): a merkle.NodeReader."""
        digest = self.lookup([(level, idx)])[0]
        if digest is None:
            raise LookupError(f"stored tree node {(level, idx)} is not held")
        return digest

    def lookup(self, nodes: Sequence[NodeId]) -> list[bytes | None]:
        """The hashes of `nodes` (None for one not held)."""
        counts, low, top = self._counts, self.low, len(self._counts)
        return [
            self._get(level, idx) if low <= level < top and idx < counts[level] else None
            for level, idx in nodes
        ]

    def path(self, indices: list[int]) -> Found:
        """`find` of the nodes (level, indices[level]) of levels 0, 1, ... (the lower part of a
        merkle.inclusion_path) when every node from `low` up is held (the caller knows: they
        are of a tree all of whose levels are held). The loop a warm proof spends its time in:
        no node ids to build or unpack, one level after the other (docs/performance.md)."""
        low, split, mask, bits, step = self.low, self.split, _CHUNK_MASK, _CHUNK_BITS, HASH_SIZE
        hashes: list[bytes | None] = []
        misses: list[tuple[int, NodeId]] = []
        if low:
            hashes = [None] * min(low, len(indices))
            misses = [(level, (level, indices[level])) for level in range(len(hashes))]
        if split > low:
            append = hashes.append
            for chunks, idx in zip(self._store[low:split], indices[low:split]):  # noqa: B905
                offset = (idx & mask) * step  # (zip's strict= costs ~0.3 us a call)
                append(chunks[idx >> bits][offset : offset + step])
        hashes += map(getitem, self._listed, indices[split:] if split else indices)
        return hashes, misses

    def find(self, nodes: Sequence[NodeId], start: int = 0) -> Found:
        """`lookup`, and (start + position, node) of the nodes not held."""
        hashes = self.lookup(nodes)
        return hashes, [(start + at, node) for at, node in enumerate(nodes) if hashes[at] is None]

    def _get(self, level: int, idx: int) -> bytes:
        if level >= self.split:
            return self._store[level][idx]
        offset = (idx & _CHUNK_MASK) * HASH_SIZE
        return self._store[level][idx >> _CHUNK_BITS][offset : offset + HASH_SIZE]


def _chunked(data: bytes) -> list[bytes]:
    return _split(data, _CHUNK_BYTES)


def _split(data: bytes, step: int) -> list[bytes]:
    return [data[at : at + step] for at in range(0, len(data), step)]
