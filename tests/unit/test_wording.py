"""Finding terms in a description (ledger/lots/rules/wording.py) by the description's words
in the term lists tokenized once (Terms), held to the plain rule: each term of the list, in
its order, tokenized and looked for at every place of the text (names_any: whether that
finds a term not negated)."""

import random

from ledger.lots.rules.wording import NEGATE_AFTER, NEGATE_BEFORE, names_any, negated, terms_in
from ledger.lots.tolerances import Tolerances
from ledger.lots.words import read, terms, tokens

TOL = Tolerances()
LISTS = [
    TOL.non_re_terms,
    TOL.re_terms,
    TOL.generic_terms,
    TOL.ndfeb_terms,
    TOL.smco_terms,
    ("Dy", "Tb"),
    ("ree", "", "%", "rare earth", "ree", "rare earth oxide", "Rare-Earth"),  # repeats, no word
]
FILLER = ["of", "free", "from", "content", "is", "not", "present", "0", "0.0", "5", "%", "ppm"]


def plain(text: str, listed: tuple[str, ...], negatable: bool) -> list[str]:
    """The rule as written: every term, in the list's order, whose words follow each other
    somewhere in the text's (and, if `negatable`, not negated there)."""
    words = tokens(text)
    return [term for term in listed if _at_some_place(words, tokens(term), negatable)]


def _at_some_place(words: tuple[str, ...], term: tuple[str, ...], negatable: bool) -> bool:
    size = len(term)
    return bool(term) and any(
        words[at : at + size] == term and not (negatable and negated(words, at, at + size))
        for at in range(len(words))
    )


def descriptions(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    vocabulary = sorted(
        {word for listed in LISTS for term in listed for word in tokens(term)}
        | NEGATE_BEFORE
        | NEGATE_AFTER
        | set(FILLER)
    )
    made = []
    for _ in range(count):
        words = [rng.choice(vocabulary) for _ in range(rng.randint(0, 12))]
        glue = [rng.choice([" ", " ", "-", ", ", ": ", " (", ") "]) for _ in words]
        text = "".join(word + sep for word, sep in zip(words, glue, strict=True))
        made.append(text.upper() if rng.random() < 0.1 else text)
    return made


def test_terms_are_found_as_the_plain_rule_finds_them() -> None:
    texts = [*descriptions(seed=14, count=1500), "Sintered NdFeB rare earth permanent magnets"]
    hits = 0
    for listed in LISTS:
        ready = terms(listed)
        for text in texts:
            words = read(text)
            assert terms_in(words, ready) == plain(text, listed, negatable=False)
            found = names_any(words, ready)
            assert found == bool(plain(text, listed, negatable=True))
            hits += found
    assert hits >= 1000  # the texts name terms often, and not always


def test_tolerances_hold_their_term_lists_tokenized() -> None:
    for name in ("non_re", "re", "generic", "ndfeb", "smco"):
        listed = getattr(TOL, f"{name}_terms")
        assert getattr(TOL, f"{name}_words") == terms(listed)
    changed = Tolerances(re_terms=("rare earth", "ree"))
    assert names_any(read("rare earth alloy"), changed.re_words)
    assert not names_any(read("REE-free alloy"), changed.re_words)
    assert terms_in(read("REE-free alloy"), changed.re_words) == ["ree"]
