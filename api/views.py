"""Service results turned into wire schemas, one function per shape."""

from collections.abc import Callable

from api.schemas import (
    BatchAccepted,
    EdgeOut,
    EntryAccepted,
    Finding,
    FlagOut,
    FlagPublic,
    InclusionProof,
    LotDetail,
    LotPublic,
    OriginDetail,
    OriginPublic,
    ProvenanceDetail,
    ProvenancePublic,
    StepOut,
)
from ledger.lots.provenance import OriginShare
from ledger.lots.records import LotState
from ledger.lots.rules import Flag
from ledger.service.ingest import Accepted
from ledger.service.provenance import Provenance, Step
from ledger.store.findings import StoredFlag
from ledger.tlog.encoding import b64encode


def accepted_batch(results: list[Accepted]) -> BatchAccepted:
    """The batch's proofs share most of their nodes: each node is encoded once."""
    encoded: dict[bytes, str] = {}

    def encode(digest: bytes) -> str:
        text = encoded.get(digest)
        if text is None:
            text = encoded[digest] = b64encode(digest)
        return text

    return BatchAccepted(results=[accepted(result, encode) for result in results])


def accepted(result: Accepted, encode: Callable[[bytes], str] = b64encode) -> EntryAccepted:
    return EntryAccepted(
        index=result.index,
        event_hash=result.event_hash,
        leaf_hash=b64encode(result.leaf_hash),
        checkpoint=result.checkpoint,
        inclusion_proof=InclusionProof(
            index=result.index,
            size=result.size,
            hashes=[encode(h) for h in result.inclusion_proof],
        ),
        flags=[
            FlagOut(
                code=flag.code,
                severity=flag.severity,
                lot=flag.lot,
                index=result.index,
                event_hash=result.event_hash,
                message=flag.message,
                evidence=dict(flag.evidence),
            )
            for flag in result.flags
        ],
    )


def flag_public(flag: StoredFlag) -> FlagPublic:
    return FlagPublic(code=flag.code, severity=flag.severity, lot=flag.lot, index=flag.index)


def flag_out(flag: StoredFlag) -> FlagOut:
    return FlagOut(
        code=flag.code,
        severity=flag.severity,
        lot=flag.lot,
        index=flag.index,
        event_hash=flag.event_hash,
        message=flag.message,
        evidence=flag.evidence,
    )


def finding(flag: Flag) -> Finding:
    return Finding(
        code=flag.code,
        severity=flag.severity,
        lot=flag.lot,
        message=flag.message,
        evidence=dict(flag.evidence),
    )


def lot_public(lot: LotState, flags: list[StoredFlag]) -> LotPublic:
    return LotPublic(
        id=lot.id,
        product=lot.product,
        status=lot.status,
        head=lot.head,
        origins=list(lot.origins),
        flags=[flag_public(flag) for flag in flags],
    )


def lot_detail(lot: LotState, flags: list[StoredFlag]) -> LotDetail:
    return LotDetail(
        id=lot.id,
        product=lot.product,
        status=lot.status,
        head=lot.head,
        origins=list(lot.origins),
        flags=[flag_out(flag) for flag in flags],
        spec=lot.spec,
        mass_g=lot.mass_g,
        composition_ppm=lot.composition_ppm,
        custodian=lot.custodian,
        pending_to=lot.pending_to,
        created_index=lot.created_index,
        updated_index=lot.updated_index,
    )


def _origins_public(origins: tuple[OriginShare, ...]) -> list[OriginPublic]:
    """Shares by country and deposit type: the public does not learn which mine or lot."""
    totals: dict[tuple[str, str], float] = {}
    for origin in origins:
        where = (origin.origin.country, origin.origin.deposit)
        totals[where] = totals.get(where, 0.0) + origin.share
    ranked = sorted(totals.items(), key=lambda item: (-item[1], item[0]))
    return [OriginPublic(country=c, deposit=d, share=share) for (c, d), share in ranked]


def _origin_detail(origin: OriginShare) -> OriginDetail:
    return OriginDetail(
        country=origin.origin.country,
        deposit=origin.origin.deposit,
        share=origin.share,
        mine=origin.origin.mine,
        site=origin.origin.site_name,
        mine_lot=origin.origin.lot,
        re_mass_g=origin.re_mass_g,
    )


def _step(step: Step) -> StepOut:
    return StepOut(
        index=step.index,
        type=step.type,
        actor=step.actor,
        time=step.time,
        lots=list(step.lots),
        event_hash=step.result.event_hash,
        verified=step.result.ok,
        problems=list(step.result.problems),
    )


def provenance_public(found: Provenance) -> ProvenancePublic:
    return ProvenancePublic(
        lot=found.lot.id,
        product=found.lot.product,
        verdict=found.verdict,
        origins=_origins_public(found.origins),
        flags=[flag_public(flag) for flag in found.flags],
        checkpoint=found.checkpoint,
    )


def provenance_detail(found: Provenance) -> ProvenanceDetail:
    return ProvenanceDetail(
        lot=found.lot.id,
        product=found.lot.product,
        verdict=found.verdict,
        origins=[_origin_detail(origin) for origin in found.origins],
        flags=[flag_out(flag) for flag in found.flags],
        checkpoint=found.checkpoint,
        checkpoint_problem=found.checkpoint_problem,
        lots=[lot_detail(lot, []) for lot in found.lots],
        edges=[
            EdgeOut(parent=e.parent, child=e.child, mass_g=e.mass_g, index=e.index)
            for e in found.edges
        ],
        steps=[_step(step) for step in found.steps],
    )
