"""Runs one row of cases.py against a proxy listening on 127.0.0.1:port and returns what happened.

Shared by tests/integration/test_hostile_suite.py (which asserts the verdict against the row) and
tests/hostile/differential.py (which prints it next to HAProxy's and nginx's). No assertions here:
everything observed is returned, so the differential can run the same code against proxies that
disagree. Runs on the caller's thread; the recording backend (harness.Backend) runs its own.
"""

from __future__ import annotations

import os
import socket
import sys
from dataclasses import dataclass, field

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))

import harness  # noqa: E402

H = b"Host: example.com\r\n"
SMUGGLE = b"GET /smuggled HTTP/1.1\r\n" + H + b"\r\n"
CANARY_PREFIX = b"/__canary/"

_seq = [0]


@dataclass
class Verdict:
    answers: list = field(default_factory=list)  # per read: status int, "close", "timeout", "garbage"
    responses: list = field(default_factory=list)  # harness.Response or None, parallel to answers
    truncated: bool = False  # the last response's body ended early
    closed: bool | None = None  # connection ended after the answers (None: not checked)
    same_canary: str = ""  # "" = not tried, "ok", or what went wrong
    fresh_canary: str = ""  # "ok" or what went wrong
    records: list = field(default_factory=list)  # complete-or-not requests the backend got (canaries excluded)
    heads: list = field(default_factory=list)  # heads the backend got (canaries excluded)
    quiet: bool = True  # every upstream request had ended (complete or aborted) after the answers

    def short(self) -> str:
        """One-word summary for the differential table: statuses, then /C (closed) or /O (open)."""
        out = ",".join(str(a) for a in self.answers)
        if self.truncated:
            out += "(trunc)"
        if self.closed is True:
            out += "+C"
        elif self.closed is False:
            out += "+O"
        if self.same_canary not in ("", "ok"):
            out += "!canary"
        return out


def _next_canary(kind: str) -> bytes:
    _seq[0] += 1
    return CANARY_PREFIX + f"{kind}{_seq[0]}".encode()


def _read_one(c: harness.Client, head_request: bool) -> tuple:
    try:
        r = c.read_response(head_request=head_request, allow_truncated=True)
        return r.status, r
    except harness.Closed:
        return "close", None
    except (socket.timeout, TimeoutError):
        return "timeout", None
    except (harness.ProtocolError, ValueError, IndexError):
        return "garbage", None


def _canary_on(c: harness.Client) -> str:
    target = _next_canary("s")
    try:
        c.send(b"GET " + target + b" HTTP/1.1\r\n" + H + b"\r\n")
        r = c.read_response()
    except harness.Closed:
        return "closed"
    except (OSError, harness.ProtocolError) as e:
        return f"error {e!r}"
    if r.status != 200:
        return f"status {r.status}"
    try:
        got = r.json()["target"].encode("latin-1")
    except (ValueError, KeyError):
        return "not the backend's answer"
    return "ok" if got == target else f"answer for {got!r} (desync)"


def _is_closed(c: harness.Client, timeout: float) -> bool | None:
    try:
        return c.is_closed(timeout)
    except AssertionError:  # bytes instead of a close: e.g. the smuggled request was answered
        return False


def quiesce(backend: harness.Backend, timeout: float) -> bool:
    """Waits until every head the backend saw has ended (complete or aborted); False if one is
    still open after timeout (an upstream request the proxy neither finished nor aborted)."""
    with backend.cond:
        return backend.cond.wait_for(lambda: len(backend.requests) >= len(backend.heads), timeout)


def fresh_canary(port: int, backend: harness.Backend, timeout: float) -> str:
    target = _next_canary("f")
    try:
        with harness.Client(port, timeout=timeout) as c:
            c.send(b"GET " + target + b" HTTP/1.1\r\n" + H + b"\r\n")
            r = c.read_response()
    except (OSError, harness.Closed, harness.ProtocolError) as e:
        return f"error {e!r}"
    if r.status != 200:
        return f"status {r.status}"
    with backend.cond:
        if not backend.cond.wait_for(lambda: any(x.target == target for x in backend.requests), timeout):
            return "backend never got it"
    return "ok"


def run(port: int, backend: harness.Backend, raw, expect, open_, timeout: float = harness.TIMEOUT,
        close_wait: float | None = None, await_head: float = 0.0) -> Verdict:
    """Sends a case's bytes, reads the answers `expect` calls for, checks the connection state as
    `open_` calls for (canary on the same connection, or wait for the close), then a canary on a
    fresh connection; returns everything seen.

    await_head: for rows whose head may reach the backend although the request was refused (a
    bad chunk found after baton started the upstream request): wait up to this long for that head
    to arrive, so it is attributed to this row and not to the next one. baton (2026-11) sends it
    0-12 ms after its 400, on a new upstream connection it then closes."""
    v = Verdict()
    n_req, n_head = len(backend.requests), len(backend.heads)
    parts = raw if isinstance(raw, tuple) else (raw,)
    expects = expect if isinstance(expect, list) else [expect]
    if len(parts) == 1 and open_ is False:
        parts = (parts[0] + SMUGGLE,)
    with harness.Client(port, timeout=timeout) as c:
        reads = [(i, 1) for i in range(len(parts))] if len(parts) > 1 else [(0, len(expects))]
        for (i, n), part in zip(reads, parts):
            try:
                c.send(part)
            except OSError:
                pass  # the proxy may already have closed; the reads below tell
            for k in range(n):
                idx = i + k
                if idx < len(expects) and expects[idx] == "none":
                    continue
                ans, resp = _read_one(c, head_request=(idx == 0 and parts[0].startswith(b"HEAD ")))
                v.answers.append(ans)
                v.responses.append(resp)
                if resp is None:
                    break
            if v.answers and v.responses[-1] is None:
                break
        last = v.responses[-1] if v.responses else None
        if last is not None:
            v.truncated = not last.complete
        if not v.answers or v.responses[-1] is None or v.truncated:
            v.closed = True if (v.answers and v.answers[-1] == "close") or v.truncated else None
        elif open_ is True or (open_ is None and not last.closes):
            v.same_canary = _canary_on(c)
            v.closed = v.same_canary == "closed"
        else:
            v.closed = _is_closed(c, close_wait if close_wait is not None else timeout)
    if await_head:
        with backend.cond:
            backend.cond.wait_for(lambda: len(backend.heads) > n_head, await_head)
    v.quiet = quiesce(backend, timeout)
    v.fresh_canary = fresh_canary(port, backend, timeout)
    with backend.cond:
        v.records = [r for r in backend.requests[n_req:] if not r.target.startswith(CANARY_PREFIX)]
        v.heads = [r for r in backend.heads[n_head:] if not r.target.startswith(CANARY_PREFIX)]
    return v


def forwarded_bytes(rec) -> bytes:
    """The request as the backend received it (head re-serialised from the recorded fields, plus
    the first bytes of the de-chunked body)."""
    out = rec.request_line + b"\r\n" + b"".join(k + b": " + v + b"\r\n" for k, v in rec.headers) + b"\r\n"
    return out + rec.body_head[:200]


def suite_config(web: harness.Backend, scripted: harness.Backend) -> str:
    """baton's config for the suite: the routes cases.py's oracles rely on (upstream_host tells
    the backend which route matched)."""
    return harness.make_config(
        clusters={"web": [web.address], "scripted": [scripted.address]},
        limits={"body": "1GiB"},
        # The HTTP/1 codec's own answers: with h2c on, the HTTP/2 preface case would be HTTP/2
        # (tests/integration/test_http2.py covers that side).
        listeners=[{"name": "http", "address": f"{harness.LOCAL}:0", "h2c": False}],
        vhosts=[
            {"name": "h", "domains": ["h"], "routes": [{"prefix": "/", "cluster": "web", "upstream_host": "vhost-h.internal"}]},
            {
                "name": "default",
                "domains": ["*"],
                "routes": [
                    {"prefix": "/__resp", "cluster": "scripted"},
                    {"prefix": "/limited", "cluster": "web", "body_limit": "1KiB"},
                    {"prefix": "/api", "cluster": "web", "upstream_host": "api.internal"},
                    {"prefix": "/admin", "cluster": "web", "upstream_host": "admin.internal"},
                    {"prefix": "/", "cluster": "web"},
                ],
            },
        ],
    )
