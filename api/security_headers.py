"""Security headers on every page and picture the API serves to browsers.

The pages run no script and load nothing but their own stylesheet: the policy forbids
everything else, so an injected tag could neither run nor phone home.
"""

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "style-src 'self'",
        "img-src 'self' data:",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    )
)
BROWSER_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
# Media types a browser renders as a document, where the headers above matter.
DOCUMENT_TYPES = ("text/html", "image/svg+xml")


class ResponseHeaders:
    """Pure ASGI middleware that edits the headers of every HTTP answer as it starts:
    subclasses say how in `edit`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def edit(self, scope: Scope, headers: MutableHeaders) -> None:
        raise NotImplementedError

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_edited(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.edit(scope, MutableHeaders(scope=message))
            await send(message)

        await self.app(scope, receive, send_edited)


class SecurityHeaders(ResponseHeaders):
    """Adds BROWSER_HEADERS to HTML and SVG responses, and `X-Content-Type-Options: nosniff`
    to every response."""

    def edit(self, scope: Scope, headers: MutableHeaders) -> None:
        if headers.get("content-type", "").startswith(DOCUMENT_TYPES):
            for name, value in BROWSER_HEADERS.items():
                headers[name] = value
        else:
            headers["X-Content-Type-Options"] = "nosniff"
