"""Wire models, one per direction; never a table model on the wire."""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class SignatureIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    keyid: str
    sig: str = Field(description="standard base64 of the Ed25519 signature over PAE")


class EnvelopeIn(BaseModel):
    """A DSSE envelope; its payload is base64 of the RFC 8785 bytes of one event."""

    model_config = ConfigDict(extra="forbid")
    payloadType: str  # the DSSE field name
    payload: str
    signatures: list[SignatureIn]


class BatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    envelopes: list[EnvelopeIn]


class InclusionProof(BaseModel):
    index: int
    size: int
    hashes: list[str] = Field(description="standard base64 SHA-256 node hashes, leaf to root")


class ConsistencyProof(BaseModel):
    first: int
    second: int
    hashes: list[str]


class EntryAccepted(BaseModel):
    index: int
    event_hash: str = Field(description="lowercase hex SHA-256 of the payload bytes")
    leaf_hash: str = Field(description="standard base64 RFC 9162 leaf hash")
    checkpoint: str = Field(description="the signed checkpoint note that covers this entry")
    inclusion_proof: InclusionProof
    flags: list[dict[str, Any]]


class BatchAccepted(BaseModel):
    results: list[EntryAccepted]


class EntryOut(BaseModel):
    index: int
    envelope: dict[str, Any]
    event_hash: str
    leaf_hash: str


class LogOut(BaseModel):
    origin: str
    size: int
    log_key: str = Field(description="C2SP verifier key of the checkpoint signer")
    operator_key: str = Field(description="standard base64 of the operator's raw Ed25519 key")


class LotPublic(BaseModel):
    """What anyone may see of a lot."""

    id: str
    product: str
    status: str
    head: str
    origins: list[str]
    flags: list[dict[str, Any]]


class LotDetail(LotPublic):
    """A lot's commercial detail, for its holder, customs and auditors."""

    spec: str | None
    mass_g: int
    composition_ppm: dict[str, int]
    custodian: str
    pending_to: str | None
    created_index: int
    updated_index: int


class Health(BaseModel):
    status: str
    size: int
