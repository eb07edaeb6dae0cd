"""The body limit as a real server applies it: uvicorn on a loopback port, bodies sent chunked
(no Content-Length) by httpx from a generator, so only counting what arrives can refuse them."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from api.app import create_app
from ledger.config import Settings
from ledger.home import init_home
from tests.reliability.harness import START_TIMEOUT_S, free_port

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
ORIGIN = "limits.ree-ledger.local/log"
MAX_BODY = 1_048_576  # the default of REE_LEDGER_MAX_BODY_BYTES
FORM = {"content-type": "application/x-www-form-urlencoded"}


@pytest.fixture
def server(tmp_path: Path, database_url: str) -> Iterator[str]:
    """The app served by uvicorn in a thread of this process; yields its base URL."""
    init_home(tmp_path / "home", database_url, ORIGIN)
    app = create_app(Settings(home=tmp_path / "home", database_url=database_url, origin=ORIGIN))
    port = free_port()
    served = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=served.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_S
    while not served.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        served.should_exit = True
        thread.join(START_TIMEOUT_S)
        app.state.db.dispose()


def _chunks(head: bytes, size: int, piece: bytes = b"%20" * 10_000) -> Iterator[bytes]:
    """`head`, then `piece` until at least `size` bytes were sent."""
    yield head
    for _ in range(size // len(piece) + 1):
        yield piece


@pytest.mark.parametrize(
    ("path", "head"),
    [
        ("/lots/ORE-1/check", b"csrf=x&lots=ORE-1&composition="),
        ("/signin", b"csrf=x&next=/signin&token="),
        ("/signout", b"csrf=x&next="),
    ],
)
def test_an_oversized_chunked_form_is_refused_with_413(server: str, path: str, head: bytes) -> None:
    sent = httpx.post(f"{server}{path}", content=_chunks(head, 2 * MAX_BODY), headers=FORM)
    assert sent.request.headers.get("transfer-encoding") == "chunked"
    assert "content-length" not in sent.request.headers
    assert sent.status_code == 413, sent.text
    assert sent.headers["content-type"] == "application/problem+json"
    problem = sent.json()
    assert problem["code"] == "body_too_large" and problem["status"] == 413
    assert f"exceeds {MAX_BODY} bytes" in problem["detail"]


def test_an_oversized_chunked_json_body_is_refused_with_413(server: str) -> None:
    body = _chunks(b'{"payload":"', 2 * MAX_BODY, b"A" * 30_000)
    sent = httpx.post(
        f"{server}/v1/entries", content=body, headers={"content-type": "application/json"}
    )
    assert "content-length" not in sent.request.headers
    assert sent.status_code == 413 and sent.json()["code"] == "body_too_large", sent.text


def test_a_chunked_form_within_the_limit_reaches_the_page(server: str) -> None:
    sent = httpx.post(f"{server}/lots/ORE-1/check", content=_chunks(b"lots=", 10_000), headers=FORM)
    assert "content-length" not in sent.request.headers
    # No such lot in this empty ledger: the page's own answer, not the limit's.
    assert sent.status_code == 404 and "No lot ORE-1 in this ledger" in sent.text
