"""The byte-exact hostile-input suite (issue 5 item 1): one pytest param per row of
tests/hostile/cases.py, all against ONE baton (module-scoped) in front of a recording backend and a
scripted upstream. The oracle per row (see cases.py): the answers and their statuses, whether the
connection stays open (then a canary on the same connection must get its own 200) or closes (then
a `GET /smuggled` appended to the bytes must never arrive), a canary on a fresh connection, and
exactly what the backend received.
"""

from __future__ import annotations

import os
import sys

import pytest

import harness

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "hostile"))

import cases  # noqa: E402
import drive  # noqa: E402


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    web, scripted = harness.Backend("web"), harness.Backend("scripted")
    for name, _cls, raw, *_ in cases.RESPONSE_CASES:
        scripted.on("/__resp/" + name, raw=raw)
    b = harness.Baton(tmp_path_factory.mktemp("hostile"))
    b.start(drive.suite_config(web, scripted))
    yield b, web, scripted
    rc = b.stop()
    web.close()
    scripted.close()
    assert rc == 0, f"baton exited with {rc}; stderr:\n{b.stderr()[-4000:]}"


def _param(row):
    return pytest.param(row, id=row[0])


def _check_answer(got, want, resp) -> bool:
    if want == "truncated":
        return got == 200 and resp is not None and not resp.complete
    if isinstance(want, tuple):
        return any(_check_answer(got, w, resp) for w in want)
    return got == want


def _check_backend(v: drive.Verdict, spec) -> None:
    if spec == cases.NOTHING:
        assert v.heads == [], f"backend saw {[r.request_line for r in v.heads]}"
        return
    if spec == cases.ABORTED:
        done = [r.request_line for r in v.records if r.complete]
        assert done == [], f"backend got a complete request: {done}"
        return
    assert v.records, "nothing reached the backend"
    first = v.records[0]
    for check in spec:
        kind = check[0]
        if kind == "line":
            assert first.request_line == check[1], first.request_line
        elif kind == "lines":
            assert tuple(r.request_line for r in v.records) == check[1], [r.request_line for r in v.records]
        elif kind == "has":
            vals = first.header_all(check[1])
            assert vals, f"{check[1]} missing: {first.headers}"
            assert check[2] is None or vals[0] == check[2], f"{check[1]}: {vals}"
        elif kind == "lacks":
            assert not first.has(check[1]), f"{check[1]} forwarded: {first.headers}"
        elif kind == "without":
            assert check[2] not in b",".join(first.header_all(check[1])), first.header_all(check[1])
        elif kind == "body":
            assert first.complete and first.body_head == check[1], (first.complete, first.body_head[:200])
        elif kind == "trailers":
            assert len(first.trailers) == check[1], first.trailers
        else:
            raise AssertionError(f"unknown check {kind}")
    cut = [(r.request_line, r.conn_id, r.seq, r.body_len) for r in v.records if not r.complete]
    assert not cut, f"forwarded requests cut: {cut}; all: {[(r.request_line, r.complete) for r in v.records]}"


def _check_common(v: drive.Verdict, expect, open_) -> None:
    expects = [e for e in (expect if isinstance(expect, list) else [expect]) if e != "none"]
    assert len(v.answers) == len(expects), f"answers {v.answers}, expected {expects}"
    for got, want, resp in zip(v.answers, expects, v.responses):
        detail = (resp.reason, resp.body[:200]) if resp is not None else None
        assert _check_answer(got, want, resp), f"got {got} {detail}, expected {want} (all: {v.answers})"
    last = v.responses[-1] if v.responses else None
    if open_ is False and last is not None and last.complete:
        assert last.closes, f"{last.status} without Connection: close on a connection that closes"
    if open_ is True:
        assert v.same_canary == "ok", f"same-connection canary: {v.same_canary}"
    elif open_ is False:
        assert v.closed is True, "connection left open"
    assert v.quiet, "an upstream request was left neither complete nor aborted"
    assert v.fresh_canary == "ok", f"fresh-connection canary: {v.fresh_canary}"


@pytest.mark.parametrize("row", [_param(r) for r in cases.REQUEST_CASES])
def test_request_case(env, row):
    baton, web, _ = env
    name, _cls, raw, expect, open_, backend_spec = row
    v = drive.run(baton.port, web, raw, expect, open_, await_head=0.5 if backend_spec == cases.ABORTED else 0.0)
    assert baton.proc.poll() is None, f"baton died: {baton.stderr()[-2000:]}"
    _check_common(v, expect, open_)
    assert not [r for r in v.heads if r.target.startswith(b"/smuggled")], "smuggled request reached the backend"
    _check_backend(v, backend_spec)


@pytest.mark.parametrize("row", [_param(r) for r in cases.RESPONSE_CASES])
def test_response_case(env, row):
    baton, web, scripted = env
    name, _cls, upstream_raw, expect, open_, client = row
    raw = b"GET /__resp/" + name.encode() + b" HTTP/1.1\r\n" + drive.H + b"\r\n"
    v = drive.run(baton.port, web, raw, expect, open_)
    assert baton.proc.poll() is None, f"baton died: {baton.stderr()[-2000:]}"
    _check_common(v, expect, open_)
    if client is not None:
        resp = v.responses[-1]
        assert resp is not None and resp.body == client[1], resp and resp.body[:200]


def test_table_covers_every_class():
    """hostile-inputs.md's classes each have rows; at least 150 HTTP/1 cases in all."""
    classes = {r[1] for r in cases.REQUEST_CASES} | {r[1] for r in cases.RESPONSE_CASES}
    want = {"framing", "chunked", "syntax", "request-line", "llhttp-gap", "target", "normalisation", "sizes",
            "pipelining", "expect", "upgrade", "host", "forwarding", "response"}
    assert want <= classes, want - classes
    assert len(cases.REQUEST_CASES) + len(cases.RESPONSE_CASES) >= 150
    names = [r[0] for r in cases.REQUEST_CASES + cases.RESPONSE_CASES]
    assert len(names) == len(set(names)), "duplicate case names"
