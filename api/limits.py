"""Request limits enforced before any handler runs: body size (413 problem+json)."""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_response
from ledger.errors import Kind, LedgerError


class BodyTooLarge(Exception):
    """Raised into the app to stop its reading of a body past the limit (never answered as
    such: the middleware answers 413 body_too_large)."""


class BodySizeLimit:
    """Refuse a request whose body exceeds `max_bytes`, by header or by counting what arrives."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        received = 0
        exceeded = started = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    exceeded = True
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if exceeded and not started:
                # The app caught the cut-off body and made its own answer of it (FastAPI's
                # form parser says 400): the answer is 413 whatever the app made of it.
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        # A body sent without Content-Length (chunked) is refused here, once it is too large.
        try:
            await self.app(scope, counting_receive, tracking_send)
        except Exception:
            if not exceeded:  # BodyTooLarge, or whatever the app raised on reading it
                raise
        if exceeded and not started:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        refused = LedgerError(
            Kind.TOO_LARGE,
            "body_too_large",
            f"the request body exceeds {self.max_bytes} bytes: send smaller batches",
        )
        await error_response(refused)(scope, receive, send)
