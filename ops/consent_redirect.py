"""Catches the browser's redirect at the end of a connection's consent sign-in, on the loopback interface.

The consent server sends the browser to the `redirectUrl` given to `listConsentLinks`, with the
consent code in the query (`?pid=...&code=...`, or `&error=...`). Microsoft's designers catch it
locally too: the standalone designer on `https://localhost:4200/authredirect.html?pid=<popup id>`
(Azure/LogicAppsUX apps/Standalone/.../Services/OAuthService.ts), the VS Code extension on its own
URI handler (`/authcomplete`, apps/vs-code-designer/src/app/utils/codeless/urihandler.ts).

Here a one-shot HTTP server listens on 127.0.0.1 only. The redirect URL carries a random `pid`:
any other request (another local process, a web page guessing ports) is answered 404 and ignored,
so nobody but the consent server's redirect can hand in a code, and so authorize the connection
with an account of their choosing.
"""

from __future__ import annotations

import secrets
import threading
import urllib.parse
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

LOOPBACK = "127.0.0.1"
REDIRECT_PATH = "/authredirect"
CLOSE_PAGE = (b"<!doctype html><title>Connection authorization</title>"
              b"<p>Signed in. You can close this window and return to the terminal.")


@dataclass(frozen=True)
class Redirect:
    """What the consent server handed back. Neither a code nor an error: the consent server finished
    the authorization itself, and there is nothing to confirm (the VS Code designer's `valid` case)."""

    code: str | None
    error: str | None


class ConsentRedirect:
    """`with ConsentRedirect() as listener:` give `listener.url` as redirectUrl, then `listener.wait()`."""

    def __init__(self, port: int = 0):
        self.pid = secrets.token_urlsafe(16)
        self._done = threading.Event()
        self._redirect: Redirect | None = None
        self._server = ThreadingHTTPServer((LOOPBACK, port), self._handler())
        self._server.daemon_threads = True
        # A short poll: shutdown() waits for it, once per connection authorized.
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    @property
    def url(self) -> str:
        port = self._server.server_address[1]
        return f"http://{LOOPBACK}:{port}{REDIRECT_PATH}?pid={self.pid}"

    def __enter__(self) -> ConsentRedirect:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self._server.shutdown()
        self._server.server_close()

    def wait(self, timeout: float) -> Redirect | None:
        """The first redirect that carries this listener's pid, or None after `timeout` seconds."""
        return self._redirect if self._done.wait(timeout) else None

    def _accept(self, query: dict[str, list[str]]) -> bool:
        if query.get("pid") != [self.pid] or self._done.is_set():
            return False
        self._redirect = Redirect(code=next(iter(query.get("code", [])), None),
                                  error=next(iter(query.get("error", [])), None))
        self._done.set()
        return True

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                target = urllib.parse.urlsplit(self.path)
                accepted = target.path == REDIRECT_PATH and listener._accept(urllib.parse.parse_qs(target.query))
                body = CLOSE_PAGE if accepted else b"Not found"
                self.send_response(200 if accepted else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8" if accepted else "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # http.server logs each request line to stderr, and this one holds the consent code

        return Handler
