"""b64decode's quick test of the spelling against encoding the bytes back, on mutated text."""

import base64
import binascii
import string

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.tlog import encoding
from ledger.tlog.encoding import b64decode, b64encode
from ledger.tlog.errors import EncodingError

_ALPHABET = string.ascii_uppercase + string.ascii_lowercase + string.digits + "+/"


def _reference(text: str) -> bytes | str:
    """b64decode as it was: strict decoding, then the bytes must encode back to the text."""
    try:
        data = binascii.a2b_base64(text, strict_mode=True)
    except (binascii.Error, ValueError):
        pass
    else:
        if b64encode(data) == text:
            return data
    try:
        b64decode(text)
    except EncodingError as exc:
        return str(exc)
    raise AssertionError("b64decode took a spelling that does not encode back")


def _ours(text: str) -> bytes | str:
    try:
        return b64decode(text)
    except EncodingError as exc:
        return str(exc)


def test_the_clear_symbol_sets_are_the_alphabet_with_low_bits_clear() -> None:
    assert {c for i, c in enumerate(_ALPHABET) if i % 16 == 0} == encoding._LOW_4_CLEAR
    assert {c for i, c in enumerate(_ALPHABET) if i % 4 == 0} == encoding._LOW_2_CLEAR


_texts = st.one_of(
    st.binary(max_size=20).map(lambda data: base64.b64encode(data).decode()),
    st.text(alphabet=_ALPHABET + "=", max_size=16),
    st.text(alphabet="AQgwBEIM/+=\n -_\x00é", max_size=12),
)
_edits = st.sampled_from(
    [
        lambda t, c, i: t,
        lambda t, c, i: t[:i] + c + t[i + 1 :],
        lambda t, c, i: t[:i] + c + t[i:],
        lambda t, c, i: t + c,
        lambda t, c, i: t + "=",
        lambda t, c, i: t + "==",
        lambda t, c, i: t.rstrip("="),
        lambda t, c, i: t[:i] + t[i + 1 :],
    ]
)


@settings(max_examples=2000, deadline=None)
@given(_texts, _edits, st.sampled_from(list(_ALPHABET + "= \n\x00é")), st.integers(0, 24))
def test_b64decode_takes_exactly_the_spellings_that_encode_back(
    text: str, edit: object, char: str, at: int
) -> None:
    mutated = edit(text, char, at)  # type: ignore[operator]
    assert _ours(mutated) == _reference(mutated)
