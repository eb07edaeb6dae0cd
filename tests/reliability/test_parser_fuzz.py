"""Hypothesis against the payload parsers: arbitrary bytes never raise anything but the parser's
own error, canonical JSON round-trips, and every valid event re-encodes to its own bytes.

`parse_json` / `parse_canonical` may raise only EncodingError, `parse_event` only InvalidEvent;
anything else (RecursionError, UnicodeError, ValueError, KeyError …) would be a 500 at the API.
"""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.lots.events import InvalidEvent, parse_event
from ledger.lots.fields import ELEMENTS, MASS_MAX_G, ROLES
from ledger.tlog.encoding import MAX_SAFE_INTEGER, canonical, parse_canonical, parse_json
from ledger.tlog.errors import EncodingError
from tests.reliability.harness import SCALE

FUZZ = settings(
    max_examples=SCALE.parser_examples,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)

SAFE_INTEGERS = st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER)
JSON = st.recursive(
    st.none() | st.booleans() | SAFE_INTEGERS | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=10), inner, max_size=6)
    ),
    max_leaves=15,
)
OBJECTS = st.dictionaries(st.text(max_size=10), JSON, max_size=4)
# Text that looks like JSON: brackets, quotes, escapes and numbers in any order and depth.
JSONISH = st.lists(
    st.sampled_from(
        [
            "[",
            "]",
            "{",
            "}",
            '"',
            '\\"',
            "\\",
            ":",
            ",",
            "1",
            "-0",
            "1e5",
            "0.5",
            "true",
            "null",
            "NaN",
            '"a"',
            '"\\ud800"',
            " ",
            "\u2028",
            "\x00",
        ]
    ),
    max_size=200,
).map(lambda parts: "".join(parts).encode())


def _nested(depth: int, opener: str = "[", closer: str = "]") -> bytes:
    return (opener * depth + closer * depth).encode()


@FUZZ
@given(data=st.binary(max_size=400) | JSONISH)
def test_parse_json_raises_only_encoding_error(data: bytes) -> None:
    with contextlib.suppress(EncodingError):
        parse_json(data)


@FUZZ
@given(data=st.binary(max_size=400) | JSONISH)
def test_parse_canonical_raises_only_encoding_error(data: bytes) -> None:
    with contextlib.suppress(EncodingError):
        parse_canonical(data)


@FUZZ
@given(data=st.binary(max_size=400) | JSONISH | OBJECTS.map(canonical))
def test_parse_event_raises_only_invalid_event(data: bytes) -> None:
    with contextlib.suppress(InvalidEvent):
        parse_event(data)


def test_hostile_nesting_is_refused_without_recursion() -> None:
    for depth in (33, 1_000, 100_000):
        for data in (_nested(depth), b'{"a":' * depth + b"1" + b"}" * depth):
            for parse in (parse_json, parse_canonical):
                try:
                    parse(data)
                except EncodingError as exc:
                    assert "deeper than 32" in str(exc)
                else:
                    raise AssertionError(f"depth {depth} accepted")
    # Brackets inside strings are not nesting.
    assert parse_json(b'["' + b"[" * 100 + b'"]') == ["[" * 100]


@FUZZ
@given(value=JSON)
def test_canonical_json_round_trips(value: Any) -> None:
    data = canonical(value)
    assert parse_json(data) == value
    assert canonical(parse_json(json.dumps(value, indent=2).encode())) == data
    if isinstance(value, dict):
        assert parse_canonical(data) == value


@FUZZ
@given(value=OBJECTS)
def test_parse_canonical_refuses_every_other_spelling(value: dict[str, Any]) -> None:
    spelled = json.dumps(value, indent=1, ensure_ascii=True).encode()
    if spelled == canonical(value):
        return
    try:
        parse_canonical(spelled)
    except EncodingError:
        return
    raise AssertionError(f"non-canonical bytes accepted: {spelled!r}")


# --- valid events -------------------------------------------------------------------------

PARTICIPANT = st.from_regex(r"[a-z0-9][a-z0-9.-]{1,20}", fullmatch=True).filter(
    lambda name: name != "operator"
)
LOT = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,20}", fullmatch=True)
TEXT = st.text(st.characters(blacklist_categories=("Cc", "Cf", "Cs")), min_size=1, max_size=40)
MASS = st.integers(1, MASS_MAX_G)
TIME = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)).map(
    lambda moment: moment.replace(tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
)
HASH = st.binary(min_size=32, max_size=32).map(bytes.hex)


@st.composite
def compositions(draw: st.DrawFn) -> dict[str, int]:
    elements = draw(st.lists(st.sampled_from(sorted(ELEMENTS)), max_size=8, unique=True))
    left, found = 1_000_000, {}
    for element in elements:
        found[element] = draw(st.integers(0, left))
        left -= found[element]
    return found


def _new_lot() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "id": LOT,
            "product": st.sampled_from(["ore", "oxide", "magnet"]),
            "mass_g": MASS,
            "composition_ppm": compositions(),
        },
        optional={"spec": TEXT.filter(lambda t: len(t) <= 64)},
    )


def _lot_masses() -> st.SearchStrategy[list[dict[str, Any]]]:
    return st.lists(st.fixed_dictionaries({"lot": LOT, "mass_g": MASS}), min_size=1, max_size=4)


BODIES: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "lot.extract": st.fixed_dictionaries(
        {
            "lot": _new_lot(),
            "site": st.fixed_dictionaries({"id": LOT, "name": TEXT, "country": st.just("CN")}),
            "deposit": st.sampled_from(["bastnaesite", "monazite", "ionic_clay", "other"]),
        }
    ),
    "lot.transform": st.fixed_dictionaries(
        {
            "process": st.sampled_from(["separation", "split", "blend"]),
            "inputs": _lot_masses(),
            "outputs": st.lists(_new_lot(), min_size=1, max_size=3),
        }
    ),
    "lot.ship": st.fixed_dictionaries(
        {"to": PARTICIPANT, "lots": _lot_masses()},
        optional={"transport": st.fixed_dictionaries({"mode": st.just("sea"), "document": TEXT})},
    ),
    "lot.receive": st.fixed_dictionaries({"from": PARTICIPANT, "lots": _lot_masses()}),
    "lot.assay": st.fixed_dictionaries(
        {"lot": LOT, "composition_ppm": compositions(), "method": st.just("ICP-MS"), "lab": TEXT},
        optional={"certificate": TEXT},
    ),
    "customs.decide": st.fixed_dictionaries(
        {"declaration": LOT, "decision": st.sampled_from(["release", "hold", "seize"])},
        optional={"note": TEXT},
    ),
    "participant.key_revoke": st.fixed_dictionaries(
        {
            "participant": PARTICIPANT,
            "keyid": st.from_regex(r"[a-z0-9][a-z0-9.-]{1,20}/[0-9a-f]{16}", fullmatch=True),
        }
    ),
}


@st.composite
def events(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(sorted(BODIES)))
    actor = "operator" if kind.startswith("participant.") else draw(PARTICIPANT)
    common = {
        "type": kind,
        "id": draw(TEXT),
        "actor": actor,
        "time": draw(TIME),
        "prev": draw(st.dictionaries(LOT, HASH, max_size=3)),
    }
    return {**common, **draw(BODIES[kind])}


@FUZZ
@given(event=events())
def test_valid_events_parse_and_re_encode_to_the_same_bytes(event: dict[str, Any]) -> None:
    payload = canonical(event)
    parsed = parse_event(payload)
    assert canonical(msgspec.to_builtins(parsed)) == payload


@FUZZ
@given(event=events(), path_choice=st.integers(0, 50), value=JSON)
def test_an_event_with_any_field_replaced_is_parsed_or_refused(
    event: dict[str, Any], path_choice: int, value: Any
) -> None:
    keys = sorted(event)
    key = keys[path_choice % len(keys)]
    target = event
    if isinstance(event[key], dict) and event[key] and path_choice % 2:
        target = dict(event[key])
        event = {**event, key: target}
        key = sorted(target)[path_choice % len(target)]
    target[key] = value
    try:
        parse_event(canonical(event))
    except InvalidEvent as exc:
        assert exc.code in {
            "malformed_payload",
            "unknown_event_type",
            "missing_field",
            "unknown_field",
            "invalid_field",
        }, exc.code
        json.dumps(exc.value)  # what the API puts in the problem must be JSON


@FUZZ
@given(
    event=events(),
    flips=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 7)), min_size=1, max_size=3),
)
def test_a_payload_with_flipped_bits_is_parsed_or_refused(
    event: dict[str, Any], flips: list[tuple[int, int]]
) -> None:
    data = bytearray(canonical(event))
    for position, bit in flips:
        data[position % len(data)] ^= 1 << bit
    with contextlib.suppress(InvalidEvent):
        parse_event(bytes(data))


def test_time_far_ahead_still_parses() -> None:
    """The future-time check belongs to the state machine, not the parser."""
    ahead = (datetime.now(UTC) + timedelta(days=3650)).strftime("%Y-%m-%dT%H:%M:%SZ")
    event = {
        "type": "customs.decide",
        "id": "x",
        "actor": "customs-a",
        "time": ahead,
        "prev": {},
        "declaration": "D-1",
        "decision": "hold",
    }
    assert parse_event(canonical(event)).time == ahead
    assert {"mine", "customs", "auditor"} <= set(ROLES)
