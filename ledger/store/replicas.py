"""Where reads go: the database's read replicas, taken in turn, or else the primary."""

import itertools
from collections.abc import Sequence

from ledger.store.engine import Database


class ReadPool:
    """The databases that answer reads: the replicas at `urls` (PostgreSQL hot standbys fed
    by streaming replication) in turn, or the primary itself when there are none. Writes, the
    sequencer and checkpoint signing never come here: they stay on the primary."""

    def __init__(self, primary: Database, urls: Sequence[str]) -> None:
        self.primary = primary
        self.replicas = tuple(Database(url) for url in urls)
        self._turn = itertools.count()  # next() on a count is atomic under the GIL

    def in_turn(self) -> list[Database]:
        """Where the next read goes: the replicas, round robin, from the next in turn; then
        the primary, for when none of them answers."""
        count = len(self.replicas)
        first = next(self._turn) % count if count else 0
        return [*self.replicas[first:], *self.replicas[:first], self.primary]

    def dispose(self) -> None:
        for replica in self.replicas:
            replica.dispose()
