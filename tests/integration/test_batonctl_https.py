"""Several instances behind a DC/OS-style https:// Marathon (issue 10, README "Several instances").

- `batonctl --all` finds the instances through an https:// Marathon: the chain is verified against
  `--marathon-ca-cert FILE` (or `--config FILE`'s `[marathon] ca_file`), the name against the URL's
  host; a CA that did not sign Marathon's certificate, or a certificate for another name, is a
  clear error and exit 2 (nothing is sent to any instance).
- The peer monitor follows `[marathon]` on reload: an instance reloaded onto a second Marathon
  lists the instances that Marathon names (`show instances`), and a reload that changes nothing the
  monitor uses leaves it alone.

The PKI is made at test time (fake_marathon.make_pki: /usr/bin/openssl, nothing checked in).
"""

from __future__ import annotations

import json
import socket
import subprocess
import time

import pytest

from fake_marathon import FakeMarathon, app, make_pki, task
from harness import LOCAL
from multi_instance import multi_baton  # noqa: F401 (fixture)
from test_admin_socket import batonctl_bin
from test_ha_ops import SELF_APP, TOKEN, peer_env, self_app, wait_until, web_app  # noqa: F401

VHOST = "shop.example.com"
RESTARTED = "peer monitor: new Marathon settings"  # its log line when a reload changed them


@pytest.fixture
def pki(tmp_path):
    return make_pki(tmp_path / "pki")


@pytest.fixture
def https_marathon(pki):
    m = FakeMarathon(ssl_context=pki.server_context("good"))
    yield m
    m.stop()


def start_https_set(m, multi_baton, pki, bs, n=3):
    """n instances whose discovery and peer monitor both reach Marathon over https (ca_file)."""
    m.set_apps([web_app(bs)])
    mb = multi_baton(m, n=n, token=TOKEN, marathon_extra={"ca_file": pki.ca}).start()
    m.set_apps([web_app(bs), self_app(mb)])
    return mb


def batonctl(*args, timeout=30):
    return subprocess.run([batonctl_bin(), "--timeout", "5", *args], capture_output=True, text=True,
                          timeout=timeout)


def test_all_reaches_every_instance_through_https_marathon(https_marathon, multi_baton, backends, pki):
    m = https_marathon
    assert m.url.startswith("https://127.0.0.1:"), m.url
    bs = backends(2)
    mb = start_https_set(m, multi_baton, pki, bs)

    # The CA on the command line.
    since = len(m.requests)
    r = batonctl("--all", "--self-app", SELF_APP, "--marathon", m.url, "--marathon-ca-cert", pki.ca,
                 "--token", TOKEN, "show", "info")
    assert r.returncode == 0, (r.stdout, r.stderr)
    head = r.stdout.splitlines()[0].split()
    assert head == ["key"] + [inst.task_id for inst in mb], r.stdout
    assert any(req[1].startswith("/v2/apps" + SELF_APP) for req in m.requests[since:]), \
        "batonctl listed the instances from the https Marathon"

    # The CA (and Marathon URL, token) from baton's own config file: [marathon] ca_file.
    r = batonctl("--all", "--self-app", SELF_APP, "--config", mb[0].baton.conf_path, "--json",
                 "show", "clusters")
    assert r.returncode == 0, (r.stdout, r.stderr)
    doc = json.loads(r.stdout)
    assert [i["task_id"] for i in doc["instances"]] == [inst.task_id for inst in mb]
    assert all(i["ok"] for i in doc["instances"]), doc

    # A write command through https Marathon reaches every instance.
    cluster = [c["name"] for c in json.loads(mb.ask(0, "show clusters json"))["clusters"]
               if c["name"].startswith("shop_web")][0]
    host = f"{LOCAL.replace('.', '_')}_{bs[0].port}"
    r = batonctl("--all", "--self-app", SELF_APP, "--marathon", m.url, "--marathon-ca-cert", pki.ca,
                 "--token", TOKEN, "drain", f"{cluster}/{host}")
    assert r.returncode == 0 and "3 instance(s): 3 ok" in r.stdout, (r.stdout, r.stderr)
    for inst in mb:
        hosts = json.loads(inst.ask(f"show hosts {cluster} json"))["hosts"]
        assert [h["admin_state"] for h in hosts if h["name"] == host] == ["drain"]

    # The peer monitor of every instance reaches Marathon over https too.
    def listed(inst):
        peers = json.loads(inst.ask("show instances json"))["instances"].get("peers", [])
        return sorted(p["task_id"] for p in peers) == sorted(i.task_id for i in mb)

    for inst in mb:
        wait_until(f"{inst.name} lists the instances", lambda: listed(inst))


def test_all_refuses_an_unverified_marathon(https_marathon, multi_baton, backends, pki, tmp_path):
    m = https_marathon
    bs = backends(1)
    start_https_set(m, multi_baton, pki, bs, n=1)
    base = ["--all", "--self-app", SELF_APP, "--token", TOKEN]

    # A CA that signed nothing Marathon serves.
    r = batonctl(*base, "--marathon", m.url, "--marathon-ca-cert", pki.other_ca, "show", "info")
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert "certificate verify failed: unable to get local issuer certificate" in r.stderr, r.stderr
    assert m.url in r.stderr and r.stdout == "", (r.stdout, r.stderr)
    # The system's CAs (the default) do not know the test CA either.
    r = batonctl(*base, "--marathon", m.url, "show", "info")
    assert r.returncode == 2 and "certificate verify failed" in r.stderr, r.stderr
    # A CA file that is not there.
    r = batonctl(*base, "--marathon", m.url, "--marathon-ca-cert", str(tmp_path / "nope.pem"), "show", "info")
    assert r.returncode == 2 and "--marathon-ca-cert" in r.stderr, r.stderr

    # The right CA, but Marathon's certificate names another host.
    wrong = FakeMarathon(apps=m.apps(), ssl_context=pki.server_context("wrong_name"))
    try:
        r = batonctl(*base, "--marathon", wrong.url, "--marathon-ca-cert", pki.ca, "show", "info")
        assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
        assert "certificate verify failed: IP address mismatch" in r.stderr, r.stderr
    finally:
        wrong.stop()


def test_all_tls_handshake_is_bounded_by_the_timeout():
    """A Marathon that accepts the connection and never answers the TLS handshake: --timeout
    bounds it (poll() deadlines hold through TLS), exit 2 naming the phase."""
    silent = socket.socket()
    try:
        silent.bind((LOCAL, 0))
        silent.listen(8)  # the kernel completes the TCP handshake; nobody ever speaks TLS
        url = f"https://{LOCAL}:{silent.getsockname()[1]}"
        t0 = time.monotonic()
        r = subprocess.run([batonctl_bin(), "--all", "--self-app", SELF_APP, "--timeout", "1", "--marathon", url,
                            "show", "info"], capture_output=True, text=True, timeout=30)
        elapsed = time.monotonic() - t0
        assert r.returncode == 2, (r.returncode, r.stderr)
        assert "timed out in the TLS handshake" in r.stderr and url in r.stderr, r.stderr
        assert elapsed < 4.0, elapsed
    finally:
        silent.close()


def test_peer_monitor_follows_marathon_on_reload(multi_baton, backends):
    bs = backends(1)
    first, second = FakeMarathon(), FakeMarathon()
    try:
        first.set_apps([web_app(bs)])
        mb = multi_baton(first, n=2, token=TOKEN).start()
        me = self_app(mb)
        first.set_apps([web_app(bs), me])
        # The second Marathon knows a different set: instance 1 and two tasks nobody answers for.
        other = app(SELF_APP, labels={"BATON_ADMIN_PORT_INDEX": "1"}, tasks=[
            task(SELF_APP, host=LOCAL, ports=(mb[1].http_port, mb[1].admin[1]), task_id=mb[1].task_id),
            task(SELF_APP, host=LOCAL, ports=(1, 2), task_id="baton.elsewhere1"),
            task(SELF_APP, host=LOCAL, ports=(3, 4), task_id="baton.elsewhere2"),
        ], service_ports=(10201, 10202))
        second.set_apps([web_app(bs), other])

        def peers(inst):
            return sorted(p["task_id"] for p in json.loads(inst.ask("show instances json"))["instances"].get("peers", []))

        inst = mb[0]
        wait_until("the first set", lambda: peers(inst) == sorted(i.task_id for i in mb))

        # A reload that changes nothing the monitor uses (groups is discovery's only): the
        # monitor keeps its peers, no new listing is forced.
        mb.marathon_extra = {"groups": ["external", "internal"]}
        ev = inst.baton.reload(mb.config(inst))
        assert ev["event"] == "reloaded", ev
        inst.baton.wait_event("discovery")  # discovery itself restarted (its settings changed)
        assert RESTARTED not in inst.baton.stderr()
        assert peers(inst) == sorted(i.task_id for i in mb)

        # Pointed at the second Marathon: the monitor lists from there.
        since = len(second.requests)
        mb.m = second
        ev = inst.baton.reload(mb.config(inst))
        assert ev["event"] == "reloaded", ev
        assert inst.baton.stderr().count(RESTARTED) == 1
        want = sorted([mb[1].task_id, "baton.elsewhere1", "baton.elsewhere2"])
        wait_until("the second Marathon's set", lambda: peers(inst) == want)
        assert any(r[1].startswith("/v2/apps" + SELF_APP) for r in second.requests[since:])
        text = inst.ask("show instances")
        assert "baton.elsewhere1" in text and mb[0].task_id not in text, text
        mb.m = first  # the other instance still follows the first
    finally:
        first.stop()
        second.stop()
