"""The declaration-check form's fields turned into a declaration object, in linear time.

People type into this form, so it forgives spaces, commas and a lower-case country; it never
guesses at anything else. Numbers are ASCII digits only (`int()` would also take '²' and
Arabic-Indic digits). The composition is read by a tokenizer whose token classes do not
overlap, so the work is linear in the text, and the field is bounded (docs/security.md §3).
"""

import re
from typing import Any, NoReturn

from pydantic import BaseModel

from ledger.errors import Kind
from ledger.lots.records import Rejection

# 118 elements written as "Og=1000000, " take 1,416 characters: room to spare, and no more.
MAX_COMPOSITION_CHARS = 2000
# Longer numbers are out of every range the declaration allows; int() is kept off them.
MAX_DIGITS = 16
ASCII_NUMBER = re.compile(f"[0-9]{{1,{MAX_DIGITS}}}")
# One token at each position, chosen by its first character: no alternative can overlap
# another, and none backtracks (each `+` is the last thing in its branch).
TOKEN = re.compile(
    r"(?P<element>[A-Z][a-z]?)|(?P<ppm>[0-9]+)|(?P<sign>[=:])|(?P<gap>[\s,;]+)|.", re.S
)
COMPOSITION_FIELD = "declared_composition_ppm"
EXAMPLE = "write element=ppm with the digits 0-9, as Nd=232000, Dy=9000"
# (state, token) -> the next state: an element, then a sign or a gap (or a gap and a sign,
# with gaps around it), then its ppm; pairs may be separated by gaps.
STEPS = {
    ("start", "gap"): "start",
    ("start", "element"): "element",
    ("element", "gap"): "gap",
    ("element", "sign"): "sign",
    ("gap", "sign"): "sign",
    ("sign", "gap"): "sign",
    ("gap", "ppm"): "start",
    ("sign", "ppm"): "start",
}


class CheckForm(BaseModel):
    csrf: str = ""
    lots: str = ""
    hs_code: str = ""
    description: str = ""
    declared_mass_g: str = ""
    destination: str = ""
    licence: str = ""
    composition: str = ""


def shown_again(form: CheckForm) -> CheckForm:
    """The form as the answer shows it again: a composition too long to read is not echoed."""
    if len(form.composition) > MAX_COMPOSITION_CHARS:
        return form.model_copy(update={"composition": ""})
    return form


def declaration_body(form: CheckForm) -> dict[str, Any]:
    """The form as a declaration object; values that do not parse are passed on as they are,
    so the declaration's own validation names the field."""
    mass = re.sub(r"[\s,_]", "", form.declared_mass_g)
    body: dict[str, Any] = {
        "lots": form.lots.replace(",", " ").split(),
        "hs_code": re.sub(r"[\s.]", "", form.hs_code),
        "description": form.description.strip(),
        "declared_mass_g": int(mass) if ASCII_NUMBER.fullmatch(mass) else mass,
        "destination": form.destination.strip().upper(),
    }
    if form.licence.strip():
        body["licence"] = form.licence.strip()
    if form.composition.strip():
        body[COMPOSITION_FIELD] = composition(form.composition)
    return body


def composition(text: str) -> dict[str, int]:
    """The composition field, at most MAX_COMPOSITION_CHARS long, read by `read_pairs`."""
    if len(text) > MAX_COMPOSITION_CHARS:
        _refuse(
            f"the declared composition has {len(text):,} characters, at most "
            f"{MAX_COMPOSITION_CHARS:,} are read: {EXAMPLE}"
        )
    return read_pairs(text)


def read_pairs(text: str) -> dict[str, int]:
    """`Nd=232000, Dy 9000` -> {"Nd": 232000, "Dy": 9000}; anything else is a 422 Rejection.

    A pair is an element, then `=`, `:` or a space, then ASCII digits; pairs are separated by
    spaces, commas or semicolons. One pass over the text, one token at a time.
    """
    pairs: dict[str, int] = {}
    state, element = "start", ""
    for token in TOKEN.finditer(text):
        kind, value = token.lastgroup or "other", token.group()
        following = STEPS.get((state, kind))
        if following is None:
            where = f"{value[:12]!r} at character {token.start() + 1}"
            _refuse(f"declared composition: {where}: {EXAMPLE}")
        if kind == "element":
            element = value
        elif kind == "ppm":
            _add(pairs, element, value)
        state = following
    if state != "start" or not pairs:
        _refuse(f"declared composition: {(element or 'nothing')!r} has no ppm: {EXAMPLE}")
    return pairs


def _add(pairs: dict[str, int], element: str, digits: str) -> None:
    if element in pairs:
        _refuse(f"declared composition: {element} is given twice: give each element once")
    if len(digits) > MAX_DIGITS:
        _refuse(f"declared composition: {element} has {len(digits)} digits: ppm is 0 … 1000000")
    pairs[element] = int(digits)


def _refuse(why: str) -> NoReturn:
    raise Rejection(Kind.INVALID, "invalid_declaration", why, field=COMPOSITION_FIELD)
