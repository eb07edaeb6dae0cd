"""Read tokens on a running app: an expired or revoked token, or one whose participant's keys
were all revoked, gets 401 from the next request on, by bearer header and by sign-in cookie."""

from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from ledger.cli.main import app
from ledger.home import Home
from ledger.lots.state import Rejection
from ledger.service import tokens
from ledger.tlog.encoding import b64encode
from tests.api.conftest import Ledger
from tests.api.test_pages import form_token, sign_in
from tests.support import Party, event, extract

WHO = "Tianjin Customs (customs)"  # the page's header when customs is signed in


def _flags(ledger: Ledger, token: str) -> int:
    answer = ledger.client.get("/v1/flags", headers={"Authorization": f"Bearer {token}"})
    if answer.status_code == 401:
        assert answer.json()["code"] == "unknown_token", answer.text
    return answer.status_code


def _revoke_key(ledger: Ledger, party: Party, keyid: str | None = None) -> None:
    keyid = keyid or party.keyid
    revoke = event("operator", "participant.key_revoke", participant=party.id, keyid=keyid)
    ledger.post(ledger.operator, revoke)


def _add_key(ledger: Ledger, party: Party) -> Party:
    new = Party(party.id)
    key = {"keyid": new.keyid, "public_key": b64encode(new.public_key)}
    add = event("operator", "participant.key_add", participant=party.id, key=key)
    ledger.post(ledger.operator, add)
    return new


def test_an_expired_token_gets_401(ledger: Ledger, cast: dict[str, Party]) -> None:
    db, now = ledger.client.app.state.db, datetime.now(UTC)
    issued = now - timedelta(hours=2)
    lapsed = tokens.issue_token(db, cast["customs"].id, issued, issued + timedelta(hours=1))
    alive = tokens.issue_token(db, cast["customs"].id, issued, issued + timedelta(hours=3))
    assert _flags(ledger, alive) == 200
    assert _flags(ledger, lapsed) == 401


def test_a_revoked_token_gets_401_at_once_by_header_and_by_cookie(
    ledger: Ledger, cast: dict[str, Party], home: Home, database_url: str
) -> None:
    ledger.post(cast["mine"], extract(cast["mine"], "ORE-TOK"))
    token = ledger.token(cast["customs"])
    sign_in(ledger.client, token)
    assert _flags(ledger, token) == 200 and WHO in ledger.client.get("/lots/ORE-TOK").text
    # `ree-ledger token revoke`, on its own connection, while the app runs.
    env = {"REE_LEDGER_HOME": str(home.path), "REE_LEDGER_DATABASE_URL": database_url}
    revoked = CliRunner().invoke(app, ["token", "revoke", tokens.token_id(token)], env=env)
    assert revoked.exit_code == 0, revoked.output
    assert _flags(ledger, token) == 401
    page = ledger.client.get("/lots/ORE-TOK").text
    assert WHO not in page and "Your sign-in is no longer valid" in page
    form = ledger.client.get("/signin").text
    again = ledger.client.post("/signin", data={"csrf": form_token(form), "token": token})
    assert again.status_code == 401 and "unknown, expired or revoked" in again.text


def test_tokens_stop_when_all_keys_are_revoked_and_a_new_key_does_not_revive_them(
    ledger: Ledger, cast: dict[str, Party]
) -> None:
    customs = cast["customs"]
    token = ledger.token(customs)
    _revoke_key(ledger, customs)
    assert _flags(ledger, token) == 401
    with pytest.raises(Rejection, match="no key that is not revoked"):
        ledger.token(customs)
    _add_key(ledger, customs)
    assert _flags(ledger, token) == 401  # the gap after the revocation ended it for good
    assert _flags(ledger, ledger.token(customs)) == 200


def test_a_key_rotated_without_a_gap_keeps_the_tokens(
    ledger: Ledger, cast: dict[str, Party]
) -> None:
    customs = cast["customs"]
    token = ledger.token(customs)
    _add_key(ledger, customs)
    _revoke_key(ledger, customs)
    assert _flags(ledger, token) == 200


@pytest.mark.parametrize(
    ("spans", "issued_size", "held"),
    [
        pytest.param([(0, None)], 5, True, id="one-live-key"),
        pytest.param([(0, 3)], 5, False, id="only-key-revoked-before-issue"),
        pytest.param([(0, 7)], 5, False, id="only-key-revoked-after-issue"),
        pytest.param([(0, 7), (8, None)], 5, False, id="new-key-after-a-gap"),
        pytest.param([(0, 7), (6, None)], 5, True, id="rotated-new-key-first"),
        pytest.param([(0, 3), (4, None)], 5, True, id="gap-before-issue"),
        pytest.param([], 0, False, id="no-keys"),
    ],
)
def test_keys_held_since(spans: list[tokens.KeySpan], issued_size: int, held: bool) -> None:
    assert tokens.keys_held_since(spans, issued_size) is held
