"""The words of a description: terms as whole words, and negations that do not name them.

A description is read as a sequence of word tokens (ledger/lots/words.py: lower-case runs of
letters and digits, decimal numbers, "%" and "-"), in one linear pass; a term is a sequence
of such tokens (its list tokenized once: Terms) and occurs where they follow each other,
which is the whole-word match (a term is not found inside a longer word; "rare-earth" and
"rare earth" are two terms). An occurrence negated
names nothing: "REE-free", "free of rare earths", "no rare earth", "non-rare-earth",
"without REE", "0 % rare earth", "rare earth content: none".
"""

from collections.abc import Sequence

from ledger.lots.words import Terms, Text

_HYPHEN = "-"  # joins words; the negation looks through it ("REE-free", "non-rare-earth")
# A word right before a term that negates it.
NEGATE_BEFORE = frozenset({"no", "non", "not", "without", "zero", "nil", "excluding", "trace"})
# Two words right before a term that negate it.
NEGATE_PAIRS = frozenset(
    {("free", "of"), ("free", "from"), ("devoid", "of"), ("absent", "of"), ("traces", "of")}
)
# A word between a negation and its term ("not containing rare earths", "without any REE").
_LINKS = frozenset({"containing", "contains", "contain", "any", "added", "including"})
# A word right after a term that negates it ("REE-free", "rare earths: none").
NEGATE_AFTER = frozenset({"free", "none", "nil", "zero", "absent"})
# Two words after a term that negate it ("rare earths not present").
_NOT_THERE = frozenset({"present", "contained", "detected", "included"})
# Words between a term and its negation ("rare earth content: none").
_BETWEEN = frozenset({"content", "contents", "level", "levels", "is", "are"})
_UNITS = frozenset({"%", "ppm", "percent", "pct"})


def _zero(token: str) -> bool:
    return token[0].isdigit() and float(token) == 0


def _before(words: Sequence[str], start: int) -> list[str]:
    """Up to two words before `start`, nearest last, hyphens skipped."""
    found = [word for word in words[max(0, start - 4) : start] if word != _HYPHEN]
    return found[-2:]


def _after(words: Sequence[str], end: int) -> list[str]:
    """Up to two words from `end` on, hyphens skipped."""
    return [word for word in words[end : end + 4] if word != _HYPHEN][:2]


def _negated_before(words: Sequence[str], start: int) -> bool:
    before = _before(words, start)
    if before and (before[-1] in NEGATE_BEFORE or _zero(before[-1])):
        return True
    if len(before) < 2:
        return False
    first, last = before
    if (first, last) in NEGATE_PAIRS or (first in NEGATE_BEFORE and last in _LINKS):
        return True
    return last in _UNITS and _zero(first)


def _negated_after(words: Sequence[str], end: int) -> bool:
    after = _after(words, end)
    if after and (after[0] in NEGATE_AFTER or _zero(after[0])):
        return True
    if len(after) < 2:
        return False
    first, last = after
    if first == "not" and last in _NOT_THERE:
        return True
    return first in _BETWEEN and (last in NEGATE_AFTER or _zero(last))


def negated(words: Sequence[str], start: int, end: int) -> bool:
    """Whether the term at words[start:end] is negated by the words next to it."""
    return _negated_before(words, start) or _negated_after(words, end)


def occurs(words: Sequence[str], term: Sequence[str], *, negatable: bool = True) -> bool:
    """Whether `term` occurs in `words` as whole words (and, if `negatable`, not negated)."""
    if not term:
        return False
    words, wanted = tuple(words), tuple(term)
    size, at = len(wanted), -1
    for _ in range(words.count(wanted[0])):  # each place of the term's first word
        at = words.index(wanted[0], at + 1)
        if words[at : at + size] == wanted and not (negatable and negated(words, at, at + size)):
            return True
    return False


def terms_in(text: Text, terms: Terms) -> list[str]:
    """The terms that occur in `text` as whole words, negated or not, in the list's order: a
    description that mentions nickel at all speaks of nickel."""
    # A term whose first word is absent cannot occur: only the terms headed by a word of
    # the text are looked for, then given in the list's order.
    words, by_head = text.words, terms.by_head
    places = sorted(
        place
        for head in text.present & terms.heads
        for place, term in by_head[head]
        if occurs(words, term, negatable=False)
    )
    return [terms.listed[place] for place in places]


def names_any(text: Text, terms: Terms) -> bool:
    """Whether `text` names some term of `terms` as whole words, not negated: "REE-free"
    does not say the goods are rare earths."""
    words, by_head = text.words, terms.by_head
    return any(
        occurs(words, term) for head in text.present & terms.heads for _, term in by_head[head]
    )
