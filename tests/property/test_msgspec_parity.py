"""msgspec in the fast paths of ledger.tlog.encoding, against rfc8785 and the json module.

msgspec's sorted encoder must write rfc8785's bytes for every plain value (every ASCII
character tried, in strings and in keys), so that the fast canonical gives only the canonical
bytes; _scan_object must read what json's C scanner read, or say "not sure" where that reading
was never accepted; the fast parse_json must give what the strict parse_json gives, and take
exactly the texts it is meant to take.
"""

import json
import random
from _json import make_scanner
from collections.abc import Callable
from typing import Any
from unittest import mock

import msgspec
import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.tlog import encoding
from ledger.tlog.encoding import (
    MAX_DEPTH,
    MAX_SAFE_INTEGER,
    parse_json,
)
from ledger.tlog.errors import EncodingError
from tests.property.test_canonical_fast import _edits, _objects, _spellings, _values

ASCII = [chr(code) for code in range(128)]

# --- msgspec's sorted encoder against rfc8785 ---------------------------------------------


@pytest.mark.parametrize("char", ASCII, ids=lambda char: f"{ord(char):#04x}")
def test_sorted_msgspec_writes_rfc8785_bytes_for_every_ascii_character(char: str) -> None:
    for text in (char, f"a{char}", f"{char}z", char * 3):
        value = {text: [text, {text: text, "": 0}]}
        assert encoding._ENCODE_SORTED(value) == rfc8785.dumps(value)


def test_sorted_msgspec_orders_every_ascii_key_of_up_to_two_characters_as_rfc8785() -> None:
    # 16,513 keys, prefixes of each other included ("a" before "a\x00"), in three orders.
    keys = ["", *ASCII, *(a + b for a in ASCII for b in ASCII)]
    shuffled = keys[:]
    random.Random(0).shuffle(shuffled)
    for order in (keys, keys[::-1], shuffled):
        value = dict.fromkeys(order, 0)
        assert encoding._ENCODE_SORTED(value) == rfc8785.dumps(value)


_ascii_text = st.text(alphabet=st.sampled_from(ASCII), max_size=10)
_safe_ints = st.one_of(
    st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER),
    st.sampled_from([0, -1, 2**31, 2**32, MAX_SAFE_INTEGER, -MAX_SAFE_INTEGER, 10**15]),
)
_plain_values = st.recursive(
    st.none() | st.booleans() | _safe_ints | _ascii_text,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(_ascii_text, inner, max_size=5),
    max_leaves=30,
)


@settings(max_examples=600, deadline=None)
@given(_plain_values)
def test_sorted_msgspec_writes_rfc8785_bytes_for_plain_ascii_values(value: object) -> None:
    assert encoding._ENCODE_SORTED(value) == rfc8785.dumps(value)  # type: ignore[arg-type]


@settings(max_examples=600, deadline=None)
@given(st.data(), _values)
def test_the_fast_canonical_writes_only_the_rfc8785_bytes(
    data: st.DataObject, value: object
) -> None:
    obj = {"v": value, "w": [value]}
    fast = encoding._canonical_fast(obj)
    if fast is None:  # not plain, or an unpaired surrogate: rfc8785 decides
        assert not encoding._plain(obj) or _has_unpaired_surrogate(obj)
        return
    # Non-ASCII strings included: msgspec's bytes are rfc8785's, and no other spelling is.
    expected = rfc8785.dumps(obj)
    assert fast == expected
    spelled = data.draw(_spellings(obj))
    assert (fast == spelled) == (spelled == expected)


# --- _scan_object against json's C scanner -------------------------------------------------


class _Refused(Exception):
    pass


def _refuse(text: str) -> None:
    raise _Refused(text)


_JSON_SCAN = make_scanner(json.JSONDecoder(parse_float=_refuse, parse_constant=_refuse))


def _json_scan_object(data: bytes) -> dict[str, Any] | None:
    """_scan_object as it was, with json's C scanner (int() refuses 4,301 digits and more)."""
    if not data.isascii() or data[:1] != b"{":
        return None
    text = data.decode("ascii")
    if encoding._max_depth(encoding._STRING.sub("", text)) > MAX_DEPTH:
        return None
    try:
        obj, end = _JSON_SCAN(text, 0)
    except (ValueError, StopIteration, _Refused):
        return None
    return obj if end == len(text) and type(obj) is dict else None


def _json_encodes_to(obj: dict[str, Any], data: bytes) -> bool:
    """encodes_to as it was, with json's C encoder."""
    try:
        text = json.dumps(
            obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )
        return text == data.decode("ascii")
    except ValueError:
        return False


def _has_unpaired_surrogate(obj: object) -> bool:
    try:
        json.dumps(obj, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _assert_scans_alike(data: bytes) -> None:
    new, old = encoding._scan_object(data), _json_scan_object(data)
    if new is None and old is not None:
        # The one difference: msgspec refuses an unpaired surrogate escape, which json read
        # into a string that its encoder could never write back as the ASCII text.
        assert _has_unpaired_surrogate(old), data
        assert not _json_encodes_to(old, data)
        return
    assert repr(new) == repr(old), data  # repr: key order, and True is not 1
    if new is not None and old is not None:
        # None: the fast writer declines (an integer beyond ±(2**53 - 1)), and rfc8785 decides.
        fast = encoding._canonical_fast(new)
        if fast is not None:
            assert (fast == data) == _json_encodes_to(old, data), data


# Each template takes any one ASCII character where "%s" stands.
_TEMPLATES = [
    b'{"a":"x%sy"}',  # raw in a string
    b'{"x%sy":1}',  # raw in a key
    b'{"a":"\\%s"}',  # escaped
    b'{"a":"\\%s0041"}',
    b'{%s"a"%s:%s[%s1%s,%s2%s]%s}',  # between tokens
    b'{"a":1%s}',
    b'{"a":%s1}',
    b'{"a":-%s}',
    b'{"a":t%srue}',
    b'{"a":1}%s',
    b'%s{"a":1}',
    b'{"a":{}%s}',
]
_ESCAPES = [f"\\u{code:04x}".encode() for code in range(128)] + [
    b"\\u00E9",
    b"\\u2028",
    b"\\u202e",
    b"\\u200b",
    b"\\ufeff",
    b"\\uffff",
    b"\\ud800",
    b"\\udbff",
    b"\\udc00",
    b"\\uDFFF",
    b"\\ud83d\\ude00",
    b"\\ude00\\ud83d",
    b"\\ud83da",
    b"\\ud83d\\u0061",
    b"\\u00",
    b"\\u12g4",
]


@pytest.mark.parametrize("template", _TEMPLATES, ids=lambda t: t.decode())
def test_scan_object_reads_every_ascii_character_as_the_json_scanner(template: bytes) -> None:
    for char in ASCII:
        _assert_scans_alike(template.replace(b"%s", char.encode()))


@pytest.mark.parametrize("escape", _ESCAPES, ids=lambda e: e.decode())
def test_scan_object_reads_every_u_escape_as_the_json_scanner(escape: bytes) -> None:
    _assert_scans_alike(b'{"a":"' + escape + b'"}')
    _assert_scans_alike(b'{"' + escape + b'":"' + escape + b'x"}')


@settings(max_examples=600, deadline=None)
@given(_objects)
def test_scan_object_reads_every_canonical_object_as_the_json_scanner(
    obj: dict[str, Any],
) -> None:
    try:
        data = rfc8785.dumps(obj)
    except rfc8785.CanonicalizationError:
        return
    _assert_scans_alike(data)
    _assert_scans_alike(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode())


@settings(max_examples=600, deadline=None)
@given(st.data(), _objects, _edits)
def test_scan_object_reads_any_spelling_as_the_json_scanner(
    data: st.DataObject, obj: dict[str, Any], edit: Any
) -> None:
    _assert_scans_alike(edit(data.draw(_spellings(obj))))


_junk = st.binary(min_size=1, max_size=3) | st.sampled_from(
    [b" ", b"\\", b'"', b":", b",", b"{", b"}", b"[", b"]", b"\\u", b"\\ud800", b"1.", b"e5"]
)


@settings(max_examples=600, deadline=None)
@given(_objects, _junk, st.data())
def test_scan_object_reads_a_spliced_text_as_the_json_scanner(
    obj: dict[str, Any], junk: bytes, data: st.DataObject
) -> None:
    text = json.dumps(obj, sort_keys=True, separators=(",", ":")).encode("utf-8", "surrogatepass")
    at = data.draw(st.integers(0, len(text)))
    cut = data.draw(st.integers(0, 3))
    _assert_scans_alike(text[:at] + junk + text[at + cut :])


# --- the fast parse_json against the strict one ----------------------------------------------


def _outcome(data: bytes, max_depth: int) -> str:
    try:
        return repr(parse_json(data, max_depth=max_depth))
    except EncodingError as exc:
        return f"EncodingError: {exc}"


def _strict_outcome(data: bytes, max_depth: int) -> str:
    """parse_json as it was before the fast path."""
    with mock.patch.object(encoding, "_parse_json_fast", lambda *_: None):
        return _outcome(data, max_depth)


def _assert_parses_alike(data: bytes, max_depth: int = MAX_DEPTH) -> None:
    strict = _strict_outcome(data, max_depth)
    fast = encoding._parse_json_fast(data, max_depth)
    if fast is not None:
        assert repr(fast) == strict, data
    assert _outcome(data, max_depth) == strict, data
    # And it takes what it is meant to take: every accepted ASCII array or object without a
    # \u escape whose only ":" are its members (no repeated key, no ":" in a string).
    try:
        obj = parse_json(data, max_depth=max_depth)
    except EncodingError:
        return
    meant = (
        data.isascii()
        and b"\\u" not in data
        and type(obj) in (dict, list)
        and _members(obj) == data.count(b":")
    )
    assert (fast is not None) == meant, data


def _members(obj: object) -> int:
    """The members of the objects in `obj`, counted plainly (the oracle of the fast count)."""
    if type(obj) is dict:
        return len(obj) + sum(_members(value) for value in obj.values())
    if type(obj) is list:
        return sum(_members(value) for value in obj)
    return 0


@pytest.mark.parametrize(
    "template",
    [*_TEMPLATES, b"%s[1]", b"[1]%s", b"[%s]", b'["%s"]', b'["\\%s"]', b"%s", b"[1%s2]"],
    ids=lambda t: t.decode(),
)
def test_fast_parse_json_reads_every_ascii_character_as_the_strict_path(template: bytes) -> None:
    for char in ASCII:
        _assert_parses_alike(template.replace(b"%s", char.encode()))


@pytest.mark.parametrize("escape", _ESCAPES, ids=lambda e: e.decode())
def test_fast_parse_json_leaves_every_u_escape_to_the_strict_path(escape: bytes) -> None:
    _assert_parses_alike(b'{"a":"' + escape + b'"}')
    assert encoding._parse_json_fast(b'{"a":"' + escape + b'"}', MAX_DEPTH) is None


_numbers = st.one_of(
    st.integers(),
    st.integers(-(2**70), 2**70),
    st.sampled_from([MAX_SAFE_INTEGER, MAX_SAFE_INTEGER + 1, -MAX_SAFE_INTEGER - 1, 2**63, 2**64]),
    st.sampled_from([-(2**63), -(2**63) - 1, 2**64 - 1, 10**30, -0]),
    st.floats(),
)
_strings = st.text(max_size=8) | st.text(
    alphabet=st.sampled_from('ab:"\\/\x00\x1f\x7f\u2028é\U0001f600\u202e\u200b\u2066\ufeff'),
    max_size=6,
)
_json_values = st.recursive(
    st.none() | st.booleans() | _numbers | _strings,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_strings, inner, max_size=4),
    max_leaves=20,
)
_Edit = Callable[[bytes, int], bytes]
_text_edits: st.SearchStrategy[_Edit] = st.sampled_from(
    [
        lambda d, n: d,
        lambda d, n: b"[" * n + d + b"]" * n,
        lambda d, n: b'{"k":' * n + d + b"}" * n,
        lambda d, n: b'{"k":1,"k":' + d + b"}",
        lambda d, n: b'[{"a":[],"a":[]},' + d + b"]",
        lambda d, n: b'{"a:b":' + d + b"}",
        lambda d, n: b" \t\n\r" + d + b"\r\n",
        lambda d, n: b"[" + d + b"," + str(2**64).encode() + b"]",
        lambda d, n: b"[" + d + b",1.5]",
        lambda d, n: b"[" + d + b',"' + b"9" * n * 200 + b'"]',
        lambda d, n: d.replace(b'"', b'"\\u0061', 1),
        lambda d, n: d.replace(b'"', b'"\\ud800', 1),
        lambda d, n: d.replace(b'"', b'"\\n\\/\\"', 1),
        lambda d, n: d.replace(b"[", b"[" * n, 1).replace(b"]", b"]" * n, 1),
        lambda d, n: d.replace(b":", b": ", 1),
        lambda d, n: d + b"x",
        lambda d, n: d[:-1],
        lambda d, n: d + b"{}",
    ]
)
_spelled = st.builds(
    lambda value, ascii_only, indent, separators: json.dumps(
        value, ensure_ascii=ascii_only, indent=indent, separators=separators
    ).encode("utf-8", "surrogatepass"),
    _json_values,
    st.booleans(),
    st.sampled_from([None, 1]),
    st.sampled_from([(",", ":"), (", ", ": ")]),
)


@settings(max_examples=1500, deadline=None)
@given(_spelled, _text_edits, st.integers(0, 40), st.sampled_from([MAX_DEPTH, 0, 1, 2, 3, 8]))
def test_fast_parse_json_gives_what_the_strict_path_gives(
    text: bytes, edit: _Edit, n: int, max_depth: int
) -> None:
    _assert_parses_alike(edit(text, n), max_depth)


_jsonish = st.lists(
    st.sampled_from(["[", "]", "{", "}", '"', "\\", ":", ",", "1", "-0", "1e5", "0.5", "true"])
    | st.sampled_from(["null", "NaN", '"a"', '"a:b"', '"\\ud800"', " ", "\t", "\x00", "é"]),
    max_size=60,
).map(lambda parts: "".join(parts).encode())


@settings(max_examples=1500, deadline=None)
@given(_jsonish | st.binary(max_size=60), st.sampled_from([MAX_DEPTH, 1, 3]))
def test_fast_parse_json_reads_jsonish_bytes_as_the_strict_path(data: bytes, depth: int) -> None:
    _assert_parses_alike(data, depth)


def test_fast_parse_json_takes_a_batch_body() -> None:
    envelope = {"payload": "eyJ9", "payloadType": "application/x+json", "signatures": []}
    body = json.dumps({"envelopes": [envelope] * 3, "n": -MAX_SAFE_INTEGER}).encode()
    assert encoding._parse_json_fast(body, MAX_DEPTH) == json.loads(body)


# --- what msgspec itself does, which the guards above rely on --------------------------------


def test_msgspec_reads_integers_beyond_64_bits_up_to_4300_digits() -> None:
    assert encoding._DECODE(b"[18446744073709551616,-9223372036854775809]") == [
        2**64,
        -(2**63) - 1,
    ]
    assert encoding._DECODE(b"[" + b"9" * 4300 + b"]") == [10**4300 - 1]
    with pytest.raises(msgspec.ValidationError):
        encoding._DECODE(b"[" + b"9" * 4301 + b"]")


def test_msgspec_keeps_the_last_of_repeated_keys_where_json_does() -> None:
    data = b'{"a":1,"b":2,"a":3}'
    assert repr(encoding._DECODE(data)) == repr(json.loads(data))


def test_msgspec_reads_past_trailing_whitespace_only() -> None:
    assert encoding._DECODE(b' {"a":1} \t\r\n') == {"a": 1}
    for junk in (b"x", b"\x0b", b"\x0c", b"\x00", b"{}"):
        with pytest.raises(msgspec.DecodeError):
            encoding._DECODE(b'{"a":1}' + junk)


@pytest.mark.parametrize("escape", [b"\\ud800", b"\\udc00", b"\\ud83da", b"\\ude00\\ud83d"])
def test_msgspec_refuses_unpaired_surrogate_escapes(escape: bytes) -> None:
    with pytest.raises(msgspec.DecodeError):
        encoding._DECODE(b'["' + escape + b'"]')


@pytest.mark.parametrize("number", [b"NaN", b"Infinity", b"-Infinity", b"1.0", b"1e3", b"1E+2"])
def test_msgspec_reads_no_float_nan_or_infinity(number: bytes) -> None:
    with pytest.raises((msgspec.DecodeError, encoding._NotPlain)):
        encoding._DECODE(b"[" + number + b"]")


@pytest.mark.parametrize(("opener", "closer"), [(b"[", b"]"), (b'{"a":', b"}")])
def test_msgspec_stops_hostile_nesting_with_recursion_error(opener: bytes, closer: bytes) -> None:
    for depth in (100_000, 1_000_000):
        with pytest.raises(RecursionError):
            encoding._DECODE(opener * depth)
        with pytest.raises(RecursionError):
            encoding._DECODE(opener * depth + b"1" + closer * depth)
