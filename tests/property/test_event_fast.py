"""parse_event's fast path against the path it skips, on valid events and their mutations.

The fast path reads the payload without checking the size of its integers, and trusts the model to
refuse every float and every integer beyond ±(2**53-1): the first test holds the model to
that, the next hold parse_event to the old path (parse_canonical, then validation) for the
same event or the same refusal, word for word, and the last hold the reading itself.
"""

import json
import re
from collections.abc import Iterator
from typing import Any
from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.lots import events
from ledger.lots.events import InvalidEvent, parse_event
from ledger.lots.fields import absent_not_null, as_tuple
from ledger.tlog import encoding
from ledger.tlog.encoding import MAX_SAFE_INTEGER, canonical, parse_json
from ledger.tlog.errors import EncodingError
from tests.property.test_canonical_fast import _edits, _objects, _spellings
from tests.unit.test_events import SAMPLES


def _schemas(node: object) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if isinstance(node.get("type"), str):
            yield node
        for value in node.values():
            yield from _schemas(value)
    elif isinstance(node, list):
        for value in node:
            yield from _schemas(value)


def test_the_event_model_takes_no_number_but_bounded_integers() -> None:
    schemas = list(_schemas(events._EVENT.core_schema))
    kinds = {schema["type"] for schema in schemas}
    # Every kind that could take a float, a large integer or anything at all is absent.
    assert kinds <= {
        "tagged-union", "model", "model-fields", "model-field", "function-after", "no-info",
        "str", "dict", "literal", "function-before", "tuple", "int", "default", "nullable",
    }  # fmt: skip
    for schema in schemas:
        if schema["type"] == "int":
            assert schema["ge"] >= -MAX_SAFE_INTEGER and schema["le"] <= MAX_SAFE_INTEGER
            assert schema.get("strict") is not False
        if schema["type"] == "model":
            assert schema["config"]["strict"] is True
            assert schema["config"]["extra_fields_behavior"] == "forbid"
        if schema["type"] == "literal":
            assert all(type(value) is str for value in schema["expected"])
        if schema["type"] == "function-before":
            # Both pass a value on unchanged, or as a tuple of the same items.
            assert schema["function"]["function"] in (as_tuple, absent_not_null)


def _strict_parse_event(payload: bytes) -> object:
    """The outcome of parse_event as it was before the fast path."""
    with mock.patch.object(events, "scan_object", lambda _: None):
        return _outcome(payload)


def _outcome(payload: bytes) -> object:
    try:
        event = parse_event(payload)
    except InvalidEvent as exc:
        return (exc.code, exc.field, exc.value, exc.detail)
    # The class, the fields in order, and which fields were given.
    return (type(event), list(event.model_dump().items()), event.model_fields_set)


_NUMBER = re.compile(rb"(?<=[:\[,])-?[0-9]+")
_number_spellings = st.one_of(
    st.integers(-(2**60), 2**60).map(lambda n: str(n).encode()),
    st.sampled_from(
        [b"0", b"-0", b"1.0", b"1e3", b"1E3", b"1.5", b"-1", b"00", b"NaN", b"Infinity"]
        + [b"-Infinity", b"true", b"null", b'"1"', b"[1]", b"1" * 30, b"9" * 5000]
        + [str(n).encode() for n in (2**53 - 1, 2**53, 2**53 + 1, 10**15, 10**15 + 1)]
        + [str(n).encode() for n in (10**6, 10**6 + 1, -(2**53) + 1, -(2**53))]
    ),
)


@settings(max_examples=500, deadline=None)
@given(st.sampled_from(sorted(SAMPLES)), st.data())
def test_parse_event_with_any_number_respelled_matches_the_old_path(
    name: str, data: st.DataObject
) -> None:
    payload = canonical(SAMPLES[name])
    numbers = list(_NUMBER.finditer(payload))
    if numbers:
        number = numbers[data.draw(st.integers(0, len(numbers) - 1))]
        spelling = data.draw(_number_spellings)
        payload = payload[: number.start()] + spelling + payload[number.end() :]
    assert _outcome(payload) == _strict_parse_event(payload)


_payload_edits = st.sampled_from(
    [
        lambda d: d,
        lambda d: d.replace(b":", b": ", 1),
        lambda d: d.replace(b"}", b"} ", 1),
        lambda d: d.replace(b"{", b'{"actor":"x",', 1),
        lambda d: d.replace(b'"id"', b'"i\\u0064"', 1),
        # Format characters (Cf) in a free-text field, raw and escaped: refused alike.
        lambda d: d.replace(b'"ev-', '"\u202eev-'.encode(), 1),
        lambda d: d.replace(b'"ev-', '"ev-\u200b'.encode(), 1),
        lambda d: d.replace(b'"ev-', '"\U000e0041ev-'.encode(), 1),
        lambda d: d.replace(b'"ev-', b'"\\u2066ev-', 1),
        lambda d: d.replace(b'"', b'"\\ud800', 1),
        lambda d: json.dumps(json.loads(d)).encode(),
        lambda d: json.dumps(json.loads(d), separators=(",", ":")).encode(),
        lambda d: d.replace(b"[", b"[" * 40, 1).replace(b"]", b"]" * 40, 1),
        lambda d: d[:-1],
        lambda d: d + b"{}",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(SAMPLES)), _payload_edits)
def test_parse_event_of_a_respelled_payload_matches_the_old_path(name: str, edit: Any) -> None:
    payload = edit(canonical(SAMPLES[name]))
    assert _outcome(payload) == _strict_parse_event(payload)


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(sorted(SAMPLES)),
    st.sampled_from(["\u202e", "\u200b", "\u2066", "\ufeff", "\u00ad", "\U000e0041"]),
    st.booleans(),
)
def test_a_format_character_in_a_free_text_field_is_refused_by_both_paths_alike(
    name: str, char: str, escaped: bool
) -> None:
    spelled = f"\\u{ord(char):04x}".encode() if escaped and ord(char) < 0x10000 else char.encode()
    payload = canonical(SAMPLES[name]).replace(b'"ev-', b'"ev-' + spelled, 1)
    fast, strict = _outcome(payload), _strict_parse_event(payload)
    assert fast == strict
    # Raw, the payload is canonical and the field is refused; escaped, the payload is not.
    code, field = (
        ("invalid_field", "id")
        if not escaped or char == "\U000e0041"
        else ("malformed_payload", "payload")
    )
    assert fast[:2] == (code, field), fast


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(SAMPLES)), st.binary(min_size=1, max_size=3), st.data())
def test_parse_event_of_a_spliced_payload_matches_the_old_path(
    name: str, junk: bytes, data: st.DataObject
) -> None:
    payload = canonical(SAMPLES[name])
    at = data.draw(st.integers(0, len(payload)))
    cut = data.draw(st.integers(0, 3))
    payload = payload[:at] + junk + payload[at + cut :]
    assert _outcome(payload) == _strict_parse_event(payload)


@settings(max_examples=600, deadline=None)
@given(st.data(), _objects, _edits)
def test_a_plain_scanned_object_that_encodes_to_the_text_is_the_strict_object(
    data: st.DataObject, obj: dict[str, Any], edit: Any
) -> None:
    text = edit(data.draw(_spellings(obj)))
    fast = encoding.scan_object(text)
    if fast is None or not encoding.encodes_to(fast, text):
        return
    try:
        strict = parse_json(text)
    except EncodingError:
        # Refused for its numbers alone: the fast read holds a float or a large integer.
        assert not encoding.is_plain(fast)
        return
    assert canonical(strict) == text
    assert fast == strict
    assert encoding.is_plain(fast)


def test_a_long_digit_run_is_not_scanned() -> None:
    assert encoding.scan_object(b'{"a":' + b"1" * 17 + b"}") is None
    assert encoding.scan_object(b'{"a":"' + b"1" * 17 + b'"}') is None
    assert encoding.scan_object(b'{"a":' + b"1" * 16 + b"}") == {"a": 10**16 // 9}
