"""Operator drain through the admin socket, against the real binary: a drained host gets no new
request once the command is acknowledged (on every worker), requests in flight finish, `wait`
(and `batonctl ... --wait`) returns when they have, idle pooled connections close, the host
drain deadline cuts what is left, maintenance and weights, and the operator's state survives a
reload."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import threading
import time

import harness


def admin_config(tmp_path, clusters, **kw) -> tuple[str, str]:
    path = os.path.join(str(tmp_path), "admin.sock")
    extra = kw.pop("admin_extra", "")
    text = harness.make_config(clusters, **kw) + f'\n[admin]\nsocket = "{path}"\n{extra}'
    return text, path


def command(path: str, line: str, timeout: float = 20.0) -> str:
    """One admin-socket command; the answer without its terminating empty line."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(path)
        s.sendall(line.encode() + b"\n")
        data = b""
        while not data.endswith(b"\n\n"):
            chunk = s.recv(65536)
            assert chunk, f"socket closed before the answer ended: {data!r}"
            data += chunk
    return data[:-2].decode()


def hosts(path: str, cluster: str) -> dict:
    """name or address -> host JSON of `show hosts <cluster> json`."""
    doc = json.loads(command(path, f"show hosts {cluster} json"))
    out = {}
    for h in doc["hosts"]:
        out[h["address"]] = h
    return out


def batonctl() -> str:
    return os.path.join(os.path.dirname(harness.baton_bin()), "batonctl")


def slow_request(port: int, target: str, results: list, index: int) -> None:
    try:
        with harness.Client(port, timeout=30) as c:
            results[index] = c.request("GET", target).status
    except Exception as e:  # noqa: BLE001 - recorded for the assertion
        results[index] = repr(e)


def run_wrk(port: int, seconds: float, target: str = "/fast") -> dict:
    out = subprocess.run(
        ["wrk", "-t1", "-c8", f"-d{seconds}s", f"http://127.0.0.1:{port}{target}"],
        capture_output=True, text=True, timeout=seconds + 30,
    ).stdout
    reqs = int(re.search(r"(\d+) requests in", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "requests": reqs,
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": sum(map(int, errors.groups())) if errors else 0,
        "text": out,
    }


def test_drain_under_load(baton, backends, tmp_path):
    b0, b1 = backends(2)
    for b in (b0, b1):
        b.on("/slow", first_byte_wait=20)
    config, sock = admin_config(tmp_path, {"web": [b0.address, b1.address]})
    baton.start(config, workers=2)
    port = baton.port

    # Long requests on both hosts (round robin per worker: 8 land on both).
    results: list = [None] * 8
    threads = [threading.Thread(target=slow_request, args=(port, f"/slow/{i}", results, i)) for i in range(8)]
    for t in threads:
        t.start()
    b0.wait_heads(1)
    b1.wait_heads(1)
    deadline = time.monotonic() + 10
    while len(b0.heads) + len(b1.heads) < 8 and time.monotonic() < deadline:
        time.sleep(0.01)
    slow_on_b0 = len(b0.heads)
    assert slow_on_b0 >= 1

    wrk_result: dict = {}
    wrk = threading.Thread(target=lambda: wrk_result.update(run_wrk(port, 4)))
    wrk.start()
    time.sleep(0.5)  # wrk is spreading /fast over both hosts
    answer = command(sock, f"drain host web/{b0.address}")
    assert "drain" in answer, answer
    at_ack = len(b0.heads)
    assert hosts(sock, "web")[b0.address]["state"] == "drain"

    # The slow requests already on b0 keep running; wait reports them.
    waiting = subprocess.Popen(
        [batonctl(), "--socket", sock, "drain", f"web/{b0.address}", "--wait", "--wait-timeout", "30"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    time.sleep(0.3)
    assert waiting.poll() is None, "--wait returned while requests were still in flight"
    b0.release.set()
    b1.release.set()
    out, err = waiting.communicate(timeout=30)
    assert waiting.returncode == 0, (out, err)
    after_wait = len(b0.heads)

    wrk.join(60)
    for t in threads:
        t.join(30)
    assert results == [200] * 8, results
    assert wrk_result["non2xx"] == 0 and wrk_result["socket_errors"] == 0, wrk_result["text"]
    assert wrk_result["requests"] > 100
    # Nothing new reached b0 once the drain was acknowledged (in flight then: only what had
    # already been picked, and none after `wait` said zero).
    assert len(b0.heads) == after_wait
    fast_after_ack = [r for r in b0.heads[at_ack:] if r.target.startswith(b"/fast")]
    assert len(fast_after_ack) <= 8, "more than one request per wrk connection after the ack"
    h = hosts(sock, "web")[b0.address]
    assert h["in_flight"] == 0
    assert h["pooled_idle"] == 0, "a drained host keeps no idle pooled connection"


def test_wait_on_an_idle_host_returns_at_once_and_unknown_host_is_notfound(baton, backends, tmp_path):
    b0, b1 = backends(2)
    config, sock = admin_config(tmp_path, {"web": [b0.address, b1.address]})
    baton.start(config)
    assert "nothing in flight" in command(sock, f"wait host web/{b0.address} 5")
    assert command(sock, "wait host web/127.0.0.1:1 5").startswith("notfound:")
    assert command(sock, "drain host nope/x").startswith("notfound:")
    assert command(sock, f"set host web/{b0.address} weight 0").startswith("invalid:")


def test_pooled_connections_close_at_drain(baton, backends, tmp_path):
    b0, b1 = backends(2)
    config, sock = admin_config(tmp_path, {"web": [b0.address, b1.address]})
    baton.start(config)
    with baton.client() as c:
        for _ in range(4):
            assert c.request("GET", "/x").status == 200
    assert hosts(sock, "web")[b0.address]["pooled_idle"] >= 1
    command(sock, f"drain host web/{b0.address}")
    assert hosts(sock, "web")[b0.address]["pooled_idle"] == 0
    with baton.client() as c:
        for _ in range(6):
            assert c.request("GET", "/y").header("x-backend") == "b1"


def test_keepalive_to_a_drained_host_closes_after_its_response(baton, backends, tmp_path):
    b0, b1 = backends(2)
    b0.on("/slow", first_byte_wait=20)
    config, sock = admin_config(tmp_path, {"web": [b0.address, b1.address]})
    baton.start(config)
    results = [None]
    t = threading.Thread(target=slow_request, args=(baton.port, "/slow", results, 0))
    t.start()
    b0.wait_heads(1)
    command(sock, f"drain host web/{b0.address}")
    b0.release.set()
    t.join(30)
    assert results == [200]
    h = hosts(sock, "web")[b0.address]
    assert h["pooled_idle"] == 0 and h["in_flight"] == 0


def test_drain_deadline_cuts_what_is_left(baton, backends, tmp_path):
    b0, b1 = backends(2)
    b0.on("/slow", first_byte_wait=30)
    config, sock = admin_config(tmp_path, {"web": [b0.address, b1.address]}, timeouts={"host_drain": "300ms"})
    baton.start(config)
    results = [None]
    t = threading.Thread(target=slow_request, args=(baton.port, "/slow", results, 0))
    t.start()
    b0.wait_heads(1)
    started = time.monotonic()
    command(sock, f"drain host web/{b0.address}")
    t.join(10)
    assert results == [503], results
    assert time.monotonic() - started < 5
    h = hosts(sock, "web")[b0.address]
    assert h["drain_cut"] == 1 and h["in_flight"] == 0
    b0.release.set()


def test_maintenance_then_ready(baton, backends, tmp_path):
    b0, b1 = backends(2)
    config, sock = admin_config(tmp_path, {"web": [b0.address, b1.address]})
    baton.start(config)
    assert "maint" in command(sock, f"set host web/{b0.address} state maint")
    assert hosts(sock, "web")[b0.address]["state"] == "maint"
    with baton.client() as c:
        seen = {c.request("GET", f"/m{i}").header("x-backend") for i in range(6)}
    assert seen == {"b1"}
    command(sock, f"set host web/{b0.address} state ready")
    with baton.client() as c:
        seen = {c.request("GET", f"/r{i}").header("x-backend") for i in range(6)}
    assert seen == {"b0", "b1"}


def test_weight_change_shifts_traffic(baton, backends, tmp_path):
    b0, b1 = backends(2)
    config, sock = admin_config(tmp_path, {"web": [b0.address, b1.address]})
    baton.start(config)
    assert "weight" in command(sock, f"set host web/{b1.address} weight 9")
    h = hosts(sock, "web")[b1.address]
    assert h["weight"] == 9 and h["weight_overridden"] is True
    with baton.client() as c:
        picks = [c.request("GET", f"/w{i}").header("x-backend") for i in range(100)]
    assert picks.count("b1") == 90, picks.count("b1")


def test_operator_state_survives_reload(baton, backends, tmp_path):
    b0, b1, b2 = backends(3)
    config, sock = admin_config(tmp_path, {"web": [b0.address, b1.address]})
    baton.start(config)
    command(sock, f"drain host web/{b0.address}")
    bigger, _ = admin_config(tmp_path, {"web": [b0.address, b1.address, b2.address]})
    assert "reloaded" in command(sock, "reload")  # same file: a new generation, state kept
    baton.wait_event("reloaded")
    ev = baton.reload(bigger)
    assert ev["event"] == "reloaded"
    assert hosts(sock, "web")[b0.address]["state"] == "drain"
    with baton.client() as c:
        seen = {c.request("GET", f"/s{i}").header("x-backend") for i in range(9)}
    assert seen == {"b1", "b2"}
    # A bad file through the socket: refused with the loader's message, state kept.
    with open(baton.conf_path, "w") as f:
        f.write("[server\n")
    answer = command(sock, "reload")
    assert answer.startswith("failed:") and "baton.toml:" in answer, answer
    assert hosts(sock, "web")[b0.address]["state"] == "drain"


def test_drain_cluster_then_ready_cluster(baton, backends, tmp_path):
    b0, b1 = backends(2)
    config, sock = admin_config(tmp_path, {"web": [b0.address, b1.address]})
    baton.start(config)
    command(sock, "drain cluster web")
    with baton.client() as c:
        assert c.request("GET", "/x").status == 503
    command(sock, "set cluster web state ready")
    with baton.client() as c:
        assert c.request("GET", "/x").status == 200


def test_operator_drain_survives_marathon_resyncs(baton, backends, tmp_path):
    from fake_marathon import FakeMarathon, app, task

    b0, b1, b2 = backends(3)
    http_port, service_port = harness.free_port(), harness.free_port()

    def web(tasks):
        return app("/shop/web", labels={"HAPROXY_GROUP": "external", "HAPROXY_0_VHOST": "shop.example.com"},
                   tasks=[task("/shop/web", host=harness.LOCAL, ports=(b.port,), task_id=f"shop_web.t{i}")
                          for i, b in tasks],
                   service_ports=(service_port,))

    m = FakeMarathon(apps=[web([(0, b0), (1, b1)])])
    try:
        sock = os.path.join(str(tmp_path), "admin.sock")
        config = "\n".join([
            "[marathon]", f'urls = ["{m.url}"]', 'groups = ["external"]', f'bind_address = "{harness.LOCAL}"',
            f"http_port = {http_port}", "app_id_port = 0", 'event_debounce = "5ms"', 'resync_interval = "300s"',
            "[admin]", f'socket = "{sock}"', ""])
        baton.start(config, workers=2)
        baton.wait_event("discovery")
        m.wait_streams(1)
        cluster = json.loads(command(sock, "show clusters json"))["clusters"][0]["name"]
        command(sock, f"drain host {cluster}/{b0.address}")
        # Scale up: a resync rebuilds the app's cluster; the operator's drain stays.
        m.set_apps([web([(0, b0), (1, b1), (2, b2)])])
        m.status_update("shop_web.t2", "/shop/web", "TASK_RUNNING")
        baton.wait_event("discovery", where=lambda e: e["tasks"] == 3)
        assert hosts(sock, cluster)[b0.address]["state"] == "drain"
        seen = set()
        for i in range(12):
            with harness.Client(http_port) as c:
                seen.add(c.request("GET", f"/{i}", host="shop.example.com").header("x-backend"))
        assert seen == {"b1", "b2"}
    finally:
        m.stop()


def test_sigterm_finishes_in_flight_closes_keepalives_then_exits(baton, backends):
    b0 = backends(1)[0]
    b0.on("/slow", first_byte_wait=20)
    baton.start(harness.make_config({"web": [b0.address]}, timeouts={"drain": "10s"}))
    idle = harness.Client(baton.port)
    assert idle.request("GET", "/warm").status == 200  # an idle keep-alive connection
    busy = harness.Client(baton.port, timeout=30)
    busy.send(harness.build_request("GET", "/slow"))
    b0.wait_heads(2)
    baton.proc.send_signal(15)
    assert idle.is_closed(timeout=5), "an idle keep-alive connection is closed at once"
    # Stopped accepting: a new connection is refused (or closed unanswered).
    deadline = time.monotonic() + 5
    refused = False
    while not refused and time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", baton.port), timeout=2) as s:
                s.sendall(harness.build_request("GET", "/late"))
                refused = s.recv(1) == b""
        except OSError:
            refused = True
    assert refused
    assert baton.proc.poll() is None, "exited with a request in flight"
    b0.release.set()
    response = busy.read_response()
    assert response.status == 200
    assert response.header("connection") == "close"
    assert baton.proc.wait(10) == 0
    busy.close()
    idle.close()


def test_sigterm_repeated_through_the_exit_still_exits_cleanly(baton, backends):
    """A supervisor repeating SIGTERM while baton exits: the exit status stays 0 (the default
    disposition, restored as the signal events are freed, would kill it with SIGTERM)."""
    b0 = backends(1)[0]
    baton.start(harness.make_config({"web": [b0.address]}))
    with harness.Client(baton.port) as c:
        assert c.request("GET", "/warm").status == 200
    deadline = time.monotonic() + 10
    while baton.proc.poll() is None and time.monotonic() < deadline:
        try:
            baton.proc.send_signal(15)
        except ProcessLookupError:
            break
    assert baton.proc.wait(10) == 0
