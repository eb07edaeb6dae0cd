"""A schema file capture can apply (read_schema), the one a server applies (InstalledSchema), and
installing one (install_schema): a bad file is refused with one line and nothing is written."""

import json
import os
from pathlib import Path

import pytest

from ledger.epcis.schema import DRAFT_07, SchemaUnavailable, read_schema
from ledger.service.epcis_schema import (
    SCHEMA_FILE,
    InstalledSchema,
    home_schema_path,
    install_schema,
)
from tests.vectors import vector_path

D7 = DRAFT_07[0]
# Not GS1's, but enough like an EPCIS 2.0 schema for the probe: the tests of the installed
# schema's states need no vectors. (The probe is a sanity check, not a proof of origin.)
SMALL_EPCIS_SCHEMA = {
    "$schema": D7,
    "type": "object",
    "required": ["epcisBody"],
    "properties": {
        "epcisBody": {"properties": {"eventList": {"items": {"$ref": "#/definitions/event"}}}}
    },
    "definitions": {
        "event": {
            "properties": {
                "eventTime": {"type": "string", "format": "date-time"},
                "action": {"enum": ["ADD", "OBSERVE", "DELETE"]},
            }
        }
    },
}  # fmt: skip


def _bytes(schema: object) -> bytes:
    return json.dumps(schema).encode("utf-8")


@pytest.mark.parametrize(
    ("data", "said"),
    [(b"{not json", "not JSON"),
     (b"\xff\xfe", "not JSON"),
     (b"[]", "no JSON object"),
     (_bytes({"$schema": "http://json-schema.org/draft-04/schema#"}), "not draft-07"),
     (_bytes({"type": "object"}), "$schema is null, not draft-07"),
     (_bytes({"$schema": D7, "type": 5}), "not a valid draft-07 schema"),
     (_bytes({"$schema": D7, "$ref": "https://example.com/epcis.json"}),
      "is not a reference into the schema itself"),
     (_bytes({"$schema": D7, "properties": {"a": {"$ref": "#/definitions/none"}}}),
      "is not a reference into the schema itself"),
     (_bytes({"$schema": D7, "$ref": "#"}), "references do not resolve"),
     (_bytes({"$schema": D7}), "it accepts an eventTime that is not a date-time"),
     (_bytes({"$schema": D7, "not": {}}), "it refuses the ledger's own rendering")],
    ids=["not-json", "not-utf8", "array", "draft-04", "no-$schema", "invalid", "remote-ref",
         "dangling-ref", "self-ref", "accepts-anything", "refuses-everything"],
)  # fmt: skip
def test_file_that_is_not_an_epcis_schema_is_refused_in_one_line(data: bytes, said: str) -> None:
    with pytest.raises(SchemaUnavailable) as caught:
        read_schema(data)
    assert said in str(caught.value) and "\n" not in str(caught.value)


def test_gs1_schema_is_read() -> None:
    validator = read_schema(vector_path("epcis", "EPCIS-JSON-Schema.json").read_bytes())
    assert validator.problems({"type": "EPCISDocument"})


def test_install_puts_the_file_in_place_and_leaves_nothing_else(tmp_path: Path) -> None:
    source = tmp_path / "mine.json"
    source.write_bytes(_bytes(SMALL_EPCIS_SCHEMA))
    home = tmp_path / "home"
    home.mkdir()
    install_schema(source, home_schema_path(home))
    assert (home / SCHEMA_FILE).read_bytes() == source.read_bytes()
    assert os.listdir(home) == [SCHEMA_FILE]
    assert (home / SCHEMA_FILE).stat().st_mode & 0o777 == 0o644


def test_bad_file_installs_nothing_and_keeps_the_schema_there(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / SCHEMA_FILE).write_bytes(_bytes(SMALL_EPCIS_SCHEMA))
    bad = tmp_path / "bad.json"
    bad.write_bytes(b'{"$schema": "' + D7.encode() + b'"}')
    with pytest.raises(SchemaUnavailable):
        install_schema(bad, home_schema_path(home))
    assert os.listdir(home) == [SCHEMA_FILE]
    assert (home / SCHEMA_FILE).read_bytes() == _bytes(SMALL_EPCIS_SCHEMA)
    with pytest.raises(FileNotFoundError):
        install_schema(tmp_path / "missing.json", home_schema_path(home))


def test_the_server_follows_the_file_through_its_states(tmp_path: Path) -> None:
    path = tmp_path / SCHEMA_FILE
    schema = InstalledSchema(path)
    assert schema.status() == "absent" and schema.validator() is None
    path.write_bytes(_bytes(SMALL_EPCIS_SCHEMA))
    assert schema.status() == "active"
    assert schema.validator() is schema.validator()  # read once while the file is unchanged
    path.write_bytes(b"{broken")
    assert schema.status() == "unusable"
    with pytest.raises(SchemaUnavailable, match="not JSON"):
        schema.validator()
    path.unlink()
    assert schema.status() == "absent"


def test_a_named_file_that_is_missing_is_unusable_not_absent(tmp_path: Path) -> None:
    named = InstalledSchema.of(tmp_path, tmp_path / "elsewhere.json")
    assert named.required and named.status() == "unusable"
    assert InstalledSchema.of(tmp_path, None).path == tmp_path / SCHEMA_FILE
