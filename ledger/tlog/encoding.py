"""Canonical JSON (RFC 8785), strict JSON parsing, strict base64 and SHA-256."""

import base64
import binascii
import hashlib
import json
import re
from typing import Any, cast

import rfc8785

from ledger.tlog.errors import EncodingError

MAX_DEPTH = 32
# I-JSON (RFC 7493 §2.2): integers beyond this lose precision in other JSON stacks.
MAX_SAFE_INTEGER = 2**53 - 1

# Strings are skipped whole so that brackets inside them do not count towards depth.
_DEPTH_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)
_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")


def canonical(obj: object) -> bytes:
    """Return the RFC 8785 (JCS) encoding of `obj`."""
    try:
        # rfc8785 checks the value's types itself at run time.
        return rfc8785.dumps(cast(Any, obj))
    except (rfc8785.CanonicalizationError, TypeError) as exc:
        raise EncodingError(f"cannot canonicalise value: {exc}") from exc


def parse_json(data: bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """Parse JSON strictly: UTF-8, unique keys, safe integers only, at most `max_depth` deep."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EncodingError(f"JSON is not valid UTF-8: {exc}") from exc
    # Checked before parsing so that hostile nesting never reaches the recursive parser.
    _check_depth(text, max_depth)
    try:
        obj = json.loads(
            text,
            object_pairs_hook=_unique_object,
            parse_float=_reject_float,
            parse_int=_safe_int,
            parse_constant=_reject_constant,
        )
    except json.JSONDecodeError as exc:
        raise EncodingError(f"invalid JSON: {exc}") from exc
    _check_unicode(obj)
    return obj


def parse_canonical(data: bytes) -> dict[str, Any]:
    """Parse a JSON object that must already be in RFC 8785 canonical form."""
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
    return base64.b64encode(data).decode("ascii")


def b64decode(text: str) -> bytes:
    """Decode RFC 4648 §4 base64 strictly: standard alphabet, padding, no stray bits."""
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


def sha256(data: bytes) -> bytes:
    """Return the SHA-256 digest of `data`."""
    return hashlib.sha256(data).digest()


def _check_depth(text: str, max_depth: int) -> None:
    depth = 0
    for match in _DEPTH_TOKEN.finditer(text):
        token = match.group()
        if token in ("[", "{"):
            depth += 1
            if depth > max_depth:
                raise EncodingError(f"JSON nesting is deeper than {max_depth} levels")
        elif token in ("]", "}"):
            depth -= 1


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


def _check_unicode(obj: object) -> None:
    # json.loads lets an unpaired \ud800 escape through; it is not a Unicode string.
    try:
        json.dumps(obj, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise EncodingError("JSON string contains an unpaired surrogate escape") from exc


def _preview(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:40] + "...")
