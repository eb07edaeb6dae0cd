"""SQLModel tables: the log (entries, tree nodes, checkpoints) and the state derived from it."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, DateTime, Index, LargeBinary, String, Text, text
from sqlmodel import Field, SQLModel


def _big(*, primary_key: bool = False, index: bool = False, nullable: bool = False) -> Any:
    return Field(
        sa_column=Column(BigInteger(), primary_key=primary_key, index=index, nullable=nullable)
    )


def _json() -> Any:
    return Field(sa_column=Column(JSON(), nullable=False))


class LedgerMeta(SQLModel, table=True):
    """The log's identity, written once by `init`: origin, log verifier key, operator key."""

    __tablename__ = "ledger_meta"

    name: str = Field(sa_column=Column(String(64), primary_key=True))
    value: str = Field(sa_column=Column(Text(), nullable=False))


class LogHead(SQLModel, table=True):
    """One row: the current tree size and root. Its row lock is the sequencer."""

    __tablename__ = "log_head"

    id: int = Field(primary_key=True)
    size: int = _big()
    root: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))


class EntryRow(SQLModel, table=True):
    """One accepted envelope: leaf `idx` of the Merkle tree.

    No acceptance time is kept: the log signs none, so it would be a claim nobody can check.
    """

    __tablename__ = "entries"

    idx: int = _big(primary_key=True)
    envelope: bytes = Field(sa_column=Column(LargeBinary(), nullable=False))
    leaf_hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    event_hash: str = Field(sa_column=Column(String(64), nullable=False, index=True))
    event_id: str = Field(sa_column=Column(String(128), nullable=False, unique=True))
    type: str = Field(sa_column=Column(String(32), nullable=False))
    actor: str = Field(sa_column=Column(String(64), nullable=False, index=True))
    keyid: str = Field(sa_column=Column(String(96), nullable=False))


class TreeNodeRow(SQLModel, table=True):
    """The hash of a perfect subtree: leaves [idx << level, (idx + 1) << level)."""

    __tablename__ = "tree_nodes"

    level: int = Field(primary_key=True)
    idx: int = _big(primary_key=True)
    hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))


class CheckpointRow(SQLModel, table=True):
    """A signed checkpoint, one per committed batch."""

    __tablename__ = "checkpoints"

    size: int = _big(primary_key=True)
    root: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    note: str = Field(sa_column=Column(Text(), nullable=False))


class ParticipantRow(SQLModel, table=True):
    __tablename__ = "participants"

    id: str = Field(sa_column=Column(String(64), primary_key=True))
    name: str = Field(sa_column=Column(String(256), nullable=False))
    country: str = Field(sa_column=Column(String(2), nullable=False))
    roles: list[str] = _json()
    registered_index: int = _big()


class KeyRow(SQLModel, table=True):
    """A participant key and the log positions it is valid between."""

    __tablename__ = "participant_keys"

    keyid: str = Field(sa_column=Column(String(96), primary_key=True))
    participant: str = Field(sa_column=Column(String(64), nullable=False, index=True))
    public_key: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    valid_from: int = _big()
    revoked_at: int | None = _big(nullable=True)


class LotRow(SQLModel, table=True):
    __tablename__ = "lots"
    __table_args__ = (Index("ix_lots_custodian_status", "custodian", "status"),)

    id: str = Field(sa_column=Column(String(64), primary_key=True))
    product: str = Field(sa_column=Column(String(32), nullable=False))
    spec: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    mass_g: int = _big()
    composition_ppm: dict[str, int] = _json()
    custodian: str = Field(sa_column=Column(String(64), nullable=False))
    status: str = Field(sa_column=Column(String(16), nullable=False))
    head: str = Field(sa_column=Column(String(64), nullable=False))
    created_index: int = _big()
    updated_index: int = _big()
    pending_to: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    origins: list[str] = _json()
    deposit: str | None = Field(default=None, sa_column=Column(String(16), nullable=True))
    time: str = Field(sa_column=Column(String(32), nullable=False))
    shipped_mass_g: int | None = _big(nullable=True)
    # The lineage budget: canonical text of integers (ledger/lots/lineage.py); NULL: the
    # lineage is not known.
    lineage: str | None = Field(default=None, sa_column=Column(Text(), nullable=True))
    created_time: str = Field(sa_column=Column(String(32), nullable=False))


class LotEventRow(SQLModel, table=True):
    """Entry `idx` touched or created `lot`: a lot's history without scanning the log."""

    __tablename__ = "lot_events"

    lot: str = Field(sa_column=Column(String(64), primary_key=True))
    idx: int = _big(primary_key=True)


class FlagRow(SQLModel, table=True):
    """A finding recorded with the entry that raised it."""

    __tablename__ = "flags"
    __table_args__ = (Index("ix_flags_code_idx", "code", "idx"),)

    id: int | None = Field(default=None, primary_key=True)
    idx: int = _big(index=True)
    event_hash: str = Field(sa_column=Column(String(64), nullable=False))
    lot: str = Field(sa_column=Column(String(64), nullable=False, index=True))
    code: str = Field(sa_column=Column(String(32), nullable=False))
    severity: str = Field(sa_column=Column(String(8), nullable=False))
    message: str = Field(sa_column=Column(Text(), nullable=False))
    evidence: dict[str, Any] = _json()


class LotEdgeRow(SQLModel, table=True):
    """Mass of `parent` consumed by the transform that made `child`."""

    __tablename__ = "lot_edges"

    child: str = Field(sa_column=Column(String(64), primary_key=True))
    parent: str = Field(sa_column=Column(String(64), primary_key=True, index=True))
    mass_g: int = _big()
    idx: int = _big()


class DeclarationRow(SQLModel, table=True):
    __tablename__ = "declarations"

    id: str = Field(sa_column=Column(String(128), primary_key=True))
    exporter: str = Field(sa_column=Column(String(64), nullable=False))
    lots: list[str] = _json()
    status: str = Field(sa_column=Column(String(16), nullable=False))
    declared_index: int = _big()
    hs_code: str = Field(sa_column=Column(String(10), nullable=False))
    declared_mass_g: int = _big()
    destination: str = Field(sa_column=Column(String(2), nullable=False))
    # The licence it draws (one its exporter holds) and the grams it holds against it.
    licence: str | None = Field(default=None, sa_column=Column(String(128), nullable=True))
    licence_g: int = _big()


class LicenceRow(SQLModel, table=True):
    """An export licence (licence.issue) and its running total (ledger/lots/licences.py)."""

    __tablename__ = "licences"

    id: str = Field(sa_column=Column(String(128), primary_key=True))
    authority: str = Field(sa_column=Column(String(64), nullable=False))
    holder: str = Field(sa_column=Column(String(64), nullable=False))
    elements: list[str] = _json()
    destination: list[str] | None = Field(
        default=None, sa_column=Column(JSON(none_as_null=True), nullable=True)
    )
    hs_codes: list[str] | None = Field(
        default=None, sa_column=Column(JSON(none_as_null=True), nullable=True)
    )
    max_mass_g: int = _big()
    valid_from: str = Field(sa_column=Column(String(32), nullable=False))
    valid_until: str = Field(sa_column=Column(String(32), nullable=False))
    issued_index: int = _big()
    revoked_index: int | None = _big(nullable=True)
    used_g: int = _big()


class QuotaRow(SQLModel, table=True):
    """A mining quota (quota.issue) and the REO-equivalent grams extracted against it."""

    __tablename__ = "quotas"
    __table_args__ = (
        # The last quota of a (holder, year, deposit) (migration 0008): StateReader.last_quota
        # reads the end of a range; a (holder, year) is a range of it too.
        Index("ix_quotas_last", "holder", "year", "deposit", "issued_index"),
        # The quotas with room left (migration 0007): StateReader.open_quotas reads a range.
        Index(
            "ix_quotas_open",
            "holder",
            "year",
            "issued_index",
            sqlite_where=text("used_g < reo_mass_g"),
            postgresql_where=text("used_g < reo_mass_g"),
        ),
    )

    id: str = Field(sa_column=Column(String(128), primary_key=True))
    authority: str = Field(sa_column=Column(String(64), nullable=False))
    holder: str = Field(sa_column=Column(String(64), nullable=False))
    year: int = _big()
    reo_mass_g: int = _big()
    deposit: str | None = Field(default=None, sa_column=Column(String(16), nullable=True))
    issued_index: int = _big()
    used_g: int = _big()


class ReadTokenRow(SQLModel, table=True):
    """A read token, stored only as its SHA-256; `token_id` is the first 12 hex of that hash."""

    __tablename__ = "read_tokens"

    token_hash: str = Field(sa_column=Column(String(64), primary_key=True))
    token_id: str = Field(sa_column=Column(String(12), nullable=False, unique=True, index=True))
    participant: str = Field(sa_column=Column(String(64), nullable=False, index=True))
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    revoked_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    # The log's size when the token was issued: key revocations at or after it count.
    issued_size: int = _big()


class WitnessRow(SQLModel, table=True):
    """A witness the log submits its checkpoints to (DESIGN §9.3): configuration, not log."""

    __tablename__ = "witnesses"

    name: str = Field(sa_column=Column(String(255), primary_key=True))
    # Its cosignature/v1 verifier key (c2sp.org/tlog-cosignature), which names it.
    vkey: str = Field(sa_column=Column(String(512), nullable=False, unique=True))
    # Its submission prefix: checkpoints go to <url>/add-checkpoint.
    url: str = Field(sa_column=Column(Text(), nullable=False))


class WitnessQuorumRow(SQLModel, table=True):
    """One row: how many configured witnesses must cosign a checkpoint before it is served."""

    __tablename__ = "witness_quorum"

    id: int = Field(primary_key=True)
    quorum: int = _big()


class CosignatureRow(SQLModel, table=True):
    """A witness's cosignature of the checkpoint of `size`: the note signature line it sent,
    verified with `vkey` before it was stored."""

    __tablename__ = "cosignatures"

    size: int = _big(primary_key=True)
    vkey: str = Field(sa_column=Column(String(512), primary_key=True))
    line: str = Field(sa_column=Column(Text(), nullable=False))


class WitnessLeaseRow(SQLModel, table=True):
    """One row: which serving process submits checkpoints to the witnesses, and until when
    (milliseconds since the epoch); another takes over once it has expired."""

    __tablename__ = "witness_lease"

    id: int = Field(primary_key=True)
    holder: str = Field(sa_column=Column(String(64), nullable=False))
    expires_ms: int = _big()
