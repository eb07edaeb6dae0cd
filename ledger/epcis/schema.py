"""EPCIS documents: strict JSON reading and validation against GS1's JSON Schema, formats on."""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from jsonschema import Draft7Validator
from jsonschema.exceptions import SchemaError, ValidationError, best_match
from referencing import Registry
from referencing.exceptions import Unresolvable

from ledger.epcis import probe
from ledger.errors import Kind, LedgerError
from ledger.lots.records import Rejection

# The formats GS1's schema uses; without them the validator would let any string pass.
REQUIRED_FORMATS = ("uri", "date-time")
MAX_DEPTH = 64
DRAFT_07 = ("http://json-schema.org/draft-07/schema#", "http://json-schema.org/draft-07/schema")
EVENT_LIST_PATHS = (
    ("epcisBody", "eventList"),
    ("epcisBody", "queryResults", "resultsBody", "eventList"),
)


class SchemaUnavailable(LedgerError):
    """The schema is not one capture can apply (kind unavailable: captures wait for the
    operator); the detail says why, in one line, for the operator: the API answers clients
    with its own sentence (api/routers/epcis.py), not with the path and reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(Kind.UNAVAILABLE, "epcis_schema_unavailable", reason)


@dataclass(frozen=True)
class SchemaProblem:
    """One reason the document breaks the schema: where (a JSON path) and why."""

    path: str
    message: str
    event: int | None  # the position in the event list, when the problem is inside an event


class EpcisValidator:
    """GS1's EPCIS 2.0 JSON Schema (draft-07) with format checking on."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        Draft7Validator.check_schema(schema)
        checker = Draft7Validator.FORMAT_CHECKER
        missing = [name for name in REQUIRED_FORMATS if name not in checker.checkers]
        if missing:
            raise SchemaUnavailable(
                f"no format checker for {', '.join(missing)}: install jsonschema with "
                "rfc3986-validator and rfc3339-validator (pyproject.toml lists them)"
            )
        # An empty registry: references resolve inside the schema (and to the meta-schemas),
        # never by fetching a URL.
        self._validator = Draft7Validator(schema, format_checker=checker, registry=Registry())

    def problems(self, document: object) -> list[SchemaProblem]:
        """Every schema violation, the most relevant first."""
        errors = list(self._validator.iter_errors(document))
        if not errors:
            return []
        first = best_match(errors)
        rest = [error for error in errors if error is not first]
        return [_problem(error) for error in (first, *rest)]

    def check(self, document: object) -> None:
        """Raise Rejection 422 `epcis_schema_violation` with the schema's reason."""
        found = self.problems(document)
        if not found:
            return
        problem = found[0]
        where = f"event {problem.event}, " if problem.event is not None else ""
        more = f" ({len(found) - 1} more)" if len(found) > 1 else ""
        exc = Rejection(
            Kind.INVALID,
            "epcis_schema_violation",
            f"{where}{problem.path or 'document'}: {problem.message}{more}; "
            "the document must validate against GS1's EPCIS 2.0 JSON Schema",
            field=problem.path or None,
        )
        exc.position = problem.event
        raise exc


def read_schema(data: bytes) -> EpcisValidator:
    """The validator for the schema in `data`, if it is one capture can apply: a draft-07 JSON
    Schema whose references are all local, that accepts the ledger's rendering of every lot
    event type and refuses what is not EPCIS 2.0 (ledger/epcis/probe.py).

    Raises SchemaUnavailable with a one-line reason.
    """
    try:
        schema = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise SchemaUnavailable(f"not JSON: {exc}") from exc
    if not isinstance(schema, dict):
        raise SchemaUnavailable("not a JSON Schema: the file holds no JSON object")
    if schema.get("$schema") not in DRAFT_07:
        raise SchemaUnavailable(
            f"$schema is {json.dumps(schema.get('$schema'))}, not draft-07 ({DRAFT_07[0]}), "
            "as GS1's EPCIS-JSON-Schema.json declares"
        )
    try:
        _check_references(schema)
        validator = EpcisValidator(schema)
        _probe(validator)
    except SchemaError as exc:
        raise SchemaUnavailable(f"not a valid draft-07 schema: {exc.message}") from exc
    except (Unresolvable, RecursionError) as exc:
        raise SchemaUnavailable(f"the schema's references do not resolve: {exc}") from exc
    return validator


def _check_references(schema: Mapping[str, Any]) -> None:
    """Every `$ref` is a JSON pointer into the schema itself, to something that is there."""
    stack: list[object] = [schema]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            ref = item.get("$ref")
            if isinstance(ref, str) and not _points_into(schema, ref):
                raise SchemaUnavailable(
                    f"$ref {json.dumps(ref)[:120]} is not a reference into the schema itself "
                    "(capture fetches nothing)"
                )
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _points_into(schema: Mapping[str, Any], ref: str) -> bool:
    if not ref.startswith("#"):
        return False
    node: object = schema
    for part in ref[1:].split("/")[1:]:
        key = unquote(part).replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and key in node:
            node = node[key]
        elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        else:
            return False
    return ref == "#" or ref.startswith("#/")


def _probe(validator: EpcisValidator) -> None:
    found = validator.problems(probe.ledger_document())
    if found:
        where = f"{found[0].path}: " if found[0].path else ""
        raise SchemaUnavailable(
            "not GS1's EPCIS 2.0 JSON Schema: it refuses the ledger's own rendering of its "
            f"events ({where}{found[0].message[:160]})"
        )
    for what, document in probe.foreign_documents().items():
        if not validator.problems(document):
            raise SchemaUnavailable(
                f"not GS1's EPCIS 2.0 JSON Schema: it accepts {what}, which EPCIS 2.0 refuses"
            )


def parse_document(data: bytes) -> dict[str, Any]:
    """The EPCIS document in `data`: UTF-8 JSON, one object, unique keys, finite numbers."""
    try:
        document = json.loads(
            data.decode("utf-8"), object_pairs_hook=_unique, parse_constant=_no_constant
        )
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise Rejection(
            Kind.MALFORMED, "malformed_document", f"the EPCIS document is not valid JSON: {exc}"
        ) from exc
    if not isinstance(document, dict):
        raise Rejection(
            Kind.MALFORMED, "malformed_document", "the EPCIS document must be a JSON object"
        )
    if _depth(document) > MAX_DEPTH:
        raise Rejection(
            Kind.MALFORMED,
            "malformed_document",
            f"the EPCIS document nests deeper than {MAX_DEPTH} levels",
        )
    return document


def _problem(error: ValidationError) -> SchemaProblem:
    path = list(error.absolute_path)
    event = None
    for prefix in EVENT_LIST_PATHS:
        if tuple(path[: len(prefix)]) == prefix and len(path) > len(prefix):
            event = int(path[len(prefix)])
    message = error.message if len(error.message) <= 300 else error.message[:297] + "..."
    return SchemaProblem(".".join(str(part) for part in path), message, event)


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise ValueError(f"duplicate key {key!r}")
        found[key] = value
    return found


def _no_constant(text: str) -> None:
    raise ValueError(f"{text} is not a JSON number")


def _depth(value: object) -> int:
    """Nesting depth, without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        children = (
            item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        )
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return deepest
