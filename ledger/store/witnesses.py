"""The log's witnesses in the database: their configuration, the quorum, their cosignatures,
and the lease that lets one serving process per database submit checkpoints to them."""

from collections.abc import Collection, Sequence

from sqlalchemy import bindparam, delete, func, select, update
from sqlmodel import Session, col

from ledger.store.tables import (
    CheckpointRow,
    CosignatureRow,
    WitnessLeaseRow,
    WitnessQuorumRow,
    WitnessRow,
)

QUORUM_ROW_ID = 1
LEASE_ROW_ID = 1


def witnesses(session: Session) -> list[WitnessRow]:
    """The configured witnesses, by name."""
    return list(session.execute(select(WitnessRow).order_by(col(WitnessRow.name))).scalars())


def add_witness(session: Session, name: str, vkey: str, url: str) -> None:
    session.add(WitnessRow(name=name, vkey=vkey, url=url))


def set_witness_url(session: Session, name: str, url: str) -> None:
    session.execute(update(WitnessRow).where(col(WitnessRow.name) == name).values(url=url))


def remove_witness(session: Session, name: str) -> bool:
    """Forget witness `name` (its stored cosignatures stay, verifiable); False if unknown."""
    result = session.execute(delete(WitnessRow).where(col(WitnessRow.name) == name))
    return bool(getattr(result, "rowcount", 0))


def quorum(session: Session) -> int:
    row = session.get(WitnessQuorumRow, QUORUM_ROW_ID)
    return 0 if row is None else int(row.quorum)


def set_quorum(session: Session, value: int) -> None:
    session.execute(
        update(WitnessQuorumRow)
        .where(col(WitnessQuorumRow.id) == QUORUM_ROW_ID)
        .values(quorum=value)
    )


def add_cosignatures(session: Session, size: int, lines: Sequence[tuple[str, str]]) -> None:
    """Store (vkey, line) cosignatures of the checkpoint of `size`; one already stored for
    that witness and size is kept (a second submitter's copy of it changes nothing)."""
    if not lines:
        return
    stored = set(
        session.execute(
            select(col(CosignatureRow.vkey)).where(
                col(CosignatureRow.size) == size,
                col(CosignatureRow.vkey).in_(bindparam("keys", expanding=True)),
            ),
            {"keys": [vkey for vkey, _ in lines]},
        ).scalars()
    )
    for vkey, line in lines:
        if vkey not in stored:
            session.add(CosignatureRow(size=size, vkey=vkey, line=line))
            stored.add(vkey)


def last_cosigned_size(session: Session, vkey: str) -> int:
    """The largest checkpoint size the witness with `vkey` cosigned for this log, or 0."""
    found = session.execute(
        select(func.max(col(CosignatureRow.size))).where(col(CosignatureRow.vkey) == vkey)
    ).scalar_one()
    return 0 if found is None else int(found)


def cosignature_lines(session: Session, size: int, vkeys: Collection[str]) -> list[str]:
    """The stored cosignature lines of the checkpoint of `size` by the witnesses of `vkeys`."""
    if not vkeys:
        return []
    rows = session.execute(
        select(col(CosignatureRow.line))
        .where(
            col(CosignatureRow.size) == size,
            col(CosignatureRow.vkey).in_(bindparam("keys", expanding=True)),
        )
        .order_by(col(CosignatureRow.vkey)),
        {"keys": sorted(vkeys)},
    ).scalars()
    return list(rows)


def newest_cosigned(
    session: Session, vkeys: Collection[str], quorum: int, at_least: int = 0
) -> CheckpointRow | None:
    """The newest stored checkpoint of size >= `at_least` that `quorum` of the witnesses of
    `vkeys` cosigned, or None."""
    if quorum <= 0 or len(vkeys) < quorum:
        return None
    size = session.execute(
        select(col(CosignatureRow.size))
        .where(
            col(CosignatureRow.vkey).in_(bindparam("keys", expanding=True)),
            col(CosignatureRow.size) >= at_least,
        )
        .group_by(col(CosignatureRow.size))
        .having(func.count() >= quorum)
        .order_by(col(CosignatureRow.size).desc())
        .limit(1),
        {"keys": sorted(vkeys)},
    ).scalar_one_or_none()
    return None if size is None else session.get(CheckpointRow, size)


def lease_free(session: Session, holder: str, now_ms: int) -> bool:
    """Whether `holder` may take the submitter's lease: it is free, expired or its own."""
    row = session.get(WitnessLeaseRow, LEASE_ROW_ID)
    return row is not None and (row.holder == holder or row.expires_ms < now_ms)


def take_lease(session: Session, holder: str, now_ms: int, ttl_ms: int) -> bool:
    """Hold the submitter's lease until now + ttl if it is free, expired or already ours."""
    result = session.execute(
        update(WitnessLeaseRow)
        .where(
            col(WitnessLeaseRow.id) == LEASE_ROW_ID,
            (col(WitnessLeaseRow.holder) == holder) | (col(WitnessLeaseRow.expires_ms) < now_ms),
        )
        .values(holder=holder, expires_ms=now_ms + ttl_ms)
    )
    return bool(getattr(result, "rowcount", 0))


def release_lease(session: Session, holder: str) -> None:
    session.execute(
        update(WitnessLeaseRow)
        .where(col(WitnessLeaseRow.id) == LEASE_ROW_ID, col(WitnessLeaseRow.holder) == holder)
        .values(expires_ms=0)
    )
