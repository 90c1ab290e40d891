"""The admin UNIX socket and batonctl against the real binary.

baton runs with `[admin] socket = "<dir>/admin.sock"` (a directory of its own, mode 0755, so that
the peer-check tests can reach the file as `nobody`). batonctl is built next to baton
($BATON_BIN's directory). The protocol is proxy/admin/commands.h: one command per line, answers
end with an empty line, refusals start with a stable word.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import subprocess
import tempfile
import threading
import time

import harness
import pytest

NOBODY = 65534


def batonctl_bin() -> str:
    path = os.path.join(os.path.dirname(harness.baton_bin()), "batonctl")
    if not os.access(path, os.X_OK):
        pytest.skip(f"batonctl not built next to baton ({path})")
    return path


@pytest.fixture
def sock_dir():
    d = tempfile.mkdtemp(prefix="baton-admin-")
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def admin_config(backends, path: str, extra: str = "") -> str:
    cfg = harness.make_config(clusters={"web": [b.address for b in backends]})
    return cfg + f'\n[admin]\nsocket = "{path}"\n{extra}'


@pytest.fixture
def edge(baton, backends, sock_dir):
    """baton with two backends in cluster "web" and the admin socket on; returns a namespace."""
    b0, b1 = backends(2)
    path = os.path.join(sock_dir, "admin.sock")
    baton.start(admin_config([b0, b1], path))
    assert stat.S_ISSOCK(os.stat(path).st_mode), "baton did not create its admin socket"

    class Edge:
        pass

    e = Edge()
    e.baton, e.b0, e.b1, e.path = baton, b0, b1, path
    return e


def ctl(path: str, *args: str, timeout: float = 20.0, user: int | None = None) -> subprocess.CompletedProcess:
    kw = {}
    if user is not None:
        kw = {"user": user, "group": user, "extra_groups": []}
    return subprocess.run(
        [batonctl_bin(), "--socket", path, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        **kw,
    )


class Session:
    """A raw protocol session (pipelining, quit and framing checks)."""

    def __init__(self, path: str):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(harness.TIMEOUT)
        self.s.connect(path)
        self.buf = b""

    def send(self, data: bytes) -> None:
        self.s.sendall(data)

    def answer(self) -> str:
        while b"\n\n" not in self.buf:
            data = self.s.recv(65536)
            if not data:
                raise harness.Closed(f"EOF; got {self.buf!r}")
            self.buf += data
        out, self.buf = self.buf.split(b"\n\n", 1)
        return out.decode()

    def ask(self, line: str) -> str:
        self.send(line.encode() + b"\n")
        return self.answer()

    def closed(self) -> bool:
        try:
            while True:
                data = self.s.recv(65536)
                if not data:
                    return True
                self.buf += data
        except (ConnectionResetError, socket.timeout):
            return False

    def close(self) -> None:
        self.s.close()


def ask(path: str, line: str) -> str:
    s = Session(path)
    try:
        return s.ask(line)
    finally:
        s.close()


def hosts_of(path: str, cluster: str = "web") -> dict:
    """`show hosts <cluster> json` as {address: host dict}."""
    r = ctl(path, "--json", "show", "hosts", cluster)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    hosts = doc["hosts"] if isinstance(doc, dict) else doc
    return {h["address"]: h for h in hosts}


def refused(text: str, word: str) -> bool:
    return text.startswith(word + ": ")


# --------------------------------------------------------------------------------------------


def test_socket_file_is_0600_and_removed_on_stop(edge):
    st = os.stat(edge.path)
    assert stat.S_ISSOCK(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o600
    assert st.st_uid == os.geteuid()
    assert edge.baton.stop() == 0
    assert not os.path.exists(edge.path)


def test_help(edge):
    r = ctl(edge.path, "help")
    assert r.returncode == 0, r.stderr
    for cmd in ("show info", "show hosts", "set host", "drain cluster", "wait host", "reload"):
        assert cmd in r.stdout, r.stdout
    assert ask(edge.path, "help").strip() == r.stdout.strip()


def test_show_commands(edge):
    info = json.loads(ctl(edge.path, "--json", "show", "info").stdout)
    assert info["pid"] == edge.baton.proc.pid
    assert info["generation"] >= 1

    clusters = ctl(edge.path, "--json", "show", "clusters")
    assert clusters.returncode == 0, clusters.stderr
    assert "web" in clusters.stdout
    json.loads(clusters.stdout)

    hosts = hosts_of(edge.path)
    assert set(hosts) == {edge.b0.address, edge.b1.address}
    for h in hosts.values():
        assert h["state"] == "ready" and h["admin_state"] == "ready"

    for words in (["show", "routes"], ["show", "errors"], ["show", "groups"], ["show", "stat"]):
        r = ctl(edge.path, "--json", *words)
        assert r.returncode == 0, (words, r.stderr)
        json.loads(r.stdout)  # one JSON document

    text = ctl(edge.path, "show", "stat")
    assert text.returncode == 0, text.stderr
    header = text.stdout.splitlines()[0]
    assert header.startswith("# pxname,svname,"), header
    assert "web" in text.stdout

    for words in (["show", "info"], ["show", "clusters"], ["show", "routes"], ["show", "hosts", "web"],
                  ["show", "errors"], ["show", "config"]):
        r = ctl(edge.path, *words)
        assert r.returncode == 0, (words, r.stderr)
        assert r.stdout.strip(), words
        assert "\n\n" not in r.stdout.strip(), words  # an answer never holds an empty line

    # raw passthrough gives the same as the words.
    assert ctl(edge.path, "raw", "show routes json").stdout == ctl(edge.path, "--json", "show", "routes").stdout


def test_show_errors_lists_a_rejected_request(edge):
    with edge.baton.client() as c:
        c.send(b"GET /a b HTTP/1.1\r\nHost: x\r\n\r\n")
        harness.assert_rejected(c, 400)
    doc = json.loads(ctl(edge.path, "--json", "show", "errors").stdout)
    errors = doc["errors"] if isinstance(doc, dict) else doc
    assert errors, doc
    assert errors[0]["status"] == 400
    assert errors[0]["reason"]


def test_set_host_state_and_weight_visible_in_show_hosts(edge):
    target = f"web/{edge.b0.address}"
    r = ctl(edge.path, "drain", target)
    assert r.returncode == 0, r.stderr
    assert hosts_of(edge.path)[edge.b0.address]["admin_state"] == "drain"
    assert hosts_of(edge.path)[edge.b0.address]["state"] == "drain"
    # Idempotent: the same command again is fine.
    assert ctl(edge.path, "drain", target).returncode == 0

    assert ctl(edge.path, "maint", target).returncode == 0
    assert hosts_of(edge.path)[edge.b0.address]["admin_state"] == "maint"

    assert ctl(edge.path, "ready", target).returncode == 0
    assert hosts_of(edge.path)[edge.b0.address]["admin_state"] == "ready"

    r = ctl(edge.path, "--json", "weight", target, "7")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["ok"] is True
    h = hosts_of(edge.path)[edge.b0.address]
    assert h["weight"] == 7 and h["weight_overridden"] is True
    assert hosts_of(edge.path)[edge.b1.address]["weight"] == 1

    # The raw protocol line does the same as the sugar.
    assert not refused(ask(edge.path, f"set host {target} state drain"), "usage")
    assert hosts_of(edge.path)[edge.b0.address]["admin_state"] == "drain"


def test_drained_host_gets_no_new_requests(edge):
    assert ctl(edge.path, "drain", f"web/{edge.b0.address}").returncode == 0
    for i in range(10):
        with edge.baton.client() as c:
            assert c.request("GET", f"/after-drain/{i}").status == 200
    got = edge.b1.wait_requests(10)
    assert len([r for r in got if r.target.startswith(b"/after-drain/")]) == 10
    assert not [r for r in edge.b0.requests if r.target.startswith(b"/after-drain/")]

    assert ctl(edge.path, "drain-cluster", "web").returncode == 0
    with edge.baton.client() as c:
        assert c.request("GET", "/all-drained").status == 503
    assert ctl(edge.path, "raw", "set cluster web state ready").returncode == 0
    assert ctl(edge.path, "ready", f"web/{edge.b0.address}").returncode == 0
    edge.b0.clear()
    for i in range(4):
        with edge.baton.client() as c:
            assert c.request("GET", f"/back/{i}").status == 200
    assert edge.b0.wait_requests(1)


def test_drain_wait_returns_when_in_flight_reaches_zero(edge):
    # Only b0, so the slow request surely goes there.
    assert ctl(edge.path, "maint", f"web/{edge.b1.address}").returncode == 0
    edge.b0.on("/slow", first_byte_wait=30.0)
    result = {}

    def slow():
        with edge.baton.client(timeout=30) as c:
            result["status"] = c.request("GET", "/slow").status

    t = threading.Thread(target=slow)
    t.start()
    edge.b0.wait_heads(1)
    target = f"web/{edge.b0.address}"
    # A wait that runs out while the request is in flight: "timeout:", exit 1.
    r = ctl(edge.path, "wait", target, "1")
    assert r.returncode == 1 and r.stderr.startswith("timeout: "), (r.returncode, r.stderr)

    p = subprocess.Popen([batonctl_bin(), "--socket", edge.path, "drain", target, "--wait",
                          "--wait-timeout", "20"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # The drain is acknowledged once every worker serves it; then the request finishes.
    deadline = time.monotonic() + harness.TIMEOUT
    while hosts_of(edge.path)[edge.b0.address]["admin_state"] != "drain":
        assert time.monotonic() < deadline, "the drain was never acknowledged"
    assert p.poll() is None, "drain --wait returned while a request was in flight"
    edge.b0.release.set()
    out, err = p.communicate(timeout=20)
    assert p.returncode == 0, err
    t.join(harness.TIMEOUT)
    assert result.get("status") == 200
    assert hosts_of(edge.path)[edge.b0.address]["in_flight"] == 0


def test_refusals_have_stable_words(edge):
    s = Session(edge.path)
    try:
        assert refused(s.ask("frobnicate"), "unknown")
        assert refused(s.ask("show"), "unknown")  # "show" alone names no command
        assert refused(s.ask("show hosts"), "usage")
        assert refused(s.ask("show info xml"), "usage")
        assert refused(s.ask("set host web"), "usage")
        assert refused(s.ask(f"wait host web/{edge.b0.address} soon"), "usage")
        assert refused(s.ask("set host web/1.2.3.4:9 state drain"), "notfound")
        assert refused(s.ask("set host nope/x state drain"), "notfound")
        assert refused(s.ask("show hosts nope"), "notfound")
        assert refused(s.ask(f"set host web/{edge.b0.address} state sideways"), "invalid")
        assert refused(s.ask(f"set host web/{edge.b0.address} weight 0"), "invalid")
        assert refused(s.ask(f"set host web/{edge.b0.address} weight 257"), "invalid")
        assert refused(s.ask("set log-level loud"), "invalid")
        # Still serving this session after all that.
        assert json.loads(s.ask("show info json"))["pid"] == edge.baton.proc.pid
    finally:
        s.close()

    r = ctl(edge.path, "frobnicate")
    assert r.returncode == 1 and r.stderr.startswith("unknown: "), (r.returncode, r.stderr)
    r = ctl(edge.path, "ready", "nope/x")
    assert r.returncode == 1 and r.stderr.startswith("notfound: "), r.stderr
    r = ctl(edge.path, "--json", "ready", "nope/x")
    assert r.returncode == 1
    assert json.loads(r.stdout) == {"ok": False, "error": "notfound", "message": r.stderr.split(": ", 1)[1].rstrip("\n")}
    # Usage errors of batonctl itself: exit 2, nothing sent.
    assert ctl(edge.path, "weight", "web/x").returncode == 2
    assert ctl(edge.path, "drain", "web").returncode == 2


def test_pipelined_lines_answer_in_order_and_quit_closes(edge):
    s = Session(edge.path)
    try:
        s.send(b"show info json\r\nfrobnicate\n\nshow hosts web json\nquit\nshow info\n")
        assert json.loads(s.answer())["pid"] == edge.baton.proc.pid
        assert refused(s.answer(), "unknown")
        assert edge.b0.address in s.answer()
        assert s.closed()
        assert s.buf == b""  # nothing after quit
    finally:
        s.close()


def test_long_line_is_refused_and_closed(edge):
    s = Session(edge.path)
    try:
        s.send(b"show " + b"x" * 5000 + b"\n")
        assert refused(s.answer(), "usage")
        assert s.closed()
    finally:
        s.close()
    assert json.loads(ctl(edge.path, "--json", "show", "info").stdout)["pid"] == edge.baton.proc.pid


def test_log_level_and_reload(edge):
    r = ctl(edge.path, "log-level", "debug")
    assert r.returncode == 0, r.stderr
    assert json.loads(ctl(edge.path, "--json", "show", "info").stdout)["log_level"] == "debug"
    assert ctl(edge.path, "log-level", "info").returncode == 0
    gen = json.loads(ctl(edge.path, "--json", "show", "info").stdout)["generation"]
    r = ctl(edge.path, "reload")
    assert r.returncode == 0, r.stderr
    assert json.loads(ctl(edge.path, "--json", "show", "info").stdout)["generation"] > gen
    r = ctl(edge.path, "resync")
    assert r.returncode == 0, r.stderr


def test_connection_errors_name_the_socket(sock_dir):
    missing = os.path.join(sock_dir, "none.sock")
    r = ctl(missing, "show", "info")
    assert r.returncode == 2
    assert missing in r.stderr and "No such file or directory" in r.stderr
    env = dict(os.environ, BATON_ADMIN_SOCKET=missing)
    r = subprocess.run([batonctl_bin(), "show", "info"], capture_output=True, text=True, env=env, timeout=10)
    assert r.returncode == 2 and missing in r.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run a client as another uid")
def test_other_uid_is_refused(edge):
    # Mode 0600: the file itself keeps nobody out.
    r = ctl(edge.path, "show", "info", user=NOBODY)
    assert r.returncode == 2 and "Permission denied" in r.stderr and edge.path in r.stderr, r.stderr
    # Group-writable for nobody's group, but nobody is not in socket_uids/socket_gids:
    # SO_PEERCRED refuses.
    os.chown(edge.path, -1, NOBODY)
    os.chmod(edge.path, 0o660)
    r = ctl(edge.path, "drain", f"web/{edge.b0.address}", user=NOBODY)
    assert r.returncode == 1 and r.stderr.startswith("denied: "), (r.returncode, r.stderr)
    assert hosts_of(edge.path)[edge.b0.address]["admin_state"] == "ready"


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run a client as another uid")
def test_listed_gid_is_allowed(baton, backends, sock_dir):
    (b0,) = backends(1)
    path = os.path.join(sock_dir, "admin.sock")
    baton.start(admin_config([b0], path, f'socket_mode = "0660"\nsocket_gids = [{NOBODY}]\n'))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o660
    os.chown(path, -1, NOBODY)
    r = ctl(path, "--json", "show", "info", user=NOBODY)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["pid"] == baton.proc.pid


def test_stale_socket_is_replaced_and_live_one_refused(baton, backends, sock_dir, tmp_path):
    (b0,) = backends(1)
    path = os.path.join(sock_dir, "admin.sock")
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(path)  # bound, never listening: what a killed baton leaves
    stale.close()
    baton.start(admin_config([b0], path))
    assert json.loads(ctl(path, "--json", "show", "info").stdout)["pid"] == baton.proc.pid

    # A second baton on the same socket path refuses to start and leaves the first one's alone.
    conf = tmp_path / "second.toml"
    conf.write_text(admin_config([b0], path))
    r = subprocess.run([harness.baton_bin(), "--config", str(conf)], capture_output=True, text=True, timeout=20)
    assert r.returncode != 0
    assert path in r.stderr, r.stderr
    assert json.loads(ctl(path, "--json", "show", "info").stdout)["pid"] == baton.proc.pid
