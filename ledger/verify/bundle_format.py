"""The offline bundle's JSON shape (docs/audit.md), and parse_bundle to read it strictly."""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ledger.tlog.errors import EncodingError

BUNDLE_FORMAT: Literal["ree-ledger.bundle.v1"] = "ree-ledger.bundle.v1"


class BundleFormatError(EncodingError):
    """The input is not a bundle (a field missing or of the wrong type): nothing was checked."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class BundleProof(_Strict):
    index: int
    size: int
    hashes: list[str] = Field(description="standard base64 node hashes, leaf's sibling first")


class BundleEntry(_Strict):
    """An entry as the bundle carries it; every field is checked, none is trusted."""

    index: int
    envelope: dict[str, Any] = Field(description="the stored DSSE envelope object")
    event_hash: str
    leaf_hash: str
    inclusion_proof: BundleProof = Field(description="to the bundle's checkpoint")
    tlog_proof: str | None = Field(None, description="c2sp.org/tlog-proof@v1 text, on request")


class Bundle(_Strict):
    """A lot's offline bundle (docs/audit.md): its ancestry's entries and the registry's."""

    format: Literal["ree-ledger.bundle.v1"]
    lot: str
    origin: str
    log_key: str = Field(description="the log verifier key, as the server states it")
    operator_key: str = Field(description="the operator key (base64), as the server states it")
    checkpoint: str = Field(description="the signed checkpoint note every proof leads to")
    entries: list[BundleEntry]


def parse_bundle(obj: object) -> Bundle:
    """Read a bundle's JSON object; raise BundleFormatError if it does not have the shape."""
    try:
        return Bundle.model_validate(obj)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in ("bundle", *error["loc"]))
        raise BundleFormatError(f"{where}: {error['msg'][0].lower()}{error['msg'][1:]}") from exc
