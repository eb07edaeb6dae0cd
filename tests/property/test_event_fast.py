"""parse_event against its literal definition, on valid events and their mutations.

parse_event decodes the bytes with msgspec straight into the event structs and takes them as
canonical when they are ASCII and the event's own sorted encoding. Its definition reads the
bytes strictly first (parse_canonical), then converts the object and refuses a null. The
first test holds the structs to the integers that make the shortcut exact; the others hold
parse_event to its definition for the same event or the same refusal, word for word.
"""

import json
import re
from typing import Any

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.lots.event_errors import NULL_MESSAGE, first_null, refused_event, strict_object
from ledger.lots.events import Event, InvalidEvent, parse_event
from ledger.tlog import encoding
from ledger.tlog.encoding import MAX_SAFE_INTEGER, canonical, parse_json
from ledger.tlog.errors import EncodingError
from tests.property.test_canonical_fast import _edits, _objects, _spellings
from tests.unit.test_events import SAMPLES


def _types(node: msgspec.inspect.Type) -> list[msgspec.inspect.Type]:
    """Every type within `node`, once each."""
    found: list[msgspec.inspect.Type] = []
    todo = [node]
    while todo:
        kind = todo.pop()
        if any(kind is seen for seen in found):
            continue
        found.append(kind)
        if isinstance(kind, msgspec.inspect.Metadata):  # a description: the type within
            todo.append(kind.type)
        elif isinstance(kind, msgspec.inspect.UnionType):
            todo.extend(kind.types)
        elif isinstance(kind, msgspec.inspect.StructType):
            todo.extend(field.type for field in kind.fields)
        elif isinstance(kind, msgspec.inspect.DictType):
            todo.extend([kind.key_type, kind.value_type])
        elif isinstance(kind, msgspec.inspect.VarTupleType):
            todo.append(kind.item_type)
    return found


def test_the_event_structs_take_no_number_but_bounded_integers() -> None:
    kinds = _types(msgspec.inspect.type_info(Event))
    # Every kind that could take a float, a large integer or anything at all is absent.
    allowed = (
        msgspec.inspect.UnionType, msgspec.inspect.StructType, msgspec.inspect.DictType,
        msgspec.inspect.VarTupleType, msgspec.inspect.StrType, msgspec.inspect.IntType,
        msgspec.inspect.LiteralType, msgspec.inspect.NoneType, msgspec.inspect.Metadata,
    )  # fmt: skip
    assert all(isinstance(kind, allowed) for kind in kinds)
    for kind in kinds:
        if isinstance(kind, msgspec.inspect.IntType):
            assert kind.ge is not None and kind.le is not None
            assert kind.ge >= -MAX_SAFE_INTEGER and kind.le <= MAX_SAFE_INTEGER
        if isinstance(kind, msgspec.inspect.StructType):
            assert kind.forbid_unknown_fields and kind.cls.__struct_config__.frozen
        if isinstance(kind, msgspec.inspect.LiteralType):
            assert all(type(value) is str for value in kind.values)


def _literal_parse_event(payload: bytes) -> Event:
    """parse_event as defined: strictly canonical bytes, then the conversion, then no null."""
    obj = strict_object(payload)
    try:
        event: Event = msgspec.convert(obj, Event)
    except msgspec.ValidationError as exc:
        raise refused_event(payload, exc, Event) from exc
    null = first_null(obj)
    if null is not None:
        raise InvalidEvent("invalid_field", null, None, f"{null}: {NULL_MESSAGE} (got null)")
    return event


def _outcome(parse: Any, payload: bytes) -> object:
    try:
        event = parse(payload)
    except InvalidEvent as exc:
        return (exc.code, exc.field, exc.value, exc.detail)
    return (type(event), msgspec.to_builtins(event))


def _assert_as_defined(payload: bytes) -> object:
    found = _outcome(parse_event, payload)
    assert found == _outcome(_literal_parse_event, payload), payload
    return found


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
def test_parse_event_with_any_number_respelled_is_as_defined(
    name: str, data: st.DataObject
) -> None:
    payload = canonical(SAMPLES[name])
    numbers = list(_NUMBER.finditer(payload))
    if numbers:
        number = numbers[data.draw(st.integers(0, len(numbers) - 1))]
        spelling = data.draw(_number_spellings)
        payload = payload[: number.start()] + spelling + payload[number.end() :]
    _assert_as_defined(payload)


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
def test_parse_event_of_a_respelled_payload_is_as_defined(name: str, edit: Any) -> None:
    payload = edit(canonical(SAMPLES[name]))
    _assert_as_defined(payload)


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(sorted(SAMPLES)),
    st.sampled_from(["\u202e", "\u200b", "\u2066", "\ufeff", "\u00ad", "\U000e0041"]),
    st.booleans(),
)
def test_a_format_character_in_a_free_text_field_is_refused_as_defined(
    name: str, char: str, escaped: bool
) -> None:
    spelled = f"\\u{ord(char):04x}".encode() if escaped and ord(char) < 0x10000 else char.encode()
    payload = canonical(SAMPLES[name]).replace(b'"ev-', b'"ev-' + spelled, 1)
    fast = _assert_as_defined(payload)
    # Raw, the payload is canonical and the field is refused; escaped, the payload is not.
    code, field = (
        ("invalid_field", "id")
        if not escaped or char == "\U000e0041"
        else ("malformed_payload", "payload")
    )
    assert fast[:2] == (code, field), fast


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(SAMPLES)), st.binary(min_size=1, max_size=3), st.data())
def test_parse_event_of_a_spliced_payload_is_as_defined(
    name: str, junk: bytes, data: st.DataObject
) -> None:
    payload = canonical(SAMPLES[name])
    at = data.draw(st.integers(0, len(payload)))
    cut = data.draw(st.integers(0, 3))
    payload = payload[:at] + junk + payload[at + cut :]
    _assert_as_defined(payload)


@settings(max_examples=600, deadline=None)
@given(st.data(), _objects, _edits)
def test_a_plain_scanned_object_that_encodes_to_the_text_is_the_strict_object(
    data: st.DataObject, obj: dict[str, Any], edit: Any
) -> None:
    text = edit(data.draw(_spellings(obj)))
    fast = encoding._scan_object(text)
    if fast is None or encoding._canonical_fast(fast) != text:
        return
    try:
        strict = parse_json(text)
    except EncodingError:
        # Refused for its numbers alone: the fast read holds a float or a large integer.
        assert not encoding._plain(fast)
        return
    assert canonical(strict) == text
    assert fast == strict
    assert encoding._plain(fast)
