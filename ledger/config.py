"""Settings from REE_LEDGER_* variables, for the server and the CLI; built on use, not at import."""

from pathlib import Path

from pydantic import field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ledger.lots.policy import CustodyPolicy, parse_instant

DEFAULT_ORIGIN = "ree-ledger.local/log"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REE_LEDGER_", extra="ignore")

    home: Path = Path(".ree-ledger")
    database_url: str = ""
    # Read replicas (PostgreSQL hot standbys of database_url), comma-separated: the read
    # routes answer from them in turn; empty: reads go to database_url (docs/operations.md).
    read_database_url: str = ""
    origin: str = DEFAULT_ORIGIN
    public_url: str = "http://127.0.0.1:8000"
    # Limits on what a client may send; documented in docs/operations.md.
    max_body_bytes: int = 1_048_576
    max_batch_envelopes: int = 1000
    # Custody rules that `ree-ledger audit` and `verify-bundle` must replay with the same values
    # (docs/operations.md): the earliest event time accepted, and customs country -> the
    # further exporter countries its customs decides for (a customs union; its own always).
    earliest_event_time: str = "2000-01-01T00:00:00Z"
    customs_jurisdictions: dict[str, list[str]] = {}
    # GS1's EPCIS JSON Schema, applied by capture as well as its own checks: this file (which
    # must then be there), else <home>/EPCIS-JSON-Schema.json when present (docs/epcis.md).
    epcis_schema: Path | None = None
    # Seconds between the witness submitter's rounds (docs/operations.md); 0: this process
    # never submits checkpoints to the witnesses (another one serving the database does).
    witness_interval: float = 1.0

    @field_validator("origin")
    @classmethod
    def _origin_is_one_line(cls, value: str) -> str:
        if not value or any(ch.isspace() for ch in value) or "+" in value:
            raise ValueError(f"origin {value!r} must be a non-empty name without spaces or '+'")
        return value

    @field_validator("earliest_event_time")
    @classmethod
    def _earliest_is_a_time(cls, value: str) -> str:
        try:
            parse_instant(value)
        except ValueError as exc:
            raise ValueError(f"earliest_event_time {value!r}: {exc}") from exc
        return value

    @field_validator("customs_jurisdictions")
    @classmethod
    def _jurisdictions_are_countries(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for country in [*value, *(c for served in value.values() for c in served)]:
            if not (len(country) == 2 and country.isascii() and country.isupper()):
                raise ValueError(f"customs_jurisdictions: {country!r} is not an alpha-2 code")
        return value

    def read_database_urls(self) -> list[str]:
        """The read replicas' URLs, in the order given."""
        return [url.strip() for url in self.read_database_url.split(",") if url.strip()]

    def custody_policy(self) -> CustodyPolicy:
        """The custody rules these settings configure, for ingest and for every replay."""
        return CustodyPolicy(
            earliest_time=parse_instant(self.earliest_event_time),
            customs_jurisdictions={
                country: frozenset(served) for country, served in self.customs_jurisdictions.items()
            },
        )

    @model_validator(mode="after")
    def _default_database(self) -> "Settings":
        if not self.database_url:
            self.database_url = f"sqlite:///{(self.home / 'ledger.db').resolve()}"
        return self
