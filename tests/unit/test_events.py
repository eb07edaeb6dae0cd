"""The event vocabulary: every type parses from canonical bytes; malformed events name the field."""

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from api.errors import status_of
from ledger.lots.events import (
    CustomsDecide,
    InvalidEvent,
    LotExtract,
    LotReceive,
    LotTransform,
    ParticipantRegister,
    is_registry,
    parse_event,
    touched_lots,
)
from ledger.lots.fields import ELEMENTS
from ledger.tlog.encoding import b64encode, canonical
from ledger.tlog.keys import key_id

PUBLIC_KEY = bytes(range(32))
HEAD = "ab" * 32


def event(type_: str, actor: str = "mine-a", **fields: Any) -> dict[str, Any]:
    base = {"type": type_, "id": "ev-1", "actor": actor, "time": "2026-03-01T08:00:00Z"}
    return {**base, "prev": {}, **fields}


def new_lot(lot_id: str = "ORE-1", **fields: Any) -> dict[str, Any]:
    lot = {"id": lot_id, "product": "ore", "mass_g": 1_000_000, "composition_ppm": {"Ce": 30_000}}
    return {**lot, **fields}


SAMPLES: dict[str, dict[str, Any]] = {
    "participant.register": event(
        "participant.register",
        "operator",
        participant={
            "id": "mine-a",
            "name": "Mine A",
            "country": "AU",
            "roles": ["mine", "exporter"],
            "keys": [{"keyid": key_id("mine-a", PUBLIC_KEY), "public_key": b64encode(PUBLIC_KEY)}],
        },
    ),
    "participant.key_add": event(
        "participant.key_add",
        "operator",
        participant="mine-a",
        key={"keyid": key_id("mine-a", PUBLIC_KEY), "public_key": b64encode(PUBLIC_KEY)},
    ),
    "participant.key_revoke": event(
        "participant.key_revoke", "operator", participant="mine-a", keyid="mine-a/0123456789abcdef"
    ),
    "lot.extract": event(
        "lot.extract",
        lot=new_lot(spec="ROM-2026"),
        site={"id": "MW-1", "name": "Mount Weld", "country": "AU", "geo": "geo:-28.86,122.55"},
        deposit="bastnaesite",
    ),
    "lot.transform": event(
        "lot.transform",
        prev={"ORE-1": HEAD},
        process="beneficiation",
        inputs=[{"lot": "ORE-1", "mass_g": 1_000_000}],
        outputs=[new_lot("CONC-1", product="concentrate", mass_g=100_000)],
    ),
    "lot.assay": event(
        "lot.assay",
        "lab-e",
        prev={"ORE-1": HEAD},
        lot="ORE-1",
        composition_ppm={"La": 8_000, "Ce": 15_000, "Nd": 5_000},
        method="ICP-MS",
        lab="Lab E",
        certificate="CERT-9",
    ),
    "lot.ship": event(
        "lot.ship",
        prev={"ORE-1": HEAD},
        to="proc-b",
        lots=[{"lot": "ORE-1", "mass_g": 1_000_000}],
        transport={"mode": "sea", "document": "BL-42"},
    ),
    "lot.receive": event(
        "lot.receive",
        "proc-b",
        prev={"ORE-1": HEAD},
        lots=[{"lot": "ORE-1", "mass_g": 999_000}],
        **{"from": "mine-a"},
    ),
    "export.declare": event(
        "export.declare",
        prev={"ORE-1": HEAD},
        declaration={
            "id": "DECL-2026/1",
            "lots": ["ORE-1"],
            "hs_code": "253090",
            "description": "rare-earth ore",
            "declared_mass_g": 1_000_000,
            "declared_composition_ppm": {"Ce": 30_000},
            "destination": "JP",
            "licence": "LIC-1",
        },
    ),
    "customs.decide": event(
        "customs.decide", "cus-d", declaration="DECL-2026/1", decision="hold", note="inspect"
    ),
}


def mentions(detail: str, value: object) -> bool:
    return str(value) in detail or json.dumps(value) in detail


def invalid(payload: bytes) -> InvalidEvent:
    with pytest.raises(InvalidEvent) as info:
        parse_event(payload)
    return info.value


@pytest.mark.parametrize("type_", sorted(SAMPLES))
def test_every_event_type_parses_from_canonical_bytes(type_: str) -> None:
    parsed = parse_event(canonical(SAMPLES[type_]))
    assert parsed.type == type_
    assert parsed.id == "ev-1"
    assert is_registry(parsed) == type_.startswith("participant.")


def test_json_dumps_sorted_compact_is_canonical_too() -> None:
    payload = json.dumps(SAMPLES["lot.extract"], sort_keys=True, separators=(",", ":")).encode()
    assert isinstance(parse_event(payload), LotExtract)


def test_time_keeps_the_string_and_parses_milliseconds() -> None:
    parsed = parse_event(with_value("lot.extract", "time", "2026-03-01T08:00:00.250Z"))
    assert parsed.time == "2026-03-01T08:00:00.250Z"
    assert parsed.parsed_time == datetime(2026, 3, 1, 8, 0, 0, 250_000, tzinfo=UTC)


def test_receive_reads_from_under_its_wire_name() -> None:
    parsed = parse_event(canonical(SAMPLES["lot.receive"]))
    assert isinstance(parsed, LotReceive)
    assert parsed.from_ == "mine-a"


def test_lists_are_frozen_tuples() -> None:
    parsed = parse_event(canonical(SAMPLES["lot.transform"]))
    assert isinstance(parsed, LotTransform)
    assert isinstance(parsed.inputs, tuple)
    assert isinstance(parsed.outputs, tuple)


def test_registration_decodes_the_public_key() -> None:
    parsed = parse_event(canonical(SAMPLES["participant.register"]))
    assert isinstance(parsed, ParticipantRegister)
    assert parsed.participant.keys[0].raw_public_key == PUBLIC_KEY
    assert parsed.participant.roles == ("mine", "exporter")


def test_optional_fields_may_be_absent() -> None:
    parsed = parse_event(with_value("customs.decide", "note", DROP))
    assert isinstance(parsed, CustomsDecide)
    assert parsed.note is None


def test_touched_lots_of_each_type() -> None:
    touched = {t: touched_lots(parse_event(canonical(e))) for t, e in SAMPLES.items()}
    assert touched["lot.extract"] == frozenset()
    assert touched["customs.decide"] == frozenset()
    assert touched["participant.register"] == frozenset()
    for type_ in ("lot.transform", "lot.assay", "lot.ship", "lot.receive", "export.declare"):
        assert touched[type_] == {"ORE-1"}


def test_there_are_118_element_symbols() -> None:
    assert len(ELEMENTS) == 118
    assert {"Nd", "Pr", "Dy", "Tb", "Og"} <= ELEMENTS


DROP = object()


def with_value(type_: str, path: str, value: object) -> bytes:
    """The sample of `type_` with the field at dotted `path` set to `value` (or dropped)."""
    obj = copy.deepcopy(SAMPLES[type_])
    *parents, last = path.split(".")
    target = obj
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    if value is DROP:
        del target[last]
    else:
        target[last] = value
    return canonical(obj)


# (event type, dotted path, value): each is refused as invalid_field naming the path.
INVALID = [
    ("lot.extract", "lot.spec", None),
    ("lot.extract", "site.geo", None),
    ("lot.extract", "site.geo", "-28.8,122.5"),
    ("lot.extract", "site.geo", "geo:95,10"),
    ("lot.extract", "lot.id", "-ORE"),
    ("lot.extract", "lot.id", "O" * 65),
    ("lot.extract", "lot.mass_g", 0),
    ("lot.extract", "lot.mass_g", 10**15 + 1),
    ("lot.extract", "lot.mass_g", "5"),
    ("lot.extract", "lot.mass_g", True),
    ("lot.extract", "lot.product", "gold"),
    ("lot.extract", "deposit", "placer"),
    ("lot.extract", "site.country", "au"),
    ("lot.extract", "site.name", "A\nB"),
    ("lot.extract", "site.name", "A\u0085B"),
    ("lot.extract", "site.name", ""),
    ("lot.extract", "site.name", "x" * 257),
    ("lot.extract", "lot.spec", "s" * 65),
    ("lot.extract", "lot.composition_ppm.Ce", 1_000_001),
    ("lot.extract", "lot.composition_ppm.Ce", -1),
    ("lot.extract", "lot.composition_ppm", {"Ce": 600_000, "La": 400_001}),
    ("lot.extract", "actor", "Mine-A"),
    ("lot.extract", "actor", "m"),
    ("lot.extract", "id", ""),
    ("lot.extract", "id", "e" * 129),
    ("lot.extract", "time", "2026-03-01T08:00:00+00:00"),
    ("lot.extract", "time", "2026-03-01 08:00:00Z"),
    ("lot.extract", "time", "2026-02-30T08:00:00Z"),
    ("lot.extract", "time", "2026-03-01T08:00:00.5Z"),
    ("lot.extract", "time", "2026-03-01T08:00:00Z\n"),
    ("lot.extract", "prev", []),
    ("lot.transform", "prev.ORE-1", "AB" * 32),
    ("lot.transform", "prev.ORE-1", "ab"),
    ("lot.transform", "process", "smelting"),
    ("lot.transform", "inputs", []),
    ("lot.transform", "inputs", {"lot": "A"}),
    ("lot.transform", "outputs.0.mass_g", -3),
    ("lot.ship", "transport", None),
    ("lot.receive", "from", "Mine A"),
    ("lot.assay", "certificate", None),
    ("export.declare", "declaration.hs_code", "2530.90"),
    ("export.declare", "declaration.hs_code", "25309"),
    ("export.declare", "declaration.lots", []),
    ("export.declare", "declaration.destination", "JPN"),
    ("export.declare", "declaration.licence", None),
    ("export.declare", "declaration.declared_composition_ppm", None),
    ("customs.decide", "decision", "approve"),
    ("participant.register", "participant.roles", ["mine", "mine"]),
    ("participant.register", "participant.roles", []),
    ("participant.register", "participant.id", "operator"),
    ("participant.key_add", "key.public_key", b64encode(bytes(31))),
    ("participant.key_add", "key.public_key", b64encode(bytes(32))[:-1]),
    ("participant.key_add", "key.public_key", "AAEC" + "-_" * 20),
    ("participant.key_add", "key.keyid", "mine-a/0123"),
    ("participant.key_revoke", "keyid", "mine-a/0123456789ABCDEF"),
]


@pytest.mark.parametrize(("type_", "path", "value"), INVALID)
def test_invalid_value_is_refused_naming_the_field(type_: str, path: str, value: object) -> None:
    error = invalid(with_value(type_, path, value))
    assert (status_of(error), error.code, error.field) == (400, "invalid_field", path)
    assert error.detail.startswith(path)
    if error.value is not None:
        assert mentions(error.detail, error.value)


# (event type, dotted path, value, field named, code)
REFUSED = [
    ("lot.extract", "colour", "red", "colour", "unknown_field"),
    ("lot.extract", "lot.grade", 5, "lot.grade", "unknown_field"),
    ("lot.extract", "deposit", DROP, "deposit", "missing_field"),
    ("lot.ship", "transport.document", DROP, "transport.document", "missing_field"),
    ("lot.extract", "type", "lot.mint", "type", "unknown_event_type"),
    ("lot.extract", "type", DROP, "type", "unknown_event_type"),
    ("lot.extract", "lot.composition_ppm.Xx", 5, "lot.composition_ppm.Xx", "invalid_field"),
    (
        "participant.register",
        "participant.roles",
        ["miner"],
        "participant.roles.0",
        "invalid_field",
    ),
]


@pytest.mark.parametrize(("type_", "path", "value", "field", "code"), REFUSED)
def test_malformed_event_is_refused_naming_the_field(
    type_: str, path: str, value: object, field: str, code: str
) -> None:
    error = invalid(with_value(type_, path, value))
    assert (status_of(error), error.code, error.field) == (400, code, field)
    assert error.detail.startswith(field)
    if error.value is not None:
        assert mentions(error.detail, error.value)


def test_composition_over_a_million_ppm_says_the_sum() -> None:
    composition = {"Fe": 700_000, "Nd": 300_001}
    payload = with_value("lot.extract", "lot.composition_ppm", composition)
    assert "1000001" in invalid(payload).detail


def test_explicit_null_asks_to_omit_the_field() -> None:
    error = invalid(with_value("lot.extract", "lot.spec", None))
    assert "omit the field" in error.detail


def test_float_is_refused_as_malformed_payload() -> None:
    payload = canonical(SAMPLES["lot.extract"]).replace(b'"mass_g":1000000', b'"mass_g":1000000.5')
    error = invalid(payload)
    assert (status_of(error), error.code, error.field) == (400, "malformed_payload", "payload")


def test_non_canonical_payload_is_refused() -> None:
    payload = json.dumps(SAMPLES["lot.extract"]).encode()
    assert invalid(payload).code == "malformed_payload"


def test_payload_that_is_not_an_object_is_refused() -> None:
    assert invalid(b"[]").field == "payload"


def test_long_values_are_shortened_in_the_error() -> None:
    error = invalid(with_value("lot.extract", "site.name", "x" * 5000))
    assert isinstance(error.value, str)
    assert len(error.value) <= 80
    assert len(error.detail) < 300


def test_unprintable_check_is_unicode_cc_cs_and_cf_of_this_python_and_of_unicode_15_1() -> None:
    import unicodedata

    import msgspec

    from ledger.lots.fields import Name

    # Unicode 15.0 made U+13439..U+1343F format characters; older tables call them unassigned.
    newer = set(range(0x13439, 0x13440))
    for code in range(0x110000):
        char = chr(code)
        expected = unicodedata.category(char) in ("Cc", "Cs", "Cf") or code in newer
        for text in (char, f"a{char}b"):
            try:
                msgspec.convert(text, Name)
            except msgspec.ValidationError:
                refused = True
            else:
                refused = False
            assert refused == expected, hex(code)


def _strings(node: object, path: str = "") -> list[str]:
    """The dotted paths of every string value (not key) in `node`."""
    if isinstance(node, dict):
        return [p for k, v in node.items() for p in _strings(v, f"{path}.{k}" if path else k)]
    if isinstance(node, list):
        return [p for i, v in enumerate(node) for p in _strings(v, f"{path}.{i}")]
    return [path] if isinstance(node, str) else []


# Fields of free text, where a format character would otherwise be taken.
FREE_TEXT = {
    "id", "participant.name", "lot.spec", "site.name", "outputs.0.spec", "method", "lab",
    "certificate", "transport.mode", "transport.document", "declaration.description",
    "declaration.licence", "note",
}  # fmt: skip
FORMAT_CHARACTERS = ["\u202e", "\u200b", "\u2066", "\u2069", "\ufeff", "\u00ad", "\U000e0041"]


@pytest.mark.parametrize("char", FORMAT_CHARACTERS, ids=lambda c: f"U+{ord(c):04X}")
def test_a_format_character_is_refused_in_every_string_field_of_every_event(char: str) -> None:
    """A right-to-left override or a zero-width space in any text would show the customs page
    something other than the signed bytes: refused (400), naming the field."""
    samples = {**SAMPLES, "lot.transform": copy.deepcopy(SAMPLES["lot.transform"])}
    samples["lot.transform"]["outputs"][0]["spec"] = "N52"
    free = set()
    for sample in samples.values():
        for path in _strings(sample):
            if path == "type":
                continue
            obj = copy.deepcopy(sample)
            *parents, last = path.split(".")
            target: Any = obj
            for part in parents:
                target = target[int(part)] if isinstance(target, list) else target[part]
            key: Any = int(last) if isinstance(target, list) else last
            target[key] = target[key][:1] + char + target[key][1:]
            error = invalid(canonical(obj))
            assert (status_of(error), error.code, error.field) == (400, "invalid_field", path)
            if "format characters" in error.detail:
                assert f"(found U+{ord(char):04X})" in error.detail
                free.add(path)
    assert free == FREE_TEXT


def test_public_key_pattern_is_strict_base64_of_32_bytes() -> None:
    import msgspec

    from ledger.lots.fields import PublicKey
    from ledger.tlog.encoding import b64decode
    from ledger.tlog.errors import EncodingError

    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    key = b64encode(bytes(range(1, 33)))
    # Every symbol in the last place (only those with the two unused bits clear are the
    # one spelling), other paddings and lengths, a foreign alphabet.
    texts = [key[:42] + symbol + "=" for symbol in alphabet]
    texts += [
        key[:43],
        key[:43] + "==",
        key + "=",
        "A" + key,
        key[:40] + "-_AA",
        b64encode(bytes(31)),
    ]
    texts += [b64encode(bytes(33)), key[:42] + "A=\n", ""]
    for text in texts:
        try:
            expected = len(b64decode(text)) == 32
        except EncodingError:
            expected = False
        try:
            msgspec.convert(text, PublicKey)
        except msgspec.ValidationError:
            accepted = False
        else:
            accepted = True
        assert accepted == expected, text
