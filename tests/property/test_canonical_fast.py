"""The C-encoder fast paths of ledger.tlog.encoding against rfc8785 and the strict parser.

`canonical` must give rfc8785's bytes (or its refusal) for every value; the fast
`parse_canonical` may only ever accept what the strict path accepts, with the same object.
"""

import json
from typing import Any

import pytest
import rfc8785
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ledger.tlog import encoding
from ledger.tlog.encoding import MAX_SAFE_INTEGER, canonical, parse_canonical, parse_json
from ledger.tlog.envelope import Envelope, Signature
from ledger.tlog.errors import EncodingError

# Keys and strings from all of Unicode, with ASCII and the awkward characters made likely.
_text = st.one_of(
    st.text(max_size=12),
    st.text(
        alphabet=st.sampled_from(
            'az"\\/\x00\x1f\x7f\u2028é\ue000\U0001f600\u202e\u200b\ufeff\U000e0041'
        ),
        max_size=8,
    ),
)
_ints = st.one_of(
    st.integers(-1000, 1000),
    st.integers(-MAX_SAFE_INTEGER - 3, MAX_SAFE_INTEGER + 3),
    st.sampled_from([MAX_SAFE_INTEGER, -MAX_SAFE_INTEGER, 10**15, 10**16]),
)
_scalars = st.one_of(st.none(), st.booleans(), _ints, _text)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_text, inner, max_size=4)),
    max_leaves=20,
)
_objects = st.dictionaries(_text, _values, max_size=5)


def _rfc8785(value: object) -> bytes | type[Exception]:
    try:
        return rfc8785.dumps(value)  # type: ignore[arg-type]
    except (rfc8785.CanonicalizationError, TypeError):
        return EncodingError


def _ours(value: object) -> bytes | type[Exception]:
    try:
        return canonical(value)
    except EncodingError:
        return EncodingError


def _strict_parse_canonical(data: bytes) -> Any:
    """The strict path alone, as parse_canonical was before the fast path."""
    obj = parse_json(data)
    if not isinstance(obj, dict) or rfc8785.dumps(obj) != data:
        raise EncodingError("not canonical")
    return obj


@settings(max_examples=400, deadline=None)
@given(_values)
def test_canonical_gives_rfc8785_bytes(value: object) -> None:
    assert _ours(value) == _rfc8785(value)


@settings(max_examples=100, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False), st.integers(0, 3))
def test_canonical_gives_rfc8785_bytes_for_floats(number: float, depth: int) -> None:
    value: object = number
    for _ in range(depth):
        value = {"k": [value, 1]}
    assert _ours(value) == _rfc8785(value)


@pytest.mark.parametrize("value", [{1: "a"}, {"a": {None: 1}}, {"a": [{True: 1}]}])
def test_canonical_refuses_keys_that_are_not_strings(value: object) -> None:
    with pytest.raises(EncodingError):
        canonical(value)


@settings(max_examples=400, deadline=None)
@given(_objects)
def test_parse_canonical_reads_back_every_canonical_object(obj: dict[str, Any]) -> None:
    data = _rfc8785(obj)
    if data is EncodingError:
        return
    assert isinstance(data, bytes)
    assert parse_canonical(data) == obj


def _spellings(obj: object) -> st.SearchStrategy[bytes]:
    """Many ways of writing `obj` as JSON, most of them not canonical."""
    return st.builds(
        lambda sort, ascii_only, separators: json.dumps(
            obj, sort_keys=sort, ensure_ascii=ascii_only, separators=separators
        ).encode("utf-8", "surrogatepass"),
        st.booleans(),
        st.booleans(),
        st.sampled_from([(",", ":"), (", ", ": "), (",", ": ")]),
    )


_edits = st.sampled_from(
    [
        lambda d: d,
        lambda d: d.replace(b"1", b"1.0", 1),
        lambda d: d.replace(b"1", b"1e0", 1),
        lambda d: d.replace(b"}", b',"a":1}', 1),
        lambda d: d.replace(b"{", b'{"a":1,"a":1,', 1),
        lambda d: d.replace(b"1", b"NaN", 1),
        lambda d: d.replace(b"1", b"12345678901234567", 1),
        lambda d: d.replace(b'"', b'"\\ud800', 1),
        lambda d: d.replace(b'"', b'"\\u0061', 1),
        lambda d: d.replace(b"[", b"[" * 40, 1).replace(b"]", b"]" * 40, 1),
        lambda d: d[:-1],
        lambda d: d + b" ",
    ]
)


@settings(max_examples=600, deadline=None)
@given(st.data(), _objects, _edits)
def test_fast_parse_accepts_only_what_the_strict_parse_accepts(
    data: st.DataObject, obj: dict[str, Any], edit: Any
) -> None:
    text = edit(data.draw(_spellings(obj)))
    fast = encoding._parse_canonical_fast(text)
    try:
        strict = _strict_parse_canonical(text)
    except EncodingError:
        assert fast is None
        with pytest.raises(EncodingError):
            parse_canonical(text)
        return
    if fast is not None:
        assert fast == strict
    assert parse_canonical(text) == strict


_integer_spellings = st.one_of(
    st.integers(-(2**70), 2**70).map(str),
    st.sampled_from([2**53 - 1, 2**53, 10**15, 10**16, 2**63, 2**64]).map(str),
    st.integers(1, 4400).map(lambda digits: "9" * digits),
    st.integers(1, 4400).map(lambda digits: "-" + "9" * digits),
)


@settings(max_examples=300, deadline=None)
@given(
    _integer_spellings,
    st.sampled_from(['{"a":%s}', '{"a":[1,%s]}', '{"a":{"b":%s},"c":"%s"}', '{"a":"%s"}']),
)
def test_fast_parse_refuses_every_integer_the_strict_parse_refuses(
    number: str, template: str
) -> None:
    text = template.replace("%s", number).encode()
    fast = encoding._parse_canonical_fast(text)
    try:
        strict = _strict_parse_canonical(text)
    except EncodingError:
        assert fast is None
        return
    assert fast == strict


def test_fast_parse_takes_plain_canonical_objects() -> None:
    data = b'{"a":[1,-2,true,false,null,{"b":"x\\n\\"y\\\\"}],"c":"ok"}'
    assert encoding._parse_canonical_fast(data) == parse_json(data)


@settings(max_examples=300, deadline=None)
@given(_text, _text, st.binary(max_size=40), st.binary(min_size=64, max_size=64))
def test_leaf_bytes_are_rfc8785_of_the_envelope(
    payload_type: str, keyid: str, payload: bytes, sig: bytes
) -> None:
    envelope = Envelope(payload_type, payload, (Signature(keyid, sig),))
    try:
        leaf: bytes | type[Exception] = envelope.leaf_bytes()
    except EncodingError:
        leaf = EncodingError
    assert leaf == _rfc8785(envelope.to_json())


def _has_repeated_key(text: bytes) -> bool:
    found = False

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal found
        found = found or len({key for key, _ in items}) != len(items)
        return dict(items)

    json.loads(text, object_pairs_hook=pairs)
    return found


_repeats = st.sampled_from(
    [
        lambda d: d,
        lambda d: d.replace(b"{", b'{"a:b":1,"a:b":2,', 1).replace(b",}", b"}"),
        lambda d: d.replace(b"}", b',"x":{"k":1,"k":1}}', 1).replace(b"{,", b"{"),
        lambda d: d.replace(b"{", b'{"k\\"":[{"a":1},{"a":1}],', 1).replace(b",}", b"}"),
    ]
)


@settings(max_examples=300, deadline=None)
@given(_objects, _repeats)
def test_parse_json_refuses_exactly_the_repeated_keys(obj: dict[str, Any], edit: Any) -> None:
    plain = json.dumps(obj).encode("utf-8", "surrogatepass")
    try:
        parse_json(plain)
    except EncodingError:
        assume(False)  # refused for another reason (a surrogate, a large integer)
    text = edit(plain)
    try:
        repeated = _has_repeated_key(text)
    except ValueError:  # the edit broke the JSON
        with pytest.raises(EncodingError):
            parse_json(text)
        return
    if repeated:
        with pytest.raises(EncodingError, match="duplicate object key"):
            parse_json(text)
    else:
        assert parse_json(text) == json.loads(text)
