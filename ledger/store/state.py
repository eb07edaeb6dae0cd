"""The custody state in the database: rows read into the pure core's models."""

from collections.abc import Iterable
from typing import Any, TypeVar

from sqlalchemy import Select, select
from sqlmodel import Session, SQLModel, col

from ledger.lots.state import (
    DeclarationState,
    KeyState,
    LicenceState,
    LotState,
    ParticipantState,
    QuotaState,
    StateReader,
)
from ledger.store.bulk import IN_CHUNK, driver_rows, select_in_tuples, table
from ledger.store.rows import (
    CONVERTERS,
    QUOTA_FIELDS,
    declaration_from_row,
    key_from_row,
    licence_from_row,
    lot_from_row,
    participant_from_row,
    quota_from_row,
    quota_from_values,
)
from ledger.store.tables import (
    DeclarationRow,
    EntryRow,
    KeyRow,
    LicenceRow,
    LotRow,
    ParticipantRow,
    QuotaRow,
)

T = TypeVar("T")


_LAST_QUOTA = (
    f"SELECT {', '.join(QUOTA_FIELDS)} FROM {QuotaRow.__tablename__}"
    " WHERE holder = ? AND year = ? AND {same}"
    " ORDER BY holder DESC, year DESC, deposit DESC, issued_index DESC LIMIT 1"
)


def _open_quotas() -> Select[Any]:
    """The quotas with room left, by holder, year and issue index. Its WHERE is
    ix_quotas_open's, word for word, so that SQLite (which matches a partial index's condition
    by its terms) can read that index, and its ORDER BY is the index's: ordered by issue index
    alone, SQLite reads a holder IN (...) through another index and sorts."""
    quotas = table(QuotaRow)
    return (
        select(*(quotas.c[name] for name in QUOTA_FIELDS))
        .where(quotas.c.used_g < quotas.c.reo_mass_g)
        .order_by(quotas.c.holder, quotas.c.year, quotas.c.issued_index)
    )


class DbState(StateReader):
    """The StateReader over a session: every lookup is one primary-key read."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def lot(self, lot_id: str) -> LotState | None:
        row = self.session.get(LotRow, lot_id)
        return lot_from_row(row) if row else None

    def participant(self, participant_id: str) -> ParticipantState | None:
        row = self.session.get(ParticipantRow, participant_id)
        return participant_from_row(row) if row else None

    def key(self, keyid: str) -> KeyState | None:
        row = self.session.get(KeyRow, keyid)
        return key_from_row(row) if row else None

    def declaration(self, declaration_id: str) -> DeclarationState | None:
        row = self.session.get(DeclarationRow, declaration_id)
        return declaration_from_row(row) if row else None

    def licence(self, licence_id: str) -> LicenceState | None:
        row = self.session.get(LicenceRow, licence_id)
        return licence_from_row(row) if row else None

    def quota(self, quota_id: str) -> QuotaState | None:
        row = self.session.get(QuotaRow, quota_id)
        return quota_from_row(row) if row else None

    def quotas(self, holder: str, year: int) -> tuple[QuotaState, ...]:
        names = QUOTA_FIELDS
        rows = self.session.execute(
            select(*(table(QuotaRow).c[name] for name in names))
            .where(col(QuotaRow.holder) == holder, col(QuotaRow.year) == year)
            .order_by(col(QuotaRow.issued_index))
        ).all()
        return tuple(quota_from_values(tuple(values)) for values in rows)

    def open_quotas(self, holder: str, year: int) -> tuple[QuotaState, ...]:
        # A range of the partial index ix_quotas_open (migration 0007), not of all the quotas.
        rows = self.session.execute(
            _open_quotas().where(col(QuotaRow.holder) == holder, col(QuotaRow.year) == year)
        ).all()
        return tuple(quota_from_values(tuple(values)) for values in rows)

    def last_quota(self, holder: str, year: int, deposit: str | None) -> QuotaState | None:
        # One row at the end of a range of ix_quotas_last (migration 0008), ordered as the
        # index backwards: PostgreSQL does not take `deposit IS NULL` as fixing the column
        # for the order, and ordered by issue alone it sorts the whole range. Driver SQL: an
        # extraction beyond its open quotas reads it, and the statement built with the
        # expression language cost several times the query (driver_rows).
        same, params = (
            ("deposit IS NULL", (holder, year))
            if deposit is None
            else ("deposit = ?", (holder, year, deposit))
        )
        rows = driver_rows(self.session, _LAST_QUOTA.format(same=same), params)
        return quota_from_values(tuple(rows[0])) if rows else None

    def event_index(self, event_id: str) -> int | None:
        found = self.session.execute(
            select(col(EntryRow.idx)).where(col(EntryRow.event_id) == event_id)
        ).scalar_one_or_none()
        return int(found) if found is not None else None


class PrefetchedState(DbState):
    """A DbState for one write transaction: rows read in bulk up front, every answer cached.

    Only valid while the caller holds the sequencer lock and layers its own changes on top
    (MemoryState): then the stored state cannot change under it. Reads bypass the ORM (no
    autoflush, no identity map), so a batch costs a handful of queries, not several per entry.
    """

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self._lots: dict[str, LotState | None] = {}
        self._participants: dict[str, ParticipantState | None] = {}
        self._keys: dict[str, KeyState | None] = {}
        self._declarations: dict[str, DeclarationState | None] = {}
        self._licences: dict[str, LicenceState | None] = {}
        self._quotas: dict[str, QuotaState | None] = {}
        self._open_of: dict[tuple[str, int], tuple[QuotaState, ...]] = {}
        self._last_of: dict[tuple[str, int, str | None], QuotaState | None] = {}
        self._events: dict[str, int | None] = {}

    def prefetch(
        self,
        *,
        lots: Iterable[str] = (),
        participants: Iterable[str] = (),
        keys: Iterable[str] = (),
        declarations: Iterable[str] = (),
        licences: Iterable[str] = (),
        quotas: Iterable[str] = (),
        quotas_of: Iterable[tuple[str, int]] = (),
        event_ids: Iterable[str] = (),
    ) -> None:
        """Read the named rows in a few IN (...) queries; absent ones are remembered as absent.
        `quotas_of`: (holder, year) pairs whose open quotas to read (StateReader.open_quotas;
        the last quota of a pair, past its open ones, only when asked for)."""
        self._fetch_open_of(quotas_of)
        self._fetch(self._lots, LotRow, lots)
        self._fetch(self._participants, ParticipantRow, participants)
        self._fetch(self._keys, KeyRow, keys)
        self._fetch(self._declarations, DeclarationRow, declarations)
        self._fetch(self._licences, LicenceRow, licences)
        self._fetch(self._quotas, QuotaRow, quotas)
        wanted = sorted(set(event_ids) - self._events.keys())
        self._events.update(dict.fromkeys(wanted))
        entries = table(EntryRow)
        for event_id, idx in select_in_tuples(
            self.session, entries, "event_id", wanted, ["event_id", "idx"]
        ):
            self._events[str(event_id)] = int(idx)

    def _fetch_open_of(self, keys: Iterable[tuple[str, int]]) -> None:
        """The open quotas of each (holder, year) of `keys` not read yet, by issue index: one
        query per IN_CHUNK holders (of their quotas of the years asked, the pairs not asked are
        read and left)."""
        wanted = set(keys) - self._open_of.keys()
        if not wanted:
            return
        found: dict[tuple[str, int], list[QuotaState]] = {key: [] for key in wanted}
        holders = sorted({holder for holder, _ in wanted})
        years = sorted({year for _, year in wanted})
        columns = table(QuotaRow).c
        for start in range(0, len(holders), IN_CHUNK):
            chunk = holders[start : start + IN_CHUNK]
            query = _open_quotas().where(columns.holder.in_(chunk), columns.year.in_(years))
            for values in self.session.execute(query):
                quota = quota_from_values(tuple(values))
                listed = found.get((quota.holder, quota.year))
                if listed is not None:
                    listed.append(quota)
        for key, listed in found.items():
            self._open_of[key] = tuple(listed)

    def stored(self, model: type[SQLModel], ids: Iterable[str]) -> set[str]:
        """Which of `ids` have a row in `model`'s table (as the batch began)."""
        caches: dict[type[SQLModel], dict[str, Any]] = {
            LotRow: self._lots,
            ParticipantRow: self._participants,
            KeyRow: self._keys,
            DeclarationRow: self._declarations,
            LicenceRow: self._licences,
            QuotaRow: self._quotas,
        }
        cache = caches[model]
        wanted = list(ids)
        self._fetch(cache, model, wanted)
        return {item for item in wanted if cache[item] is not None}

    def _fetch(self, cache: dict[str, T | None], model: type[SQLModel], ids: Iterable[str]) -> None:
        """Read the rows of `ids` not cached yet into `cache` (None for an absent one)."""
        wanted = sorted(set(ids) - cache.keys())
        if not wanted:
            return
        cache.update(dict.fromkeys(wanted))
        names, convert = CONVERTERS[model]
        for values in select_in_tuples(self.session, table(model), names[0], wanted, names):
            cache[str(values[0])] = convert(values)

    def lot(self, lot_id: str) -> LotState | None:
        if lot_id not in self._lots:
            self.prefetch(lots=[lot_id])
        return self._lots[lot_id]

    def participant(self, participant_id: str) -> ParticipantState | None:
        if participant_id not in self._participants:
            self.prefetch(participants=[participant_id])
        return self._participants[participant_id]

    def key(self, keyid: str) -> KeyState | None:
        if keyid not in self._keys:
            self.prefetch(keys=[keyid])
        return self._keys[keyid]

    def declaration(self, declaration_id: str) -> DeclarationState | None:
        if declaration_id not in self._declarations:
            self.prefetch(declarations=[declaration_id])
        return self._declarations[declaration_id]

    def licence(self, licence_id: str) -> LicenceState | None:
        if licence_id not in self._licences:
            self._fetch(self._licences, LicenceRow, [licence_id])
        return self._licences[licence_id]

    def quota(self, quota_id: str) -> QuotaState | None:
        if quota_id not in self._quotas:
            self._fetch(self._quotas, QuotaRow, [quota_id])
        return self._quotas[quota_id]

    def open_quotas(self, holder: str, year: int) -> tuple[QuotaState, ...]:
        key = (holder, year)
        if key not in self._open_of:
            self._fetch_open_of([key])
        return self._open_of[key]

    def last_quota(self, holder: str, year: int, deposit: str | None) -> QuotaState | None:
        # Read once per batch, when an extraction goes beyond its open quotas.
        key = (holder, year, deposit)
        if key not in self._last_of:
            self._last_of[key] = super().last_quota(holder, year, deposit)
        return self._last_of[key]

    def event_index(self, event_id: str) -> int | None:
        if event_id not in self._events:
            self.prefetch(event_ids=[event_id])
        return self._events[event_id]
