"""A read route answers from one state of the database (Database.pinned), on both backends:
writes committed while it reads are not in its answer, and the answer names its tree size."""

import pytest

from api.reads import TREE_SIZE_HEADER
from ledger.service import queries
from ledger.service.provenance import provenance
from tests.api.conftest import Ledger
from tests.support import Party, extract, transform


def test_a_pinned_view_sees_one_state_while_writes_commit(
    ledger: Ledger, cast: dict[str, Party]
) -> None:
    mine = cast["mine"]
    ledger.post(mine, extract(mine, "ORE-1", 10_000_000))
    db = ledger.client.app.state.db
    with db.pinned() as view:
        size = queries.log_size(view)
        before, _ = queries.get_lot(view, "ORE-1")
        made = [("CON-1", "concentrate", 1_000_000)]
        ledger.post(mine, transform(mine, ledger.heads, [("ORE-1", 10_000_000)], made))
        ledger.post(mine, extract(mine, "ORE-2"))
        # Committed meanwhile, and not seen: every query of the view is of one state.
        assert queries.log_size(view) == size
        assert queries.get_lot(view, "ORE-1")[0] == before
        with pytest.raises(queries.NotFound):
            queries.get_lot(view, "ORE-2")
        found = provenance(view, "ORE-1")
        assert found.lot == before and found.verdict == "ok"
        assert int(found.checkpoint.split("\n")[1]) == size
        with pytest.raises(RuntimeError, match="does not write"), view.write_session():
            pass
    assert queries.log_size(db) == size + 2
    assert queries.get_lot(db, "ORE-1")[0] != before


def test_read_answers_name_their_tree_size(ledger: Ledger, cast: dict[str, Party]) -> None:
    mine = cast["mine"]
    ledger.post(mine, extract(mine, "ORE-1"))
    size = ledger.size()
    auditor = ledger.auth(cast["auditor"])
    for path in ("/v1/log", "/v1/lots/ORE-1", "/v1/lots/ORE-1/provenance", "/lots/ORE-1"):
        answer = ledger.client.get(path, headers=auditor)
        assert answer.status_code == 200 and answer.headers[TREE_SIZE_HEADER] == str(size)
    # Errors of read routes name it too; without replicas nothing is "behind": 404 and 422.
    assert ledger.client.get("/v1/lots/ORE-9").headers[TREE_SIZE_HEADER] == str(size)
    beyond = ledger.client.get("/v1/proofs/inclusion", params={"index": 0, "size": size + 1})
    assert beyond.status_code == 422 and beyond.headers[TREE_SIZE_HEADER] == str(size)
    written = ledger.client.post("/v1/entries", json=mine.envelope(extract(mine, "ORE-3")))
    assert written.status_code == 201 and TREE_SIZE_HEADER not in written.headers
