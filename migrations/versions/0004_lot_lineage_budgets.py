"""Lots carry their lineage budget and the time they were created.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05

`lots.lineage`: per rare earth, the most and the least of it the lot's ancestry back to the
mines supplied (LINEAGE_IMBALANCE, ledger/lots/lineage.py). `lots.created_time`: the time of
the event that created the lot (a lab certificate is judged against it). Both are derived
from the log, so the upgrade derives them for the lots already stored by replaying the
entries that make and weigh lots (extract, transform, receive) in log order: the audit, which
replays the whole log, then finds the same. The downgrade drops them.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from alembic import op

from ledger.lots.events import LotExtract, LotReceive, LotTransform
from ledger.verify.entry import parse_entry
from migrations import lineage_0004 as lineage

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_entries = sa.table(
    "entries",
    sa.column("idx", sa.BigInteger()),
    sa.column("envelope", sa.LargeBinary()),
    sa.column("type", sa.String()),
)
_lots = sa.table(
    "lots",
    sa.column("id", sa.String()),
    sa.column("lineage", sa.Text()),
    sa.column("created_time", sa.String()),
)
_MAKING = ("lot.extract", "lot.transform", "lot.receive")


@dataclass
class _Held:
    """What the replay keeps of a lot: what lineage.supply and lineage.received read."""

    mass_g: int
    composition_ppm: dict[str, int]
    lineage: lineage.Budget | None
    created_time: str


def upgrade() -> None:
    with op.batch_alter_table("lots") as batch:
        batch.add_column(sa.Column("lineage", sa.Text(), nullable=True))
        batch.add_column(sa.Column("created_time", sa.String(length=32), nullable=True))
    _backfill(op.get_bind())
    with op.batch_alter_table("lots") as batch:
        batch.alter_column("created_time", existing_type=sa.String(length=32), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("lots") as batch:
        batch.drop_column("created_time")
        batch.drop_column("lineage")


def _backfill(bind: sa.Connection) -> None:
    held: dict[str, _Held] = {}
    query = (
        sa.select(_entries.c.envelope).where(_entries.c.type.in_(_MAKING)).order_by(_entries.c.idx)
    )
    for (envelope,) in bind.execute(query):
        _replay(parse_entry(json.loads(bytes(envelope))).event, held)
    for lot_id, lot in held.items():
        bind.execute(
            _lots.update()
            .where(_lots.c.id == lot_id)
            .values(lineage=lot.lineage, created_time=lot.created_time)
        )


def _replay(event: Any, held: dict[str, _Held]) -> None:
    if isinstance(event, LotExtract):
        new = event.lot
        budget = lineage.extracted(new.mass_g, dict(new.composition_ppm), event.deposit)
        held[new.id] = _Held(new.mass_g, dict(new.composition_ppm), budget, event.time)
    elif isinstance(event, LotTransform):
        used = [(held[ref.lot], ref.mass_g) for ref in event.inputs]
        claims = [(out.mass_g, dict(out.composition_ppm)) for out in event.outputs]
        shares = lineage.transform_shares(event.process, used, claims)  # type: ignore[arg-type]
        for lot, taken in used:
            lot.lineage = lineage.remaining(lot, taken)  # type: ignore[arg-type]
            lot.mass_g -= taken
        for i, out in enumerate(event.outputs):
            budget = None if shares is None else lineage.rebased(shares[i], *claims[i])
            held[out.id] = _Held(out.mass_g, claims[i][1], budget, event.time)
    elif isinstance(event, LotReceive):
        for ref in event.lots:
            lot = held[ref.lot]
            lot.lineage = lineage.received(lot, ref.mass_g)  # type: ignore[arg-type]
            lot.mass_g = ref.mass_g
