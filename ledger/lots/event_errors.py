"""What a refused event (or declaration) is told: the code, the dotted field, its value, why.

msgspec names where a value failed (`$.inputs[0].mass_g`) and how; the given value is read
from the strictly parsed object at that place, and the reason worded from the field's type.
"""

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import msgspec

from ledger.errors import Kind, LedgerError
from ledger.lots.fields import PRINTABLE_MESSAGE, UNPRINTABLE_CHARACTER, FieldError
from ledger.tlog.encoding import parse_canonical
from ledger.tlog.errors import EncodingError

VALUE_PREVIEW = 80
TAG = "type"


class InvalidEvent(LedgerError):
    """The payload is not a well-formed event (kind malformed); nothing about it is trusted."""

    def __init__(self, code: str, field: str, value: object, detail: str) -> None:
        super().__init__(Kind.MALFORMED, code, detail, field=field, value=value)


@dataclass(frozen=True)
class Problem:
    """What is wrong with one field: a code of InvalidEvent, the dotted field, the value
    given there (None where it is absent) and why it is refused."""

    code: str
    field: str
    value: object
    message: str


def strict_object(payload: bytes) -> dict[str, Any]:
    """The object `payload` holds if it is canonical JSON; InvalidEvent (malformed) otherwise."""
    try:
        return parse_canonical(payload)
    except EncodingError as exc:
        value, _ = preview(payload.decode("utf-8", "replace"))
        raise InvalidEvent("malformed_payload", "payload", value, f"payload: {exc}") from exc


def refused_event(
    payload: bytes, exc: msgspec.MsgspecError | RecursionError | ValueError, event_type: object
) -> InvalidEvent:
    """The InvalidEvent for a payload that msgspec refused to decode into `event_type`."""
    obj = strict_object(payload)
    if not isinstance(exc, msgspec.ValidationError):
        # Not expected: the strict reading took bytes that msgspec could not read.
        value, _ = preview(payload.decode("utf-8", "replace"))
        return InvalidEvent("malformed_payload", "payload", value, f"payload: {exc}")
    text, path = _message(exc)
    if path == f"$.{TAG}" or (path == "$" and text == f"Object missing required field `{TAG}`"):
        tags = sorted(str(_tag(member)) for member in get_args(event_type))
        tag = obj.get(TAG)
        value, shown = preview(tag)
        said = "is absent" if tag is None else f"{shown} is not an event type"
        return InvalidEvent(
            "unknown_event_type", TAG, value, f"{TAG}: {said}; use one of {', '.join(tags)}"
        )
    return invalid_event(problem(exc, event_type, obj))


def invalid_event(found: Problem) -> InvalidEvent:
    """The InvalidEvent telling `found`."""
    field = found.field
    if found.code == "missing_field":
        return InvalidEvent(found.code, field, None, f"{field}: required field is absent")
    value, shown = preview(found.value)
    if found.code == "unknown_field":
        detail = f"{field}: unknown field (value {shown}); remove it, DESIGN §5 lists the fields"
        return InvalidEvent(found.code, field, value, detail)
    return InvalidEvent(found.code, field, value, f"{field}: {found.message} (got {shown})")


def first_null(node: object, path: str = "") -> str | None:
    """The dotted path of the first explicit null among the members of `node`, if any."""
    # An optional field is absent or set: a null would give one event a second spelling.
    if isinstance(node, dict):
        for key, value in node.items():
            inner = f"{path}.{key}" if path else key
            found = inner if value is None else first_null(value, inner)
            if found is not None:
                return found
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found = first_null(value, f"{path}.{index}")
            if found is not None:
                return found
    return None


NULL_MESSAGE = "must not be null: omit the field instead"


def problem(exc: msgspec.ValidationError, root: object, obj: object) -> Problem:
    """What msgspec's `exc`, converting `obj` (as JSON gives it) to `root`, found wrong."""
    text, path = _message(exc)
    key_of = path.startswith("`key` in `")
    if key_of:
        path = path.removeprefix("`key` in `")
    names, node, kind = _walk(root, obj, re.findall(r"\.(\w+)|\[(\d+|\.\.\.)\]", path))
    cause = exc.__cause__
    if isinstance(cause, FieldError):
        more = cause.field.split(".")
        given = cause.given
        if given is None:
            _, given, _ = _walk(kind, node, [(name, "") for name in more])
        return Problem("invalid_field", ".".join(names + more), given, cause.message)
    if key_of:
        key_type, _ = get_args(_bare(kind))
        key = _first_failing(node, key_type, keys=True)
        return Problem("invalid_field", ".".join([*names, key]), key, _said(text, key_type, key))
    member = re.fullmatch(r"Object (missing required|contains unknown) field `(.*)`", text, re.S)
    if member is not None:
        name = member[2]
        field = ".".join([*names, name])
        if member[1] == "missing required":
            return Problem("missing_field", field, None, "required field is absent")
        given = node.get(name) if isinstance(node, dict) else None
        return Problem("unknown_field", field, given, "unknown field")
    return Problem("invalid_field", ".".join(names), node, _said(text, kind, node))


def _message(exc: msgspec.ValidationError) -> tuple[str, str]:
    """msgspec's reason and the path it names (`$` for the whole value)."""
    text, at, path = str(exc).rpartition(" - at `")
    if not at:
        return str(exc), "$"
    return text, path.removesuffix("`")


def _walk(
    kind: object, node: object, steps: Sequence[tuple[str, str]]
) -> tuple[list[str], object, object]:
    """Follow `steps` ((name, "") or ("", index)) down `node` and its type `kind`: the dotted
    names passed, the value reached (None if absent) and its type."""
    names: list[str] = []
    for name, index in steps:
        kind = _member(kind, node)
        bare = _bare(kind)
        if isinstance(bare, msgspec.StructMeta):
            fields = {f.encode_name: f.type for f in msgspec.structs.fields(bare)}  # type: ignore[arg-type]
            kind = fields.get(name, object)
            node = node.get(name) if isinstance(node, dict) else None
        elif get_origin(bare) is dict:
            _, kind = get_args(bare)
            # msgspec names no key for a value that fails: the first value that fails.
            name = _first_failing(node, kind, keys=False) if index == "..." else name
            node = node.get(name) if isinstance(node, dict) else None
        else:
            kind = get_args(bare)[0] if get_args(bare) else object
            name = name or index
            node = node[int(name)] if isinstance(node, list) and name.isdigit() else None
        names.append(name)
    return names, node, _member(kind, node)


def _member(kind: object, node: object) -> object:
    """The member of a union that `node` is meant as: by its tag, or the one not None."""
    if get_origin(_bare(kind)) not in (Union, UnionType):
        return kind
    members = [m for m in get_args(_bare(kind)) if m is not type(None)]
    tag = node.get(TAG) if isinstance(node, dict) else None
    tagged = [m for m in members if isinstance(m, msgspec.StructMeta) and _tag(m) == tag]
    return (tagged or members)[0]


def _tag(struct: Any) -> object:
    return struct.__struct_config__.tag


def _bare(kind: object) -> Any:
    return get_args(kind)[0] if get_origin(kind) is Annotated else kind


def _first_failing(node: object, kind: object, keys: bool) -> str:
    if isinstance(node, dict):
        for key, value in node.items():
            try:
                msgspec.convert(key if keys else value, kind)
            except msgspec.ValidationError:
                return str(key)
    return "..."


_BOUND = re.compile(r"Expected `(\w+)` (?:of length )?(>=|<=) (\d+)")
_KINDS = {
    "str": "a string",
    "int": "an integer",
    "bool": "a boolean",
    "array": "an array",
    "object": "an object",
}
_UNITS = {"str": "character", "array": "item", "object": "member"}


def _said(text: str, kind: object, value: object) -> str:
    """msgspec's reason `text` for `value` of type `kind`, in the words of the field."""
    metas = [m for m in get_args(kind)[1:] if isinstance(m, msgspec.Meta)]
    if text.startswith("Expected `str` matching regex"):
        said = next((m.description for m in metas if m.description), None) or "has a wrong form"
        found = UNPRINTABLE_CHARACTER.search(value) if isinstance(value, str) else None
        if said == PRINTABLE_MESSAGE and found:
            said += f" (found U+{ord(found.group()):04X})"
        return said
    bound = _BOUND.fullmatch(text)
    if bound is not None:
        kind_name, sign, limit = bound.groups()
        least = "at least" if sign == ">=" else "at most"
        unit = _UNITS.get(kind_name)
        if unit is None:
            return f"must be {least} {limit}"
        return f"must have {least} {limit} {unit}{'' if limit == '1' else 's'}"
    if text.startswith("Invalid enum value"):
        choices = get_args(_bare(kind)) if get_origin(_bare(kind)) is Literal else ()
        return "must be one of " + ", ".join(repr(choice) for choice in choices)
    wrong = re.fullmatch(r"Expected `([^`]+)`, got `(\w+)`", text)
    if wrong is not None:
        # An optional field says "str | null": a null is refused all the same.
        expected, given = wrong[1].removesuffix(" | null"), wrong[2]
        return f"must be {_KINDS.get(expected, expected)}, not {_KINDS.get(given, given)}"
    return text[:1].lower() + text[1:]


def preview(given: object) -> tuple[object, str]:
    """The value to carry in the error, and its JSON spelling for the detail, both shortened."""
    # ASCII-only JSON escapes every control character, so the detail is safe to print anywhere.
    if isinstance(given, str):
        short = _shorten(given)
        return short, json.dumps(short, ensure_ascii=True)
    shown = _shorten(json.dumps(given, ensure_ascii=True, default=repr))
    if given is None or isinstance(given, bool | int):
        return given, shown
    return shown, shown


def _shorten(text: str) -> str:
    return text if len(text) <= VALUE_PREVIEW else text[: VALUE_PREVIEW - 3] + "..."
