"""The dashboard in a real headless Chromium (Debian's /usr/bin/chromium driven by playwright-core,
tests/dashboard/dashboard.spec.mjs) against the real binary with real backends and live traffic:
the page loads with no console error (CSP violations included), shows the clusters and hosts, a
click on a host's "drain" drains it, and the page shows the new state. The drain is then checked
through GET /status and, when this baton has one, through the admin socket.

BATON_DASHBOARD_SCREENSHOT=path keeps the page's screenshot there (docs/dashboard.png is made
this way); otherwise it goes to the test's temporary directory.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading

import harness
import pytest
from fake_marathon import app, task
from harness import LOCAL

HERE = os.path.dirname(os.path.abspath(__file__))
DASHBOARD_DIR = os.path.normpath(os.path.join(HERE, "..", "dashboard"))
CHROMIUM = "/usr/bin/chromium"
TOKEN = "dashboard-test-token"

# What the page shows: Marathon apps (as marathon-lb names them: app id + service port), one
# deployment group in blue/green cutover, tasks named like marathon-lb's svnames.
APPS = {"/shop/web": ("shop.example.com", 3), "/orders/api": ("api.example.com", 2)}
GROUP = "search"

# The asset-pinning rows serve_sample.py's documents must show (dashboard.spec.mjs EXPECT_PINNING):
# one row per state of the panel, the CDN version highlighted among the versions (oldest first).
CLOCK = r"\d\d:\d\d:\d\d"
SAMPLE_PINNING = {
    "sample_status.json": [
        {"key": "shop/shop_web_10001", "cdn": "5e1c0c5a", "state": "^cutoversince " + CLOCK + "$",
         "versions": ["5e1c0c5a", "9d04b7e2"]},
        {"key": "docs/docs_site", "cdn": "v41", "state": "^cutover, flip heldCDN copies fresh until " + CLOCK + "$",
         "versions": ["v41", "v42"]},
        {"key": "landing/landing_site", "cdn": "2026.11.3", "state": "^grace until " + CLOCK + "$",
         "versions": ["2026.11.3"]},
    ],
    "sparse_status.json": [],  # a group without "pinning": the panel says "no pinned groups"
}


def host_name(backend: harness.Backend) -> str:
    return "127_0_0_1_" + str(backend.port)


def marathon_app(app_id: str, backends: list, service_port: int, labels: dict) -> dict:
    base = app_id.strip("/").replace("/", "_")
    tasks = [task(app_id, host=LOCAL, ports=(b.port,), task_id=f"{base}.t{i}") for i, b in enumerate(backends)]
    return app(app_id, labels=dict({"HAPROXY_GROUP": "external"}, **labels), tasks=tasks,
               service_ports=(service_port,))


def write_apps(path: str, by_app: dict) -> None:
    apps = [
        marathon_app(app_id, by_app[app_id], harness.free_port(), {"HAPROXY_0_VHOST": vhost})
        for app_id, (vhost, _) in APPS.items()
    ]
    # zdd's blue/green: both colours share one backend; the old colour's first task is drained.
    port, alt = harness.free_port(), harness.free_port()
    for colour, started, service_port in (("blue", "2026-11-25T10:00:00Z", port),
                                          ("green", "2026-11-25T11:00:00Z", alt)):
        labels = {"HAPROXY_DEPLOYMENT_GROUP": GROUP, "HAPROXY_DEPLOYMENT_ALT_PORT": str(alt),
                  "HAPROXY_0_PORT": str(port), "HAPROXY_DEPLOYMENT_COLOUR": colour,
                  "HAPROXY_DEPLOYMENT_STARTED_AT": started, "HAPROXY_0_VHOST": "search.example.com",
                  "HAPROXY_DEPLOYMENT_TARGET_INSTANCES": "2", "HAPROXY_DEPLOYMENT_NEW_INSTANCES": "0"}
        apps.append(marathon_app(f"/search-{colour}", by_app[f"/search-{colour}"], service_port, labels))
    with open(path + ".tmp", "w") as f:
        json.dump({"apps": apps}, f)
    os.replace(path + ".tmp", path)


def require_browser() -> None:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    if shutil.which("node") is None:
        pytest.skip("node is missing (apt-get install nodejs)")
    if not os.path.isdir(os.path.join(DASHBOARD_DIR, "node_modules", "playwright-core")):
        pytest.skip("tests/dashboard/node_modules is missing (npm ci --prefix tests/dashboard)")


def config(tmp_path, apps_path: str) -> str:
    marathon = {"urls": [f"file:{apps_path}"], "groups": ["external"], "bind_address": LOCAL,
                "http_port": harness.free_port(), "app_id_port": 0, "event_debounce": "5ms"}
    admin = {"http": "127.0.0.2:0", "token": TOKEN, "socket": os.path.join(str(tmp_path), "admin.sock")}
    return "\n".join([harness._table("[server]", {"workers": 2}), harness._table("[marathon]", marathon),
                      harness._table("[admin]", admin)])


class Traffic:
    """Keep-alive GETs over the three routes until stopped, so the page has rates to show."""

    def __init__(self, port: int):
        self.port = port
        self.stop = threading.Event()
        self.sent = 0
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        targets = [("shop.example.com", "/"), ("api.example.com", "/orders/17"),
                   ("search.example.com", "/?q=boots"), ("shop.example.com", "/cart")]
        with harness.Client(self.port) as c:
            while not self.stop.is_set():
                host, target = targets[self.sent % len(targets)]
                r = c.request("GET", target, host=host)
                assert r.status == 200
                self.sent += 1
                self.stop.wait(0.01)  # a few dozen req/s: visible, not a load test

    def close(self) -> None:
        self.stop.set()
        self.thread.join(10)


def socket_command(path: str, line: str) -> str:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(harness.TIMEOUT)
        s.connect(path)
        s.sendall(line.encode() + b"\n")
        data = b""
        while not data.endswith(b"\n\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        return data.decode()


def test_dashboard_drives_a_drain_in_chromium(baton, backends, tmp_path):
    require_browser()
    by_app = {app_id: backends(n) for app_id, (_, n) in APPS.items()}
    by_app["/search-blue"], by_app["/search-green"] = backends(2), backends(1)
    apps_path = os.path.join(str(tmp_path), "apps.json")
    write_apps(apps_path, by_app)
    baton.start(config(tmp_path, apps_path))
    baton.wait_event("discovery")
    if baton.admin is None:
        pytest.skip("this baton does not report an admin listener in its ready event")
    host, port = baton.admin
    with harness.Client(port, host=host) as c:
        status = c.request("GET", "/status").json()
    if not status.get("version"):
        pytest.skip("this baton does not serve the AdminService model yet (server.cc wiring)")
    # Cluster names come from Marathon (app id + service port): read them from the model.
    cluster_of = {c["origin"].removeprefix("marathon:"): c["name"] for c in status["clusters"]}
    shop = cluster_of["/shop/web"]
    assert [g["group"] for g in status["groups"] if g["in_cutover"]] == [GROUP], status["groups"]
    # Marathon's deployment groups are pinned by default (mode assets): blue is the older version,
    # it still has a serving task, so it is the CDN version.
    pinning = next(g["pinning"] for g in status["groups"] if g["group"] == GROUP)
    assert len(pinning) == 1 and pinning[0]["in_cutover"], pinning
    versions = [v["id"] for v in pinning[0]["versions"]]
    assert [v["colour"] for v in pinning[0]["versions"]] == ["blue", "green"], pinning
    assert pinning[0]["cdn_version"] == versions[0], pinning
    expect_pinning = [{"key": f"{GROUP}/{pinning[0]['cluster']}", "cdn": versions[0], "state": "^cutoversince ",
                       "versions": versions}]

    target = by_app["/shop/web"][0]
    drain_id = f"{shop}/{host_name(target)}"
    expect = [f"{cluster_of[a]}/{host_name(b)}" for a in APPS for b in by_app[a]]
    screenshot = os.environ.get("BATON_DASHBOARD_SCREENSHOT") or os.path.join(str(tmp_path), "dashboard.png")
    traffic = Traffic(baton.port_of("marathon_http"))
    try:
        env = dict(
            os.environ,
            DASHBOARD_URL=f"http://{host}:{port}/",
            EXPECT_HOSTS=",".join(expect),
            DRAIN_HOST=drain_id,
            EXPECT_PINNING=json.dumps(expect_pinning),
            TOKEN=TOKEN,
            SCREENSHOT=screenshot,
        )
        run = subprocess.run(
            ["node", os.path.join(DASHBOARD_DIR, "dashboard.spec.mjs")],
            cwd=DASHBOARD_DIR,
            env=env,
            capture_output=True,
            timeout=120,
        )
    finally:
        traffic.close()
    out = run.stdout.decode(errors="replace") + run.stderr.decode(errors="replace")
    assert run.returncode == 0, out
    assert "PASS" in out, out
    assert os.path.getsize(screenshot) > 10_000

    # The click went through the same AdminService call as the socket: the host is drained.
    with harness.Client(port, host=host) as c:
        status = c.request("GET", "/status").json()
    hosts = {h["name"]: h for c in status["clusters"] if c["name"] == shop for h in c["hosts"]}
    assert hosts[host_name(target)]["admin_state"] == "drain"
    assert hosts[host_name(target)]["state"] == "drain"
    assert all(h["state"] == "ready" for n, h in hosts.items() if n != host_name(target))

    # No new request reaches it.
    target.clear()
    with baton.client("marathon_http") as c:
        for _ in range(6):
            assert c.request("GET", "/", host="shop.example.com").status == 200
    assert target.requests == []

    sock = os.path.join(str(tmp_path), "admin.sock")
    if os.path.exists(sock):
        answer = socket_command(sock, f"show hosts {shop}")
        line = next(l for l in answer.splitlines() if host_name(target) in l)
        assert "drain" in line, answer


@pytest.mark.parametrize("document", ["sample_status.json", "sparse_status.json"])
def test_page_on_sample_documents(tmp_path, document):
    """The page alone against tests/dashboard/serve_sample.py: a full document (Marathon, groups,
    rejected requests, every state, pinned groups in cutover, flip held and grace) and a sparse one (missing fields, nulls, wrong types, as an
    older server or a bug could send) both render with no console or page error, and a drain
    click round-trips."""
    require_browser()
    env = dict(os.environ, SAMPLE_STATUS=os.path.join(DASHBOARD_DIR, document))
    server = subprocess.Popen(
        ["/usr/bin/python3", os.path.join(DASHBOARD_DIR, "serve_sample.py"), "0"],
        stdout=subprocess.PIPE, env=env)
    try:
        url = server.stdout.readline().decode().strip()
        assert url.startswith("http://127.0.0.1:"), url
        host = "shop_web_10001/10_0_6_31_31022" if document == "sample_status.json" else "legacy/h1"
        run = subprocess.run(
            ["node", os.path.join(DASHBOARD_DIR, "dashboard.spec.mjs")], cwd=DASHBOARD_DIR,
            env=dict(os.environ, DASHBOARD_URL=url, EXPECT_HOSTS=host, DRAIN_HOST=host,
                     EXPECT_PINNING=json.dumps(SAMPLE_PINNING[document]),
                     SCREENSHOT=os.path.join(str(tmp_path), "page.png")),
            capture_output=True, timeout=120)
    finally:
        server.terminate()
        server.wait(10)
    out = run.stdout.decode(errors="replace") + run.stderr.decode(errors="replace")
    assert run.returncode == 0 and "PASS" in out, out
