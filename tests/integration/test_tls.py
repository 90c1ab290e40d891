"""TLS termination against the real binary: certificates by SNI (exact, wildcard, default, none),
ALPN, versions, session resumption, certificate reload from disk without a restart (and a bad
file keeping the last good certificate), handshake deadline and garbage, redirect_to_https, and
config errors. Clients: Python's ssl module (verifying against a per-run CA), curl, h2load."""

from __future__ import annotations

import os
import re
import shutil
import socket
import ssl
import subprocess
import time

import pytest

import harness
from tls_pki import Pki, TlsClient

LOCAL = harness.LOCAL


@pytest.fixture
def pki(tmp_path):
    return Pki(os.path.join(str(tmp_path), "pki"))


def tls_config(pki: Pki, backend, extra_tls: str = "", route_extra: str = "", timeouts: str = "",
               certs: list[str] | None = None) -> str:
    if certs is None:
        a_pem, a_key = pki.leaf("a", ["a.example.com"])
        w_pem, w_key = pki.leaf("wild", ["*.wild.example.com"])
        combined = pki.combined("c", ["c.example.com"])
        certs = [
            f'[[tls.certificate]]\ncert = "{a_pem}"\nkey = "{a_key}"\ndefault = true\n',
            f'[[tls.certificate]]\ncert = "{w_pem}"\nkey = "{w_key}"\n',
            f'[[tls.certificate]]\ncert = "{combined}"\n',
        ]
    return (
        "[server]\nworkers = 1\n"
        + (f"\n[timeouts]\n{timeouts}\n" if timeouts else "")
        + f"\n[tls]\nwatch_interval = \"100ms\"\n{extra_tls}\n"
        + "\n".join(certs)
        + f'\n[[listener]]\nname = "https"\naddress = "{LOCAL}:0"\ntls = true\n'
        + '\n[[listener]]\nname = "http"\naddress = "127.0.0.2:0"\n'
        + f'\n[[cluster]]\nname = "web"\nhosts = ["{backend.address}"]\n'
        + '\n[[vhost]]\nname = "all"\ndomains = ["*"]\n'
        + f'  [[vhost.route]]\n  prefix = "/"\n  cluster = "web"\n{route_extra}'
    )


def tls_get(baton, pki, server_name, target="/", alpn=None, host=None, session=None):
    c = TlsClient(baton.port_of("https"), pki.context(alpn), server_name, session=session)
    try:
        resp = c.request("GET", target, host=host or server_name or "a.example.com")
        return c, resp
    except Exception:
        c.close()
        raise


def test_sni_selects_exact_wildcard_and_default(baton, backend, pki):
    baton.start(tls_config(pki, backend))
    cases = [
        ("a.example.com", ["a.example.com"]),
        ("x.wild.example.com", ["*.wild.example.com"]),
        ("c.example.com", ["c.example.com"]),  # key in the certificate file (marathon-lb style)
    ]
    for sni, names in cases:
        c, resp = tls_get(baton, pki, sni)
        with c:
            assert resp.status == 200, (sni, resp.status)
            assert c.names == names, sni
    # Unknown name and no SNI at all: the default certificate.
    ctx = pki.context()
    ctx.check_hostname = False
    for sni in ("unknown.example.org", None):
        with TlsClient(baton.port_of("https"), ctx, sni) as c:
            assert c.names == ["a.example.com"], sni
            assert c.request("GET", "/", host="a.example.com").status == 200
    # A wildcard covers exactly one label.
    with TlsClient(baton.port_of("https"), ctx, "a.b.wild.example.com") as c:
        assert c.names == ["a.example.com"]
    # The backend learns the request came over TLS.
    rec = backend.wait_requests(1)[0]
    assert rec.header("x-forwarded-proto") == b"https"


def test_alpn_and_versions(baton, backend, pki):
    baton.start(tls_config(pki, backend))
    for offered, chosen in ((["h2", "http/1.1"], "h2"), (["http/1.1"], "http/1.1"), (None, None)):
        with TlsClient(baton.port_of("https"), pki.context(offered), "a.example.com") as c:
            assert c.sock.selected_alpn_protocol() == chosen, offered
            if chosen != "h2":
                assert c.request("GET", "/x", host="a.example.com").status == 200
    old = pki.context()
    old.minimum_version = ssl.TLSVersion.TLSv1
    old.maximum_version = ssl.TLSVersion.TLSv1_1
    try:
        old.set_ciphers("ALL:@SECLEVEL=0")
    except ssl.SSLError:
        pass
    with pytest.raises((ssl.SSLError, ConnectionResetError, OSError)):
        TlsClient(baton.port_of("https"), old, "a.example.com").request("GET", "/")
    # TLS 1.3 and 1.2 both work.
    for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
        ctx = pki.context()
        ctx.minimum_version = ctx.maximum_version = version
        with TlsClient(baton.port_of("https"), ctx, "a.example.com") as c:
            assert c.request("GET", "/", host="a.example.com").status == 200


def test_session_resumption(baton, backend, pki):
    baton.start(tls_config(pki, backend))
    ctx = pki.context()
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2  # the session is known after the handshake
    c1, resp = tls_get(baton, pki, "a.example.com")
    with c1:
        assert resp.status == 200
    with TlsClient(baton.port_of("https"), ctx, "a.example.com") as first:
        assert first.request("GET", "/", host="a.example.com").status == 200
        session = first.sock.session
    with TlsClient(baton.port_of("https"), ctx, "a.example.com", session=session) as again:
        assert again.request("GET", "/", host="a.example.com").status == 200
        assert again.sock.session_reused


def test_certificate_reload_from_disk_keeps_connections(baton, backend, pki):
    a_pem, a_key = pki.leaf("a", ["a.example.com"])
    certs = [f'[[tls.certificate]]\ncert = "{a_pem}"\nkey = "{a_key}"\n']
    baton.start(tls_config(pki, backend, certs=certs))
    old_conn, resp = tls_get(baton, pki, "a.example.com")
    assert resp.status == 200 and old_conn.names == ["a.example.com"]
    # Renewal: a new certificate (more names) and key written over the old files.
    new_pem, new_key = pki.leaf("a2", ["a.example.com", "new.example.com"])
    shutil.copy(new_key, a_key)
    shutil.copy(new_pem, a_pem)
    baton.wait_event("certificates", timeout=10)
    with TlsClient(baton.port_of("https"), pki.context(), "new.example.com") as c:
        assert c.names == ["a.example.com", "new.example.com"]
        assert c.request("GET", "/", host="new.example.com").status == 200
    # The connection made before the reload is still served.
    with old_conn:
        assert old_conn.request("GET", "/again", host="a.example.com").status == 200

    # A broken file: reported (file named), the last good certificate still served.
    with open(a_pem, "w") as f:
        f.write("-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n")
    baton.wait_event("certificates", timeout=10)
    deadline = time.monotonic() + 5
    while a_pem not in baton.stderr() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert a_pem in baton.stderr()
    with TlsClient(baton.port_of("https"), pki.context(), "new.example.com") as c:
        assert c.names == ["a.example.com", "new.example.com"]
        assert c.request("GET", "/", host="new.example.com").status == 200


def test_handshake_deadline_and_garbage(baton, backend, pki):
    baton.start(tls_config(pki, backend, timeouts='tls_handshake = "500ms"'))
    port = baton.port_of("https")
    started = time.monotonic()
    with socket.create_connection((LOCAL, port), timeout=5) as s:
        assert s.recv(100) == b""  # closed by the deadline, nothing sent
    assert time.monotonic() - started < 4
    with socket.create_connection((LOCAL, port), timeout=5) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")  # plain HTTP on a TLS port
        try:
            data = s.recv(1000)
        except ConnectionResetError:
            data = b""
        assert b"HTTP/1.1 200" not in data
    c, resp = tls_get(baton, pki, "a.example.com")
    with c:
        assert resp.status == 200


def test_redirect_to_https_only_on_plain(baton, backend, pki):
    baton.start(tls_config(pki, backend, route_extra="  redirect_to_https = true\n"))
    with baton.client("http") as c:
        resp = c.request("GET", "/p?q=1", host="a.example.com")
        assert resp.status == 301
        assert resp.header("location") == "https://a.example.com/p?q=1"
    c, resp = tls_get(baton, pki, "a.example.com", target="/p?q=1")
    with c:
        assert resp.status == 200


def test_curl_over_tls(baton, backend, pki):
    baton.start(tls_config(pki, backend))
    port = baton.port_of("https")
    out = subprocess.run(
        ["curl", "-sS", "--http1.1", "--cacert", pki.ca_pem, "--resolve", f"a.example.com:{port}:{LOCAL}",
         "-o", "/dev/null", "-w", "%{http_code} %{http_version}", f"https://a.example.com:{port}/curl"],
        capture_output=True, text=True, timeout=20)
    assert out.stdout == "200 1.1", out.stderr


def test_config_errors_name_file_and_key(tmp_path, backend, pki):
    binary = harness.baton_bin()
    conf = os.path.join(str(tmp_path), "bad.toml")
    # tls = true without a certificate.
    with open(conf, "w") as f:
        f.write(f'[[listener]]\nname = "https"\naddress = "{LOCAL}:0"\ntls = true\n'
                f'[[cluster]]\nname = "web"\nhosts = ["{backend.address}"]\n'
                '[[vhost]]\nname = "all"\ndomains = ["*"]\n  [[vhost.route]]\n  cluster = "web"\n')
    out = subprocess.run([binary, "--check", "--config", conf], capture_output=True, text=True, timeout=20)
    assert out.returncode != 0
    assert "listener[0].tls" in out.stderr and "certificate" in out.stderr, out.stderr
    # A key that does not belong to the certificate: refused at start, naming file and key.
    a_pem, _ = pki.leaf("a", ["a.example.com"])
    _, other_key = pki.leaf("b", ["b.example.com"])
    config = tls_config(pki, backend, certs=[f'[[tls.certificate]]\ncert = "{a_pem}"\nkey = "{other_key}"\n'])
    with open(conf, "w") as f:
        f.write(config)
    out = subprocess.run([binary, "--config", conf], capture_output=True, text=True, timeout=20)
    assert out.returncode != 0
    assert other_key in out.stderr and "tls.certificate[0]" in out.stderr, out.stderr


def test_http2_over_tls_with_curl_and_nghttp(baton, backend, pki):
    baton.start(tls_config(pki, backend))
    port = baton.port_of("https")
    resolve = ["--resolve", f"a.example.com:{port}:{LOCAL}"]
    out = subprocess.run(
        ["curl", "-sS", "--http2", "--cacert", pki.ca_pem, *resolve, "-o", "/dev/null", "-w",
         "%{http_code} %{http_version}", f"https://a.example.com:{port}/h2"],
        capture_output=True, text=True, timeout=20)
    assert out.stdout == "200 2", out.stderr
    # Routing follows :authority, not the SNI name: a coalesced connection (SNI a.example.com)
    # asking for another vhost's name is routed by that name.
    rec = backend.wait_requests(1)[0]
    assert rec.header("host") == f"a.example.com:{port}".encode()
    out = subprocess.run(["nghttp", "-nv", f"https://{LOCAL}:{port}/n1", f"https://{LOCAL}:{port}/n2"],
                         capture_output=True, text=True, timeout=20)
    assert out.returncode == 0, out.stderr
    assert out.stdout.count(":status: 200") == 2, out.stdout[-2000:]


def test_certificate_reload_under_h2load_loses_nothing(baton, backend, pki):
    a_pem, a_key = pki.leaf("a", ["a.example.com"])
    certs = [f'[[tls.certificate]]\ncert = "{a_pem}"\nkey = "{a_key}"\n']
    baton.start(tls_config(pki, backend, certs=certs))
    port = baton.port_of("https")
    # New connections all the time (-n spread over many short-lived clients) and long ones.
    load = subprocess.Popen(
        ["h2load", "-D", "3", "-c", "12", "-m", "4", f"https://{LOCAL}:{port}/load"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        for i in range(3):
            pem, key = pki.leaf(f"renew{i}", ["a.example.com", f"r{i}.example.com"])
            shutil.copy(key, a_key)
            shutil.copy(pem, a_pem)
            baton.wait_event("certificates", timeout=10)
        out, _ = load.communicate(timeout=120)
    finally:
        if load.poll() is None:
            load.kill()
    m = re.search(r"requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored", out)
    assert m, out
    total, done, ok, failed, errored = map(int, m.groups())
    assert ok > 1000 and failed == 0 and errored == 0 and ok == done, out
    with TlsClient(port, pki.context(), "r2.example.com") as c:
        assert "r2.example.com" in c.names


def test_certificates_and_handshakes_are_observable(baton, backend, pki, tmp_path):
    from prometheus_client.parser import text_string_to_metric_families

    sock = os.path.join(str(tmp_path), "admin.sock")
    config = tls_config(pki, backend).replace(
        "[server]\nworkers = 1\n", f'[server]\nworkers = 1\n\n[admin]\nhttp = "127.0.0.3:0"\nsocket = "{sock}"\n')
    combined = os.path.join(pki.root, "c.combined.pem")
    pki.ocsp_response(combined, combined + ".ocsp")  # stapled from beside the certificate
    baton.start(config)
    c, resp = tls_get(baton, pki, "a.example.com")
    with c:
        assert resp.status == 200
    with socket.create_connection((LOCAL, baton.port_of("https")), timeout=5) as s:
        s.sendall(b"\x16\x03\x01\x00\x05garbage")  # a broken ClientHello
        try:
            s.recv(100)
        except ConnectionResetError:
            pass
    # h2c on the plain listener counts as an HTTP/2 connection.
    out = subprocess.run(["curl", "-sS", "--http2-prior-knowledge", "-o", "/dev/null",
                          f"http://127.0.0.2:{baton.port_of('http')}/"], capture_output=True, timeout=20)
    assert out.returncode == 0, out.stderr
    host, port = baton.admin
    deadline = time.monotonic() + 5
    while True:
        with harness.Client(port, host=host) as a:
            text = a.request("GET", "/metrics", headers=[("Host", f"{host}:{port}")]).body.decode()
        fams = {f.name: f for f in text_string_to_metric_families(text)}
        def value(family, **labels):
            return sum(s.value for s in fams[family].samples
                       if all(s.labels.get(k) == v for k, v in labels.items()))
        done = (value("baton_listener_tls_failures", listener="https") >= 1
                and value("baton_listener_http2_streams", listener="http") >= 1)
        if done or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert value("baton_listener_tls_handshakes", listener="https") >= 1
    assert value("baton_listener_tls_failures", listener="https") >= 1
    assert value("baton_listener_http2_connections", listener="http") >= 1
    assert value("baton_listener_http2_streams", listener="http") >= 1  # counted at close
    expiry = [s for s in fams["baton_tls_certificate_not_after_seconds"].samples]
    assert len(expiry) == 3 and all(s.value > time.time() for s in expiry)
    with harness.Client(port, host=host) as a:
        status = a.request("GET", "/status", headers=[("Host", f"{host}:{port}")]).json()
    certs = {c["cert_file"]: c for c in status["certificates"]}
    assert any(c["default"] and c["names"] == ["a.example.com"] for c in certs.values())
    assert all(c["serving"] and not c["last_error"] for c in certs.values())
    assert {f: c["ocsp"] for f, c in certs.items()} == {
        f: "stapled" if f == combined else "none" for f in certs}
    stapled = fams["baton_tls_certificate_ocsp_stapled"].samples
    assert [(s.labels["file"], s.value) for s in stapled] == [(combined, 1)]
    # The admin socket's view.
    out = subprocess.run([os.path.join(os.path.dirname(harness.baton_bin()), "batonctl"), "--socket", sock,
                          "show", "certs"], capture_output=True, text=True, timeout=20)
    assert out.returncode == 0, out.stderr
    assert "*.wild.example.com" in out.stdout and "c.example.com" in out.stdout
    assert "stapled" in out.stdout


def test_marathon_ssl_cert_labels(baton, backends, pki):
    from harness import free_port
    from fake_marathon import FakeMarathon
    from test_marathon import marathon_config, web_app

    b0, b1, b2 = backends(3)
    shop_pem = pki.combined("shop", ["shop.example.com"])
    sp = free_port()
    apps = [
        web_app("/shop", [b0], vhost="shop.example.com", service_port=sp,
                labels={"HAPROXY_0_SSL_CERT": shop_pem}),
        web_app("/blog", [b1], vhost="blog.example.com"),
    ]
    m = FakeMarathon(apps=apps)
    try:
        https = free_port()
        baton.start(marathon_config([m.url], https_port=https), workers=1)
        baton.wait_event("discovery")
        m.wait_streams(1)
        assert baton.port_of("marathon_https") == https
        ctx = pki.context()
        with TlsClient(https, ctx, "shop.example.com") as c:
            assert c.names == ["shop.example.com"]
            assert c.request("GET", "/", host="shop.example.com").status == 200
            # Routed by Host, not by SNI: the same connection reaches the other app.
            assert c.request("GET", "/", host="blog.example.com").status == 200
        assert b0.wait_requests(1) and b1.wait_requests(1)
        # The app's own service port terminates TLS with its certificate (marathon-lb's
        # `bind :port ssl crt <file>`).
        with TlsClient(sp, ctx, "shop.example.com") as c:
            assert c.request("GET", "/svc", host="anything").status == 200
        # A broken certificate on another app is reported; every other update still applies.
        bad = os.path.join(pki.root, "missing.pem")
        m.set_apps(apps + [web_app("/new", [b2], vhost="new.example.com",
                                   labels={"HAPROXY_0_SSL_CERT": bad})])
        m.emit("api_post_event")
        baton.wait_event("discovery", where=lambda e: e["apps"] == 3)
        with baton.client("marathon_http") as c:
            assert c.request("GET", "/", host="new.example.com").status == 200
        deadline = time.monotonic() + 5
        while bad not in baton.stderr() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert bad in baton.stderr()
        with TlsClient(https, ctx, "shop.example.com") as c:
            assert c.request("GET", "/", host="shop.example.com").status == 200
    finally:
        m.stop()


def test_marathon_label_certificates_one_refused_the_others_served_and_stapled(baton, backends, pki):
    # A label certificate OpenSSL refuses (RSA-512) is reported naming its file and skipped; it
    # must not hold back the others, nor a certificate another app brings later. A response
    # beside a label certificate (<crt>.ocsp, HAProxy's convention) is stapled.
    from harness import free_port
    from fake_marathon import FakeMarathon
    from test_marathon import marathon_config, web_app

    b0, b1, b2 = backends(3)
    shop_pem = pki.combined("shop", ["shop.example.com"])
    pki.ocsp_response(shop_pem, shop_pem + ".ocsp")
    weak_pem = pki.weak_combined("weak", "weak.example.com")
    apps = [
        web_app("/shop", [b0], vhost="shop.example.com", labels={"HAPROXY_0_SSL_CERT": shop_pem}),
        web_app("/weak", [b1], vhost="weak.example.com", labels={"HAPROXY_0_SSL_CERT": weak_pem}),
    ]
    m = FakeMarathon(apps=apps)
    try:
        https = free_port()
        baton.start(marathon_config([m.url], https_port=https), workers=1)
        baton.wait_event("discovery")
        ctx = pki.context()
        with TlsClient(https, ctx, "shop.example.com") as c:
            assert c.names == ["shop.example.com"]
            assert c.request("GET", "/", host="shop.example.com").status == 200
        deadline = time.monotonic() + 5
        while "refused by OpenSSL" not in baton.stderr() and time.monotonic() < deadline:
            time.sleep(0.05)
        refused = [line for line in baton.stderr().splitlines() if "refused by OpenSSL" in line]
        assert refused and weak_pem in refused[0], baton.stderr()
        status = subprocess.run(
            ["/usr/bin/openssl", "s_client", "-connect", f"{LOCAL}:{https}", "-servername",
             "shop.example.com", "-status", "-CAfile", pki.ca_pem],
            input="", capture_output=True, text=True, timeout=20).stdout
        assert "OCSP Response Status: successful" in status, status
        assert "Cert Status: good" in status, status
        # Another app's certificate arrives while the refused one is still there: served.
        fresh_pem = pki.combined("fresh", ["fresh.example.com"])
        m.set_apps(apps + [web_app("/fresh", [b2], vhost="fresh.example.com",
                                   labels={"HAPROXY_0_SSL_CERT": fresh_pem})])
        m.emit("api_post_event")
        baton.wait_event("discovery", where=lambda e: e["apps"] == 3)
        with TlsClient(https, ctx, "fresh.example.com") as c:
            assert c.names == ["fresh.example.com"]
            assert c.request("GET", "/", host="fresh.example.com").status == 200
        assert b2.wait_requests(1)
    finally:
        m.stop()


def test_reload_certs_admin_command_reads_the_files_without_a_config_reload(baton, backend, pki, tmp_path):
    # watch_interval = 0: nothing polls. `reload certs` reads every certificate file now, while
    # the config file itself (made invalid here) is not re-read; a bad file keeps its last load.
    from test_drain import command

    a_pem, a_key = pki.leaf("a", ["a.example.com"])
    sock = os.path.join(str(tmp_path), "admin.sock")
    text = tls_config(pki, backend, certs=[f'[[tls.certificate]]\ncert = "{a_pem}"\nkey = "{a_key}"\n'])
    text = text.replace('watch_interval = "100ms"', 'watch_interval = "0s"') + f'\n[admin]\nsocket = "{sock}"\n'
    baton.start(text)
    with open(baton.conf_path, "a") as f:
        f.write("\n[nonsense\n")  # a whole-config reload would now be refused
    new_pem, new_key = pki.leaf("a2", ["a.example.com", "new.example.com"])
    shutil.copy(new_key, a_key)
    shutil.copy(new_pem, a_pem)
    with TlsClient(baton.port_of("https"), pki.context(), "a.example.com") as c:
        assert c.names == ["a.example.com"]  # not polled: still the old one
    answer = command(sock, "reload certs")
    assert answer.startswith("certificates reloaded: 1 served"), answer
    with TlsClient(baton.port_of("https"), pki.context(), "new.example.com") as c:
        assert c.names == ["a.example.com", "new.example.com"]
        assert c.request("GET", "/", host="new.example.com").status == 200
    with open(a_pem, "w") as f:
        f.write("not a certificate\n")
    answer = command(sock, "reload certs")
    assert "1 failed (see show certs and the log)" in answer, answer
    assert a_pem in command(sock, "show certs")
    with TlsClient(baton.port_of("https"), pki.context(), "new.example.com") as c:
        assert c.names == ["a.example.com", "new.example.com"]


def test_shared_ticket_key_file_resumes_sessions_on_a_peer(baton, backend, pki, tmp_path):
    # Two instances (HA peers, or the binary before and after an upgrade) with one
    # ticket_key_file: a session made on one resumes on the other.
    import base64

    keys = os.path.join(str(tmp_path), "ticket.keys")
    with open(keys, "w") as f:
        f.write("".join(base64.b64encode(os.urandom(80)).decode() + "\n" for _ in range(3)))
    text = tls_config(pki, backend, extra_tls=f'ticket_key_file = "{keys}"')
    peer = harness.Baton(tmp_path / "peer")
    os.makedirs(tmp_path / "peer", exist_ok=True)
    baton.start(text)
    peer.start(text)
    try:
        ctx = pki.context()
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2  # the session is known after the handshake
        with TlsClient(baton.port_of("https"), ctx, "a.example.com") as first:
            assert first.request("GET", "/", host="a.example.com").status == 200
            session = first.sock.session
        with TlsClient(peer.port_of("https"), ctx, "a.example.com", session=session) as there:
            assert there.request("GET", "/", host="a.example.com").status == 200
            assert there.sock.session_reused
    finally:
        rc = peer.stop()
    assert rc == 0
