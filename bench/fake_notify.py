"""A local stand-in for the GOV.UK Notify API, for the tests and the benchmark: no message leaves.

It answers the calls divert's sender makes (``POST /v2/notifications/sms`` and ``/email``,
``GET /v2/notifications?reference=``, ``GET /v2/notifications/<id>``), checks each request's JWT
against the service's key the way Notify does, and records every request. ``fail_next`` makes the
next posts fail with the given HTTP statuses, to exercise the worker's retries.
"""

from __future__ import annotations

import json
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import jwt

SERVICE_ID = "26785a09-ab16-4eb0-8407-a37497a57506"
SECRET = "3d844edf-8d35-48ac-975b-e847b4f122b0"  # noqa: S105 - the fake server's own, known to no real service
API_KEY = f"divert_test-{SERVICE_ID}-{SECRET}"
SMS_TEMPLATE = "f33517ff-2a88-4f6e-b855-c550268ce08a"
EMAIL_TEMPLATE = "5a0b9b9e-29c7-4ba3-9a0c-51b0a8b4bba2"


@dataclass
class Received:
    method: str
    path: str
    body: dict[str, Any] | None
    issuer: str | None


@dataclass
class FakeNotify:
    url: str = ""
    requests: list[Received] = field(default_factory=list)
    sent: dict[str, dict[str, Any]] = field(default_factory=dict)
    fail_next: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def posts(self) -> list[Received]:
        return [r for r in self.requests if r.method == "POST"]


def _handler(state: FakeNotify, record: bool) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            # Headers and body go out as separate writes: without this, Nagle's algorithm and the
            # client's delayed ACK hold each reply for 40 ms, and the fake would set the pace.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, format: str, *args: Any) -> None:  # quiet: the tests read the record
            return

        def _issuer(self) -> str | None:
            header = self.headers.get("Authorization", "")
            if not header.startswith("Bearer "):
                return None
            try:
                claims = jwt.decode(header[7:], SECRET, algorithms=["HS256"], options={"verify_iat": False})
            except jwt.PyJWTError:
                return None
            return str(claims.get("iss"))

        def _reply(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length) or b"{}")
            issuer = self._issuer()
            with state.lock:
                if record:
                    state.requests.append(Received("POST", self.path, body, issuer))
                failure = state.fail_next.pop(0) if state.fail_next else None
            if issuer != SERVICE_ID:
                self._reply(403, {"errors": [{"error": "AuthError", "message": "Invalid token"}]})
            elif failure is not None:
                self._reply(failure, {"errors": [{"error": "Fake", "message": f"failing with {failure}"}]})
            elif self.path in {"/v2/notifications/sms", "/v2/notifications/email"}:
                ident = str(uuid.uuid4())
                with state.lock:
                    state.sent[ident] = {"id": ident, "status": "delivered", **body}
                self._reply(201, {"id": ident, "reference": body.get("reference"), "content": {}})
            else:
                self._reply(404, {"errors": [{"error": "NotFound", "message": self.path}]})

        def do_GET(self) -> None:
            issuer = self._issuer()
            parsed = urlparse(self.path)
            with state.lock:
                if record:
                    state.requests.append(Received("GET", self.path, None, issuer))
            if issuer != SERVICE_ID:
                self._reply(403, {"errors": [{"error": "AuthError", "message": "Invalid token"}]})
            elif parsed.path == "/v2/notifications":
                reference = parse_qs(parsed.query).get("reference", [""])[0]
                with state.lock:
                    found = [n for n in state.sent.values() if n.get("reference") == reference]
                self._reply(200, {"notifications": found, "links": {}})
            elif parsed.path.startswith("/v2/notifications/"):
                with state.lock:
                    notification = state.sent.get(parsed.path.rsplit("/", 1)[1])
                if notification is None:
                    self._reply(404, {"errors": [{"error": "NotFound", "message": "No result found"}]})
                else:
                    self._reply(200, notification)
            else:
                self._reply(404, {"errors": [{"error": "NotFound", "message": self.path}]})

    return Handler


@contextmanager
def fake_notify(record: bool = True) -> Iterator[FakeNotify]:
    """A fake Notify on a free local port, in a thread, for the length of the block."""
    state = FakeNotify()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state, record))
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
