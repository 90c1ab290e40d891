"""url-policy.md through the real binary: every row of the examples table, raw-byte modes per
listener and per route, and curl with literal UTF-8 URLs. The backend records the request line
byte-exact, so each test checks exactly what was forwarded."""

import pytest

import harness
from harness import assert_rejected, canary

CN_RAW = "/中文".encode()  # b"/\xe4\xb8\xad\xe6\x96\x87"
CN_ENC = b"/%E4%B8%AD%E6%96%87"
GBK = b"/\xd6\xd0\xce\xc4"


@pytest.fixture
def env(baton, backends):
    """Listeners: http (forward), enc (encode), rej (reject). Routes, in order:
    /中文 -> cn, /enc -> web with encode, /rej -> web with reject, /admin -> admin, / -> web."""
    web, cn, admin = backends(3)
    cfg = harness.make_config(
        clusters={"web": [web.address], "cn": [cn.address], "admin": [admin.address]},
        listeners=[
            {"name": "http", "address": "127.0.0.1:0"},
            # distinct loopback addresses: the loader refuses two listeners on the same "ip:0"
            {"name": "enc", "address": "127.0.0.2:0", "raw_bytes": "encode"},
            {"name": "rej", "address": "127.0.0.3:0", "raw_bytes": "reject"},
        ],
        vhosts=[
            {"name": "h", "domains": ["h"], "routes": [{"prefix": "/", "cluster": "admin"}]},
            {
                "name": "default",
                "domains": ["*"],
                "routes": [
                    {"prefix": "/中文", "cluster": "cn"},
                    {"prefix": "/enc", "cluster": "web", "raw_bytes": "encode"},
                    {"prefix": "/rej", "cluster": "web", "raw_bytes": "reject"},
                    {"prefix": "/admin", "cluster": "admin"},
                    {"prefix": "/", "cluster": "web"},
                ],
            },
        ],
    )
    baton.start(cfg)
    return baton, web, cn, admin


def get(baton, target: bytes, listener=None, host="example.com"):
    with baton.client(listener) as c:
        return c.request("GET", target, host=host)


def last_target(backend) -> bytes:
    return backend.wait_requests(1)[-1].target


# ---- rows #1-#4, #7, #8, #10: accepted -----------------------------------------------------
@pytest.mark.parametrize(
    "sent,backend_name,received",
    [
        pytest.param(CN_ENC, "cn", CN_ENC, id="1-percent-encoded-utf8"),
        pytest.param(CN_RAW, "cn", CN_RAW, id="2-raw-utf8-same-route"),
        pytest.param(b"/%e4%b8%ad%e6%96%87", "cn", b"/%e4%b8%ad%e6%96%87", id="1b-lowercase-hex-same-route"),
        pytest.param(CN_RAW + b"/sub?x=1", "cn", CN_RAW + b"/sub?x=1", id="2b-raw-utf8-subpath"),
        pytest.param(GBK, "web", GBK, id="3-raw-gbk"),
        pytest.param(b"/\x95\x5c\x7c", "web", b"/\x95\x5c\x7c", id="3b-gbk-trail-bytes-5c-7c"),
        pytest.param(b"/s?q=" + "中文".encode(), "web", b"/s?q=" + "中文".encode(), id="4-raw-utf8-query"),
        pytest.param(b"/a#frag", "web", b"/a", id="7-fragment-cut"),
        pytest.param(b"/static/%2e%2e/admin", "admin", b"/admin", id="8-encoded-dot-segments"),
        pytest.param(b"/api/../admin/x", "admin", b"/admin/x", id="8b-raw-dot-segments"),
        pytest.param(b"/api/%2E%2E/admin/x", "admin", b"/admin/x", id="8c-upper-encoded-dots"),
        pytest.param(b"//a///b?c=//d", "web", b"/a/b?c=//d", id="repeated-slashes-merged"),
        pytest.param(CN_RAW + b"x", "web", CN_RAW + b"x", id="prefix-segment-boundary"),
        pytest.param(b"/a%2Fb%5Cc%00d%zz", "web", b"/a%2Fb%5Cc%00d%zz", id="never-decoded-escapes"),
        pytest.param(b'/q"<>\\^`{|}', "web", b'/q"<>\\^`{|}', id="unsafe-ascii-forwarded"),
        pytest.param(b"/a\x80b\xffc", "web", b"/a\x80b\xffc", id="invalid-utf8-opaque"),
        pytest.param(b"/%c0%ae%c0%ae/x", "web", b"/%c0%ae%c0%ae/x", id="overlong-dot-is-opaque"),
    ],
)
def test_accepted_targets(env, sent, backend_name, received):
    baton, web, cn, admin = env
    backend = {"web": web, "cn": cn, "admin": admin}[backend_name]
    r = get(baton, sent)
    assert r.status == 200, (r.status, r.body[:200])
    assert r.header("x-backend") == backend.name
    rec = backend.wait_requests(1)[-1]
    assert rec.request_line == b"GET " + received + b" HTTP/1.1"


def test_row10_absolute_form_rewrites_host(env):
    baton, web, cn, admin = env
    with baton.client() as c:
        r = c.request("GET", b"http://h/\xe4\xb8\xad", host="other.example")
    assert r.status == 200
    rec = admin.wait_requests(1)[-1]  # vhost "h" -> admin: the authority won over Host
    assert rec.request_line == b"GET /\xe4\xb8\xad HTTP/1.1"
    assert rec.header_all("host") == [b"h"]


# ---- rows #5, #6, #9: rejected, nothing reaches a backend ----------------------------------
@pytest.mark.parametrize(
    "target,status",
    [
        pytest.param(b"/a b", 400, id="5-space"),
        pytest.param(b"/a\tb", 400, id="6-tab"),
        pytest.param(b"/a\x00b", 400, id="6-nul"),
        pytest.param(b"/a\x7fb", 400, id="6-del"),
        pytest.param(b"/a\rb", 400, id="6-cr"),
        pytest.param(b"/a\x0bb", 400, id="6-vt"),
        pytest.param(b"/a\x0cb", 400, id="6-ff"),
        pytest.param(b"/a\x01b", 400, id="6-c0"),
        pytest.param(b"/../x", 400, id="9-above-root"),
        pytest.param(b"/%2e%2e/x", 400, id="9b-encoded-above-root"),
        pytest.param(b"abc", 400, id="not-a-target"),
        pytest.param(b"example.com:80", 400, id="authority-form-without-connect"),
        pytest.param(b"*", 400, id="asterisk-with-get"),
    ],
)
def test_rejected_targets(env, target, status):
    baton, web, cn, admin = env
    with baton.client() as c:
        c.send(b"GET " + target + b" HTTP/1.1\r\nHost: example.com\r\n\r\n")
        assert_rejected(c, status, close=True)
    assert canary(baton, web) == []
    assert cn.requests == [] and admin.requests == []


def test_request_line_too_long_414(env):
    baton, web, cn, admin = env
    with baton.client() as c:
        c.send(b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: example.com\r\n\r\n")
        assert_rejected(c, 414, close=True)
    assert canary(baton, web) == []


# ---- encode / reject modes ------------------------------------------------------------------
def test_encode_mode_listener(env):
    baton, web, cn, admin = env
    r = get(baton, CN_RAW, listener="enc")
    assert r.status == 200
    assert last_target(cn) == CN_ENC  # routed like #1, forwarded percent-encoded (upper-case)


def test_encode_mode_route(env):
    baton, web, cn, admin = env
    r = get(baton, b"/enc" + CN_RAW + b"?q=" + GBK[1:])
    assert r.status == 200
    assert last_target(web) == b"/enc" + CN_ENC + b"?q=%D6%D0%CE%C4"


def test_encode_mode_leaves_ascii_alone(env):
    baton, web, cn, admin = env
    r = get(baton, b"/x/%41~ok", listener="enc")
    assert r.status == 200
    assert last_target(web) == b"/x/%41~ok"


def test_reject_mode_route(env):
    baton, web, cn, admin = env
    with baton.client() as c:
        c.send(b"GET /rej" + CN_RAW + b" HTTP/1.1\r\nHost: example.com\r\n\r\n")
        assert_rejected(c, 400, close=False)
    r = get(baton, b"/rej/plain")
    assert r.status == 200
    assert [x.target for x in web.wait_requests(1)] == [b"/rej/plain"]


def test_reject_mode_listener(env):
    baton, web, cn, admin = env
    with baton.client("rej") as c:
        c.send(b"GET " + GBK + b" HTTP/1.1\r\nHost: example.com\r\n\r\n")
        assert_rejected(c, 400, close=False)
    assert get(baton, b"/ok", listener="rej").status == 200
    assert [x.target for x in web.wait_requests(1)] == [b"/ok"]


# ---- pinned: real clients with literal UTF-8 URLs ------------------------------------------
def test_curl_literal_utf8_url(env):
    """curl 7.88 percent-encodes a literal UTF-8 path in lower-case hex and sends the query raw:
    both must route to /中文 and be forwarded unchanged."""
    baton, web, cn, admin = env
    p = harness.run_curl(["--path-as-is", "-o", "/dev/null", "-w", "%{http_code}", f"http://127.0.0.1:{baton.port}/中文/页?q=文"])
    assert p.returncode == 0, p.stderr
    assert p.stdout == b"200"
    assert last_target(cn) == b"/%e4%b8%ad%e6%96%87/%e9%a1%b5?q=" + "文".encode()


def test_curl_raw_utf8_request_target(env):
    """Pins the parser-independence note of url-policy.md: a raw UTF-8 target gets 200."""
    baton, web, cn, admin = env
    p = harness.run_curl(
        ["--path-as-is", "--request-target", "/中文", "-o", "/dev/null", "-w", "%{http_code}", f"http://127.0.0.1:{baton.port}/"]
    )
    assert p.returncode == 0, p.stderr
    assert p.stdout == b"200"
    assert last_target(cn) == CN_RAW
