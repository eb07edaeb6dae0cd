"""The node cache's store of hashes: a tree's levels, each in bytes objects of 1,024 hashes,
looked up by the node ids of merkle's plans (see ledger.store.node_cache)."""

from collections.abc import Sequence

from ledger.tlog.merkle import HASH_SIZE, NodeId

_CHUNK_BITS = 10  # a level's hashes are kept in bytes objects of 1024 hashes (32 KiB)
_CHUNK_MASK = (1 << _CHUNK_BITS) - 1
_CHUNK_BYTES = HASH_SIZE << _CHUNK_BITS


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

    A level's hashes are joined into bytes objects of 1,024 (32 KiB), so that a million
    hashes cost 32 MB and about a thousand objects, not a million; a lookup slices one out.
    """

    def __init__(self) -> None:
        self.low = 0
        self._chunks: list[list[bytes]] = []  # per level
        self._counts: list[int] = []  # per level: nodes 0 .. count - 1 are held

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
            self._chunks.append([])
            self._counts.append(0)
        for level in range(low):
            self._chunks[level], self._counts[level] = [], 0
        self.low = low

    def append(self, level: int, hashes: list[bytes]) -> None:
        """Hold `hashes` as the next nodes of `level`."""
        if not hashes:
            return
        chunks = self._chunks[level]
        data = b"".join(hashes)
        if chunks and len(chunks[-1]) < _CHUNK_BYTES:
            room = _CHUNK_BYTES - len(chunks[-1])
            chunks[-1] += data[:room]
            data = data[room:]
        chunks.extend(data[at : at + _CHUNK_BYTES] for at in range(0, len(data), _CHUNK_BYTES))
        self._counts[level] += len(hashes)

    def node(self, level: int, idx: int) -> bytes:
        """The hash of node (level, idx) (LookupError if not held): a merkle.NodeReader."""
        digest = self.lookup([(level, idx)])[0]
        if digest is None:
            raise LookupError(f"stored tree node {(level, idx)} is not held")
        return digest

    def lookup(self, nodes: Sequence[NodeId]) -> list[bytes | None]:
        """The hashes of `nodes` (None for one not held)."""
        chunks, counts, low = self._chunks, self._counts, self.low
        top = len(counts)
        hashes: list[bytes | None] = []
        for level, idx in nodes:
            if low <= level < top and idx < counts[level]:
                offset = (idx & _CHUNK_MASK) * HASH_SIZE
                hashes.append(chunks[level][idx >> _CHUNK_BITS][offset : offset + HASH_SIZE])
            else:
                hashes.append(None)
        return hashes

    def held(self, nodes: list[NodeId]) -> tuple[list[bytes | None], list[tuple[int, NodeId]]]:
        """`lookup` when every node from `low` up is held (the caller knows: the nodes are of
        a tree all of whose levels are held), and (position, node) of those below `low`; a
        node of a negative level is left None and out of them. The byte lookups alone: the
        loop a warm proof spends its time in (docs/performance.md)."""
        chunks, low, mask, bits, step = self._chunks, self.low, _CHUNK_MASK, _CHUNK_BITS, HASH_SIZE
        hashes: list[bytes | None] = []
        misses: list[tuple[int, NodeId]] = []
        append = hashes.append
        for node in nodes:
            level, idx = node
            if level >= low:
                offset = (idx & mask) * step
                append(chunks[level][idx >> bits][offset : offset + step])
            else:
                if level >= 0:
                    misses.append((len(hashes), node))
                append(None)
        return hashes, misses
