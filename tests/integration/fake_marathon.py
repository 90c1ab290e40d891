"""A fake Marathon: a real HTTP/1.1 server imitating what baton talks to (marathon.md §1–2).

Stdlib only, threaded; usable in-process from pytest and standalone:

    /usr/bin/python3 fake_marathon.py --port 0 --apps FILE.json   # prints its URL, then serves
    (SIGHUP re-reads FILE.json and emits an api_post_event; SIGTERM/SIGINT stop it)

In-process:

    m = FakeMarathon(apps=[app("/web", tasks=[task("/web", ports=(8080,))])])
    m.url                                  # "http://127.0.0.1:PORT"
    m.set_apps([...]); m.emit("api_post_event", {...}); m.status_update(tid, "/web", "TASK_KILLING")
    m.fail_next(1, "500")                  # or "garbage", "truncated", "truncated_chunked", "hang",
                                           # "trickle", "empty_apps"
    m.redirect_to(leader)                  # act as a standby: 302 to the leader
    m.stall_streams(); m.close_streams(); m.emit_raw(b"data: {not json\r\n\r\n")
    m.chunked = True                       # JSON bodies sent chunked, as Jetty does for large ones
    m.tls_failures / m.wait_tls_failures(1)  # handshakes a client refused (https only)
    pki = make_pki(tmp_path); FakeMarathon(ssl_context=pki.server_context())   # https://
    m.requests                             # [(method, path, headers)], headers case-insensitive
    m.wait_for_request("/v2/apps", 5)      # the first such request since the last action
    m.stop()

What it imitates:
- GET /v2/apps[?embed=apps.tasks] ({"apps": [...]}, tasks only with the embed), GET
  /v2/apps/<id>[?embed=app.tasks] ({"app": {...}}), /ping, /v2/info, /v2/leader.
- GET /v2/events: only when an Accept value is exactly text/event-stream (else 405, as Jetty's
  EventSourceServlet); honours event_type= filters; 200 with Connection: close and no
  Content-Length (the body runs until the socket closes); event_stream_attached first unless
  filtered out; Jetty framing "event: T\\r\\ndata: JSON\\r\\n\\r\\n"; a heartbeat every
  heartbeat_interval written as "\\r", flush, "\\n", flush.
- Auth: with username/password and/or token set, 401 unless the request carries the right
  "Basic ...", "token=..." or "Bearer ..." Authorization.
- redirect_to(other): every request answered 302 to the same path on `other` (Marathon ≥1.7
  standbys redirect /v2/events; REST is proxied by real standbys, redirected here for tests).
"""

from __future__ import annotations

import argparse
import base64
import copy
import json
import os
import queue
import signal
import ssl
import subprocess
import sys
import threading
import time
import uuid
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

VERSION = "2017-07-19T17:34:41.967Z"
FAIL_KINDS = ("500", "garbage", "truncated", "truncated_chunked", "hang", "trickle", "empty_apps")
_CLOSE = object()


def _now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())


# ---- builders: the JSON shapes of marathon.md §1.5 ----


def task(app_id, host="127.0.0.1", ports=(), state="TASK_RUNNING", alive=None, task_id=None):
    """A task as embedded in GET /v2/apps?embed=apps.tasks. `app()` adapts it to the app's mode."""
    base_id = app_id.strip("/").replace("/", "_")
    tid = task_id or f"{base_id}.{uuid.uuid4()}"
    t = {
        "id": tid,
        "appId": app_id,
        "host": host,
        "slaveId": "db7b40e2-791c-445f-b373-183e2a648a86-S1",
        "ports": list(ports),
        "stagedAt": VERSION,
        "state": state,
        "version": VERSION,
    }
    if state == "TASK_RUNNING":
        t["startedAt"] = VERSION
    if alive is not None:
        t["healthCheckResults"] = [
            {
                "alive": bool(alive),
                "consecutiveFailures": 0 if alive else 1,
                "firstSuccess": VERSION if alive else None,
                "lastSuccess": VERSION if alive else None,
                "lastFailure": None if alive else VERSION,
                "lastFailureCause": None if alive else "ConnectionRefused",
                "instanceId": tid.replace(".", ".marathon-", 1),
            }
        ]
    return t


def app(app_id, labels=None, tasks=(), mode="host", service_ports=(10000,), health_checks=None,
        instances=None, container_ports=None):
    """An app in one of the three network modes (marathon.md §1.3):
    - "host": networks host, portDefinitions[].port = service ports, task.ports = host ports;
    - "bridge": container.portMappings (hostPort 0, servicePort) + networks container/bridge;
      tasks keep their host ports and get an unreachable docker-bridge ipAddress;
    - "container": IP-per-task: portMappings without hostPort, networks container; each task's
      `host` becomes its ipAddresses[0] and its ports the containerPorts (task.ports empty)."""
    if mode not in ("host", "bridge", "container"):
        raise ValueError(f"mode {mode!r}")
    tasks = [copy.deepcopy(t) for t in tasks]
    a = {
        "id": app_id,
        "cmd": "python3 -m http.server $PORT0",
        "instances": len(tasks) if instances is None else instances,
        "cpus": 0.1,
        "mem": 32,
        "disk": 0,
        "labels": dict(labels or {}),
        "requirePorts": False,
        "healthChecks": list(health_checks or []),
        "upgradeStrategy": {"minimumHealthCapacity": 1, "maximumOverCapacity": 1},
        "version": VERSION,
        "versionInfo": {"lastScalingAt": VERSION, "lastConfigChangeAt": VERSION},
        "tasksStaged": sum(t["state"] == "TASK_STAGING" for t in tasks),
        "tasksRunning": sum(t["state"] == "TASK_RUNNING" for t in tasks),
        "tasksHealthy": sum(any(r.get("alive") for r in t.get("healthCheckResults", [])) for t in tasks),
        "tasksUnhealthy": sum(
            any(not r.get("alive") for r in t.get("healthCheckResults", [])) for t in tasks
        ),
        "deployments": [],
    }
    if mode == "host":
        a["networks"] = [{"mode": "host"}]
        a["portDefinitions"] = [
            {"port": p, "protocol": "tcp", "name": f"p{i}", "labels": {}} for i, p in enumerate(service_ports)
        ]
    else:
        if container_ports is None:
            # IP-per-task traffic goes to the container port: default it to the task's ports.
            first = next((t["ports"] for t in tasks if t["ports"]), []) if mode == "container" else []
            container_ports = [first[i] if i < len(first) else 8080 + i for i in range(len(service_ports))]
        mappings = []
        for i, sp in enumerate(service_ports):
            m = {"containerPort": container_ports[i], "servicePort": sp, "protocol": "tcp",
                 "name": f"p{i}", "labels": {}}
            if mode == "bridge":
                m["hostPort"] = 0
            mappings.append(m)
        a["container"] = {
            "type": "DOCKER",
            "docker": {"image": "python:3", "forcePullImage": False, "privileged": False, "parameters": []},
            "volumes": [],
            "portMappings": mappings,
        }
        a["networks"] = [{"mode": "container/bridge"}] if mode == "bridge" else [
            {"mode": "container", "name": "dcos"}]
        for n, t in enumerate(tasks):
            if mode == "bridge":
                t["ipAddresses"] = [{"ipAddress": f"172.17.0.{n + 2}", "protocol": "IPv4"}]
            else:
                t["ipAddresses"] = [{"ipAddress": t["host"], "protocol": "IPv4"}]
                t["ports"] = []
    a["tasks"] = tasks
    return a


# ---- TLS: a throw-away PKI made with /usr/bin/openssl ----


class Pki:
    """Files of a test PKI in `dir`: ca.pem (the CA that signed every server cert), other_ca.pem
    (a CA that signed nothing we serve) and server certs by name: cert(name) -> (crt, key)."""

    def __init__(self, dir):
        self.dir = str(dir)
        self.ca = os.path.join(self.dir, "ca.pem")
        self.other_ca = os.path.join(self.dir, "other_ca.pem")
        self._certs: dict[str, tuple[str, str]] = {}

    def cert(self, name):
        return self._certs[name]

    def server_context(self, name="good") -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(*self._certs[name])
        return ctx


def _openssl(*args, cwd):
    subprocess.run(["/usr/bin/openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=30)


def _make_ca(dir, name):
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", f"{name}.key", "-out", f"{name}.pem", "-days", "2", "-subj", f"/CN={name}",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=dir)


def make_pki(dir, sans=None) -> Pki:
    """A CA, an unrelated CA, and one server cert per entry of `sans` (name -> subjectAltName),
    by default "good" (DNS:localhost, IP:127.0.0.1) and "wrong_name" (DNS:marathon.invalid only),
    both signed by ca.pem."""
    dir = str(dir)
    os.makedirs(dir, exist_ok=True)
    sans = sans or {"good": "DNS:localhost,IP:127.0.0.1", "wrong_name": "DNS:marathon.invalid"}
    _make_ca(dir, "ca")
    _make_ca(dir, "other_ca")
    pki = Pki(dir)
    for name, san in sans.items():
        with open(os.path.join(dir, f"{name}.ext"), "w") as f:
            f.write(f"subjectAltName={san}\nbasicConstraints=CA:FALSE\n"
                    "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n")
        _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                 "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}", cwd=dir)
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                 "-CAcreateserial", "-out", f"{name}.pem", "-days", "2", "-extfile", f"{name}.ext", cwd=dir)
        pki._certs[name] = (os.path.join(dir, f"{name}.pem"), os.path.join(dir, f"{name}.key"))
    return pki


# ---- the server ----


class _Stream:
    def __init__(self, filters):
        self.filters = filters  # set of event types, or None for all
        self.q: queue.Queue = queue.Queue()
        self.stalled = False  # set by stall_streams: nothing more is written, not even heartbeats

    def wants(self, event_type):
        return self.filters is None or event_type in self.filters


class FakeMarathon:
    def __init__(self, apps=(), username=None, password=None, token=None, heartbeat_interval=10.0,
                 host="127.0.0.1", port=0, ssl_context=None, path_prefix=""):
        """ssl_context: an ssl.SSLContext (server side) to serve https:// instead.
        path_prefix: serve the API under it, as behind DC/OS's admin router ("/marathon": then
        GET /marathon/v2/apps; anything outside the prefix is 404). self.url includes it."""
        self._lock = threading.Condition()
        self._apps = copy.deepcopy(list(apps))
        self._document: bytes | None = None  # GET /v2/apps?embed=apps.tasks, rendered once
        self.username, self.password, self.token = username, password, token
        self.heartbeat_interval = heartbeat_interval
        self.chunked = False  # True: JSON answers use Transfer-Encoding: chunked (as Jetty does)
        self.chunk_size = 8192
        self._failures: list[str] = []
        self._redirect: FakeMarathon | None = None
        self._streams: list[_Stream] = []
        self.tls_failures: list[str] = []  # why each refused TLS handshake failed (server side)
        self._stopping = threading.Event()
        self._mark = 0
        self.requests: list[tuple[str, str, Message]] = []
        outer = self

        class Handler(_Handler):
            fake = outer

        self._server = _Server((host, port), Handler)
        self._server.fake = self
        self._server.daemon_threads = True
        if ssl_context is not None:
            # Handshake in the handler thread, not in accept(): a slow client must not block others.
            self._server.socket = ssl_context.wrap_socket(self._server.socket, server_side=True,
                                                          do_handshake_on_connect=False)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        h, p = self._server.server_address[:2]
        self.origin = f"{'https' if ssl_context is not None else 'http'}://{h}:{p}"
        self.path_prefix = path_prefix.rstrip("/")
        self.url = self.origin + self.path_prefix
        self.port = p

    # -- control --
    def set_apps(self, apps):
        with self._lock:
            self._apps = copy.deepcopy(list(apps))
            self._document = None
            self._mark = len(self.requests)

    def apps(self):
        with self._lock:
            return copy.deepcopy(self._apps)

    def apps_document(self) -> bytes:
        """The body of GET /v2/apps?embed=apps.tasks, rendered once per set_apps (as Marathon
        answers from memory: a benchmark's rounds then time baton, not this fake's json.dumps)."""
        with self._lock:
            if self._document is None:
                self._document = json.dumps({"apps": self._apps}).encode()
            return self._document

    def fail_next(self, n, kind):
        if kind not in FAIL_KINDS:
            raise ValueError(f"kind {kind!r} not in {FAIL_KINDS}")
        with self._lock:
            self._failures.extend([kind] * n)
            self._mark = len(self.requests)

    def redirect_to(self, other: FakeMarathon | None):
        with self._lock:
            self._redirect = other

    def emit(self, event_type, payload=None):
        """Sends one event (Jetty framing) to every attached stream subscribed to its type."""
        body = dict(payload or {})
        body.setdefault("eventType", event_type)
        body.setdefault("timestamp", _now_iso())
        frame = f"event: {event_type}\r\ndata: {json.dumps(body, separators=(',', ':'))}\r\n\r\n".encode()
        with self._lock:
            self._mark = len(self.requests)
            for s in self._streams:
                if s.wants(event_type):
                    s.q.put(frame)

    def status_update(self, task_id, app_id, state, host="127.0.0.1", ports=()):
        self.emit("status_update_event", {
            "slaveId": "db7b40e2-791c-445f-b373-183e2a648a86-S1",
            "taskId": task_id,
            "taskStatus": state,
            "message": "",
            "appId": app_id,
            "host": host,
            "ipAddresses": [{"ipAddress": host, "protocol": "IPv4"}],
            "ports": list(ports),
            "version": VERSION,
        })

    def emit_raw(self, data: bytes):
        """Writes bytes as they are to every attached stream (malformed frames, garbage)."""
        with self._lock:
            self._mark = len(self.requests)
            for s in self._streams:
                s.q.put(data)

    def stall_streams(self):
        """The streams attached now stay open but get nothing more, not even heartbeats (what
        a dead leader behind a NAT looks like); streams attached later are served normally."""
        with self._lock:
            for s in self._streams:
                s.stalled = True

    def close_streams(self):
        with self._lock:
            for s in self._streams:
                s.q.put(_CLOSE)

    def wait_tls_failures(self, n=1, timeout=5.0):
        """Blocks until at least n TLS handshakes have failed; returns their reasons."""
        with self._lock:
            if not self._lock.wait_for(lambda: len(self.tls_failures) >= n, timeout):
                raise TimeoutError(f"{len(self.tls_failures)} TLS handshakes failed, wanted {n}")
            return list(self.tls_failures)

    def stream_count(self):
        with self._lock:
            return len(self._streams)

    def wait_streams(self, n=1, timeout=5.0):
        """Blocks until at least n event streams are attached (events emitted before a client
        attaches are lost, as with a real Marathon: no replay)."""
        with self._lock:
            if not self._lock.wait_for(lambda: len(self._streams) >= n, timeout):
                raise TimeoutError(f"{len(self._streams)} event streams attached, wanted {n}")

    def wait_for_request(self, path_prefix, timeout=5.0, since=None):
        """The first request whose path starts with path_prefix, made at or after index `since`
        of self.requests (default: the last set_apps / fail_next / emit). Raises on timeout."""
        deadline = time.monotonic() + timeout
        with self._lock:
            start = self._mark if since is None else since
            while True:
                for r in self.requests[start:]:
                    if r[1].startswith(path_prefix):
                        return r
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no request to {path_prefix} on {self.url} within {timeout}s")
                self._lock.wait(left)

    def stop(self):
        self._stopping.set()
        self.close_streams()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    # -- used by the handler --
    def _record(self, method, path, headers):
        with self._lock:
            self.requests.append((method, path, headers))
            self._lock.notify_all()

    def _take_failure(self):
        with self._lock:
            return self._failures.pop(0) if self._failures else None

    def _authorized(self, header):
        if not (self.username or self.password or self.token):
            return True
        if self.token and header in (f"token={self.token}", f"Bearer {self.token}"):
            return True
        if self.username or self.password:
            creds = base64.b64encode(f"{self.username or ''}:{self.password or ''}".encode()).decode()
            if header == f"Basic {creds}":
                return True
        return False


class _Server(ThreadingHTTPServer):
    fake: FakeMarathon

    def finish_request(self, request, client_address):
        # TLS: handshake here (in the handler thread) so a refused one is recorded for tests.
        if isinstance(request, ssl.SSLSocket):
            request.settimeout(10)
            try:
                request.do_handshake()
            except (ssl.SSLError, OSError) as e:
                with self.fake._lock:
                    self.fake.tls_failures.append(str(e))
                    self.fake._lock.notify_all()
                return
            request.settimeout(None)
        super().finish_request(request, client_address)

    def handle_error(self, request, client_address):
        # Clients that hang up or fail a TLS handshake are part of the tests, not errors.
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    fake: FakeMarathon

    def log_message(self, *args):  # quiet
        pass

    def do_GET(self):
        m = self.fake
        m._record("GET", self.path, self.headers)
        if m._redirect is not None:
            return self._reply(302, b"", extra={"Location": m._redirect.origin + self.path})
        if not m._authorized(self.headers.get("Authorization")):
            return self._reply(401, b"{\"message\":\"invalid username or password\"}",
                               extra={"WWW-Authenticate": 'Basic realm="Mesosphere"'})
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        if m.path_prefix:
            if not url.path.startswith(m.path_prefix + "/"):
                return self._reply(404, b"{\"message\":\"not found\"}")
            url = url._replace(path=url.path[len(m.path_prefix):])
        if url.path == "/v2/events":
            return self._events(query)
        if url.path in ("/v2/apps", "/v2/apps/"):
            return self._apps(query)
        if url.path.startswith("/v2/apps/"):
            return self._one_app(url.path[len("/v2/apps"):], query)
        if url.path == "/ping":
            return self._reply(200, b"pong", ctype="text/plain")
        if url.path == "/v2/info":
            return self._json({"name": "marathon", "version": "1.7.0", "leader": m.origin.split("//")[1]})
        if url.path == "/v2/leader":
            return self._json({"leader": m.origin.split("//")[1]})
        return self._reply(404, b"{\"message\":\"not found\"}")

    def do_POST(self):
        self.fake._record("POST", self.path, self.headers)
        return self._reply(405, b"")

    # -- responses --
    def _reply(self, status, body: bytes, ctype="application/json", extra=None, length=None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.send_header("X-Marathon-Leader", self.fake.origin)
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, obj):
        """obj: a JSON value, or a body already rendered (bytes)."""
        body = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
        if not self.fake.chunked:
            return self._reply(200, body)
        # Jetty streams large JSON bodies chunked: pieces of chunk_size bytes, then the last chunk.
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("X-Marathon-Leader", self.fake.origin)
        self.end_headers()
        step = self.fake.chunk_size
        for i in range(0, len(body), step):
            piece = body[i:i + step]
            self.wfile.write(b"%x\r\n" % len(piece) + piece + b"\r\n")
        self.wfile.write(b"0\r\n\r\n")

    def _failure(self) -> bool:
        kind = self.fake._take_failure()
        if kind is None:
            return False
        if kind == "500":
            self._reply(500, b"{\"message\":\"internal error\"}")
        elif kind == "garbage":
            self._reply(200, b"<html><body>502 Bad Gateway</body></html>")
        elif kind == "truncated":
            full = json.dumps({"apps": self.fake.apps()}).encode()
            self._reply(200, full[: len(full) // 2], length=len(full))
            self.close_connection = True
        elif kind == "truncated_chunked":
            # Half of the document in complete chunks, then the connection closes: no last chunk.
            full = json.dumps({"apps": self.fake.apps()}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            half = full[: len(full) // 2]
            self.wfile.write(b"%x\r\n" % len(half) + half + b"\r\n")
            self.close_connection = True
        elif kind == "trickle":
            # Headers at once, then the body one byte every 50 ms (a sick leader, a slow proxy):
            # alive, never idle, far too slow. Ends when the client hangs up.
            full = json.dumps({"apps": self.fake.apps()}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(full)))
            self.end_headers()
            self.wfile.flush()
            for i in range(len(full)):
                if self.fake._stopping.wait(0.05):
                    break
                self.wfile.write(full[i:i + 1])
                self.wfile.flush()
            self.close_connection = True
        elif kind == "hang":
            self.fake._stopping.wait(120)  # no answer until stopped
            self.close_connection = True
        elif kind == "empty_apps":
            self._json({"apps": []})
        return True

    def _apps(self, query):
        if self._failure():
            return
        if "apps.tasks" in query.get("embed", []):
            return self._json(self.fake.apps_document())
        apps = self.fake.apps()
        for a in apps:
            a.pop("tasks", None)
        self._json({"apps": apps})

    def _one_app(self, app_id, query):
        if self._failure():
            return
        for a in self.fake.apps():
            if a["id"] == app_id:
                if "app.tasks" not in query.get("embed", []):
                    a.pop("tasks", None)
                return self._json({"app": a})
        return self._reply(404, json.dumps({"message": f"App '{app_id}' does not exist"}).encode())

    def _events(self, query):
        m = self.fake
        if "text/event-stream" not in [v.strip() for v in self.headers.get_all("Accept", [])]:
            return self._reply(405, b"HTTP method GET is not supported by this URL", ctype="text/html")
        filters = set(query["event_type"]) if "event_type" in query else None
        stream = _Stream(filters)
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream;charset=utf-8")
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.flush()
        with m._lock:
            m._streams.append(stream)
            m._lock.notify_all()
        try:
            if stream.wants("event_stream_attached"):
                attached = {"remoteAddress": self.client_address[0], "eventType": "event_stream_attached",
                            "timestamp": _now_iso()}
                self._write(f"event: event_stream_attached\r\ndata: {json.dumps(attached)}\r\n\r\n".encode())
            self._pump(stream)
        except OSError:
            pass  # the client went away
        finally:
            with m._lock:
                if stream in m._streams:
                    m._streams.remove(stream)

    def _write(self, data: bytes):
        self.wfile.write(data)
        self.wfile.flush()

    def _pump(self, stream: _Stream):
        m = self.fake
        while not m._stopping.is_set():
            try:
                item = stream.q.get(timeout=m.heartbeat_interval)
            except queue.Empty:
                item = None
            if item is _CLOSE:
                return
            if stream.stalled:
                continue  # connection open, nothing written
            if item is None:  # Jetty's heartbeat: "\r", flush, "\n", flush
                self._write(b"\r")
                self._write(b"\n")
            else:
                self._write(item)


# ---- standalone ----


def _load_apps(path):
    with open(path) as f:
        doc = json.load(f)
    return doc["apps"] if isinstance(doc, dict) else doc


def main(argv=None):
    p = argparse.ArgumentParser(description="A fake Marathon for baton's tests and demos.")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--apps", help='JSON file: {"apps": [...]} (as GET /v2/apps?embed=apps.tasks) or a list')
    p.add_argument("--username")
    p.add_argument("--password")
    p.add_argument("--token")
    p.add_argument("--heartbeat", type=float, default=10.0)
    args = p.parse_args(argv)
    apps = _load_apps(args.apps) if args.apps else []
    m = FakeMarathon(apps=apps, username=args.username, password=args.password, token=args.token,
                     heartbeat_interval=args.heartbeat, host=args.host, port=args.port)
    print(m.url, flush=True)
    done = threading.Event()

    def on_hup(*_):
        if args.apps:
            m.set_apps(_load_apps(args.apps))
            m.emit("api_post_event", {"clientIp": "127.0.0.1", "uri": "/v2/apps"})

    signal.signal(signal.SIGHUP, on_hup)
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    while not done.wait(0.5):
        pass
    m.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
