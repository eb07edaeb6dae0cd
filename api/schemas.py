"""Wire models, one per direction; never a table model on the wire."""

from typing import Any, Literal

import msgspec
from pydantic import BaseModel, Field

from ledger.tlog.envelope import WireBatch, WireEnvelope

# The input wire models are the types the ledger reads envelopes with (ledger.tlog.envelope),
# so that the OpenAPI page shows what is read.
EnvelopeIn = WireEnvelope
BatchIn = WireBatch


class FlagPublic(BaseModel):
    """That a lot carries a finding, without the commercial numbers behind it."""

    code: str
    severity: str
    lot: str | None = Field(
        description="the lot the finding names; in the open answer null when that lot is "
        "outside the lot's ancestry (a finding of its history on a split's other output)"
    )
    index: int


class FlagOut(FlagPublic):
    event_hash: str
    message: str
    evidence: dict[str, Any]


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
    flags: list[FlagOut]


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
    flags: list[FlagPublic] = Field(description="flags on the lot and every lot upstream of it")


class LotDetail(LotPublic):
    """A lot's commercial detail, for its holder, customs and auditors."""

    flags: list[FlagOut]  # type: ignore[assignment]
    spec: str | None
    mass_g: int
    composition_ppm: dict[str, int]
    custodian: str
    pending_to: str | None
    created_index: int
    updated_index: int


class ReplicaHealth(BaseModel):
    size: int | None = Field(description="the replica's tree size; null: it cannot be reached")
    behind: int | None = Field(description="entries the replica has not replayed yet")


class Health(BaseModel):
    status: Literal["ok", "degraded"] = Field(
        description="ok, or degraded while the database refuses writes (see `database`)"
    )
    size: int
    database: Literal["writable", "read_only"] = Field(
        description="whether the database accepts writes; while it is read_only, every write "
        "answers 503 database_read_only and reads go on"
    )
    epcis_schema: Literal["active", "absent", "unusable"] = Field(
        description="GS1's EPCIS JSON Schema: applied by capture (active), not installed "
        "(absent: capture's own checks apply), or installed but unusable (captures answer 503)"
    )
    replicas: list[ReplicaHealth] = Field(
        description="the read replicas (REE_LEDGER_READ_DATABASE_URL), in the order configured"
    )


class FlagPage(BaseModel):
    flags: list[FlagOut]
    next: int | None = Field(description="pass as `before` for the next page; null at the end")


class OriginPublic(BaseModel):
    country: str
    deposit: str
    share: float = Field(description="share of the lot's rare-earth mass, 0…1")


class OriginDetail(OriginPublic):
    mine: str
    site: str
    mine_lot: str
    re_mass_g: int


class StepOut(BaseModel):
    index: int
    type: str
    actor: str
    time: str
    lots: list[str]
    event_hash: str
    verified: bool
    problems: list[str]


class EdgeOut(BaseModel):
    parent: str
    child: str
    mass_g: int
    index: int


class CosignerOut(BaseModel):
    name: str = Field(description="the witness's name, from its verifier key")
    time: int = Field(description="when it cosigned, POSIX seconds, as its cosignature says")


class ProvenancePublic(BaseModel):
    lot: str
    product: str
    verdict: str = Field(description="ok, flagged or integrity_failure")
    origins: list[OriginPublic]
    flags: list[FlagPublic]
    checkpoint: str
    witnesses: list[CosignerOut] = Field(
        description="the log's witnesses whose cosignature of `checkpoint` verifies"
    )


class ProvenanceDetail(ProvenancePublic):
    origins: list[OriginDetail]  # type: ignore[assignment]
    flags: list[FlagOut]  # type: ignore[assignment]
    lots: list[LotDetail]
    edges: list[EdgeOut]
    steps: list[StepOut]
    checkpoint_problem: str | None


class Finding(BaseModel):
    """A flag that would be raised; not recorded, so it has no entry."""

    code: str
    severity: str
    lot: str
    message: str
    evidence: dict[str, Any]


class DeclarationCheck(BaseModel):
    flags: list[Finding] = Field(description="what the declaration would raise; nothing written")


def request_body(
    model: type[BaseModel] | type[msgspec.Struct], description: str | None = None
) -> dict[str, object]:
    """`openapi_extra` declaring `model` (a wire model, or an event's part) as the JSON body of
    a route that parses its body itself (strictly, see api.deps.JsonBody), so that FastAPI
    does not."""
    body: dict[str, object] = {
        "required": True,
        "content": {"application/json": {"schema": _schema(model)}},
    }
    if description:
        body["description"] = description
    return {"requestBody": body}


def response_body(model: type[msgspec.Struct], description: str) -> dict[int | str, Any]:
    """`responses` declaring `model` as the JSON answer (200) of a route that encodes its
    answer itself (msgspec.json.encode), so that FastAPI does not."""
    return {
        200: {
            "description": description,
            "content": {"application/json": {"schema": _schema(model)}},
        }
    }


def _schema(model: type[BaseModel] | type[msgspec.Struct]) -> Any:
    if issubclass(model, BaseModel):
        schema = model.model_json_schema()
    else:
        schema = _ecma_patterns(msgspec.json.schema(model))
    # The "#/$defs/..." refs would point at the root of openapi.json: inline them.
    return _inline(schema, schema.pop("$defs", {}))


def _ecma_patterns(node: Any) -> Any:
    """The schema with the event's patterns, anchored \\A...\\Z for Python's re, anchored
    ^...$ as JSON Schema's regular expressions are (there "$" is the very end)."""
    if isinstance(node, dict):
        pattern = node.get("pattern")
        if isinstance(pattern, str) and pattern.startswith("\\A") and pattern.endswith("\\Z"):
            node = {**node, "pattern": f"^{pattern[2:-2]}$"}
        return {key: _ecma_patterns(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_ecma_patterns(item) for item in node]
    return node


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline(defs[ref.removeprefix("#/$defs/")], defs)
        return {key: _inline(value, defs) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline(item, defs) for item in node]
    return node
