"""EPCIS documents: strict JSON reading and validation against GS1's JSON Schema, formats on."""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft7Validator
from jsonschema.exceptions import ValidationError, best_match

from ledger.lots.records import Rejection

# The formats GS1's schema uses; without them the validator would let any string pass.
REQUIRED_FORMATS = ("uri", "date-time")
MAX_DEPTH = 64
EVENT_LIST_PATHS = (
    ("epcisBody", "eventList"),
    ("epcisBody", "queryResults", "resultsBody", "eventList"),
)


class SchemaUnavailable(RuntimeError):
    """The validator cannot enforce the schema as written (a format checker is missing)."""


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
        self._validator = Draft7Validator(schema, format_checker=checker)

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
            422,
            "epcis_schema_violation",
            f"{where}{problem.path or 'document'}: {problem.message}{more}; "
            "the document must validate against GS1's EPCIS 2.0 JSON Schema",
            field=problem.path or None,
        )
        exc.position = problem.event
        raise exc


def parse_document(data: bytes) -> dict[str, Any]:
    """The EPCIS document in `data`: UTF-8 JSON, one object, unique keys, finite numbers."""
    try:
        document = json.loads(
            data.decode("utf-8"), object_pairs_hook=_unique, parse_constant=_no_constant
        )
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise Rejection(
            400, "malformed_document", f"the EPCIS document is not valid JSON: {exc}"
        ) from exc
    if not isinstance(document, dict):
        raise Rejection(400, "malformed_document", "the EPCIS document must be a JSON object")
    if _depth(document) > MAX_DEPTH:
        raise Rejection(
            400, "malformed_document", f"the EPCIS document nests deeper than {MAX_DEPTH} levels"
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
