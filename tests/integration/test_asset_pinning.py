"""Asset pinning during a blue-green cutover (asset-pinning.md): the 12 scenarios, end to end.

The real baton binary is driven by a fake Marathon (test_marathon.py's fixture) serving one
deployment group "site" (HAPROXY_DEPLOYMENT_GROUP=site, vhost site.test) whose apps are
versioned site backends (pin_site.py: v1 references app.aaaa1111.js, v2 app.bbbb2222.js, each
serves /style.css naming its version). CDN traffic goes through cdn_sim.py (CDN-Loop on every
origin fetch, real shared-cache rules, a simulated clock); browser traffic is raw HTTP/1.

Waits are on events: baton's `discovery` line after each Marathon change, the admin socket's
`show groups json` polled with a deadline for pinning state. Config: [pinning] grace = "2s",
one worker (the learned map is per worker), JSON access log (pin_version, pin_reason).

Each test prints nothing but the pinning-off comparison, which prints `PINNING-RESULT:` lines.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import tempfile
import time

import pytest

import cdn_sim
import harness
import pin_site
from fake_marathon import app, task
from harness import LOCAL, free_port
from pin_site import SiteTask, js_body, js_path
from test_admin_socket import ask
from test_marathon import marathon, marathon_config  # noqa: F401 (fixture)

HOST = "site.test"
GROUP = "site"
BROWSER = [("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
           ("Sec-Fetch-Dest", "document")]
CDN = [("CDN-Loop", "testcdn")]
HC = [{"protocol": "HTTP", "path": "/", "portIndex": 0}]


class Site:
    """One group "site" behind baton: tasks, Marathon apps, requests, the admin socket."""

    def __init__(self, baton, marathon_factory, tmp_path):
        self.baton = baton
        self.m = marathon_factory()
        self.port = free_port()  # HAPROXY_0_PORT: the group's service port
        self.alt = free_port()
        self.tasks: list[SiteTask] = []
        self.sims: list[cdn_sim.CdnSim] = []
        self.sock_dir = tempfile.mkdtemp(prefix="pin-")  # short: a UNIX socket path is <108 bytes
        self.sock = os.path.join(self.sock_dir, "admin.sock")
        self.log = os.path.join(str(tmp_path), "access.json")
        self.admin_extra = ""  # more [admin] keys (the HTTP listener)

    def close(self):
        for s in self.sims:
            s.close()
        for t in self.tasks:
            t.close()
        shutil.rmtree(self.sock_dir, ignore_errors=True)

    # ---- Marathon ----
    def task(self, n: int, name: str | None = None) -> SiteTask:
        t = SiteTask(n, name or f"v{n}.{len(self.tasks)}")
        self.tasks.append(t)
        return t

    def app(self, n: int, colour: str, tasks, target: int = 2, pin=True, mode: str | None = None,
            app_id: str | None = None, changed: str | None = None, started: str | None = None,
            service_port: int | None = None, manifest: bool = False):
        """The Marathon app of version n. pin: True = BATON_PIN_VERSION=v<n>, a string = that
        label, None = no label (derived id). target: HAPROXY_DEPLOYMENT_TARGET_INSTANCES (with
        one old and one new task, 2 drains nothing and 1 drains the old task: the zdd rule)."""
        app_id = app_id or f"/site-{colour}"
        labels = {
            "HAPROXY_GROUP": "external", "HAPROXY_DEPLOYMENT_GROUP": GROUP,
            "HAPROXY_DEPLOYMENT_ALT_PORT": str(self.alt), "HAPROXY_0_PORT": str(self.port),
            "HAPROXY_0_VHOST": HOST, "HAPROXY_DEPLOYMENT_COLOUR": colour,
            "HAPROXY_DEPLOYMENT_STARTED_AT": started or f"2026-11-25T1{n}:00:00.000Z",
            "HAPROXY_DEPLOYMENT_TARGET_INSTANCES": str(target),
            "HAPROXY_DEPLOYMENT_NEW_INSTANCES": "0",
        }
        if pin is True:
            labels["BATON_PIN_VERSION"] = f"v{n}"
        elif isinstance(pin, str):
            labels["BATON_PIN_VERSION"] = pin
        if mode:
            labels["BATON_PIN_MODE"] = mode
        if manifest:
            labels["BATON_PIN_MANIFEST"] = pin_site.MANIFEST_PATH
        base = app_id.strip("/").replace("/", "_")
        ts = [task(app_id, host=LOCAL, ports=(t.port,), task_id=f"{base}.t{t.port}", alive=True) for t in tasks]
        a = app(app_id, labels=labels, tasks=ts, service_ports=(service_port or (self.alt if colour == "green" else self.port),),
                health_checks=HC)
        if changed:
            a["version"] = changed
            a["versionInfo"]["lastConfigChangeAt"] = changed
        return a

    def config(self, grace: str = "2s") -> str:
        return (marathon_config([self.m.url], health_check=True)
                + "[server]\nworkers = 1\n"
                + f'[server.access_log]\npath = "{self.log}"\nformat = "json"\n'
                + f'[pinning]\ngrace = "{grace}"\n'
                + f'[admin]\nsocket = "{self.sock}"\n' + self.admin_extra)

    def start(self, apps, grace: str = "2s"):
        self.m.set_apps(apps)
        self.baton.start(self.config(grace), workers=1)
        self.baton.wait_event("discovery")
        self.m.wait_streams(1)
        return self

    def publish(self, apps):
        """A Marathon change; returns once every worker serves it."""
        self.m.set_apps(apps)
        self.m.emit("api_post_event", {"clientIp": LOCAL, "uri": "/v2/apps/site"})
        self.baton.wait_event("discovery")

    # ---- requests ----
    def req(self, target: str, method: str = "GET", headers=(), cdn: bool = False, browser: bool = False,
            body: bytes | None = None) -> harness.Response:
        hdrs = list(headers) + (CDN if cdn else []) + (BROWSER if browser else [])
        with self.baton.client("marathon_http") as c:
            return c.request(method, target, host=HOST, headers=hdrs, body=body)

    def cdn(self, edges: int = 1, clock=None) -> cdn_sim.CdnSim:
        s = cdn_sim.CdnSim(self.baton.port_of("marathon_http"), host=HOST, edges=edges, clock=clock)
        self.sims.append(s)
        return s

    # ---- admin socket ----
    def pinning(self) -> dict | None:
        doc = json.loads(ask(self.sock, "show groups json"))
        for g in doc.get("groups", []):
            for p in g.get("pinning") or []:
                return p
        return None

    def wait_pinning(self, pred, what: str, timeout: float = 10.0) -> dict:
        deadline = time.monotonic() + timeout
        p = None
        while time.monotonic() < deadline:
            p = self.pinning()
            if p is not None and pred(p):
                return p
            time.sleep(0.05)  # no event for admin state: poll with a deadline
        raise AssertionError(f"pinning state never showed {what}: {p}")

    def admin(self, line: str) -> str:
        return ask(self.sock, line)

    def access_log(self) -> list[dict]:
        """Stops baton (the writer flushes on exit) and returns the JSON access-log entries."""
        assert self.baton.stop() == 0
        with open(self.log, "rb") as f:
            return [json.loads(line) for line in f.read().decode().splitlines() if line.strip()]


@pytest.fixture
def site(baton, marathon, tmp_path):  # noqa: F811 (marathon is a fixture)
    s = Site(baton, marathon, tmp_path)
    yield s
    s.close()


def two_versions(site: Site, mode: str | None = None, target: int = 2, pin=True):
    """blue = v1 (one task), green = v2 (one task); target 2: neither drained."""
    blue, green = site.task(1, "blue"), site.task(2, "green")
    apps = [site.app(1, "blue", [blue], target=target, mode=mode, pin=pin),
            site.app(2, "green", [green], target=target, mode=mode, pin=pin)]
    return blue, green, apps


def cookie_of(r: harness.Response) -> str | None:
    v = r.header("set-cookie")
    return v.split(";", 1)[0] if v else None


def body_version(path: str, r: harness.Response) -> str | None:
    return pin_site.version_of(path, r.body)


def assert_miss(r: harness.Response, what: str = ""):
    assert r.status == 404, (what, r.status, r.headers)
    assert r.header("cache-control") == "no-store", (what, r.headers)
    assert r.header("expires") is None, (what, r.headers)
    assert r.header("x-baton-pin") == "miss", (what, r.headers)


def assert_origin_404(r: harness.Response, version: str, what: str = ""):
    assert r.status == 404, (what, r.status)
    assert r.header("cache-control") == pin_site.NOT_FOUND_CC, (what, r.headers)
    assert r.header("x-origin-404") == version, (what, r.headers)
    assert r.header("x-baton-pin") is None, (what, r.headers)


# =============================================================================================
# The fixtures themselves (no baton): the site answers as documented, the CDN judges pages.
# =============================================================================================


def test_fixture_site_task_answers_as_documented():
    t = SiteTask(2, "green")
    try:
        with harness.Client(t.port) as c:
            r = c.request("GET", "/", host=HOST)
            assert (r.status, r.header("cache-control"), r.header("x-version")) == (200, "max-age=60", "v2")
            assert pin_site.references(r.body) == ["/style.css", "/assets/app.bbbb2222.js"]
            assert c.request("GET", "/index.html", host=HOST).body == r.body
            js = c.request("GET", js_path(2), host=HOST)
            assert js.header("cache-control") == "max-age=31536000, immutable" and js.body == js_body(2)
            etag = js.header("etag")
            assert etag.startswith('"v2-')
            r = c.request("GET", js_path(2), host=HOST, headers=[("If-None-Match", etag)])
            assert (r.status, r.header("etag"), r.header("cache-control")) == (304, etag, js.header("cache-control"))
            r = c.request("GET", js_path(2), host=HOST, headers=[("Range", "bytes=10-19")])
            assert (r.status, r.body, r.header("content-range")) == (
                206, js_body(2)[10:20], f"bytes 10-19/{len(js_body(2))}")
            assert c.request("GET", js_path(2), host=HOST, headers=[("Range", "bytes=99999-")]).status == 416
            r = c.request("HEAD", js_path(2), host=HOST)
            assert (r.status, r.header("content-length"), r.body) == (200, str(len(js_body(2))), b"")
            css = c.request("GET", "/style.css", host=HOST)
            assert (css.body, css.header("cache-control")) == (b"v2", "max-age=300")
            assert css.header("etag") != etag
            for path in (js_path(1), "/nope"):
                r = c.request("GET", path, host=HOST)
                assert (r.status, r.header("cache-control"), r.header("x-origin-404")) == (404, "max-age=120", "v2")
            assert c.request("POST", "/nope", host=HOST, body=b"x").status == 404
            assert c.request("POST", "/style.css", host=HOST, body=b"x").status == 405
        assert t.hit_count("/") == 1 and t.hit_count(js_path(2)) == 5 and t.hit_count("/nope") == 2
    finally:
        t.close()


def test_fixture_cdn_sim_caches_revalidates_and_judges_pages():
    v1, v2 = SiteTask(1), SiteTask(2)
    try:
        clock = cdn_sim.SimClock()
        sim = cdn_sim.CdnSim(v2.port, host=HOST, clock=clock)
        p = sim.page("/")
        assert (p.html_version, p.broken, p.unhashed_mismatch) == ("v2", False, False), p
        assert len(sim.origin_log) == 3
        assert sim.page("/").broken is False and len(sim.origin_log) == 3  # all hits
        _, target, hdrs = v2.log[0]
        assert hdrs.get("cdn-loop") == "testcdn" and "cookie" not in hdrs
        clock.advance(61)  # HTML stale, /style.css (300 s) and the JS still fresh
        assert sim.page("/").broken is False
        assert [(f.path, f.conditional, f.status) for f in sim.origin_log[3:]] == [("/", True, 304)]
        # A 404 is cached for its max-age (the site's: 120 s), then fetched again; one without
        # a lifetime heuristically for 10 s (CloudFront), one with no-store never.
        assert sim.fetch("/nope").status == 404 and sim.fetch("/nope").source == "hit"
        clock.advance(121)
        assert sim.fetch("/nope").source == "miss" and v2.hit_count("/nope") == 2
        bare = harness.Response(b"HTTP/1.1", 404, b"", [])
        assert sim._ttl(bare) == 10.0
        assert sim._ttl(harness.Response(b"HTTP/1.1", 404, b"", [(b"Cache-Control", b"no-store")])) is None
        assert sim._ttl(harness.Response(b"HTTP/1.1", 200, b"", [(b"Cache-Control", b"no-cache")])) == 0.0
        assert sim._ttl(harness.Response(b"HTTP/1.1", 200, b"", [(b"Cache-Control", b"max-age=60, s-maxage=5"),
                                                                (b"Age", b"2")])) == 3.0
        # The judge: cached v2 HTML whose assets now come from v1 -> broken + unhashed mismatch.
        sim.edges[0].cache.pop("/style.css")
        sim.edges[0].cache.pop(js_path(2))
        sim.edges[0].cache["/"].stored_at = clock.now()  # the v2 HTML fresh again
        sim.close()
        sim.port = v1.port
        p = sim.page("/")
        assert p.broken and p.unhashed_mismatch, p
        assert (sim.broken, sim.unhashed_mismatch) == (1, 1)
        assert cdn_sim.is_hashed(js_path(1)) and not cdn_sim.is_hashed("/style.css")
    finally:
        v1.close()
        v2.close()


# =============================================================================================
# The 12 scenarios of asset-pinning.md.
# =============================================================================================


def test_01_one_version_only_answers_are_untouched(site):
    blue = site.task(1, "blue")
    site.start([site.app(1, "blue", [blue], target=1, mode="full")])
    p = site.wait_pinning(lambda p: p.get("versions"), "the version")
    assert p["in_cutover"] is False, p
    for cdn in (False, True):
        blue.reset()
        r = site.req("/assets/nope.js", cdn=cdn)
        assert_origin_404(r, "v1", f"cdn={cdn}")
        assert blue.hit_count("/assets/nope.js") == 1
        assert r.header("set-cookie") is None
    r = site.req("/", browser=True)
    assert r.status == 200 and r.header("set-cookie") is None
    r = site.req("/style.css", cdn=True)
    assert (r.status, r.header("cache-control")) == (200, pin_site.CSS_CC)
    r = site.req("/", cdn=True, browser=True)
    assert (r.status, r.header("cache-control")) == (200, pin_site.HTML_CC)
    entries = site.access_log()
    assert entries and all(e.get("pin_reason") == "-" for e in entries), entries


def test_02_browser_cookie_pins_the_whole_page(site):
    blue, green, apps = two_versions(site, mode="full")
    site.start(apps)
    seen = set()
    for target in ("/", "/index.html", "/", "/index.html"):
        r = site.req(target, browser=True)
        assert r.status == 200
        x = r.header("x-version")
        assert body_version(target, r) == x
        assert r.header("set-cookie") == f"baton_pin={x}; Path=/; Max-Age=3600; HttpOnly; SameSite=Lax", r.headers
        seen.add(x)
        cookie = cookie_of(r)
        for url in pin_site.references(r.body):
            a = site.req(url, headers=[("Cookie", cookie), ("Accept", "*/*")])
            assert a.status == 200, (url, a.status, x)
            assert a.header("x-version") == x and body_version(url, a) == x, (url, x, a.headers)
            assert a.header("set-cookie") is None  # assets are not HTML
    # The cookie names the version the HTML came from, whichever the hash picked.
    for v in ("v1", "v2"):
        for url in ("/", "/style.css", js_path(int(v[1]))):
            a = site.req(url, headers=[("Cookie", f"baton_pin={v}")], browser=(url == "/"))
            assert (a.status, a.header("x-version")) == (200, v), (url, v)
    assert seen


def test_03_cdn_gets_the_cdn_version_and_each_asset_from_its_owner(site):
    blue, green, apps = two_versions(site, mode="full")
    site.start(apps)
    r = site.req("/", cdn=True, browser=True)
    assert (r.status, r.header("x-version"), body_version("/", r)) == (200, "v1", "v1")
    assert r.header("set-cookie") is None
    assert r.header("cache-control") == "no-cache" and r.header("etag") == blue.etags["/"]  # rule 11
    r = site.req(js_path(2), cdn=True)
    assert (r.status, r.header("x-version"), r.body) == (200, "v2", js_body(2))
    assert r.header("cache-control") == pin_site.JS_CC  # hashed: its own lifetime
    assert r.header("set-cookie") is None
    assert (blue.hit_count(js_path(2)), green.hit_count(js_path(2))) == (1, 1)  # blue 404, then green
    r = site.req(js_path(2), cdn=True)
    assert (r.status, r.header("x-version")) == (200, "v2")
    assert (blue.hit_count(js_path(2)), green.hit_count(js_path(2))) == (1, 2)  # learned: green directly
    for _ in range(3):
        r = site.req("/style.css", cdn=True)
        assert (r.status, r.body, r.header("cache-control")) == (200, b"v1", "no-cache")
        assert r.header("etag") == blue.etags["/style.css"]
    p = site.pinning()
    assert p["in_cutover"] is True and p["active"] is True and p["cdn_version"] == "v1", p
    assert p["mode"] == "full", p
    assert sorted(v["id"] for v in p["versions"]) == ["v1", "v2"], p
    assert p["retries"] >= 1 and p["retry_hits"] >= 1 and p["all_miss"] == 0, p
    entries = site.access_log()
    reasons = [(e.get("target"), e.get("pin_version"), e.get("pin_reason")) for e in entries]
    assert ("/", "v1", "cdn") in reasons, reasons
    assert (js_path(2), "v2", "retry") in reasons, reasons


def test_04_miss_everywhere_is_not_cacheable_then_origin_headers_after_grace(site):
    blue, green, apps = two_versions(site)
    site.start(apps)
    for cdn, path in ((True, "/assets/gone.js"), (False, "/assets/gone2.js"), (False, "/static/x.png")):
        r = site.req(path, cdn=cdn)
        assert_miss(r, path)
        assert (blue.hit_count(path), green.hit_count(path)) == (1, 1), path
    assert site.pinning()["all_miss"] >= 3
    # The cutover ends (blue gone): within the grace a miss is still marked not storable...
    site.publish([site.app(2, "green", [green], target=1)])
    t_end = time.monotonic()
    assert_miss(site.req("/assets/gone3.js", cdn=True), "in grace")
    assert site.pinning()["in_cutover"] is False
    # ...and after it the backend's own 404 goes out.
    deadline = t_end + 10
    while True:
        r = site.req("/assets/gone4.js", cdn=True)
        if r.header("x-baton-pin") is None:
            break
        assert time.monotonic() < deadline, f"still {r.headers} 10 s after the cutover ended"
        time.sleep(0.1)  # the grace has no event: poll with a deadline
    assert time.monotonic() - t_end >= 1.0, "grace ended early"
    assert_origin_404(r, "v2", "after grace")
    assert site.req("/style.css", cdn=True).header("cache-control") == pin_site.CSS_CC
    site.wait_pinning(lambda p: p["active"] is False, "active false after grace", timeout=2)


def test_05_head_follows_the_rules_post_is_never_retried(site):
    blue, green, apps = two_versions(site)
    site.start(apps)
    r = site.req(js_path(2), method="HEAD", cdn=True)
    assert (r.status, r.header("x-version"), r.header("content-length")) == (200, "v2", str(len(js_body(2))))
    assert (blue.hit_count(js_path(2)), green.hit_count(js_path(2))) == (1, 1)
    assert_miss(site.req("/assets/none.js", method="HEAD", cdn=True), "HEAD miss")
    r = site.req(js_path(1), method="HEAD")
    assert (r.status, r.header("x-version")) == (200, "v1")
    for cdn in (True, False):
        before = blue.hit_count(js_path(2)) + green.hit_count(js_path(2))
        r = site.req(js_path(2), method="POST", cdn=cdn, body=b"{}")
        after = blue.hit_count(js_path(2)) + green.hit_count(js_path(2))
        assert after == before + 1, f"POST sent {after - before} times (cdn={cdn})"
        assert r.status in (404, 405) and r.header("x-baton-pin") is None
    # A path nobody has learned: the CDN version (blue) answers 404, not retried, untouched.
    r = site.req("/assets/upload.js", method="POST", cdn=True, body=b"{}")
    assert_origin_404(r, "v1", "POST")
    assert (blue.hit_count("/assets/upload.js"), green.hit_count("/assets/upload.js")) == (1, 0)


def test_06_ranges_of_one_url_come_from_one_version(site):
    blue, green, apps = two_versions(site)
    site.start(apps)
    whole = js_body(2)
    for cdn in (False, True):
        a = site.req(js_path(2), headers=[("Range", "bytes=0-99")], cdn=cdn)
        b = site.req(js_path(2), headers=[("Range", "bytes=100-")], cdn=cdn)
        assert (a.status, b.status) == (206, 206), (a.status, b.status, cdn)
        assert a.header("x-version") == b.header("x-version") == "v2"
        assert a.body + b.body == whole
    # A file both versions have: every range of it from one version, never stitched.
    for cdn in (False, True):
        parts = [site.req("/style.css", headers=[("Range", rng)], cdn=cdn) for rng in ("bytes=0-0", "bytes=1-")]
        assert [p.status for p in parts] == [206, 206]
        assert len({p.header("x-version") for p in parts}) == 1, [p.headers for p in parts]
        assert parts[0].body + parts[1].body == f"{parts[0].header('x-version')}".encode()


def test_07_if_none_match_goes_to_the_version_that_made_the_etag(site):
    blue, green, apps = two_versions(site)
    site.start(apps)
    r = site.req(js_path(2))
    assert r.status == 200
    e2 = r.header("etag")
    assert e2 == green.etags[js_path(2)]
    for cdn in (False, True, False):
        r = site.req(js_path(2), headers=[("If-None-Match", e2)], cdn=cdn)
        assert (r.status, r.header("x-version")) == (304, "v2"), (cdn, r.status, r.headers)
    # /style.css exists in both: for a browser the ETag (learned through a token fetch) picks
    # green. A CDN revalidating that unhashed file asks the CDN version (blue) instead: its copy
    # must be replaced by the CDN version's bytes, not renewed by green's 304 (the CDN would
    # then mix green CSS under blue HTML).
    r = site.req("/style.css?dpl=v2")
    assert (r.status, r.body) == (200, b"v2")
    s2 = r.header("etag")
    for cdn in (False, True, False):
        r = site.req("/style.css", headers=[("If-None-Match", s2)], cdn=cdn)
        if cdn:
            assert (r.status, r.body) == (200, b"v1"), (r.status, r.headers)
            assert r.header("cache-control") == "no-cache"
        else:
            assert (r.status, r.header("x-version")) == (304, "v2"), (r.status, r.headers)
    reasons = {e.get("pin_reason") for e in site.access_log()}
    assert "etag" in reasons and "token" in reasons, reasons


def test_08_flip_when_the_old_version_drains(site):
    blue, green, _ = two_versions(site)
    site.start([site.app(1, "blue", [blue], target=2), site.app(2, "green", [green], target=2)])
    r = site.req("/", cdn=True, browser=True)
    assert r.header("x-version") == "v1"
    flips = site.pinning()["flips"]
    # zdd's rule with target 1: green healthy drains blue's only task.
    site.publish([site.app(1, "blue", [blue], target=1), site.app(2, "green", [green], target=1)])
    p = site.wait_pinning(lambda p: p["cdn_version"] == "v2", "cdn_version v2")
    assert p["flips"] == flips + 1 and p["in_cutover"] is True, p
    r = site.req("/", cdn=True, browser=True)
    assert (r.status, r.header("x-version"), body_version("/", r)) == (200, "v2", "v2")
    r = site.req("/style.css", cdn=True)
    assert (r.status, r.body) == (200, b"v2")
    r = site.req(js_path(1), cdn=True)  # cached v1 HTML still references it: draining blue serves
    assert (r.status, r.header("x-version"), r.body) == (200, "v1", js_body(1))
    site.publish([site.app(2, "green", [green], target=1)])  # blue gone
    assert_miss(site.req(js_path(1), cdn=True), "blue gone, in grace")
    assert site.pinning()["in_cutover"] is False


def test_09_three_versions_each_asset_from_its_owner(site):
    ts = {n: site.task(n) for n in (1, 2, 3)}
    colours = {1: "blue", 2: "green", 3: "blue"}
    ports = {1: site.port, 2: site.alt, 3: free_port()}
    apps = [site.app(n, colours[n], [ts[n]], target=10, app_id=f"/site-v{n}", service_port=ports[n])
            for n in (1, 2, 3)]
    site.start(apps)
    p = site.wait_pinning(lambda p: len(p["versions"]) == 3, "three versions")
    # The deployment merge pairs the two newest apps; an older third one is drained whole, so
    # the CDN version is the oldest version still serving (here v2; v1 keeps answering misses).
    oldest_serving = next(v["id"] for v in p["versions"] if v["serving"] > 0)
    assert p["cdn_version"] == oldest_serving and p["in_cutover"] is True, p
    assert all(v["hosts"] == 1 for v in p["versions"]), p
    for cdn in (True, False):
        for n in (1, 2, 3):
            before = sum(t.hit_count(js_path(n)) for t in ts.values())
            r = site.req(js_path(n), cdn=cdn)
            assert (r.status, r.header("x-version"), r.body) == (200, f"v{n}", js_body(n)), (n, cdn)
            assert sum(t.hit_count(js_path(n)) for t in ts.values()) - before <= 3  # at most 2 retries
    r = site.req("/", cdn=True, browser=True)
    assert r.header("x-version") == oldest_serving
    assert_miss(site.req("/assets/none.js", cdn=True))
    assert all(t.hit_count("/assets/none.js") == 1 for t in ts.values())


def test_10_colour_reuse_gets_a_new_id_and_a_pinned_build_brings_its_cookie_back(site):
    t1, t2 = site.task(1, "blue-v1"), site.task(2, "green-v2")
    c1, c2, c3, c4 = ("2026-11-25T10:00:00.000Z", "2026-11-25T11:00:00.000Z", "2026-11-25T12:00:00.000Z",
                      "2026-11-25T13:00:00.000Z")
    a1 = site.app(1, "blue", [t1], pin=None, mode="full", changed=c1, started=c1)
    a2 = site.app(2, "green", [t2], pin=None, mode="full", changed=c2, started=c2)
    site.start([a1, a2])
    p = site.wait_pinning(lambda p: len(p["versions"]) == 2, "two versions")
    ids = {v["app_id"]: v["id"] for v in p["versions"]}
    id1, id2 = ids["/site-blue"], ids["/site-green"]
    for i in (id1, id2):
        assert len(i) == 10 and all(c in "0123456789abcdef" for c in i), ids
    assert id1 != id2
    r = site.req("/", browser=True, headers=[("X-Deployment-Id", id1)])
    assert (r.header("x-version"), cookie_of(r)) == ("v1", f"baton_pin={id1}")
    # Next deploy: blue is reused by v3 (same app id, new config): a new id.
    t3 = site.task(3, "blue-v3")
    a3 = site.app(3, "blue", [t3], pin=None, mode="full", changed=c3, started=c3)
    site.publish([a2, a3])
    p = site.wait_pinning(lambda p: id1 not in [v["id"] for v in p["versions"] if v.get("hosts")], "v1 gone")
    id3 = next(v["id"] for v in p["versions"] if v["app_id"] == "/site-blue" and v.get("hosts"))
    assert id3 not in (id1, id2), (id1, id2, id3)
    r = site.req("/style.css", headers=[("Cookie", f"baton_pin={id1}")])
    assert r.status == 200 and r.body in (b"v2", b"v3")  # dead version's cookie: ignored
    # Rollback to v1's build, labelled with v1's id: the old cookie lands on it again.
    t1b = site.task(1, "blue-v1-again")
    a4 = site.app(1, "blue", [t1b], pin=id1, mode="full", changed=c4, started=c4)
    site.publish([a2, a4])
    site.wait_pinning(lambda p: id1 in [v["id"] for v in p["versions"] if v.get("hosts")], "v1's id back")
    for _ in range(4):
        r = site.req("/style.css", headers=[("Cookie", f"baton_pin={id1}")])
        assert (r.status, r.body, r.header("x-task")) == (200, b"v1", "blue-v1-again")


def test_11_url_token_wins_over_cookie_and_header(site):
    blue, green, apps = two_versions(site, mode="full")
    site.start(apps)
    for _ in range(2):
        for want, other in (("v1", "v2"), ("v2", "v1")):
            for extra in ([("Cookie", f"baton_pin={other}")], [("X-Deployment-Id", other)], []):
                r = site.req(f"/style.css?dpl={want}", headers=extra)
                assert (r.status, r.body) == (200, want.encode()), (want, extra)
            r = site.req(f"/style.css?dpl={want}", cdn=True)
            assert (r.status, r.body) == (200, want.encode()), (want, "cdn")
    r = site.req("/style.css?dpl=nope")
    assert r.status == 200 and r.body in (b"v1", b"v2")
    # Below the token: header, then cookie.
    assert site.req("/style.css", headers=[("X-Deployment-Id", "v2"), ("Cookie", "baton_pin=v1")]).body == b"v2"
    assert site.req("/style.css", headers=[("Cookie", "baton_pin=v2")]).body == b"v2"
    assert site.req("/style.css", headers=[("Cookie", "a=b; baton_pin=v1; c=d")]).body == b"v1"
    reasons = {e.get("pin_reason") for e in site.access_log()}
    assert {"token", "header", "cookie"} <= reasons, reasons


def soak(site: Site, blue, green, pages: int, rng: random.Random):
    """CDN page loads across a flip and the end of the cutover: (sim, origin 404s without no-store
    seen while the group was in cutover or grace)."""
    sim = site.cdn(edges=4, clock=cdn_sim.SimClock())
    third = pages // 3
    sim.run(third, rng, step=0.5)  # phase A: both serving, CDN version v1
    site.publish([site.app(1, "blue", [blue], target=1), site.app(2, "green", [green], target=1)])
    site.wait_pinning(lambda p: p["cdn_version"] == "v2", "flip to v2")
    sim.run(third, rng, step=0.5)  # phase B: blue draining, CDN version v2
    site.publish([site.app(2, "green", [green], target=1)])
    sim.run(pages - 2 * third, rng, step=0.5)  # phase C: blue gone, in grace
    bad404 = [f for f in sim.origin_log if f.status == 404 and "no-store" not in (f.cache_control or "")]
    return sim, bad404


def test_12_soak_cdn_pages_are_never_broken(site):
    blue, green, apps = two_versions(site)
    site.start(apps)
    sim, bad404 = soak(site, blue, green, 1000, random.Random(12))
    print(f"PINNING-RESULT: soak mode=assets {sim.summary()}")
    assert sim.pages == 1000
    assert sim.broken == 0, [(p.html_version, p.reasons) for p in sim.broken_pages[:10]]
    assert bad404 == [], [(f.path, f.status, f.cache_control) for f in bad404[:10]]
    assert set(sim.html_versions) == {"v1", "v2"}, sim.html_versions  # both builds' HTML was served


def test_12b_soak_unhashed_files_match_their_html(site):
    """Beyond the written contract, the goal of rules 11-12 (asset-pinning.md: "a handful per
    thousands of pages" remain): /style.css must name the HTML's version. A CDN revalidating a
    capped entry gets a 304 whose Cache-Control replaces the stored one (RFC 9111 §4.3.4), so a
    304 carrying the origin's max-age=300 re-arms the old bytes for 5 minutes."""
    blue, green, apps = two_versions(site)
    site.start(apps)
    sim, _ = soak(site, blue, green, 600, random.Random(13))
    print(f"PINNING-RESULT: soak-unhashed mode=assets {sim.summary()}")
    assert sim.unhashed_mismatch <= 5, [p.reasons for p in sim.mismatch_pages[:5]]


def test_cache_cap_covers_revalidations(site):
    """The 304 to a CDN revalidation of an unhashed file during cutover keeps the cap (the
    cache stores the 304's Cache-Control): no-cache, not the origin's max-age=300."""
    blue, green, apps = two_versions(site)
    site.start(apps)
    r = site.req("/style.css", cdn=True)
    assert (r.status, r.header("cache-control")) == (200, "no-cache")
    r = site.req("/style.css", cdn=True, headers=[("If-None-Match", r.header("etag"))])
    assert r.status == 304
    assert r.header("cache-control") == "no-cache", r.headers
    r = site.req(js_path(1), cdn=True)
    r = site.req(js_path(1), cdn=True, headers=[("If-None-Match", r.header("etag"))])
    assert (r.status, r.header("cache-control")) == (304, pin_site.JS_CC)  # hashed: untouched


def test_pinning_off_breaks_pages_and_pinning_on_does_not(site):
    """The same CDN run against the same two tasks, first with BATON_PIN_MODE=off (plain
    balancing: the test can fail), then with pinning on."""
    blue, green, _ = two_versions(site)
    site.start([site.app(1, "blue", [blue], mode="off"), site.app(2, "green", [green], mode="off")])
    # A group with BATON_PIN_MODE=off is not listed under "pinning" (or listed as mode off).
    p = site.pinning()
    assert p is None or p["mode"] == "off", p
    results = {}
    for mode in ("off", "assets"):
        if mode != "off":
            site.publish([site.app(1, "blue", [blue], mode=mode), site.app(2, "green", [green], mode=mode)])
            site.wait_pinning(lambda p: p["mode"] == mode, f"mode {mode}")
        sim = site.cdn(edges=4, clock=cdn_sim.SimClock())
        sim.run(300, random.Random(7), step=1.0)
        results[mode] = sim
        print(f"PINNING-RESULT: comparison mode={mode} {sim.summary()}")
    assert results["off"].broken > 0, results["off"].summary()
    assert results["assets"].broken == 0, [p.reasons for p in results["assets"].broken_pages[:10]]
    assert results["assets"].unhashed_mismatch == 0, [p.reasons for p in results["assets"].mismatch_pages[:10]]


def test_manifest_preload_sends_hashed_assets_straight_to_their_build(site):
    """Rule 5's preload: with BATON_PIN_MANIFEST each version's manifest is fetched from one of its
    tasks; a content-hashed file then goes to the build that lists it, without a 404 first (for
    the CDN too, whose version lacks it)."""
    blue, green = site.task(1, "blue"), site.task(2, "green")
    site.start([site.app(1, "blue", [blue], manifest=True), site.app(2, "green", [green], manifest=True)])
    p = site.wait_pinning(lambda p: all(v.get("manifest_files", -1) > 0 for v in p["versions"]),
                          "both manifests loaded")
    assert {v["id"]: v["manifest_files"] for v in p["versions"]} == {"v1": 3, "v2": 3}, p
    assert blue.hit_count(pin_site.MANIFEST_PATH) == 1 and green.hit_count(pin_site.MANIFEST_PATH) == 1
    r = site.req(js_path(2), cdn=True)
    assert (r.status, r.header("x-version")) == (200, "v2")
    r = site.req(js_path(1))
    assert (r.status, r.header("x-version")) == (200, "v1")
    assert blue.hit_count(js_path(2)) == 0 and green.hit_count(js_path(1)) == 0  # no miss first
    assert site.pinning()["retries"] == 0
    reasons = {(e.get("target"), e.get("pin_reason")) for e in site.access_log()}
    assert (js_path(2), "map") in reasons and (js_path(1), "map") in reasons, reasons


def test_12c_soak_through_a_whole_zdd_deploy(site):
    """The deploy as zdd runs it, with CDN page loads throughout: blue alone (the CDN caches
    blue's unhashed files for their full lifetime), green appears with one task (one blue task
    drained), green scales up (every blue task drained: the CDN version's flip is held, rule 12,
    since blue's cached files may still be fresh and blue can still answer), blue deleted (the flip
    goes: availability wins), then the grace. Zero broken pages, every origin 404 seen during the
    cutover and grace carries no-store, and the flip was held until blue was gone."""
    blue = [site.task(1, "blue0"), site.task(1, "blue1")]
    green = [site.task(2, "green0"), site.task(2, "green1")]
    site.start([site.app(1, "blue", blue)])
    sim = site.cdn(edges=4, clock=cdn_sim.SimClock())
    rng = random.Random(121)
    sim.run(150, rng, step=0.5)  # blue alone: nothing pinned
    assert site.pinning()["in_cutover"] is False
    cutover_from = len(sim.origin_log)
    site.publish([site.app(1, "blue", blue), site.app(2, "green", green[:1])])
    site.wait_pinning(lambda p: p["in_cutover"] and p["cdn_version"] == "v1", "cutover, CDN on v1")
    sim.run(150, rng, step=0.5)  # green's first task: one blue task drained
    site.publish([site.app(1, "blue", blue), site.app(2, "green", green)])
    held = site.wait_pinning(lambda p: p["versions"][0]["serving"] == 0, "every blue task drained")
    assert held["cdn_version"] == "v1" and held["flip_held"] is True, held
    # Blue draining, the flip held: the CDN still gets one build. zdd leaves the old tasks
    # draining for a while: 150 page loads over about 450 s of CDN time (the clock advances by
    # up to `step` per load), longer than the 300 s lifetime of the /style.css copies the CDN
    # took before the cutover, so those expire (and are revalidated, capped) while the hold keeps
    # the CDN on blue.
    sim.run(150, rng, step=6.0)
    site.publish([site.app(2, "green", green)])
    site.wait_pinning(lambda p: p["cdn_version"] == "v2" and not p["in_cutover"], "blue gone, v2")
    sim.run(150, rng, step=0.5)  # the grace
    print(f"PINNING-RESULT: zdd-soak mode=assets {sim.summary()}")
    assert sim.broken == 0, [(p.html_version, p.reasons) for p in sim.broken_pages[:10]]
    bad404 = [f for f in sim.origin_log[cutover_from:]
              if f.status == 404 and "no-store" not in (f.cache_control or "")]
    assert bad404 == [], [(f.path, f.status, f.cache_control) for f in bad404[:10]]
    assert set(sim.html_versions) == {"v1", "v2"}, sim.html_versions
    # What the hold is for: no page after the flip pairs green HTML with blue's cached CSS (the
    # doc's "handful per thousands" straddling the flip itself is allowed).
    assert sim.unhashed_mismatch <= 5, [p.reasons for p in sim.mismatch_pages[:5]]


def test_cdn_version_set_over_admin_http(site):
    """The dashboard's write API: POST /api/group/cdn-version (token and same-origin rules as the
    other writes) moves the CDN to a version; unknown ones are refused."""
    blue, green, apps = two_versions(site)
    site.admin_extra = 'http = "127.0.0.1:0"\ntoken = "pin-token"\n'
    site.start(apps)
    host, port = site.baton.admin
    auth = [("Authorization", "Bearer pin-token")]

    def post(target, headers=auth):
        with harness.Client(port, host=host) as c:
            return c.request("POST", target, headers=headers)

    assert post("/api/group/cdn-version?group=site&version=v2", headers=[]).status == 401
    r = post("/api/group/cdn-version?group=site&version=v9")
    assert r.status == 404 and r.json()["error"] == "notfound", r.body
    assert post("/api/group/cdn-version?group=site").json()["error"] == "usage"
    r = post("/api/group/cdn-version?group=site&version=v2")
    assert r.status == 200 and r.json()["ok"] is True, r.body
    p = site.pinning()
    assert p["cdn_version"] == "v2" and p["flips"] == 1, p
    assert site.req("/", cdn=True).header("x-version") == "v2"
