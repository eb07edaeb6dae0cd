"""QR labels: the PNG decodes, with a real decoder (zbarimg), to exactly the lot's page URL."""

import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from api.routers.qr import MAX_LABELS, MAX_LABELS_ANONYMOUS
from ledger.config import Settings
from ledger.home import Home
from ledger.qr import lot_page_url
from tests.api.conftest import ORIGIN, Ledger
from tests.support import Party, extract

# A trailing slash, as an operator might write it: the URL must not get "//lots".
PUBLIC_URL = "https://ledger.customs.example/"
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def settings(home: Home, database_url: str) -> Settings:
    return Settings(home=home.path, database_url=database_url, origin=ORIGIN, public_url=PUBLIC_URL)


def zbarimg(image: Path) -> str:
    """What zbarimg (Debian zbar-tools) reads in `image`; never skipped: a missing decoder
    fails the test, as CI must install it (scripts/install-system-deps)."""
    if shutil.which("zbarimg") is None:
        pytest.fail("zbarimg is not installed: run `bash scripts/install-system-deps` as root")
    done = subprocess.run(
        ["zbarimg", "--quiet", "--raw", str(image)], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, f"zbarimg found no code in {image}: {done.stderr}"
    return done.stdout.rstrip("\n")


def test_lot_page_url_does_not_double_the_slash() -> None:
    assert lot_page_url("https://a.example/", "MAG-1") == "https://a.example/lots/MAG-1"
    assert lot_page_url("https://a.example/ree", "L:1.a") == "https://a.example/ree/lots/L:1.a"


def test_png_decodes_to_exactly_the_page_url(
    ledger: Ledger, cast: dict[str, Party], tmp_path: Path
) -> None:
    mine = cast["mine"]
    ledger.post(mine, extract(mine, "ORE-QR.1:a"))
    answer = ledger.client.get("/v1/lots/ORE-QR.1:a/qr.png")
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/png"
    path = tmp_path / "label.png"
    path.write_bytes(answer.content)
    assert zbarimg(path) == "https://ledger.customs.example/lots/ORE-QR.1:a"
    width, height = Image.open(path).size
    assert width >= 300 and height > width  # the lot id is printed under the code


def test_png_of_a_longest_lot_id_still_decodes(
    ledger: Ledger, cast: dict[str, Party], tmp_path: Path
) -> None:
    mine, lot = cast["mine"], "L" + "0123456789" * 6 + "xyz"
    ledger.post(mine, extract(mine, lot))
    path = tmp_path / "long.png"
    path.write_bytes(ledger.client.get(f"/v1/lots/{lot}/qr.png").content)
    assert zbarimg(path) == f"https://ledger.customs.example/lots/{lot}"


def _draw_svg(root: ET.Element, path: Path) -> None:
    """Paint the SVG's module path (`M x y h n v1 h-n z` runs) at 10 px a module."""
    width, height = (int(float(n)) for n in root.attrib["viewBox"].split()[2:])
    image = Image.new("L", (width * 10, height * 10), 255)
    draw = ImageDraw.Draw(image)
    d = root.find(f"{SVG}path")
    assert d is not None
    for x, y, n in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\d+z", d.attrib["d"]):
        x0, y0 = int(x) * 10, int(y) * 10
        draw.rectangle((x0, y0, x0 + int(n) * 10 - 1, y0 + 9), fill=0)
    image.save(path)


def test_svg_is_valid_xml_with_the_lot_id_and_the_same_code(
    ledger: Ledger, cast: dict[str, Party], tmp_path: Path
) -> None:
    mine = cast["mine"]
    ledger.post(mine, extract(mine, "ORE-SVG"))
    answer = ledger.client.get("/v1/lots/ORE-SVG/qr.svg")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("image/svg+xml")
    assert "default-src 'none'" in answer.headers["content-security-policy"]
    root = ET.fromstring(answer.content)
    assert root.tag == f"{SVG}svg"
    caption = root.find(f"{SVG}text")
    assert caption is not None and caption.text == "ORE-SVG"
    _draw_svg(root, tmp_path / "svg.png")
    assert zbarimg(tmp_path / "svg.png") == "https://ledger.customs.example/lots/ORE-SVG"


def test_qr_of_an_unknown_lot_is_404_problem_json(ledger: Ledger, cast: dict[str, Party]) -> None:
    for suffix in ("png", "svg"):
        answer = ledger.client.get(f"/v1/lots/NOPE/qr.{suffix}")
        assert answer.status_code == 404
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["code"] == "unknown_lot"


def test_label_sheet_prints_one_code_per_lot(ledger: Ledger, cast: dict[str, Party]) -> None:
    mine = cast["mine"]
    for lot in ("ORE-L1", "ORE-L2"):
        ledger.post(mine, extract(mine, lot))
    sheet = ledger.client.get("/labels", params=[("lot", "ORE-L1"), ("lot", "ORE-L2")])
    assert sheet.status_code == 200 and "@media print" not in sheet.text  # CSS is a file
    assert sheet.text.count("<svg ") == 2
    assert "https://ledger.customs.example/lots/ORE-L2" in sheet.text
    assert "@media print" in ledger.client.get("/static/page.css").text
    unknown = ledger.client.get("/labels", params=[("lot", "ORE-L1"), ("lot", "NOPE")])
    assert unknown.status_code == 404 and "NOPE" in unknown.text
    assert ledger.client.get("/labels").status_code == 422


def test_label_sheet_names_only_lot_ids_and_is_bounded_for_anonymous_callers(
    ledger: Ledger, cast: dict[str, Party]
) -> None:
    mine = cast["mine"]
    ledger.post(mine, extract(mine, "ORE-L1"))
    words = "Customs notice: call +1 555 0100"
    odd = ledger.client.get("/labels", params=[("lot", "ORE-L1"), ("lot", words), ("lot", "NOPE")])
    assert odd.status_code == 404 and "Call" not in odd.text and "+1 555" not in odd.text
    assert "<h1>2 of these lots are not in this ledger</h1>" in odd.text
    assert "Unknown: NOPE. 1 not lot codes at all." in odd.text
    many = [("lot", f"ORE-{n}") for n in range(MAX_LABELS_ANONYMOUS + 1)]
    anonymous = ledger.client.get("/labels", params=many)
    assert (
        anonymous.status_code == 422 and f"Name 1 to {MAX_LABELS_ANONYMOUS} lots" in anonymous.text
    )
    assert f"Sign in with a read token for up to {MAX_LABELS}" in anonymous.text
    signed_in = ledger.client.get("/labels", params=many, headers=ledger.auth(cast["auditor"]))
    assert signed_in.status_code == 404  # past the bound: the lots themselves are unknown
    too_many = [("lot", f"ORE-{n}") for n in range(MAX_LABELS + 1)]
    assert (
        ledger.client.get(
            "/labels", params=too_many, headers=ledger.auth(cast["auditor"])
        ).status_code
        == 422
    )
