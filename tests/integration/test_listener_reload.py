"""Listeners follow the config on reload: added ones open, removed ones stop accepting (their
accepted connections finish), settings change in place, and a listener that cannot be opened
refuses the whole reload. Connections on untouched listeners never notice."""
import socket

import harness


def config(backend, listeners, raw_bytes_by_name=None):
    raw = raw_bytes_by_name or {}
    return harness.make_config(
        clusters={"web": [backend.address]},
        listeners=[{"name": n, "address": a, **({"raw_bytes": raw[n]} if n in raw else {})}
                   for n, a in listeners])


def test_added_listener_serves_and_existing_connection_survives(baton, backend):
    baton.start(config(backend, [("http", "127.0.0.1:0")]))
    with baton.client("http") as kept:
        assert kept.request("GET", "/before").status == 200
        ev = baton.reload(config(backend, [("http", "127.0.0.1:0"), ("extra", "127.0.0.2:0")]))
        assert ev["event"] == "reloaded", ev
        assert set(ev["listeners"]) == {"http", "extra"}
        with baton.client("extra") as c:
            assert c.request("GET", "/on-extra").status == 200
        assert kept.request("GET", "/after").status == 200  # same keep-alive connection


def test_removed_listener_stops_accepting_but_finishes_its_connections(baton, backend):
    baton.start(config(backend, [("http", "127.0.0.1:0"), ("old", "127.0.0.2:0")]))
    host, port = baton.listeners["old"]
    with baton.client("old") as on_old:
        assert on_old.request("GET", "/x").status == 200
        ev = baton.reload(config(backend, [("http", "127.0.0.1:0")]))
        assert ev["event"] == "reloaded" and set(ev["listeners"]) == {"http"}, ev
        # The accepted connection keeps being served...
        assert on_old.request("GET", "/still-here").status == 200
    # ...but nothing new is accepted there.
    s = socket.socket()
    s.settimeout(2)
    try:
        refused = s.connect_ex((host, port)) != 0
    finally:
        s.close()
    assert refused
    with baton.client("http") as c:
        assert c.request("GET", "/y").status == 200


def test_listener_settings_change_in_place(baton, backend):
    baton.start(config(backend, [("http", "127.0.0.1:0")]))
    port_before = baton.listeners["http"][1]
    raw = b"GET /\xe4\xb8\xad HTTP/1.1\r\nHost: example.com\r\n\r\n"
    with baton.client() as c:
        c.send(raw)
        assert c.read_response().status == 200
    ev = baton.reload(config(backend, [("http", "127.0.0.1:0")], {"http": "reject"}))
    assert ev["event"] == "reloaded", ev
    assert baton.listeners["http"][1] == port_before  # same socket, no rebind
    with baton.client() as c:
        c.send(raw)
        assert c.read_response().status == 400


def test_listener_that_cannot_bind_refuses_the_whole_reload(baton, backend):
    # A plain (non-SO_REUSEPORT) socket holds the address: baton cannot bind it.
    blocker = socket.socket()
    blocker.bind(("127.0.0.3", 0))
    blocker.listen(1)
    taken = "127.0.0.3:%d" % blocker.getsockname()[1]
    try:
        baton.start(config(backend, [("http", "127.0.0.1:0")]))
        ev = baton.reload(config(backend, [("http", "127.0.0.1:0"), ("fresh", "127.0.0.2:0"),
                                           ("taken", taken)]))
        assert ev["event"] == "reload_failed", ev
        assert "taken" in ev["error"]
        assert set(baton.listeners) == {"http"}
        with baton.client() as c:
            assert c.request("GET", "/still-good").status == 200
        # Nothing half-applied: the good new listener was not left open either.
        ev = baton.reload(config(backend, [("http", "127.0.0.1:0")]))
        assert ev["event"] == "reloaded" and set(ev["listeners"]) == {"http"}, ev
    finally:
        blocker.close()
