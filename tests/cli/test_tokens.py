"""`token issue|list|revoke`: lifetimes, a listing without secrets, revocation by id."""

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ledger.cli.tokens import expiry
from ledger.service.tokens import DEFAULT_LIFETIME, list_tokens, resolve_token, token_id
from ledger.store.engine import Database
from ledger.tlog import keys
from ledger.tlog.encoding import b64decode
from tests.cli.conftest import Run

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


@pytest.fixture
def registered(run: Run, tmp_path: Path) -> str:
    run("init")
    run("keygen", str(tmp_path / "c.pem"))
    public = str(tmp_path / "c.pem.pub")
    args = ("--name", "Customs", "--country", "CN", "--role", "customs", "--public-key", public)
    run("participant", "add", "tianjin-customs", *args)
    return "tianjin-customs"


def _count(database_url: str) -> int:
    db = Database(database_url)
    try:
        return len(list_tokens(db))
    finally:
        db.dispose()


def _resolves(database_url: str, token: str, now: datetime) -> bool:
    db = Database(database_url)
    try:
        return resolve_token(db, token, now) is not None
    finally:
        db.dispose()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90d", NOW + timedelta(days=90)),
        ("12h", NOW + timedelta(hours=12)),
        ("30m", NOW + timedelta(minutes=30)),
        ("2w", NOW + timedelta(weeks=2)),
        ("2027-03-01T00:00:00Z", datetime(2027, 3, 1, tzinfo=UTC)),
        ("2027-03-01T08:00:00+08:00", datetime(2027, 3, 1, tzinfo=UTC)),
    ],
)
def test_expires_takes_a_duration_or_an_rfc3339_time(text: str, expected: datetime) -> None:
    assert expiry(text, NOW) == expected


@pytest.mark.parametrize("text", ["soon", "0d", "90", "-1d", "2027-03-01T00:00:00", "99999w"])
def test_expires_refuses_anything_else(text: str) -> None:
    with pytest.raises(ValueError, match="give a duration like 90d"):
        expiry(text, NOW)


def test_issue_defaults_to_90_days_and_names_the_token_id_on_stderr(
    run: Run, registered: str, database_url: str
) -> None:
    result = run("token", "issue", registered)
    token = result.stdout.strip()
    assert f"token id {token_id(token)} for {registered}, expires " in result.stderr
    now = datetime.now(UTC)
    assert _resolves(database_url, token, now + DEFAULT_LIFETIME - timedelta(minutes=1))
    assert not _resolves(database_url, token, now + DEFAULT_LIFETIME + timedelta(minutes=1))


def test_issue_with_expires_ends_the_token_then(
    run: Run, registered: str, database_url: str
) -> None:
    token = run("token", "issue", registered, "--expires", "2h").stdout.strip()
    now = datetime.now(UTC)
    assert _resolves(database_url, token, now + timedelta(minutes=110))
    assert not _resolves(database_url, token, now + timedelta(minutes=121))


@pytest.mark.parametrize(
    ("expires", "reason"),
    [
        ("2020-01-01T00:00:00Z", "expiry_in_past"),
        ("400d", "a token lives at most 366 days"),
        ("tomorrow", "--expires 'tomorrow': give a duration"),
    ],
)
def test_a_bad_expiry_is_refused_in_one_line_and_nothing_is_written(
    run: Run, registered: str, database_url: str, expires: str, reason: str
) -> None:
    result = run("token", "issue", registered, "--expires", expires, expect=2)
    assert reason in result.stderr and result.stderr.count("\n") == 1 and not result.stdout
    assert _count(database_url) == 0


def test_list_shows_ids_and_times_but_never_the_token_or_its_hash(
    run: Run, registered: str
) -> None:
    issued = [run("token", "issue", registered).stdout.strip() for _ in range(2)]
    listing = run("token", "list").stdout
    assert run("token", "list", registered).stdout == listing
    for token in issued:
        digest = hashlib.sha256(token.encode()).hexdigest()
        assert token_id(token) in listing
        assert token not in listing and token.removeprefix("rlt_")[:16] not in listing
        assert digest not in listing and digest[:16] not in listing
    assert listing.count(" active") == 2 and listing.splitlines()[0].startswith("ID ")
    assert "not registered" in run("token", "list", "nobody", expect=2).stderr


def test_revoke_by_id_ends_the_token_and_the_listing_says_so(
    run: Run, registered: str, database_url: str
) -> None:
    token = run("token", "issue", registered).stdout.strip()
    kept = run("token", "issue", registered).stdout.strip()
    said = run("token", "revoke", token_id(token)).stdout
    assert f"revoked token {token_id(token)} of {registered} at " in said
    now = datetime.now(UTC)
    assert not _resolves(database_url, token, now) and _resolves(database_url, kept, now)
    listing = run("token", "list").stdout
    assert listing.count(" revoked") == 1 and listing.count(" active") == 1
    assert "already revoked" in run("token", "revoke", token_id(token), expect=2).stderr
    assert "no read token has the id" in run("token", "revoke", "0123456789ab", expect=2).stderr


def test_list_says_keys_revoked_when_the_participant_has_no_live_key(
    run: Run, registered: str, tmp_path: Path, database_url: str
) -> None:
    token = run("token", "issue", registered).stdout.strip()
    raw = b64decode((tmp_path / "c.pem.pub").read_text().strip())
    run("participant", "key-revoke", registered, keys.key_id(registered, raw))
    assert " keys-revoked" in run("token", "list").stdout
    assert not _resolves(database_url, token, datetime.now(UTC))
    assert "no_live_key" in run("token", "issue", registered, expect=2).stderr


def test_revoke_takes_the_token_itself_and_never_echoes_it(
    run: Run, registered: str, database_url: str
) -> None:
    token = run("token", "issue", registered).stdout.strip()
    said = run("token", "revoke", token).stdout
    assert token_id(token) in said and token not in said
    assert not _resolves(database_url, token, datetime.now(UTC))
    unknown = "rlt_" + "x" * 43
    refused = run("token", "revoke", unknown, expect=2).stderr
    assert token_id(unknown) in refused and unknown not in refused
