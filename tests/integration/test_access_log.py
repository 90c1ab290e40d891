"""The access log through the real binary: one line per request, written off the hot path,
carrying the same request id the backend received; JSON lines parse; raw bytes are escaped."""
import json

import harness


def read_lines(path):
    with open(path, "rb") as f:
        return f.read().decode("utf-8").splitlines()


def test_json_lines_carry_the_request_id_the_backend_saw(start, backend, tmp_path):
    log = tmp_path / "access.json"
    baton = start(access_log={"path": str(log), "format": "json"})
    with baton.client() as c:
        assert c.request("GET", "/a?x=1", headers=[("User-Agent", "probe/1")]).status == 200
        assert c.request("GET", "/nothing-routes-here", host="other.example").status in (200, 404)
        c.send(b"GET /\xe4\xb8\xad HTTP/1.1\r\nHost: example.com\r\n\r\n")
        assert c.read_response().status == 200
    assert baton.stop() == 0  # the writer thread flushes before exit
    lines = read_lines(log)
    assert len(lines) == 3
    entries = [json.loads(line) for line in lines]  # every line is valid JSON
    first = entries[0]
    seen = backend.wait_requests(1)[0].header("X-Request-Id").decode()
    assert first["request_id"] == seen and len(seen) == 32
    assert first["method"] == "GET" and first["target"] == "/a?x=1"
    assert first["status"] == 200 and first["user_agent"] == "probe/1"
    assert first["upstream"] == backend.address
    # Raw UTF-8 is logged escaped, so the log stays ASCII and one line per request.
    assert entries[2]["target"] == "/\\xE4\\xB8\\xAD", lines[2]


def test_client_request_id_is_passed_through_and_logged(start, backend, tmp_path):
    log = tmp_path / "access.log"
    baton = start(access_log={"path": str(log), "format": "text"})
    with baton.client() as c:
        r = c.request("GET", "/rid", headers=[("X-Request-Id", "abc-123")])
        assert r.status == 200
    assert backend.wait_requests(1)[0].header("X-Request-Id") == b"abc-123"
    assert baton.stop() == 0
    (line,) = read_lines(log)
    assert "rid=abc-123" in line and '"GET /rid HTTP/1.1" 200' in line


def test_local_replies_are_logged_with_their_error(start, backend, tmp_path):
    log = tmp_path / "access.json"
    baton = start(access_log={"path": str(log), "format": "json"},
                  clusters={"web": [harness.dead_address()]})
    with baton.client() as c:
        assert c.request("GET", "/down").status == 503
    assert baton.stop() == 0
    (entry,) = [json.loads(line) for line in read_lines(log)]
    assert entry["status"] == 503 and entry["error"] == "UpstreamConnectFailed"
