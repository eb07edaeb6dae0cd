"""Canonical JSON, strict JSON parsing and strict base64."""

import json

import pytest

from ledger.tlog import encoding
from ledger.tlog.encoding import (
    MAX_DEPTH,
    b64decode,
    b64encode,
    canonical,
    parse_canonical,
    parse_json,
    sha256,
)
from ledger.tlog.errors import EncodingError
from tests.vectors import vector_path

JCS_NAMES = ["arrays", "french", "structures", "unicode", "values", "weird"]
# These inputs hold floats (56.0, 4.50, 1E30...): canonical() encodes them as RFC 8785
# says, but the ledger's own parsers refuse any non-integer number.
JCS_WITH_FLOATS = {"structures", "values"}


def _jcs(kind: str, name: str) -> bytes:
    return vector_path("jcs", kind, f"{name}.json").read_bytes()


def test_jcs_vectors_are_all_found() -> None:
    assert sorted(path.stem for path in vector_path("jcs", "input").glob("*.json")) == JCS_NAMES


@pytest.mark.parametrize("name", JCS_NAMES)
def test_canonical_matches_jcs_output(name: str) -> None:
    assert canonical(json.loads(_jcs("input", name))) == _jcs("output", name)


@pytest.mark.parametrize("name", sorted(set(JCS_NAMES) - JCS_WITH_FLOATS))
def test_parse_json_reads_jcs_input_without_floats(name: str) -> None:
    assert canonical(parse_json(_jcs("input", name))) == _jcs("output", name)


@pytest.mark.parametrize("name", sorted(JCS_WITH_FLOATS))
def test_parse_json_rejects_jcs_input_with_floats(name: str) -> None:
    with pytest.raises(EncodingError, match="not an integer"):
        parse_json(_jcs("input", name))


@pytest.mark.parametrize("name", ["french", "unicode", "weird", "structures"])
def test_parse_canonical_accepts_jcs_output_objects(name: str) -> None:
    data = _jcs("output", name)
    assert parse_canonical(data) == json.loads(data)


def test_parse_canonical_rejects_jcs_output_with_floats() -> None:
    with pytest.raises(EncodingError, match="not an integer"):
        parse_canonical(_jcs("output", "values"))


def test_parse_canonical_rejects_array() -> None:
    with pytest.raises(EncodingError, match="must be a JSON object"):
        parse_canonical(_jcs("output", "arrays"))


@pytest.mark.parametrize(
    "data",
    [b'{"b":1,"a":2}', b'{"a": 1}', b'{"a":1}\n', b' {"a":1}', b'{"a":"\\u0041"}', b'{"a":-0}'],
    ids=["key-order", "whitespace", "trailing-newline", "leading-space", "escape", "minus-zero"],
)
def test_parse_canonical_rejects_non_canonical_encoding(data: bytes) -> None:
    with pytest.raises(EncodingError, match="not RFC 8785 canonical"):
        parse_canonical(data)


@pytest.mark.parametrize(
    "data", [b"1.0", b"[1e5]", b'{"a":-0.5}', b"1E3", b"0.1"], ids=lambda d: d.decode()
)
def test_parse_json_rejects_float(data: bytes) -> None:
    with pytest.raises(EncodingError, match="not an integer"):
        parse_json(data)


@pytest.mark.parametrize("data", [b"NaN", b"[Infinity]", b'{"a":-Infinity}'])
def test_parse_json_rejects_nan_and_infinity(data: bytes) -> None:
    with pytest.raises(EncodingError, match="not valid JSON"):
        parse_json(data)


def test_parse_json_rejects_duplicate_key() -> None:
    with pytest.raises(EncodingError, match="duplicate object key 'a'"):
        parse_json(b'{"x":[{"a":1,"a":1}]}')


def test_parse_json_accepts_depth_32() -> None:
    assert parse_json(b"[" * MAX_DEPTH + b"]" * MAX_DEPTH) is not None


def test_parse_json_rejects_depth_33() -> None:
    with pytest.raises(EncodingError, match="deeper than 32"):
        parse_json(b'{"a":' * 33 + b"1" + b"}" * 33)


@pytest.mark.parametrize("opener", [b"[", b'{"a":'])
def test_parse_json_rejects_million_deep_nesting_without_crashing(opener: bytes) -> None:
    with pytest.raises(EncodingError, match="deeper than 32"):
        parse_json(opener * 1_000_000)


def test_parse_json_does_not_count_brackets_inside_strings() -> None:
    assert parse_json(b'["[[[[' + b"[" * 100 + b'\\"{"]') == ["[[[[" + "[" * 100 + '"{']


def test_parse_json_honours_max_depth_argument() -> None:
    with pytest.raises(EncodingError, match="deeper than 2"):
        parse_json(b"[[[]]]", max_depth=2)


@pytest.mark.parametrize("value", [2**53, -(2**53), 10**400])
def test_parse_json_rejects_integer_beyond_2_53(value: int) -> None:
    with pytest.raises(EncodingError, match="outside"):
        parse_json(str(value).encode())


@pytest.mark.parametrize("value", [2**53, -(2**53), 2**64, -(2**63) - 1, 10**400])
def test_parse_json_rejects_integer_beyond_2_53_inside_a_container(value: int) -> None:
    with pytest.raises(EncodingError, match="outside"):
        parse_json(b'{"a":[%d]}' % value)


def test_parse_canonical_rejects_canonical_integer_beyond_2_53() -> None:
    with pytest.raises(EncodingError, match="outside"):
        parse_canonical(b'{"a":9007199254740992}')


def test_parse_json_reads_colons_inside_strings() -> None:
    assert parse_json(b'{"a:b":["c:d"],"e":"f"}') == {"a:b": ["c:d"], "e": "f"}


def test_parse_json_rejects_duplicate_key_with_container_values() -> None:
    with pytest.raises(EncodingError, match="duplicate object key 'a'"):
        parse_json(b'[{"a":[],"a":{}}]')


def test_parse_json_accepts_largest_safe_integers() -> None:
    assert parse_json(b"[9007199254740991,-9007199254740991]") == [2**53 - 1, -(2**53 - 1)]


@pytest.mark.parametrize(
    "data",
    [b'{"a":"\xff"}', b'\xef\xbb\xbf{"a":1}', b'{"a":"\\ud800"}', b'{"a":1', b""],
    ids=["invalid-utf8", "bom", "lone-surrogate", "truncated", "empty"],
)
def test_parse_json_rejects_malformed_input(data: bytes) -> None:
    with pytest.raises(EncodingError):
        parse_json(data)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b'{"a":1} ', id="trailing-space"),
        pytest.param(b'{"a":1}\n', id="trailing-newline"),
        pytest.param(b' {"a":1}', id="leading-space"),
        pytest.param(b"[1]", id="array"),
        pytest.param(b"1", id="number"),
        pytest.param(b'{"a":1.5}', id="float"),
        pytest.param(b'{"a":NaN}', id="nan"),
        pytest.param(b'{"a":"\\ud800"}', id="lone-surrogate"),
        pytest.param(b'{"a":' * 33 + b"1" + b"}" * 33, id="depth-33"),
        pytest.param(b'{"a":"\xc3\xa9"}', id="non-ascii"),
    ],
)
def test_scan_object_gives_none_when_not_sure(data: bytes) -> None:
    assert encoding._scan_object(data) is None


def test_scan_object_reads_depth_32() -> None:
    assert encoding._scan_object(b'{"a":' * 32 + b"1" + b"}" * 32) is not None


@pytest.mark.parametrize(
    ("obj", "data"),
    [
        ({"a": 1, "b": 2}, b'{"b":2,"a":1}'),
        ({"a": "A"}, b'{"a":"\\u0041"}'),
        ({"a": "/"}, b'{"a":"\\/"}'),
        ({"a": 1}, b'{"a": 1}'),
        ({"a": "\xe9"}, b'{"a":"\\u00e9"}'),
    ],
    ids=["unsorted", "needless-escape", "escaped-solidus", "whitespace", "escaped-non-ascii"],
)
def test_the_fast_canonical_is_no_other_spelling(obj: dict[str, object], data: bytes) -> None:
    assert encoding._canonical_fast(obj) != data
    assert encoding._canonical_fast(obj) == canonical(obj)


def test_canonical_rejects_values_outside_json() -> None:
    with pytest.raises(EncodingError):
        canonical({"a": float("nan")})
    with pytest.raises(EncodingError):
        canonical({"a": object()})


def test_canonical_sorts_keys_by_utf16_code_units() -> None:
    # U+1F600 is the surrogate pair D83D DE00, which sorts before U+FB33.
    assert canonical({"\ufb33": 2, "\U0001f600": 1}) == '{"\U0001f600":1,"\ufb33":2}'.encode()


@pytest.mark.parametrize("data", [b"", b"f", b"fo", b"foo", bytes(range(256))])
def test_b64_round_trip(data: bytes) -> None:
    assert b64decode(b64encode(data)) == data


def test_b64encode_uses_standard_alphabet_with_padding() -> None:
    assert b64encode(b"\xfb\xff") == "+/8="


@pytest.mark.parametrize(
    "text",
    ["-_8=", "+/8", "Zm9v\n", "Zm 9v", " Zm9v", "Zm9=", "QR==", "Zg===", "Zg==Zg==", "Zm9vé==="],
    ids=[
        "url-safe-alphabet",
        "missing-padding",
        "trailing-newline",
        "inner-space",
        "leading-space",
        "trailing-bits-one-pad",
        "trailing-bits-two-pad",
        "excess-padding",
        "padding-inside",
        "non-ascii",
    ],
)
def test_b64decode_rejects_non_strict_base64(text: str) -> None:
    with pytest.raises(EncodingError):
        b64decode(text)


def test_sha256_of_empty_input() -> None:
    assert sha256(b"").hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
