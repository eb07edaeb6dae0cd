"""The offline bundle's JSON shape (docs/audit.md), and parse_bundle to read it strictly."""

from types import UnionType
from typing import Annotated, Any, Literal, get_args, get_origin, get_type_hints

import msgspec
from msgspec import Meta

from ledger.lots.event_parts import Strict
from ledger.tlog.errors import EncodingError

BUNDLE_FORMAT: Literal["ree-ledger.bundle.v1"] = "ree-ledger.bundle.v1"


class BundleFormatError(EncodingError):
    """The input is not a bundle (a field missing or of the wrong type): nothing was checked."""


class BundleProof(Strict, frozen=True):
    index: int
    size: int
    hashes: Annotated[
        list[str], Meta(description="standard base64 node hashes, leaf's sibling first")
    ]


class BundleEntry(Strict, frozen=True):
    """An entry as the bundle carries it; every field is checked, none is trusted."""

    index: int
    envelope: Annotated[dict[str, Any], Meta(description="the stored DSSE envelope object")]
    event_hash: str
    leaf_hash: str
    inclusion_proof: Annotated[BundleProof, Meta(description="to the bundle's checkpoint")]
    tlog_proof: Annotated[
        str | None, Meta(description="c2sp.org/tlog-proof@v1 text, on request")
    ] = None


class Bundle(Strict, frozen=True):
    """A lot's offline bundle (docs/audit.md): its ancestry's entries and the registry's."""

    format: Literal["ree-ledger.bundle.v1"]
    lot: str
    origin: str
    log_key: Annotated[str, Meta(description="the log verifier key, as the server states it")]
    operator_key: Annotated[
        str, Meta(description="the operator key (base64), as the server states it")
    ]
    checkpoint: Annotated[str, Meta(description="the signed checkpoint note every proof leads to")]
    entries: list[BundleEntry]


def parse_bundle(obj: object) -> Bundle:
    """Read a bundle's JSON object; raise BundleFormatError if it does not have the shape."""
    try:
        return msgspec.convert(obj, Bundle, strict=True)
    except msgspec.ValidationError as exc:
        raise BundleFormatError(_first_problem(obj, Bundle, ["bundle"]) or str(exc)) from exc


_WANTED = {
    int: "a valid integer",
    str: "a valid string",
    list: "a valid list",
    dict: "a valid dictionary",
}


def _first_problem(obj: object, kind: Any, names: list[str]) -> str | None:
    """The first thing wrong with `obj` as a `kind`, in the order the bundle's readers have
    been told it (pydantic's): a struct's fields in their order, then its unknown fields; a
    list's items in theirs. msgspec decides whether it is wrong; this only words it."""
    if isinstance(kind, type) and issubclass(kind, msgspec.Struct) and isinstance(obj, dict):
        hints = get_type_hints(kind)
        for field in msgspec.structs.fields(kind):
            if field.name not in obj:
                if field.required:
                    return f"{'.'.join(names)}.{field.name}: field required"
            elif not _fits(obj[field.name], hints[field.name]):
                return _first_problem(obj[field.name], hints[field.name], [*names, field.name])
        extra = next((key for key in obj if key not in hints), None)
        return (
            None if extra is None else f"{'.'.join(names)}.{extra}: extra inputs are not permitted"
        )
    if get_origin(kind) is list and isinstance(obj, list):
        [item] = get_args(kind)
        return next(
            (
                _first_problem(value, item, [*names, str(at)])
                for at, value in enumerate(obj)
                if not _fits(value, item)
            ),
            None,
        )
    if get_origin(kind) is UnionType:  # str | None
        kind = next(member for member in get_args(kind) if member is not type(None))
    if get_origin(kind) is Literal:
        wanted = repr(get_args(kind)[0])
    elif isinstance(kind, type) and issubclass(kind, msgspec.Struct):
        wanted = f"a valid dictionary or instance of {kind.__name__}"
    else:
        wanted = _WANTED[get_origin(kind) or kind]
    return f"{'.'.join(names)}: input should be {wanted}"


def _fits(obj: object, kind: Any) -> bool:
    try:
        msgspec.convert(obj, kind, strict=True)
    except msgspec.ValidationError:
        return False
    return True
