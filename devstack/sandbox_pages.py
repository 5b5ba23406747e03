"""The sandbox payment gateway's hosted page, served by `make run` (never part of the Lambda package).

GET  /sandbox/pay/<ref>   the page: amount, and buttons for approved, declined, timeout
POST /sandbox/pay/<ref>   records the choice; unless timeout, POSTs the HMAC-signed callback to
                          the app (as a real gateway would, server to server), then redirects
                          the browser to the app's return URL
GET  /sandbox/done        where the browser lands: the outcome and what the app answered

The page server and the app share sessions through the sandbox's file store
(SANDBOX_DIR), and sign and verify with the same Secrets Manager secret.
"""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

Deliver = Callable[[Any], int]  # a SignedCallback -> the app's HTTP status


def post_callback(callback: Any) -> int:
    """Send a signed callback to the app over HTTP, as the gateway's servers would."""
    if not callback.url.startswith(("http://127.0.0.1:", "http://localhost:")):
        raise ValueError(f"the sandbox only calls the local app back, not {callback.url}")
    request = urllib.request.Request(  # noqa: S310 - a local http URL, checked just above
        callback.url, data=callback.body, headers=dict(callback.headers), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
            return answer.status
    except urllib.error.HTTPError as exc:
        return exc.code


def done_page(payment_id: str, result: str | None, app_status: int | None) -> str:
    if result is None:
        en, ar = "No such payment.", "لا توجد دفعة بهذا الرقم."
    elif result == "timeout":
        en = ("Timed out: the gateway sent no callback. The app keeps the payment pending until its "
              "reconciliation (every 5 minutes, for payments older than 15) asks the gateway.")
        ar = "انتهت المهلة: لم ترسل البوابة أي إشعار. يبقى الدفع معلقًا حتى تسأل التسوية الدورية البوابة."
    else:
        en = f"Result: {result}. The app answered the signed callback with HTTP {app_status}."
        ar = f"النتيجة: {result}. ردّ التطبيق على الإشعار الموقّع بالرمز {app_status}."
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sandbox payment · دفع تجريبي</title>
<style>body{{font-family:sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem}}</style></head>
<body><h1>Sandbox payment</h1><p>Payment <code>{escape(payment_id)}</code></p><p>{escape(en)}</p>
<p lang="ar" dir="rtl">{escape(ar)}</p>
<p>GET /v1/payments/{escape(payment_id)} shows its status.</p></body></html>
"""


class SandboxPages:
    """A small threaded HTTP server for the sandbox's pages."""

    def __init__(self, gateway: Any, port: int, say: Callable[[str], None] = print,
                 deliver: Deliver = post_callback) -> None:
        self.gateway, self.port, self.say, self.deliver = gateway, port, say, deliver
        self.outcomes: dict[str, tuple[str, int | None]] = {}
        self.server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, name="sandbox-pages", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        from chalicelib.premiums.gateway.sandbox import PAGE_HEADERS

        pages = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass  # one line per outcome is said below; per-request lines are noise

            def _send(self, status: int, body: str = "", headers: dict[str, str] | None = None) -> None:
                data = body.encode("utf-8")
                self.send_response(status)
                for name, value in {**PAGE_HEADERS, **(headers or {})}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _ref(self) -> str | None:
                path = urlsplit(self.path).path
                prefix = "/sandbox/pay/"
                return path[len(prefix):] if path.startswith(prefix) else None

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if parts.path == "/sandbox/done":
                    payment_id = (parse_qs(parts.query).get("payment_id") or [""])[0]
                    result, status = pages.outcomes.get(payment_id, (None, None))
                    self._send(200, done_page(payment_id, result, status))
                    return
                ref = self._ref()
                try:
                    self._send(200, pages.gateway.page(ref or ""))
                except KeyError:
                    self._send(404, "<!doctype html><p>No such payment session.</p>")

            def do_POST(self) -> None:
                ref = self._ref() or ""
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode("utf-8")).items()}
                try:
                    outcome = pages.gateway.complete(ref, form)
                except KeyError:
                    self._send(404, "<!doctype html><p>No such payment session.</p>")
                    return
                except ValueError as exc:
                    self._send(400, f"<!doctype html><p>{escape(str(exc))}</p>")
                    return
                session = pages.gateway.store.get(ref)
                status = pages.deliver(outcome.callback) if outcome.callback is not None else None
                pages.outcomes.setdefault(session.payment_id, (session.result, status))
                said = f"callback answered {status}" if status is not None else "no callback (timeout)"
                pages.say(f"[sandbox] payment {session.payment_id}: {session.result}; {said}")
                self._send(303, "", {"Location": outcome.redirect_url})

        return Handler
