"""The customs page in a real headless Chromium, with no script on it, at a phone's 390 px.

`ree-ledger init` and `ree-ledger serve` run as subprocesses on a free loopback port; a small
chain is posted through the API. Chromium (Debian's /usr/bin/chromium, installed by
scripts/install-system-deps) renders the pages: `--dump-dom` for what they say, and
`--screenshot` for whether they fit.

How "fits 390 px" is checked: the page is drawn in a 390 px wide window with scrollbars
hidden, so whatever is wider than the window is cut off at its right edge. The page keeps a
margin on both sides, so in every pixel row the right-most columns must have the colour of
the left-most column (white page, or a full-width bar). Content that overflows reaches the
right edge with a colour the left edge does not have. A deliberately too-wide page proves
the check can fail.

REE_LEDGER_DOCS_SCREENSHOT=1 also writes docs/img/lot-page.png (the flagged lot, signed in).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from PIL import Image

from ledger.home import Home
from tests.api.conftest import Ledger
from tests.api.test_pages import (
    CON_FE_PPM,
    CON_LA_PPM,
    SHORT_RECEIPT,
    SHORT_RECEIPT_G,
    post_chain,
)
from tests.support import Party, quota_issue

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
PHONE = (390, 844)
AMBER = (255, 183, 3)  # .verdict.flagged in api/templates/page.css
EDGE_PX = 6


@dataclass(frozen=True)
class Served:
    url: str
    clean: str
    flagged: str
    customs_token: str


def _chromium() -> str:
    if CHROMIUM.exists():
        return str(CHROMIUM)
    if os.geteuid() == 0:
        pytest.fail("chromium is missing: run `bash scripts/install-system-deps` (as root)")
    pytest.skip("chromium is not installed and only root can install it (install-system-deps)")


def _cli(*args: str) -> list[str]:
    script = Path(sys.executable).with_name("ree-ledger")
    entry = [str(script)] if script.exists() else [sys.executable, "-m", "ledger.cli.main"]
    return [*entry, *args]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_for(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 20
    while True:
        assert server.poll() is None, f"serve exited:\n{log.read_text()}"
        assert time.monotonic() < deadline, f"no /healthz:\n{log.read_text()}"
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)


def _post_chains(url: str, home: Path) -> tuple[str, str, str]:
    with httpx.Client(base_url=url, timeout=10) as client:
        ledger = Ledger(client, Party("operator", Home(home).operator_key()))
        mine = ledger.enrol(Party("baotou-mine"), ["mine"])
        plant = ledger.enrol(Party("gansu-plant"), ["processor"])
        ledger.enrol(Party("tianjin-customs"), ["customs"])
        authority = ledger.enrol(Party("cn-mofcom"), ["authority"])
        ledger.post(authority, quota_issue(authority, "Q-2026", mine.id, 10**12))
        clean = post_chain(ledger, mine, plant, "OK", 1_000_000)
        flagged = post_chain(ledger, mine, plant, "SHORT", SHORT_RECEIPT_G)
    issued = subprocess.run(
        _cli("token", "issue", "tianjin-customs", "--home", str(home)),
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return clean, flagged, issued.stdout.strip().split()[-1]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    _chromium()
    home = tmp_path_factory.mktemp("browser") / "home"
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "REE_LEDGER_PUBLIC_URL": url}
    env.pop("REE_LEDGER_DATABASE_URL", None)
    subprocess.run(_cli("init", "--home", str(home)), env=env, check=True, timeout=60)
    log = home.parent / "serve.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            _cli("serve", "--home", str(home), "--port", str(port)),
            env=env, cwd=REPO, stdout=out, stderr=out,
        )  # fmt: skip
    try:
        _wait_for(url, server, log)
        clean, flagged, token = _post_chains(url, home)
        yield Served(url, clean, flagged, token)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


def _browse(tmp_path: Path, *args: str, size: tuple[int, int] = PHONE) -> str:
    """Run headless Chromium in a fresh profile; its stdout.

    JavaScript stays on in the browser because --dump-dom and --screenshot use it; the pages
    have none, and their CSP (script-src falls back to default-src 'none') would block any."""
    profile = tmp_path / f"profile-{time.monotonic_ns()}"
    command = [
        _chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
        f"--user-data-dir={profile}",
        f"--window-size={size[0]},{size[1]}",
        *args,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _screenshot(tmp_path: Path, url: str, name: str, size: tuple[int, int]) -> Image.Image:
    out = tmp_path / name
    _browse(tmp_path, f"--screenshot={out}", url, size=size)
    image = Image.open(out).convert("RGB")
    assert image.size == size, f"the screenshot is {image.size}, not the {size} window"
    return image


def overflowing_rows(image: Image.Image) -> list[int]:
    """Rows whose right-most EDGE_PX pixels differ from the row's left-most pixel."""
    pixels = image.load()
    assert pixels is not None
    width, height = image.size
    return [
        y
        for y in range(height)
        if any(pixels[x, y] != pixels[0, y] for x in range(width - EDGE_PX, width))
    ]


def _signed_in_copy(served: Served, lot: str, tmp_path: Path) -> str:
    """The signed-in page as a file Chromium can open: fetched with the customs token (a
    header never goes on a command line), with a <base> so its stylesheet loads from the
    server. Returns the file URL."""
    headers = {"Authorization": f"Bearer {served.customs_token}"}
    html = httpx.get(f"{served.url}/lots/{lot}", headers=headers, timeout=10).text
    assert CON_FE_PPM in html, "the token should show the detail"
    page = tmp_path / f"{lot}.html"
    page.write_text(html.replace("<head>", f'<head><base href="{served.url}/">', 1))
    return page.as_uri()


def test_clean_lot_shows_the_green_verdict(served: Served, tmp_path: Path) -> None:
    dom = _browse(tmp_path, "--dump-dom", f"{served.url}/lots/{served.clean}")
    assert 'class="verdict ok"' in dom
    assert "Record intact — no findings" in dom
    assert "<script" not in dom


def test_flagged_lot_shows_the_finding_and_no_commercial_detail(
    served: Served, tmp_path: Path
) -> None:
    dom = _browse(tmp_path, "--dump-dom", f"{served.url}/lots/{served.flagged}")
    assert "Record intact — 1 finding" in dom
    assert "Weight on arrival differed from weight shipped" in dom
    for secret in (CON_LA_PPM, CON_FE_PPM, SHORT_RECEIPT, "gansu-plant", "Composition"):
        assert secret not in dom, secret


def test_pages_fit_a_390_px_phone(served: Served, tmp_path: Path) -> None:
    public = _screenshot(tmp_path, f"{served.url}/lots/{served.flagged}", "public.png", (390, 1600))
    first_screen = public.crop((0, 0, *PHONE)).getcolors(maxcolors=PHONE[0] * PHONE[1]) or []
    assert AMBER in {colour for _, colour in first_screen}, "no amber banner: no stylesheet?"
    assert overflowing_rows(public) == []
    detail_url = _signed_in_copy(served, served.flagged, tmp_path)
    detail = _screenshot(tmp_path, detail_url, "detail.png", (390, 4000))
    assert overflowing_rows(detail) == [], "the signed-in page is wider than 390 px"
    if os.environ.get("REE_LEDGER_DOCS_SCREENSHOT") == "1":
        docs = REPO / "docs" / "img" / "lot-page.png"
        docs.parent.mkdir(exist_ok=True)
        _screenshot(tmp_path, detail_url, "lot-page.png", PHONE).save(docs, optimize=True)


def test_the_fit_check_catches_a_page_wider_than_the_phone(tmp_path: Path) -> None:
    wide = tmp_path / "wide.html"
    wide.write_text(
        '<!doctype html><meta name="viewport" content="width=device-width">'
        '<body style="margin:16px"><svg width="600" height="40"><rect width="600" '
        'height="40" fill="#1f2933"/></svg><p>text</p></body>'
    )
    image = _screenshot(tmp_path, wide.as_uri(), "wide.png", PHONE)
    assert overflowing_rows(image), "a 600 px wide drawing must fail the 390 px check"
