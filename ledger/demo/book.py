"""One chain's events as the ledger will see them: ids, times, `prev` heads and lot records."""

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from ledger.demo.model import ACCEPT, ScenarioStep
from ledger.tlog.encoding import canonical, sha256


def rfc3339(when: datetime) -> str:
    """`when` as DESIGN §2 spells a time: UTC, whole seconds, ending in Z."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Sealer(Protocol):
    def seal(self, event_id: str) -> None:
        """Learn the id of the event just written (an injection waits for it)."""


@dataclass
class Lot:
    """The generator's copy of a lot as the ledger records it."""

    id: str
    product: str
    mass_g: int
    composition: dict[str, int]
    custodian: str
    spec: str | None = None
    time: datetime = field(default_factory=lambda: datetime.min.replace(tzinfo=UTC))

    @property
    def wire(self) -> dict[str, Any]:
        """The lot as a new-lot object of lot.extract and lot.transform outputs."""
        made: dict[str, Any] = {
            "id": self.id,
            "product": self.product,
            "mass_g": self.mass_g,
            "composition_ppm": dict(self.composition),
        }
        if self.spec is not None:
            made["spec"] = self.spec
        return made


@dataclass
class Book:
    """Writes one chain's events in order and keeps what they do to its lots."""

    chain: int
    clock: datetime
    rng: random.Random
    sealer: Sealer
    steps: list[ScenarioStep] = field(default_factory=list)
    times: list[datetime] = field(default_factory=list)
    heads: dict[str, str] = field(default_factory=dict)
    lots: dict[str, Lot] = field(default_factory=dict)
    _events: int = 0
    _made: int = 0

    def lot_id(self, kind: str) -> str:
        self._made += 1
        return f"{kind}-{self.chain:05d}-{self._made}"

    def wait(self, hours: tuple[int, int]) -> None:
        """Move the clock on by a whole number of minutes between `hours`."""
        self.clock += timedelta(minutes=self.rng.randint(hours[0] * 60, hours[1] * 60))

    def post(
        self,
        actor: str,
        event_type: str,
        touched: Sequence[str],
        fields: dict[str, Any],
        *,
        expect: str = ACCEPT,
        made: Sequence[Lot] = (),
        when: datetime | None = None,
        seal: bool = True,
    ) -> str:
        """Write an event touching `touched` (and creating `made`); return its id.

        An accepted event becomes the head of every lot it touched or made; a rejected one
        changes nothing, as at the ledger. An authority's event (`seal` False) never carries
        a pending fraud: the chain's own next event does.
        """
        self._events += 1
        event_id = f"ev-{self.chain:05d}-{self._events:03d}"
        time = self.clock if when is None else when
        event = {
            "type": event_type,
            "id": event_id,
            "actor": actor,
            "time": rfc3339(time),
            "prev": {lot: self.heads[lot] for lot in touched},
            **fields,
        }
        self.steps.append(ScenarioStep(actor=actor, event=event, expect=expect))
        self.times.append(time)
        if expect == ACCEPT:
            event_hash = sha256(canonical(event)).hex()
            for lot_id in touched:
                self.heads[lot_id] = event_hash
                self.lots[lot_id].time = time
            for lot in made:
                self.heads[lot.id] = event_hash
                self.lots[lot.id] = lot
                lot.time = time
        if seal:
            self.sealer.seal(event_id)
        return event_id
