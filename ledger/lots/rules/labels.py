"""What a declaration calls the goods: HS code, description and magnet family vs the record."""

from collections.abc import Mapping, Sequence

from ledger.lots.composition import REY, re_ppm, unlisted_ppm
from ledger.lots.events import Declaration
from ledger.lots.records import LotState
from ledger.lots.rules.flags import (
    COMPOSITION_MISMATCH,
    HS_CODE_MISMATCH,
    Flag,
    make_flag,
    more,
    percent,
    ppm,
)
from ledger.lots.rules.wording import names_any, terms_in
from ledger.lots.tolerances import Tolerances
from ledger.lots.words import Text, terms

FERROALLOY = "720299"
CERIUM_COMPOUNDS = "284610"
NDFEB, SMCO = "NdFeB", "SmCo"


def dotted(code: str) -> str:
    """An HS code as people write it: 850519 -> 8505.19."""
    return f"{code[:4]}.{code[4:]}"


def _share(lot: LotState) -> str:
    return percent(re_ppm(lot.composition_ppm) / 1e6)


def hs_problem(code: str, lot: LotState, tolerances: Tolerances) -> str | None:
    """Why `code` does not fit `lot`, or None when it fits."""
    heading = code[:6]
    rare_earths = re_ppm(lot.composition_ppm)
    if rare_earths >= tolerances.re_bearing_ppm and not code.startswith(tolerances.re_bearing_hs):
        headings = ", ".join(tolerances.re_bearing_hs)
        bearing = percent(tolerances.re_bearing_ppm / 1e6)
        return (
            f"HS {dotted(code)} is outside the rare-earth-bearing headings ({headings}) but "
            f"{lot.id} holds {_share(lot)} rare earths (≥ {bearing})"
        )
    allowed = tolerances.hs_by_product.get(lot.product, frozenset())
    if heading not in allowed:
        fits = ", ".join(dotted(fit) for fit in sorted(allowed)) or "no code"
        return f"HS {dotted(code)} does not fit {lot.id}, a {lot.product} (fits {fits})"
    if heading == FERROALLOY and rare_earths > tolerances.ferroalloy_max_re_ppm:
        return (
            f"HS {dotted(code)} (ferro-alloy) but {lot.id} holds {_share(lot)} rare earths, more "
            f"than the {percent(tolerances.ferroalloy_max_re_ppm / 1e6)} of an RE ferro-alloy"
        )
    main = _main_rare_earth(lot)
    if heading == CERIUM_COMPOUNDS and lot.product == "oxide" and _not_cerium(lot, main):
        return f"HS {dotted(code)} (cerium compounds) but {lot.id} is an oxide of {main}"
    return None


def _not_cerium(lot: LotState, main: str | None) -> bool:
    """Whether the oxide's main rare earth is surely not Ce: a Ce it does not list was not
    measured, and may be the main one if the unlisted remainder is larger."""
    if main is None or main == "Ce":
        return False
    held = lot.composition_ppm
    return "Ce" in held or unlisted_ppm(held) < held[main]


def _main_rare_earth(lot: LotState) -> str | None:
    held = [(value, e) for e, value in lot.composition_ppm.items() if e in REY and value > 0]
    return max(held)[1] if held else None


def check_hs_code(
    declaration: Declaration, lots: Sequence[LotState], tolerances: Tolerances
) -> list[Flag]:
    """HS_CODE_MISMATCH: the code must fit each lot's product and composition (DOMAIN §1, §4)."""
    code = declaration.hs_code
    problems = [(lot, why) for lot in lots if (why := hs_problem(code, lot, tolerances))]
    if not problems:
        return []
    lot, why = problems[0]
    tail = more(len(problems), "lot")
    evidence = {
        "declaration": declaration.id,
        "hs_code": code,
        "lots": [
            {"lot": bad.id, "product": bad.product, "re_ppm": re_ppm(bad.composition_ppm)}
            for bad, _ in problems
        ],
        "re_bearing_ppm": tolerances.re_bearing_ppm,
    }
    return [make_flag(HS_CODE_MISMATCH, lot.id, why + tail, evidence, tolerances)]


def check_description(
    declaration: Declaration,
    words: Text,
    lots: Sequence[LotState],
    tolerances: Tolerances,
    controlled: frozenset[str] | None = None,
) -> list[Flag]:
    """HS_CODE_MISMATCH: a description naming only non-rare-earth goods for RE-bearing lots,
    or a generic one ("permanent magnets", "alloy") for lots that carry a controlled element.

    Mislabelling the goods in words is the same fraud as in digits, so it shares the code.
    `words`: the description read (words.read).
    """
    text = declaration.description
    bearing = [lot for lot in lots if re_ppm(lot.composition_ppm) >= tolerances.re_bearing_ppm]
    if not bearing or names_any(words, tolerances.re_words):
        return []
    named = terms_in(words, tolerances.non_re_words)
    if not named:
        # Generic words under a code that does not fit: the code's flag says it already.
        generic = names_any(words, tolerances.generic_words) and not any(
            hs_problem(declaration.hs_code, lot, tolerances) for lot in bearing
        )
        listed = tolerances.controlled if controlled is None else controlled
        return _generic(declaration, words, bearing, tolerances, listed) if generic else []
    lot = bearing[0]
    message = (
        f"description {text!r} names {', '.join(named)}, no rare earth, but {lot.id} holds "
        f"{_share(lot)} rare earths (≥ {percent(tolerances.re_bearing_ppm / 1e6)})"
    )
    evidence = {
        "declaration": declaration.id,
        "description": text,
        "non_re_terms": named,
        "lots": [{"lot": held.id, "re_ppm": re_ppm(held.composition_ppm)} for held in bearing],
    }
    return [make_flag(HS_CODE_MISMATCH, lot.id, message, evidence, tolerances)]


def _generic(
    declaration: Declaration,
    words: Text,
    bearing: Sequence[LotState],
    tolerances: Tolerances,
    controlled: frozenset[str],
) -> list[Flag]:
    """A generic description ("permanent magnets", "alloy") that names no rare earth (nor the
    controlled element itself) for lots that carry a controlled element at or above the
    threshold hides what needs a licence."""
    text = declaration.description
    hidden = [
        (lot, held)
        for lot in bearing
        if (held := _controlled(lot, tolerances, controlled)) and not names_any(words, terms(held))
    ]
    if not hidden:
        return []
    lot, held = hidden[0]
    found = ", ".join(f"{e} {ppm(lot.composition_ppm[e])}" for e in held)
    message = (
        f"description {text!r} names no rare earth, but {lot.id} holds {_share(lot)} rare "
        f"earths with {found}, controlled at ≥ {ppm(tolerances.controlled_threshold_ppm)}"
        f"{more(len(hidden), 'lot')}"
    )
    evidence = {
        "declaration": declaration.id,
        "description": text,
        "lots": [{"lot": bad.id, "controlled": elements} for bad, elements in hidden],
    }
    return [make_flag(HS_CODE_MISMATCH, lot.id, message, evidence, tolerances)]


def _controlled(lot: LotState, tolerances: Tolerances, controlled: frozenset[str]) -> list[str]:
    """The controlled elements `lot` lists at or above the threshold (at least: an element
    not listed was not measured, so it is not known to be there)."""
    threshold = tolerances.controlled_threshold_ppm
    return sorted(e for e, v in lot.composition_ppm.items() if e in controlled and v >= threshold)


def magnet_family(composition: dict[str, int], tolerances: Tolerances) -> str | None:
    """NdFeB or SmCo by the record (the main RE ≥ magnet_family_min_ppm), else None."""
    ndpr = composition.get("Nd", 0) + composition.get("Pr", 0)
    sm, co, fe = composition.get("Sm", 0), composition.get("Co", 0), composition.get("Fe", 0)
    if sm >= tolerances.magnet_family_min_ppm and sm > ndpr and co > fe:
        return SMCO
    if ndpr >= tolerances.magnet_family_min_ppm and ndpr > sm and fe > co:
        return NDFEB
    return None


# The products a magnet family names; the family's rare earth, and the elements it counts.
FAMILY_PRODUCTS = frozenset({"alloy", "magnet_powder", "magnet"})
_FAMILY_RARE_EARTH = {NDFEB: ("Nd", "Pr"), SMCO: ("Sm",)}


def _family_against(lot: LotState, claimed: str, tolerances: Tolerances) -> str | None:
    """The lot's family by its record; for an alloy, powder or magnet of neither family that
    cannot hold enough of the claimed family's rare earth (an element it does not list read at
    its most, the unlisted remainder), why it is not the claimed family; else None."""
    family = magnet_family(lot.composition_ppm, tolerances)
    if family is not None or lot.product not in FAMILY_PRODUCTS:
        return family
    elements = _FAMILY_RARE_EARTH[claimed]
    most = _most_ppm(lot.composition_ppm, elements)
    if most >= tolerances.magnet_family_min_ppm:
        return None
    return f"{'+'.join(elements)} at most {percent(most / 1e6)}"


def _most_ppm(composition: Mapping[str, int], elements: Sequence[str]) -> float:
    """The most ppm `elements` together can make of a lot: the listed ones, and the unlisted
    remainder if any of them is not listed (not measured)."""
    listed = sum(composition.get(e, 0) for e in elements)
    unlisted = any(e not in composition for e in elements)
    return listed + (unlisted_ppm(composition) if unlisted else 0.0)


def check_magnet_family(
    declaration: Declaration, words: Text, lots: Sequence[LotState], tolerances: Tolerances
) -> list[Flag]:
    """COMPOSITION_MISMATCH: the description names NdFeB for SmCo material or the reverse.

    Both families share HS 8505.11, so the code cannot tell them apart: the contradiction is
    between the words and the recorded composition. `words`: the description read.
    """
    text = declaration.description
    says_ndfeb = names_any(words, tolerances.ndfeb_words)
    says_smco = names_any(words, tolerances.smco_words)
    if says_ndfeb == says_smco:
        return []
    claimed = NDFEB if says_ndfeb else SMCO
    wrong = [
        (lot, family)
        for lot in lots
        if (family := _family_against(lot, claimed, tolerances)) not in (None, claimed)
    ]
    if not wrong:
        return []
    lot, family = wrong[0]
    held = lot.composition_ppm
    said = f"{family} by its record" if family in (NDFEB, SMCO) else f"not {claimed}: {family}"
    message = (
        f"description {text!r} names {claimed} but {lot.id} is {said} "
        f"(Nd+Pr {percent((held.get('Nd', 0) + held.get('Pr', 0)) / 1e6)}, "
        f"Sm {percent(held.get('Sm', 0) / 1e6)}, Fe {percent(held.get('Fe', 0) / 1e6)}, "
        f"Co {percent(held.get('Co', 0) / 1e6)}; a family needs ≥ "
        f"{percent(tolerances.magnet_family_min_ppm / 1e6)} of its rare earth)"
    )
    evidence = {
        "declaration": declaration.id,
        "description": text,
        "claimed": claimed,
        "lots": [{"lot": bad.id, "family": fam} for bad, fam in wrong],
    }
    return [make_flag(COMPOSITION_MISMATCH, lot.id, message, evidence, tolerances)]
