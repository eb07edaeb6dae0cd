"""Canonical JSON (RFC 8785), strict JSON parsing, strict base64 and SHA-256."""

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Iterable
from typing import Any, cast

import msgspec
import rfc8785

from ledger.tlog.errors import EncodingError

MAX_DEPTH = 32
# I-JSON (RFC 7493 §2.2): integers beyond this lose precision in other JSON stacks.
MAX_SAFE_INTEGER = 2**53 - 1

# A JSON string, escapes included; removed before looking at the structure around strings.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
# An escaped UTF-16 surrogate: the only way json.loads lets a non-Unicode string through.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")


def canonical(obj: object, *, plain: bool = False) -> bytes:
    """Return the RFC 8785 (JCS) encoding of `obj`, a JSON value or a msgspec Struct: the one
    writer of canonical JSON. `plain`: the caller vouches that `obj` holds only what the fast
    path writes exactly (below), as a Struct whose field types admit nothing else does."""
    if plain:
        try:  # not contextlib.suppress, which costs a fifth of the encoding's time
            return _ENCODE_SORTED(obj)
        except ValueError:  # an unpaired surrogate: rfc8785 words the refusal
            pass
    if isinstance(obj, msgspec.Struct):
        obj = msgspec.to_builtins(obj)
    fast = _canonical_fast(obj)
    if fast is not None:
        return fast
    try:  # rfc8785 checks the value's types itself at run time
        return rfc8785.dumps(cast(Any, obj))
    except (rfc8785.CanonicalizationError, TypeError) as exc:
        raise EncodingError(f"cannot canonicalise value: {exc}") from exc


def parse_json(data: bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """Parse JSON strictly: UTF-8, unique keys, safe integers only, at most `max_depth` deep."""
    fast = _parse_json_fast(data, max_depth)
    if fast is not None:
        return fast
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EncodingError(f"JSON is not valid UTF-8: {exc}") from exc
    # Checked before parsing so that hostile nesting never reaches the recursive parser.
    structure = _STRING.sub("", text)
    if _max_depth(structure) > max_depth:
        raise EncodingError(f"JSON nesting is deeper than {max_depth} levels")
    try:
        obj = json.loads(
            text,
            parse_float=_reject_float,
            parse_int=_safe_int,
            parse_constant=_reject_constant,
        )
    except json.JSONDecodeError as exc:
        raise EncodingError(f"invalid JSON: {exc}") from exc
    # Each ":" outside strings is one object member: fewer keys parsed means a repeated key.
    # (The depth and the integers are checked already: only the count can differ here.)
    members = _safe_members(obj, max_depth) if type(obj) in (dict, list) else 0
    if members != structure.count(":"):
        json.loads(text, object_pairs_hook=_unique_object)  # raises, naming the key
    _check_unicode(text, obj)
    return obj


def _parse_json_fast(data: bytes, max_depth: int) -> dict[str, Any] | list[Any] | None:
    """What parse_json gives for `data` if it is a plain ASCII object or array; None: not sure."""
    # ASCII: no UTF-8 question. No \u escape: no surrogate question. msgspec then refuses what
    # json.loads refuses, and stops hostile nesting at the interpreter's recursion limit.
    # (Looking for a backslash first is a memchr, 30 times faster than looking for "\u".)
    if not data.isascii() or (b"\\" in data and b"\\u" in data):
        return None
    try:
        obj = _DECODE(data)
    except (msgspec.DecodeError, RecursionError, _NotPlain):
        return None
    if type(obj) is not dict and type(obj) is not list:
        return None
    # A ":" is a member written or sits in a string, and fewer members are parsed than written
    # iff a key repeats: equal counts mean neither, so the parsed nesting is the text's.
    return obj if _safe_members(obj, max_depth) == data.count(b":") else None


def _safe_members(obj: dict[str, Any] | list[Any], depth: int) -> int:
    """The members of the objects in `obj`; -1 if it is deeper than `depth` or holds an
    integer beyond ±(2**53-1)."""
    if depth <= 0:
        return -1
    values: Iterable[Any] = obj.values() if type(obj) is dict else obj
    members = len(obj) if type(obj) is dict else 0
    for value in values:
        kind = type(value)
        if kind is dict or kind is list:
            inner = _safe_members(value, depth - 1)
            if inner < 0:
                return -1
            members += inner
        elif kind is int and not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            return -1
    return members


def parse_canonical(data: bytes) -> dict[str, Any]:
    """Parse a JSON object that must already be in RFC 8785 canonical form."""
    obj = _parse_canonical_fast(data)
    if obj is not None:
        return obj
    obj = parse_json(data)
    if not isinstance(obj, dict):
        raise EncodingError(f"payload must be a JSON object, got {type(obj).__name__}")
    if canonical(obj) != data:
        raise EncodingError(
            "payload is not RFC 8785 canonical JSON (keys sorted, no whitespace, "
            "minimal escapes); encode it with an RFC 8785 library"
        )
    return obj


def b64encode(data: bytes) -> str:
    """Encode with the RFC 4648 §4 standard alphabet, padded."""
    # base64.b64encode is this call wrapped in Python; the wrapper costs as much as the work.
    return binascii.b2a_base64(data, newline=False).decode("ascii")


def b64decode(text: str) -> bytes:
    """Decode RFC 4648 §4 base64 strictly: standard alphabet, padding, no stray bits."""
    try:
        data = binascii.a2b_base64(text, strict_mode=True)
    except (binascii.Error, ValueError):
        pass
    else:
        # Strict decoding leaves two freedoms, padding after whole quanta and the unused low
        # bits of the last symbol: without them the spelling is the only one (the same test
        # as encoding back to the same text, tests/property/test_base64_fast.py).
        if len(text) % 4 == 0 and _unused_bits_clear(text):
            return data
    if len(text) % 4 != 0 or not _BASE64.fullmatch(text):
        raise EncodingError(f"not padded standard base64: {_preview(text)}")
    try:
        data = base64.b64decode(text, validate=True)
    except binascii.Error as exc:
        raise EncodingError(f"not padded standard base64: {_preview(text)}") from exc
    # Non-zero trailing bits decode fine but give a second spelling of the same bytes.
    if b64encode(data) != text:
        raise EncodingError(f"base64 is not in canonical form: {_preview(text)}")
    return data


# The symbols whose value has its low 4 (before "==") or low 2 (before "=") bits clear.
_LOW_4_CLEAR = frozenset("AQgw")
_LOW_2_CLEAR = frozenset("AEIMQUYcgkosw048")


def _unused_bits_clear(text: str) -> bool:
    if text[-2:] == "==":
        return text[-3] in _LOW_4_CLEAR
    if text[-1:] == "=":
        return text[-2] in _LOW_2_CLEAR
    return True


def sha256(data: bytes) -> bytes:
    """Return the SHA-256 digest of `data`."""
    return hashlib.sha256(data).digest()


# The fast paths. On dicts with ASCII keys, lists, strings, integers within ±(2**53-1),
# booleans and null, msgspec's sorted encoder writes the RFC 8785 bytes (the same escapes and
# integers; UTF-8 order is UTF-16 order for ASCII keys); anything else goes to rfc8785.
# tests/property/test_canonical_fast.py and test_msgspec_parity.py hold it to rfc8785.


class _NotPlain(Exception):
    pass


def _not_plain(text: str) -> None:
    raise _NotPlain(text)


# On ASCII, msgspec reads as json.loads does, floats refused, except that it refuses unpaired
# surrogate escapes and reads past trailing whitespace (tests/property/test_msgspec_parity.py).
# Integers beyond 64 bits become Python ints up to 4300 digits; longer ones are refused.
_DECODE = msgspec.json.Decoder(float_hook=_not_plain).decode
_ENCODE_SORTED = msgspec.json.Encoder(order="sorted").encode


def _canonical_fast(obj: object) -> bytes | None:
    if not _plain(obj):
        return None
    try:
        return _ENCODE_SORTED(obj)
    except UnicodeEncodeError:  # an unpaired surrogate
        return None


def _plain(obj: object) -> bool:
    kind = type(obj)
    if kind is dict:
        return all(
            type(key) is str and key.isascii() and _plain(value)
            for key, value in obj.items()  # type: ignore[attr-defined]
        )
    if kind is list or kind is tuple:
        return all(_plain(value) for value in obj)  # type: ignore[attr-defined]
    if kind is int:
        return -MAX_SAFE_INTEGER <= obj <= MAX_SAFE_INTEGER  # type: ignore[operator]
    return kind is str or kind is bool or obj is None


def _parse_canonical_fast(data: bytes) -> dict[str, Any] | None:
    """The object `data` encodes if `data` is plainly canonical; None means "not sure"."""
    # msgspec runs no hook per integer: _plain checks them after reading. Long integers cost
    # msgspec ~25 ns a byte, less than the strict path spends on a byte of small integers.
    # Re-encoding gives back the same bytes only if the keys were unique and sorted, nothing
    # was escaped needlessly and no surrogate was escaped (_scan_object refuses those anyway).
    obj = _scan_object(data)
    return obj if obj is not None and _canonical_fast(obj) == data else None


def _scan_object(data: bytes) -> dict[str, Any] | None:
    """The object `data` holds if it is ASCII JSON, an object, at most MAX_DEPTH deep, without
    floats; None means "not sure". Its spelling and the size of its integers are not checked:
    if canonical(obj) == data, parse_canonical(data) gives `obj`."""
    # Ending in "}": msgspec skips trailing whitespace, which the json scanner left unread.
    if not data.isascii() or data[:1] != b"{" or data[-1:] != b"}":
        return None
    # There are no deeper levels than openers; only count properly when there are many.
    openers = data.count(b"{") + data.count(b"[")
    if openers > MAX_DEPTH and _max_depth(_STRING.sub("", data.decode("ascii"))) > MAX_DEPTH:
        return None
    try:
        obj = _DECODE(data)
    # Invalid JSON and integers of more than 4300 digits are a DecodeError, floats _NotPlain.
    except (msgspec.DecodeError, RecursionError, _NotPlain):
        return None
    return obj if type(obj) is dict else None


def _max_depth(structure: str) -> int:
    depth = deepest = 0
    for bracket in _NOT_BRACKET.sub("", structure):
        if bracket in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise EncodingError(f"duplicate object key {key!r}")
        obj[key] = value
    return obj


def _reject_float(text: str) -> None:
    raise EncodingError(f"number {text} is not an integer; only integers are allowed")


def _reject_constant(text: str) -> None:
    raise EncodingError(f"{text} is not valid JSON")


def _safe_int(text: str) -> int:
    # Length first: converting a million-digit string would itself be the attack.
    value = int(text) if len(text) <= 17 else MAX_SAFE_INTEGER + 1
    if abs(value) > MAX_SAFE_INTEGER:
        raise EncodingError(f"integer {text[:20]} is outside ±(2**53-1)")
    return value


def _check_unicode(text: str, obj: object) -> None:
    # json.loads lets an unpaired \ud800 escape through; it is not a Unicode string.
    if not _SURROGATE_ESCAPE.search(text):
        return
    try:
        json.dumps(obj, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise EncodingError("JSON string contains an unpaired surrogate escape") from exc


def _preview(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:40] + "...")
