"""Server settings from REE_LEDGER_* variables, built in create_app(), never at import."""

from pathlib import Path

from pydantic import field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_ORIGIN = "ree-ledger.local/log"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REE_LEDGER_", extra="ignore")

    home: Path = Path(".ree-ledger")
    database_url: str = ""
    origin: str = DEFAULT_ORIGIN
    public_url: str = "http://127.0.0.1:8000"
    # Limits on what a client may send; documented in docs/operations.md.
    max_body_bytes: int = 1_048_576
    max_batch_envelopes: int = 1000

    @field_validator("origin")
    @classmethod
    def _origin_is_one_line(cls, value: str) -> str:
        if not value or any(ch.isspace() for ch in value) or "+" in value:
            raise ValueError(f"origin {value!r} must be a non-empty name without spaces or '+'")
        return value

    @model_validator(mode="after")
    def _default_database(self) -> "Settings":
        if not self.database_url:
            self.database_url = f"sqlite:///{(self.home / 'ledger.db').resolve()}"
        return self
