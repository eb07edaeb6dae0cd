"""Custody state held in memory, optionally layered over another reader (a batch over the store)."""

from ledger.lots.records import (
    DeclarationState,
    Edge,
    Effects,
    KeyState,
    LicenceState,
    LotState,
    ParticipantState,
    QuotaState,
    StateReader,
)


class MemoryState(StateReader):
    """A StateReader over dicts; what it does not hold it asks `base`, if any.

    The auditor replays the whole log into one with no base; batch ingest layers one over
    the database so that later envelopes of a batch see the effects of earlier ones.
    """

    def __init__(self, base: StateReader | None = None) -> None:
        self.base = base
        self.lots: dict[str, LotState] = {}
        self.participants: dict[str, ParticipantState] = {}
        self.keys: dict[str, KeyState] = {}
        self.declarations: dict[str, DeclarationState] = {}
        self.licences: dict[str, LicenceState] = {}
        self.quota_records: dict[str, QuotaState] = {}
        # (holder, year, deposit or None) -> the last issued of this layer's quotas of that
        # holder, year and deposit, as it stands (last_quota), kept by apply
        self._last_of: dict[tuple[str, int, str | None], QuotaState] = {}
        # (holder, year) -> its open quotas (those with room left; open_quotas), id -> quota,
        # by issue index: made on the first ask, then kept in step by apply, as above. A quota
        # never reopens (its use only grows), so one leaves the list for good once used up.
        self._open_of: dict[tuple[str, int], dict[str, QuotaState]] = {}
        # (holder, year) -> the ids of this layer's quotas of that holder and year
        self._quota_ids: dict[tuple[str, int], set[str]] = {}
        self.event_indexes: dict[str, int] = {}
        self.edges: list[Edge] = []  # only the edges applied here, not those of `base`

    def lot(self, lot_id: str) -> LotState | None:
        found = self.lots.get(lot_id)
        if found is None and self.base is not None:
            return self.base.lot(lot_id)
        return found

    def participant(self, participant_id: str) -> ParticipantState | None:
        found = self.participants.get(participant_id)
        if found is None and self.base is not None:
            return self.base.participant(participant_id)
        return found

    def key(self, keyid: str) -> KeyState | None:
        found = self.keys.get(keyid)
        if found is None and self.base is not None:
            return self.base.key(keyid)
        return found

    def declaration(self, declaration_id: str) -> DeclarationState | None:
        found = self.declarations.get(declaration_id)
        if found is None and self.base is not None:
            return self.base.declaration(declaration_id)
        return found

    def licence(self, licence_id: str) -> LicenceState | None:
        found = self.licences.get(licence_id)
        if found is None and self.base is not None:
            return self.base.licence(licence_id)
        return found

    def quota(self, quota_id: str) -> QuotaState | None:
        found = self.quota_records.get(quota_id)
        if found is None and self.base is not None:
            return self.base.quota(quota_id)
        return found

    def quotas(self, holder: str, year: int) -> tuple[QuotaState, ...]:
        """The base's quotas of `holder` in `year`, each as this layer last changed it, and the
        ones issued in this layer; by issue index. No rule reads the full list (it grows with
        the year): the tests hold open_quotas and last_quota to it."""
        found = {q.id: q for q in self.base.quotas(holder, year)} if self.base is not None else {}
        records = self.quota_records
        found.update((qid, records[qid]) for qid in self._quota_ids.get((holder, year), ()))
        return tuple(sorted(found.values(), key=lambda quota: quota.issued_index))

    def open_quotas(self, holder: str, year: int) -> tuple[QuotaState, ...]:
        """Those of `quotas(holder, year)` with room left, by issue index, read without the
        used-up ones: the base's open ones, as this layer last changed them, and this layer's."""
        listed = self._open_of.get((holder, year))
        if listed is None:
            listed = self._merged_with_room(holder, year)
        return tuple(listed.values())

    def _merged_with_room(self, holder: str, year: int) -> dict[str, QuotaState]:
        base = self.base
        found = {q.id: q for q in base.open_quotas(holder, year)} if base is not None else {}
        records = self.quota_records
        # A base quota this layer changed replaces the base's (it may have been used up here).
        found.update((qid, records[qid]) for qid in self._quota_ids.get((holder, year), ()))
        listed = {
            quota.id: quota
            for quota in sorted(found.values(), key=lambda quota: quota.issued_index)
            if quota.used_g < quota.reo_mass_g
        }
        self._open_of[(holder, year)] = listed
        return listed

    def last_quota(self, holder: str, year: int, deposit: str | None) -> QuotaState | None:
        """The later by issue of this layer's last such quota and the base's: a base quota
        this layer changed is among this layer's, so the one given is as it stands."""
        mine = self._last_of.get((holder, year, deposit))
        theirs = self.base.last_quota(holder, year, deposit) if self.base is not None else None
        if theirs is None or (mine is not None and mine.issued_index >= theirs.issued_index):
            return mine
        return theirs

    def event_index(self, event_id: str) -> int | None:
        found = self.event_indexes.get(event_id)
        if found is None and self.base is not None:
            return self.base.event_index(event_id)
        return found

    def lot_count(self) -> int:
        """The lots held in this layer: all lots when there is no base (the auditor's replay)."""
        return len(self.lots)

    def apply(self, effects: Effects, event_id: str, index: int) -> None:
        """Record the effects of the accepted event `event_id` at entry `index`."""
        self.event_indexes[event_id] = index
        lots = self.lots
        for lot in effects.lots:
            lots[lot.id] = lot
        # Most events change lots only: the other kinds are skipped when empty.
        if effects.participants:
            self.participants.update((p.id, p) for p in effects.participants)
        if effects.keys:
            self.keys.update((key.keyid, key) for key in effects.keys)
        if effects.declarations:
            self.declarations.update((d.id, d) for d in effects.declarations)
        if effects.edges:
            self.edges.extend(effects.edges)
        if effects.licences:
            self.licences.update((lic.id, lic) for lic in effects.licences)
        if effects.quotas:
            for quota in effects.quotas:
                self.quota_records[quota.id] = quota
                self._quota_ids.setdefault((quota.holder, quota.year), set()).add(quota.id)
                self._keep_with_room(quota)
                key = (quota.holder, quota.year, quota.deposit)
                last = self._last_of.get(key)
                if last is None or quota.issued_index >= last.issued_index:
                    self._last_of[key] = quota

    def _keep_with_room(self, quota: QuotaState) -> None:
        """`quota` (new or changed) in or out of its holder's and year's open list, if made:
        a changed one keeps its place, a new one (issued at this entry) goes last."""
        listed = self._open_of.get((quota.holder, quota.year))
        if listed is None:
            return
        if quota.used_g < quota.reo_mass_g:
            listed[quota.id] = quota
        else:
            listed.pop(quota.id, None)
