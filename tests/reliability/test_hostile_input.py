"""Hostile input through the API: schemathesis against every operation of the OpenAPI document,
arbitrary JSON and bytes to every POST, and signed events with hostile field values.

Every answer must be below 500, and every error an `application/problem+json` object with
`type`, `title`, `status`, `detail` and `code`. Cases are generated deterministically
(`derandomize`); `bench/stress.py` raises their number.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from api.app import create_app
from ledger.config import Settings
from ledger.home import Home, init_home
from tests.api.conftest import Ledger
from tests.reliability.harness import SCALE
from tests.support import Party, extract, ship
from tests.vectors import find_vectors

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
ORIGIN = "fuzz.ree-ledger.local/log"
PROBLEM_FIELDS = {"type": str, "title": str, "status": int, "detail": str, "code": str}
MAX_REPORTED = 10


def _gs1_schema() -> Path | None:
    """GS1's EPCIS JSON Schema from the conformance vectors (tests/vectors.py), if they are here:
    capture applies it when installed. The fuzzing runs with or without it."""
    found = find_vectors()
    path = found / "epcis" / "EPCIS-JSON-Schema.json" if found else None
    return path if path and path.is_file() else None


EPCIS_SCHEMA = _gs1_schema()


def _settings(examples: int) -> Any:
    return settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )


@dataclass
class Target:
    """The app under attack, a ledger with a few lots, and the problems found so far."""

    app: FastAPI
    client: TestClient
    token: str
    mine: Party
    problems: list[str] = field(default_factory=list)

    def judge(self, what: str, status: int, content_type: str, body: bytes) -> None:
        """Record what is wrong with one answer, if anything."""
        if len(self.problems) >= MAX_REPORTED:
            return
        if status >= 500:
            self.problems.append(f"{what}: {status} {body[:300]!r}")
        elif status >= 400:
            self.problems.extend(
                f"{what}: {why}" for why in _problem_errors(status, content_type, body)
            )


def _problem_errors(status: int, content_type: str, body: bytes) -> list[str]:
    if not content_type.startswith("application/problem+json"):
        return [f"{status} with content-type {content_type!r}: {body[:200]!r}"]
    try:
        problem = json.loads(body)
    except ValueError:
        return [f"{status}: the problem body is not JSON: {body[:200]!r}"]
    if not isinstance(problem, dict):
        return [f"{status}: the problem is not an object: {body[:200]!r}"]
    wrong = [
        name
        for name, kind in PROBLEM_FIELDS.items()
        if not isinstance(problem.get(name), kind) or (kind is str and not problem[name])
    ]
    if wrong or problem.get("status") != status:
        return [f"{status}: problem fields {wrong} missing or wrong: {problem}"]
    return []


@pytest.fixture
def target(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Target]:
    if EPCIS_SCHEMA is not None:
        monkeypatch.setenv("REE_LEDGER_EPCIS_SCHEMA", str(EPCIS_SCHEMA))
    init_home(tmp_path / "home", database_url, ORIGIN)
    home = Home(tmp_path / "home")
    app = create_app(Settings(home=home.path, database_url=database_url, origin=ORIGIN))
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            ledger = Ledger(client, Party("operator", home.operator_key()))
            mine = ledger.enrol(Party("fuzz-mine"), ["mine"])
            plant = ledger.enrol(Party("fuzz-plant"), ["processor", "exporter"])
            auditor = ledger.enrol(Party("fuzz-auditor"), ["auditor"])
            ledger.post(mine, extract(mine, "ORE-1"))
            ledger.post(mine, extract(mine, "ORE-2"))
            ledger.post(mine, ship(mine, ledger.heads, plant.id, [("ORE-2", 1_000_000)]))
            yield Target(app, client, ledger.token(auditor), mine)
    finally:
        app.state.db.dispose()


def _variants(operation: Any, token: str) -> list[tuple[str, dict[str, Any]]]:
    """Without a token, with an auditor's token, and (for lot paths) on a lot that exists."""
    auth = {"Authorization": f"Bearer {token}"}
    variants: list[tuple[str, dict[str, Any]]] = [("anonymous", {}), ("auditor", {"headers": auth})]
    if "{lot}" in operation.path:
        variants.append(("existing lot", {"headers": auth, "path_parameters": {"lot": "ORE-1"}}))
    return variants


def _attack(target: Target, strategy: Any, label: str) -> int:
    """Run the cases of one strategy; returns how many were sent."""
    sent = 0

    @_settings(SCALE.fuzz_examples)
    @given(case=strategy)
    def attack(case: Any) -> None:
        nonlocal sent
        sent += 1
        answer = case.call()
        content_type = answer.headers.get("content-type", [""])[0]
        what = f"{label}: {case.as_curl_command()[:300]}"
        target.judge(what, answer.status_code, content_type, answer.content or b"")

    with contextlib.suppress(Unsatisfiable):  # nothing to make invalid (GET /healthz)
        attack()
    return sent


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
def test_schemathesis_every_operation_no_5xx_and_problem_json(
    target: Target, mode: GenerationMode
) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", target.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 12, [f"{op.method} {op.path}" for op in operations]
    cases = 0
    for operation in operations:
        for variant, fixed in _variants(operation, target.token):
            strategy = operation.as_strategy(generation_mode=mode, **fixed)
            label = f"{operation.method.upper()} {operation.path} ({variant}, {mode})"
            cases += _attack(target, strategy, label)
    assert not target.problems, "\n".join(target.problems)
    print(f"\nschemathesis {mode}: {cases} cases over {len(operations)} operations")


SAFE_INTEGERS = st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | SAFE_INTEGERS | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=30,
)
BODIES = st.one_of(
    st.binary(max_size=300),
    st.integers().map(lambda number: str(number).encode()),
    JSON_VALUES.map(lambda value: json.dumps(value).encode()),
    st.just(b"[" * 5000 + b"]" * 5000),
    st.just(b'{"envelopes": ' + b"[" * 40 + b"]" * 40 + b"}"),
    st.just(b'{"a": 1, "a": 2}'),
    st.just(b"1e400"),
    st.just(b'"\\ud800"'),
    st.just(b"9" * 5000),
)


def test_arbitrary_bodies_to_every_post_no_5xx(target: Target) -> None:
    paths = [
        path
        for path, methods in target.client.get("/openapi.json").json()["paths"].items()
        if "post" in methods
    ]
    assert "/v1/entries" in paths and "/v1/entries/batch" in paths, paths

    @_settings(SCALE.fuzz_examples * 10)
    @given(path=st.sampled_from(paths), body=BODIES, with_token=st.booleans())
    def attack(path: str, body: bytes, with_token: bool) -> None:
        headers = {"content-type": "application/json"}
        if with_token:
            headers["authorization"] = f"Bearer {target.token}"
        answer = target.client.post(path, content=body, headers=headers)
        content_type = answer.headers.get("content-type", "")
        target.judge(f"POST {path} {body[:80]!r}", answer.status_code, content_type, answer.content)

    attack()
    assert not target.problems, "\n".join(target.problems)


def _event_field_paths(event: dict[str, Any], prefix: str = "") -> list[str]:
    paths = []
    for key, value in event.items():
        paths.append(f"{prefix}{key}")
        if isinstance(value, dict):
            paths.extend(_event_field_paths(value, f"{prefix}{key}."))
    return paths


def _replace(event: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    head, _, rest = path.partition(".")
    copy = dict(event)
    if rest and isinstance(copy.get(head), dict):
        copy[head] = _replace(copy[head], rest, value)
    else:
        copy[head] = value
    return copy


HOSTILE_VALUES = st.one_of(
    JSON_VALUES,
    SAFE_INTEGERS,
    st.dictionaries(
        st.sampled_from(["La", "Ce", "Nd", "Dy", "Fe", "Xx", ""]), SAFE_INTEGERS, max_size=6
    ),
    st.sampled_from(["", "ORE-1", "ORE-2", "fuzz-mine", "operator", "\u0000", "x" * 300]),
)


def test_signed_events_with_hostile_fields_no_5xx(target: Target) -> None:
    """Validly signed envelopes whose event has one field replaced by a hostile value: the
    parser, the state machine and the rules must refuse or accept, never fail."""
    template = extract(target.mine, "ORE-FUZZ")
    paths = _event_field_paths(template)

    @_settings(SCALE.fuzz_examples * 10)
    @given(path=st.sampled_from(paths), value=HOSTILE_VALUES, number=st.integers(0, 10**9))
    def attack(path: str, value: Any, number: int) -> None:
        event = _replace({**template, "id": f"fuzz-{number}"}, path, value)
        answer = target.client.post("/v1/entries", json=target.mine.envelope(event))
        content_type = answer.headers.get("content-type", "")
        target.judge(f"{path}={value!r:.80}", answer.status_code, content_type, answer.content)

    attack()
    assert not target.problems, "\n".join(target.problems)


def test_epcis_event_query_refuses_an_index_beyond_64_bits(target: Target) -> None:
    answer = target.client.get(
        "/v1/epcis/events",
        params={"after": 2**63},
        headers={"Authorization": f"Bearer {target.token}"},
    )
    assert answer.status_code == 422, answer.text


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/v1/entries/9223372036854775808", {}),
        ("/v1/entries/-9223372036854775809", {}),
        ("/v1/flags", {"before": 2**63}),
        ("/v1/proofs/inclusion", {"index": 2**63, "size": 2**64}),
        ("/v1/proofs/consistency", {"first": 2**63, "second": 2**64}),
    ],
)
def test_indices_beyond_64_bits_are_refused_not_crashed(
    target: Target, path: str, params: dict[str, int]
) -> None:
    headers = {"Authorization": f"Bearer {target.token}"}
    answer = target.client.get(path, params=params, headers=headers)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/v1/entries/٣", {}),  # Arabic-Indic three
        ("/v1/entries/²", {}),
        ("/v1/flags", {"before": "٣"}),
        ("/v1/flags", {"limit": "５"}),  # fullwidth five
        ("/v1/proofs/inclusion", {"index": "٠", "size": "١"}),
        ("/v1/proofs/consistency", {"first": "¹", "second": "²"}),
        ("/v1/epcis/events", {"after": "٣"}),
    ],
)
def test_integers_in_paths_and_queries_are_ascii_digits_only(
    target: Target, path: str, params: dict[str, str]
) -> None:
    headers = {"Authorization": f"Bearer {target.token}"}
    answer = target.client.get(path, params=params, headers=headers)
    assert answer.status_code == 422, answer.text
    assert answer.json()["code"] == "invalid_request"
