"""The custody rules an operator configures: the earliest event time, and whose declarations
each country's customs decides. The server and every replay (audit, bundle) must use the same."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import get_args

import msgspec

from ledger.lots.fields import FieldError, Instant, check_instant
from ledger.lots.records import ParticipantState

# No rare-earth record this ledger carries predates it; an earlier date is a typo or a forgery.
DEFAULT_EARLIEST_TIME = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class CustodyPolicy:
    """`earliest_time`: events dated before it are refused. `customs_jurisdictions`: customs
    country -> the further exporter countries its customs decides for (a customs union); a
    customs participant always decides for exporters of its own country, and no other unless
    named here."""

    earliest_time: datetime = DEFAULT_EARLIEST_TIME
    customs_jurisdictions: Mapping[str, frozenset[str]] = field(
        default_factory=lambda: MappingProxyType({})
    )

    def __post_init__(self) -> None:
        if self.earliest_time.utcoffset() is None:
            raise ValueError("CustodyPolicy.earliest_time must be timezone-aware")

    def served_by(self, customs: ParticipantState) -> frozenset[str]:
        """The exporter countries whose declarations `customs` decides."""
        return frozenset({customs.country}) | self.customs_jurisdictions.get(
            customs.country, frozenset()
        )


DEFAULT_POLICY = CustodyPolicy()


def parse_instant(text: str) -> datetime:
    """An RFC 3339 UTC time as events spell it (`2000-01-01T00:00:00Z`); ValueError otherwise."""
    try:
        check_instant("time", msgspec.convert(text, Instant))
    except msgspec.ValidationError:
        raise ValueError(_INSTANT_SAID) from None
    except FieldError as exc:
        raise ValueError(exc.message) from None
    return datetime.fromisoformat(text)


_INSTANT_SAID = next(meta.description for meta in get_args(Instant)[1:])
