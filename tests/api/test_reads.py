"""Reads: the open log, and commercial detail only for those allowed to see it."""

from tests.api.conftest import Ledger
from tests.support import Party, extract, ship


def test_log_names_origin_size_and_both_keys(ledger: Ledger, cast: dict[str, Party]) -> None:
    body = ledger.client.get("/v1/log").json()
    assert body["origin"] == "test.ree-ledger.local/log"
    assert body["size"] == 8  # five registrations, the authority's three entries
    assert body["log_key"].startswith("test.ree-ledger.local/log+")
    assert body["operator_key"]


def test_empty_log_has_no_checkpoint_yet(ledger: Ledger) -> None:
    response = ledger.client.get("/v1/checkpoint")
    assert response.status_code == 404
    assert response.json()["code"] == "no_checkpoint"


def test_healthz_answers(ledger: Ledger) -> None:
    health = ledger.client.get("/healthz").json()
    assert health["status"] == "ok" and health["size"] == 0 and health["database"] == "writable"
    assert health["epcis_schema"] == "absent" and health["replicas"] == []


def test_public_lot_view_hides_commercial_detail(ledger: Ledger, cast: dict[str, Party]) -> None:
    ledger.post(cast["mine"], extract(cast["mine"], "ORE-1"))
    body = ledger.client.get("/v1/lots/ORE-1").json()
    assert body["status"] == "active" and body["product"] == "ore"
    for secret in ("mass_g", "composition_ppm", "custodian"):
        assert secret not in body


def test_holder_customs_and_auditor_see_detail(ledger: Ledger, cast: dict[str, Party]) -> None:
    ledger.post(cast["mine"], extract(cast["mine"], "ORE-1"))
    for reader in ("mine", "customs", "auditor"):
        body = ledger.client.get("/v1/lots/ORE-1", headers=ledger.auth(cast[reader])).json()
        assert body["mass_g"] == 1_000_000 and body["custodian"] == "baotou-mine"


def test_receiver_of_a_pending_shipment_sees_detail(ledger: Ledger, cast: dict[str, Party]) -> None:
    mine, plant = cast["mine"], cast["plant"]
    ledger.post(mine, extract(mine, "ORE-1"))
    ledger.post(mine, ship(mine, ledger.heads, plant.id, [("ORE-1", 1_000_000)]))
    body = ledger.client.get("/v1/lots/ORE-1", headers=ledger.auth(plant)).json()
    assert body["status"] == "in_transit" and body["pending_to"] == plant.id


def test_another_participants_lot_detail_is_refused(ledger: Ledger, cast: dict[str, Party]) -> None:
    ledger.post(cast["mine"], extract(cast["mine"], "ORE-1"))
    response = ledger.client.get("/v1/lots/ORE-1", headers=ledger.auth(cast["plant"]))
    assert response.status_code == 403
    assert response.json()["code"] == "not_your_lot"


def test_unknown_token_is_refused(ledger: Ledger, cast: dict[str, Party]) -> None:
    ledger.post(cast["mine"], extract(cast["mine"], "ORE-1"))
    response = ledger.client.get("/v1/lots/ORE-1", headers={"Authorization": "Bearer rlt_nope"})
    assert response.status_code == 401
    assert response.json()["code"] == "unknown_token"


def test_unknown_lot_is_a_404_problem(ledger: Ledger) -> None:
    response = ledger.client.get("/v1/lots/NOPE-1")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "NOPE-1" in response.json()["detail"]


def test_entries_need_a_token_and_show_only_ones_own(
    ledger: Ledger, cast: dict[str, Party]
) -> None:
    mine = cast["mine"]
    index = ledger.post(mine, extract(mine, "ORE-1"))["index"]
    assert ledger.client.get(f"/v1/entries/{index}").status_code == 401
    own = ledger.client.get(f"/v1/entries/{index}", headers=ledger.auth(mine))
    assert own.status_code == 200 and own.json()["index"] == index
    other = ledger.client.get(f"/v1/entries/{index}", headers=ledger.auth(cast["plant"]))
    assert other.status_code == 403
    missing = ledger.client.get("/v1/entries/999", headers=ledger.auth(cast["auditor"]))
    assert missing.status_code == 404 and "999" in missing.json()["detail"]


def test_proofs_outside_the_tree_are_refused(ledger: Ledger, cast: dict[str, Party]) -> None:
    for params in ({"index": 8, "size": 8}, {"index": 0, "size": 9}):
        response = ledger.client.get("/v1/proofs/inclusion", params=params)
        assert response.status_code == 422 and response.json()["code"] == "bad_range"
    response = ledger.client.get("/v1/proofs/consistency", params={"first": 4, "second": 3})
    assert response.status_code == 422
    response = ledger.client.get("/v1/proofs/inclusion", params={"index": -1, "size": 2})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")


def test_every_route_that_reads_a_json_body_declares_it_in_openapi(ledger: Ledger) -> None:
    paths = ledger.client.get("/openapi.json").json()["paths"]
    for path in ("/v1/entries", "/v1/entries/batch", "/v1/declarations/check", "/v1/epcis/capture"):
        body = paths[path]["post"]["requestBody"]
        schema = body["content"]["application/json"]["schema"]
        assert schema["type"] == "object" and schema["properties"], path


def test_no_interactive_docs_pages_that_the_csp_would_break(ledger: Ledger) -> None:
    assert ledger.client.get("/openapi.json").status_code == 200
    for path in ("/docs", "/redoc"):
        assert ledger.client.get(path).status_code == 404, path


def test_the_bundle_answer_is_declared_in_openapi(ledger: Ledger) -> None:
    # The route encodes its msgspec struct itself; the page still says what it answers.
    answer = ledger.client.get("/openapi.json").json()["paths"]["/v1/lots/{lot}/bundle"]["get"]
    schema = answer["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema["properties"]["format"]["enum"] == ["ree-ledger.bundle.v1"]
    entry = schema["properties"]["entries"]["items"]
    assert set(entry["required"]) == {
        "index",
        "envelope",
        "event_hash",
        "leaf_hash",
        "inclusion_proof",
    }
    assert set(entry["properties"]["inclusion_proof"]["properties"]) == {"index", "size", "hashes"}
