"""A CDN simulator for the asset-pinning tests: shared caches ("edges") in front of one origin.

What it imitates (RFC 9111 shared cache, as CDNs behave by default):
- every origin fetch carries `CDN-Loop: testcdn` and no cookies (CDNs forward none by default);
- storing: `no-store` and `private` are never stored; freshness = s-maxage, else max-age, else
  Expires - Date, minus Age; `no-cache` entries are stored but revalidated on every use;
- a 404/410 without an explicit lifetime and without no-store is cached heuristically for
  `negative_ttl` seconds (CloudFront's default error caching: 10 s); with max-age, for that;
- a stale (or no-cache) entry with an ETag is revalidated with If-None-Match; a 304 refreshes
  the entry (its header fields replace the stored ones, RFC 9111 §4.3.4) and the stored body is
  served;
- a page = the HTML plus every asset it references, each through the same edge. A page is
  *broken* when a referenced asset is not 200, or a content-hashed (version-unique) asset names
  another version than the HTML; an unhashed one (/style.css) naming another version is counted
  apart as an *unhashed mismatch*.

Time: SimClock (the test advances it: cache expiry without sleeping) or RealClock (the soak).
Runs on the calling thread; one keep-alive connection per edge (and origin), reopened when closed.

Several origins (issue 10: baton instances behind DNS round-robin or an L4 balancer): pass
`ports=[p0, p1, p2]` (and `rng`); every origin fetch then goes to an origin picked at random, as a
CDN resolving the origin's name afresh would. OriginFetch.origin says which (an index into
`ports`; 0 with one origin).
"""

from __future__ import annotations

import calendar
import email.utils
import random
import re
import time
from dataclasses import dataclass, field

import harness
import pin_site


class SimClock:
    def __init__(self, start: float = 1000.0):
        self.t = start

    def now(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


class RealClock:
    def now(self) -> float:
        return time.monotonic()

    def advance(self, seconds: float) -> None:  # real time cannot be advanced: nothing to do
        pass


def parse_cache_control(value: str | None) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for part in (value or "").split(","):
        part = part.strip()
        if not part:
            continue
        k, eq, v = part.partition("=")
        out[k.strip().lower()] = v.strip().strip('"') if eq else None
    return out


def _http_date(value: str | None) -> float | None:
    if not value:
        return None
    t = email.utils.parsedate(value)
    return float(calendar.timegm(t)) if t else None


_HASHED = re.compile(r"[0-9a-f]{8,}")


def is_hashed(path: str) -> bool:
    """A content-hashed URL: a hex run of 8+ in the last segment (as baton's default)."""
    last = path.split("?", 1)[0].rsplit("/", 1)[-1]
    return any(_HASHED.fullmatch(p) for p in re.split(r"[.\-_]", last))


@dataclass
class Entry:
    status: int
    headers: list
    body: bytes
    stored_at: float
    ttl: float  # seconds fresh from stored_at; 0 = revalidate on every use
    etag: str | None


class _Headers:
    """header(name): the first value of a field of `self.headers`, or None."""

    headers: list

    def header(self, name: str) -> str | None:
        vals = harness.header_values(self.headers, name)
        return vals[0].decode("latin-1") if vals else None


@dataclass
class CdnResponse(_Headers):
    status: int
    headers: list
    body: bytes
    source: str  # "hit" (no origin contact), "revalidated" (304 from origin), "miss", "pass"


@dataclass
class OriginFetch(_Headers):
    """One request the CDN sent to the origin, and what came back."""

    edge: int
    method: str
    path: str
    conditional: bool
    status: int
    cache_control: str | None
    headers: list
    at: float
    origin: int = 0  # index into CdnSim.ports


@dataclass
class PageResult:
    path: str
    edge: int
    html_status: int
    html_version: str | None
    assets: list = field(default_factory=list)  # (url, status, version named by the body)
    broken: bool = False  # a referenced asset not 200, or a hashed one of another version
    unhashed_mismatch: bool = False  # an unhashed asset of another version than the HTML
    reasons: list = field(default_factory=list)


class _Edge:
    def __init__(self, idx: int):
        self.idx = idx
        self.cache: dict[str, Entry] = {}
        self.conn: harness.Client | None = None  # to `port` (one origin)
        self.conns: dict[int, harness.Client] = {}  # by origin port (several origins)


class CdnSim:
    def __init__(self, port: int | None = None, host: str = "site.test", edges: int = 1, clock=None,
                 negative_ttl: float = 10.0, origin_host: str = harness.LOCAL, timeout: float = 5.0,
                 ports: list[int] | None = None, rng: random.Random | None = None):
        """One origin (`port`) or several (`ports`: each origin fetch picks one with `rng`)."""
        if port is None and not ports:
            raise ValueError("CdnSim needs port or ports")
        self.port, self.host, self.origin_host = (port if port is not None else ports[0]), host, origin_host
        self.ports = list(ports) if ports else None
        self.rng = rng or random.Random(0)
        self.last_origin = 0
        self.clock = clock or SimClock()
        self.negative_ttl = negative_ttl
        self.timeout = timeout
        self.edges = [_Edge(i) for i in range(edges)]
        self.origin_log: list[OriginFetch] = []
        self.pages = 0
        self.broken = 0
        self.unhashed_mismatch = 0
        self.broken_pages: list[PageResult] = []
        self.mismatch_pages: list[PageResult] = []
        self.html_versions: dict[str, int] = {}

    def close(self) -> None:
        for e in self.edges:
            if e.conn:
                e.conn.close()
                e.conn = None
            for c in e.conns.values():
                c.close()
            e.conns.clear()

    def purge(self) -> None:
        for e in self.edges:
            e.cache.clear()

    # ---- origin ----
    def _origin(self, edge: _Edge, method: str, path: str, headers: list) -> harness.Response:
        if self.ports:
            return self._origin_of_many(edge, method, path, headers)
        hdrs = [("CDN-Loop", "testcdn"), ("Via", "1.1 testcdn")] + headers
        for attempt in (0, 1):
            if edge.conn is None:
                edge.conn = harness.Client(self.port, host=self.origin_host, timeout=self.timeout)
            try:
                r = edge.conn.request(method, path, host=self.host, headers=hdrs)
            except (harness.Closed, OSError):
                edge.conn.close()
                edge.conn = None
                if attempt:
                    raise
                continue  # a kept-alive connection closed meanwhile: reopen once, as a CDN would
            if r.closes:
                edge.conn.close()
                edge.conn = None
            return r
        raise AssertionError("unreachable")

    def _origin_of_many(self, edge: _Edge, method: str, path: str, headers: list) -> harness.Response:
        """One fetch from a random origin (each edge keeps a connection per origin)."""
        hdrs = [("CDN-Loop", "testcdn"), ("Via", "1.1 testcdn")] + headers
        idx = self.rng.randrange(len(self.ports))
        port = self.ports[idx]
        self.last_origin = idx
        for attempt in (0, 1):
            conn = edge.conns.get(port)
            if conn is None:
                conn = edge.conns[port] = harness.Client(port, host=self.origin_host, timeout=self.timeout)
            try:
                r = conn.request(method, path, host=self.host, headers=hdrs)
            except (harness.Closed, OSError):
                conn.close()
                edge.conns.pop(port, None)
                if attempt:
                    raise
                continue
            if r.closes:
                conn.close()
                edge.conns.pop(port, None)
            return r
        raise AssertionError("unreachable")

    def _ttl(self, r: harness.Response) -> float | None:
        """Seconds the response may be served without revalidation; None = do not store."""
        cc = parse_cache_control(r.header("cache-control"))
        if "no-store" in cc or "private" in cc:
            return None
        if r.status not in (200, 203, 204, 206, 300, 301, 404, 405, 410, 414, 501):
            return None
        age = float(r.header("age") or 0)
        if "no-cache" in cc:
            return 0.0
        for key in ("s-maxage", "max-age"):
            if key in cc and cc[key] is not None:
                try:
                    return max(0.0, float(cc[key]) - age)
                except ValueError:
                    return 0.0
        exp, date = _http_date(r.header("expires")), _http_date(r.header("date"))
        if exp is not None:
            return max(0.0, exp - (date if date is not None else time.time()) - age)
        if r.status in (404, 410):
            return float(self.negative_ttl)  # heuristic freshness of an error (CloudFront: 10 s)
        return None

    # ---- one URL through one edge ----
    def fetch(self, path: str, edge: int = 0, method: str = "GET", accept: str | None = None) -> CdnResponse:
        e = self.edges[edge]
        now = self.clock.now()
        if method not in ("GET", "HEAD"):
            r = self._origin(e, method, path, [])
            self._log(e, method, path, False, r)
            return CdnResponse(r.status, r.headers, r.body, "pass")
        extra = [("Accept", accept)] if accept else []
        ent = e.cache.get(path)
        if ent is not None and now - ent.stored_at < ent.ttl:
            return CdnResponse(ent.status, ent.headers, ent.body, "hit")
        cond = ent is not None and ent.etag is not None and ent.status == 200
        hdrs = extra + ([("If-None-Match", ent.etag)] if cond else [])
        r = self._origin(e, "GET", path, hdrs)  # a CDN fills its cache with GET even for HEAD
        self._log(e, "GET", path, cond, r)
        if cond and r.status == 304:
            # RFC 9111 §4.3.4: the 304's fields replace the stored ones; the stored body serves.
            names = {k.lower() for k, _ in r.headers if k.lower() not in (b"content-length",)}
            merged = [(k, v) for k, v in ent.headers if k.lower() not in names] + [
                (k, v) for k, v in r.headers if k.lower() != b"content-length"]
            fresh = harness.Response(b"HTTP/1.1", 200, b"OK", merged)
            ttl = self._ttl(fresh)
            ent.headers = merged
            ent.stored_at = now
            ent.ttl = ttl if ttl is not None else 0.0
            return CdnResponse(200, merged, ent.body, "revalidated")
        ttl = self._ttl(r)
        if ttl is not None and r.status != 206:
            e.cache[path] = Entry(r.status, r.headers, r.body, now, ttl, r.header("etag"))
        else:
            e.cache.pop(path, None)
        return CdnResponse(r.status, r.headers, r.body, "miss")

    def _log(self, e: _Edge, method: str, path: str, cond: bool, r: harness.Response) -> None:
        self.origin_log.append(OriginFetch(e.idx, method, path, cond, r.status, r.header("cache-control"),
                                           r.headers, self.clock.now(), self.last_origin))

    # ---- a page: HTML + every asset it references ----
    def page(self, path: str = "/", edge: int = 0) -> PageResult:
        html = self.fetch(path, edge, accept="text/html,application/xhtml+xml;q=0.9,*/*;q=0.8")
        hv = pin_site.version_of(path, html.body) if html.status == 200 else None
        res = PageResult(path, edge, html.status, hv)
        self.pages += 1
        if html.status != 200 or hv is None:
            res.broken = True
            res.reasons.append(f"html {html.status}")
        else:
            self.html_versions[hv] = self.html_versions.get(hv, 0) + 1
            for url in pin_site.references(html.body):
                a = self.fetch(url, edge, accept="*/*")
                av = pin_site.version_of(url, a.body) if a.status == 200 else None
                res.assets.append((url, a.status, av))
                if a.status != 200:
                    res.broken = True
                    res.reasons.append(f"{url}: {a.status} ({a.source})")
                elif av != hv:
                    if is_hashed(url):
                        res.broken = True
                        res.reasons.append(f"{url}: {av} under {hv} html")
                    else:
                        res.unhashed_mismatch = True
                        res.reasons.append(f"{url}: unhashed {av} under {hv} html ({a.source})")
        if res.broken:
            self.broken += 1
            self.broken_pages.append(res)
        if res.unhashed_mismatch:
            self.unhashed_mismatch += 1
            self.mismatch_pages.append(res)
        return res

    def run(self, pages: int, rng: random.Random, step: float = 0.5, paths=("/", "/index.html")) -> None:
        """`pages` page loads on random edges, the clock advancing by up to `step` s between."""
        for _ in range(pages):
            self.clock.advance(rng.uniform(0, step))
            self.page(rng.choice(paths), rng.randrange(len(self.edges)))

    def summary(self) -> str:
        return (f"pages={self.pages} broken={self.broken} unhashed_mismatch={self.unhashed_mismatch} "
                f"origin_fetches={len(self.origin_log)} html_versions={self.html_versions}")
