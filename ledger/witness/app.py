"""The witness over HTTP: POST /add-checkpoint and GET /<origin hash>/checkpoint.

Errors are problem+json as everywhere in the project, except the 409, whose body the spec fixes
(`text/x.tlog.size`: the witness's size and a newline).
"""

from fastapi import FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool

from api import errors
from api.limits import BodySizeLimit
from ledger.tlog.witness_protocol import ADD_CHECKPOINT_PATH, MAX_REQUEST_SIZE
from ledger.witness.service import Answer, Witness


def _response(answer: Answer) -> Response:
    if answer.content_type:
        # The header as given: Starlette would add "; charset=utf-8" to a text/* media type,
        # and the 409's `text/x.tlog.size` is compared as is by clients.
        return Response(
            answer.body.encode("utf-8"),
            status_code=answer.status,
            headers={"Content-Type": answer.content_type},
        )
    title = answer.code.replace("_", " ").capitalize()
    return errors.problem(answer.status, answer.code, title, answer.body)


def create_witness_app(witness: Witness) -> FastAPI:
    app = FastAPI(title="ree-ledger witness", version="1", docs_url=None, redoc_url=None)
    errors.install(app)

    @app.post(ADD_CHECKPOINT_PATH)
    async def add_checkpoint(request: Request) -> Response:
        body = await request.body()
        return _response(await run_in_threadpool(witness.add_checkpoint, body))

    @app.get("/{origin_hash}/checkpoint")
    async def checkpoint(origin_hash: str) -> Response:
        return _response(await run_in_threadpool(witness.latest_note, origin_hash))

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "witness": witness.name}

    app.add_middleware(BodySizeLimit, max_bytes=MAX_REQUEST_SIZE)
    return app
