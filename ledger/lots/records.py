"""The custody state records, the reader over them, and the Rejection that refuses an event.

The records are frozen msgspec Structs, as the events are (ledger/lots/events.py): a new
version of one is `msgspec.structs.replace(record, field=value)`. They are never decoded, so
their annotations are not enforced; `gc=False`, since a record holds only strings, numbers,
tuples, frozensets and dicts of those, never a cycle."""

from collections.abc import Sequence
from typing import Protocol

import msgspec

from ledger.errors import Kind, LedgerError

# Lot statuses; the last three are final.
ACTIVE = "active"
IN_TRANSIT = "in_transit"
DECLARED = "declared"
EXPORTED = "exported"
SEIZED = "seized"
CONSUMED = "consumed"

# Declaration statuses; released and seized are final.
PENDING = "pending"
HELD = "held"
RELEASED = "released"


class Record(msgspec.Struct, frozen=True, gc=False):
    """The base of the state records: frozen, compared and hashed by their fields in order."""


class LotState(Record, frozen=True):
    id: str
    product: str
    spec: str | None
    mass_g: int
    composition_ppm: dict[str, int]
    custodian: str
    status: str  # active | in_transit | declared | exported | seized | consumed
    head: str  # event_hash of the last event that touched the lot
    created_index: int
    updated_index: int
    pending_to: str | None  # the receiver while in_transit
    origins: tuple[str, ...]  # ids of the extracted lots it descends from, sorted, distinct
    # The deposit type its REE pattern comes from, while the pattern survives (before
    # separation, one deposit only); None once separated or mixed across deposits.
    deposit: str | None = None
    time: str = ""  # the `time` of the last event that touched the lot
    shipped_mass_g: int | None = None  # the mass the pending shipment declared
    # Per rare earth, the most and the least of it (mg) the ancestry back to the mines
    # supplied (ledger/lots/lineage.Budget; the store keeps it as text); None: not known.
    lineage: tuple[int, ...] | None = None
    created_time: str = ""  # the `time` of the event that created the lot


class ParticipantState(Record, frozen=True):
    id: str
    name: str
    country: str
    roles: frozenset[str]
    registered_index: int


class KeyState(Record, frozen=True):
    keyid: str
    participant: str
    public_key: bytes
    valid_from: int  # index of the registry entry that added the key
    revoked_at: int | None  # index of the registry entry that revoked it

    def valid_at(self, index: int) -> bool:
        """Tell whether the key may sign the entry at `index`: strictly after it was added,
        strictly before it was revoked."""
        return self.valid_from < index and (self.revoked_at is None or index < self.revoked_at)


class DeclarationState(Record, frozen=True):
    id: str
    exporter: str
    lots: tuple[str, ...]
    status: str  # pending | held | released | seized
    declared_index: int
    hs_code: str
    declared_mass_g: int
    destination: str
    licence: str | None = None  # the licence id the declaration names, if any
    # Grams of the licence's elements this declaration holds against it: counted from the
    # declaration while it is pending, held or released; 0 once seized (given back).
    licence_g: int = 0


class LicenceState(Record, frozen=True):
    """An export licence (DESIGN §9.1) and its running total."""

    id: str
    authority: str  # who issued it, the only one who may revoke it
    holder: str
    elements: tuple[str, ...]
    destination: tuple[str, ...] | None  # None: any destination
    hs_codes: tuple[str, ...] | None  # None: any HS code
    max_mass_g: int
    valid_from: str
    valid_until: str
    issued_index: int
    revoked_index: int | None
    # Grams of `elements` in the lots of the declarations naming it that are pending, held
    # or released (ledger/lots/licences.py): a seizure gives its grams back.
    used_g: int


class QuotaState(Record, frozen=True):
    """A mining quota (DESIGN §9.1) and the REO-equivalent grams extracted against it."""

    id: str
    authority: str
    holder: str
    year: int
    reo_mass_g: int
    deposit: str | None  # None: any deposit
    issued_index: int
    used_g: int


class Edge(Record, frozen=True):
    """`mass_g` of `parent` consumed by the transform at `index` that made `child`."""

    parent: str
    child: str
    mass_g: int
    index: int


class StateReader(Protocol):
    def lot(self, lot_id: str) -> LotState | None: ...
    def participant(self, participant_id: str) -> ParticipantState | None: ...
    def key(self, keyid: str) -> KeyState | None: ...
    def declaration(self, declaration_id: str) -> DeclarationState | None: ...
    def licence(self, licence_id: str) -> LicenceState | None: ...
    def quota(self, quota_id: str) -> QuotaState | None: ...

    def quotas(self, holder: str, year: int) -> tuple[QuotaState, ...]:
        """The quotas issued to `holder` for `year`, by issue index."""
        ...

    def open_quotas(self, holder: str, year: int) -> tuple[QuotaState, ...]:
        """Those of `quotas(holder, year)` with room left (used_g < reo_mass_g), by issue
        index: what an extraction within its quota reads (licences.quotas_for), so that its
        cost does not grow with the used-up quotas of the year."""
        ...

    def last_quota(self, holder: str, year: int, deposit: str | None) -> QuotaState | None:
        """The last issued (by issue index) of `quotas(holder, year)` whose deposit is
        `deposit` (None: the general ones), as it stands: the quota that takes an
        extraction's excess (licences.quotas_for)."""
        ...

    def event_index(self, event_id: str) -> int | None:
        """The index of the entry whose event used `event_id`, if any."""
        ...


class Effects(Record, frozen=True):
    """The new state an accepted event produces: full records, to insert or replace."""

    lots: tuple[LotState, ...] = ()
    participants: tuple[ParticipantState, ...] = ()
    keys: tuple[KeyState, ...] = ()
    declarations: tuple[DeclarationState, ...] = ()
    edges: tuple[Edge, ...] = ()
    licences: tuple[LicenceState, ...] = ()
    quotas: tuple[QuotaState, ...] = ()
    # Not state: a transform's outputs' shares of what its inputs supply (ledger/lots/lineage),
    # derived by the transition and judged by LINEAGE_IMBALANCE, which the caller hands it
    # (rules.check_event's `derived`) so that it is not derived twice; None: not derived.
    lineage_shares: tuple[Sequence[int], ...] | None = None


class Rejection(LedgerError):
    """The event is refused and nothing is written: a LedgerError whose `code` is a stable
    snake_case name and `detail` a sentence naming the field and value and saying what to do.
    `position` is set by batch ingest (and answered as a member of the problem)."""

    def __init__(
        self, kind: Kind, code: str, detail: str, *, field: str | None = None, value: object = None
    ) -> None:
        super().__init__(kind, code, detail, field=field, value=value)
        self.position: int | None = None
