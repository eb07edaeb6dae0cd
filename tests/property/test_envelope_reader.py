"""The one envelope reader: its typed fast decoders of request and stored bytes
(`envelope_json`, `batch_envelopes`) give what the plain path gives (`parse_json`, then
`Envelope.from_json` of each envelope), refusals included; and the audit's byte scan
`signature_of` gives the reader's signature."""

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.tlog.encoding import b64encode, parse_json
from ledger.tlog.envelope import (
    Envelope,
    Signature,
    WireEnvelope,
    batch_envelopes,
    envelope_json,
)
from ledger.tlog.errors import EncodingError
from ledger.verify.stored import signature_of

_text = st.one_of(
    st.text(max_size=10),
    st.text(alphabet=st.sampled_from('ab:"\\/\x00\x1f\u2028é\U0001f600 '), max_size=8),
)
_valid = st.builds(
    lambda payload_type, payload, keyid, sig: {
        "payloadType": payload_type,
        "payload": b64encode(payload),
        "signatures": [{"keyid": keyid, "sig": b64encode(sig)}],
    },
    _text,
    st.binary(max_size=30),
    _text,
    st.binary(min_size=1, max_size=64),
)
_junk = st.sampled_from([None, 1, 1.5, -(2**60), True, "", "QQ==", "QR==", "A", [], {}, [[[]]]])


@st.composite
def _envelope_text(draw: st.DrawFn) -> str:
    """An envelope's JSON text: valid, or broken in one of the ways a client might."""
    obj: dict[str, Any] = draw(_valid)
    signature = obj["signatures"][0]
    how = draw(st.sampled_from(["none", "extra", "drop", "junk", "signatures", "dup", "raw"]))
    if how == "extra":
        draw(st.sampled_from([obj, signature]))[draw(_text)] = draw(_junk)
    elif how == "drop":
        target = draw(st.sampled_from([obj, signature]))
        del target[draw(st.sampled_from(sorted(target)))]
    elif how == "junk":
        target = draw(st.sampled_from([obj, signature]))
        target[draw(st.sampled_from(sorted(target)))] = draw(_junk)
    elif how == "signatures":
        obj["signatures"] = draw(st.sampled_from([[], [signature, signature], signature, "s"]))
    text = json.dumps(obj, ensure_ascii=draw(st.booleans()), separators=draw(_separators))
    if how == "dup":  # a repeated key, first or last
        key = draw(st.sampled_from(['"payload"', '"payloadType"', '"keyid"', '"sig"']))
        text = text.replace(key + ":", f"{key}:{json.dumps(draw(_text))},{key}:", 1)
    elif how == "raw":  # an escape, a bad byte's stand-in, trailing or inner whitespace
        fragment = draw(st.sampled_from(["\\u0041", "\\ud800", "\\n", " ", "\\/", "\t"]))
        at = draw(st.integers(0, len(text)))
        text = text[:at] + fragment + text[at:]
    return text


_separators = st.sampled_from([(",", ":"), (", ", ": "), (",", " :")])


def _outcome(read: Any) -> Any:
    """What reading gives: the Envelope, or the refusal's words."""
    try:
        return Envelope.from_json(read)
    except EncodingError as exc:
        return ("refused", str(exc))


def _plain_batch(data: bytes) -> Any:
    try:
        body = parse_json(data)
    except EncodingError as exc:
        return ("malformed", str(exc))
    if (
        type(body) is not dict
        or body.keys() != {"envelopes"}
        or type(body["envelopes"]) is not list
    ):
        return None
    return [_outcome(envelope) for envelope in body["envelopes"]]


def _fast_batch(data: bytes) -> Any:
    try:
        envelopes = batch_envelopes(data)
    except EncodingError as exc:
        return ("malformed", str(exc))
    return None if envelopes is None else [_outcome(envelope) for envelope in envelopes]


@settings(max_examples=400, deadline=None)
@given(_envelope_text(), st.sampled_from(["utf-8", "bad-utf-8"]))
def test_envelope_json_reads_as_parse_json_then_from_json(text: str, encoding: str) -> None:
    data = text.encode("utf-8", "surrogatepass")
    if encoding == "bad-utf-8":
        data = data.replace(b"a", b"\xff", 1)
    try:
        plain: Any = _outcome(parse_json(data))
    except EncodingError as exc:
        plain = ("malformed", str(exc))
    try:
        fast: Any = _outcome(envelope_json(data))
    except EncodingError as exc:
        fast = ("malformed", str(exc))
    assert fast == plain


@settings(max_examples=300, deadline=None)
@given(st.lists(_envelope_text(), max_size=4), st.sampled_from(["batch", "extra", "dup", "not"]))
def test_batch_envelopes_reads_as_parse_json_then_from_json(texts: list[str], how: str) -> None:
    inner = "[" + ",".join(texts) + "]"
    body = {
        "batch": '{"envelopes":%s}',
        "extra": '{"envelopes":%s,"more":1}',
        "dup": '{"envelopes":[],"envelopes":%s}',
        "not": "%s",
    }[how] % inner
    data = body.encode("utf-8", "surrogatepass")
    assert _fast_batch(data) == _plain_batch(data)


def test_the_typed_decoder_takes_a_plain_batch() -> None:
    envelope = Envelope("t", b"{}", (Signature("k", b"s"),)).to_json()
    envelopes = batch_envelopes(json.dumps({"envelopes": [envelope] * 3}).encode())
    assert envelopes is not None and all(type(e) is WireEnvelope for e in envelopes)


@settings(max_examples=300, deadline=None)
@given(_text, st.binary(max_size=40), _text, st.binary(min_size=1, max_size=64))
def test_signature_of_stored_bytes_is_the_readers(
    payload_type: str, payload: bytes, keyid: str, sig: bytes
) -> None:
    envelope = Envelope(payload_type, payload, (Signature(keyid, sig),))
    try:
        stored = envelope.leaf_bytes()
    except EncodingError:
        return  # an unpaired surrogate: never stored
    read = Envelope.from_json(envelope_json(stored))
    assert read == envelope
    assert signature_of(stored) == read.signatures[0].sig
