"""Service results turned into wire schemas, one function per shape."""

import binascii
from collections.abc import Container

from pydantic import TypeAdapter

from api.schemas import (
    CosignerOut,
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

# One accepted entry of a batch's answer, as pydantic writes EntryAccepted.
_ENTRY = (
    b'{"index":%d,"event_hash":"%s","leaf_hash":"%s","checkpoint":%s,'
    b'"inclusion_proof":{"index":%d,"size":%d,"hashes":[%s]},"flags":%s}'
)
_STRING: TypeAdapter[str] = TypeAdapter(str)
_FLAGS: TypeAdapter[list[FlagOut]] = TypeAdapter(list[FlagOut])


def accepted_batch_json(results: list[Accepted]) -> bytes:
    """The BatchAccepted of `results` (an `accepted` model each) as pydantic writes it in
    JSON, byte for byte, written directly: 500 models otherwise, built only to be dumped.

    Every string but the checkpoint note is hex or base64, which JSON carries as is; the note
    (the same for the whole batch) and any flags are written by pydantic itself. Written as
    bytes: the note's em dash would make every str of the answer a wide one.
    """
    distinct = {digest for result in results for digest in result.inclusion_proof}
    encoded = {digest: binascii.b2a_base64(digest, newline=False) for digest in distinct}
    notes: dict[str, bytes] = {}
    written = []
    for result in results:
        note = notes.get(result.checkpoint)
        if note is None:
            note = notes[result.checkpoint] = _STRING.dump_json(result.checkpoint)
        hashes = b'","'.join(map(encoded.__getitem__, result.inclusion_proof))
        written.append(
            _ENTRY
            % (
                result.index,
                _hex(result.event_hash),
                binascii.b2a_base64(result.leaf_hash, newline=False),
                note,
                result.index,
                result.size,
                b'"' + hashes + b'"' if hashes else b"",
                _FLAGS.dump_json(_flags_out(result)) if result.flags else b"[]",
            )
        )
    return b'{"results":[' + b",".join(written) + b"]}"


def accepted(result: Accepted) -> EntryAccepted:
    return EntryAccepted(
        index=result.index,
        event_hash=result.event_hash,
        leaf_hash=b64encode(result.leaf_hash),
        checkpoint=result.checkpoint,
        inclusion_proof=InclusionProof(
            index=result.index,
            size=result.size,
            hashes=[b64encode(h) for h in result.inclusion_proof],
        ),
        flags=_flags_out(result),
    )


def _flags_out(result: Accepted) -> list[FlagOut]:
    return [
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
    ]


def _hex(text: str) -> bytes:
    # An event hash is hex by construction: ASCII letters and digits need no JSON escape.
    if not (text.isascii() and text.isalnum()):
        raise ValueError(f"event hash {text!r} is not hex")
    return text.encode("ascii")


def flag_public(flag: StoredFlag, lineage: Container[str]) -> FlagPublic:
    """The open form of a finding: no numbers, and the lot it names only when that lot is in
    `lineage` (the lot and its ancestry); a finding of an event in the history that names a
    lot outside it (a split's other output) says only that it is there."""
    lot = flag.lot if flag.lot in lineage else None
    return FlagPublic(code=flag.code, severity=flag.severity, lot=lot, index=flag.index)


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
    upstream = {flag.lot for flag in flags}  # the lot's own flags and its ancestors'
    return LotPublic(
        id=lot.id,
        product=lot.product,
        status=lot.status,
        head=lot.head,
        origins=list(lot.origins),
        flags=[flag_public(flag, upstream) for flag in flags],
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


def _cosigners(found: Provenance) -> list[CosignerOut]:
    return [CosignerOut(name=name, time=time) for name, time in found.cosigners]


def provenance_public(found: Provenance) -> ProvenancePublic:
    return ProvenancePublic(
        lot=found.lot.id,
        product=found.lot.product,
        verdict=found.verdict,
        origins=_origins_public(found.origins),
        flags=[flag_public(flag, {lot.id for lot in found.lots}) for flag in found.flags],
        checkpoint=found.checkpoint,
        witnesses=_cosigners(found),
    )


def provenance_detail(found: Provenance) -> ProvenanceDetail:
    return ProvenanceDetail(
        lot=found.lot.id,
        product=found.lot.product,
        verdict=found.verdict,
        origins=[_origin_detail(origin) for origin in found.origins],
        flags=[flag_out(flag) for flag in found.flags],
        checkpoint=found.checkpoint,
        witnesses=_cosigners(found),
        checkpoint_problem=found.checkpoint_problem,
        lots=[lot_detail(lot, []) for lot in found.lots],
        edges=[
            EdgeOut(parent=e.parent, child=e.child, mass_g=e.mass_g, index=e.index)
            for e in found.edges
        ],
        steps=[_step(step) for step in found.steps],
    )
