#!/usr/bin/python3
"""Writes the hand-made seed corpora under tests/fuzz/corpus/<target>/ (idempotent: rewrites
only the seed-*.bin/seed-* files it owns; crash reproducers and fuzzer-found inputs, named
crash-* / min-*, are left alone).

Seeds come from the hostile-input table (tests/hostile/cases.py: every request and response
case's bytes), the url-policy examples, conf/examples/*.toml and a few small Marathon
documents. Run from anywhere: /usr/bin/python3 tests/fuzz/make_seeds.py
"""

from __future__ import annotations

import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "hostile"))

import cases  # noqa: E402

CORPUS = os.path.join(HERE, "corpus")


def raw_bytes(raw) -> bytes:
    return b"".join(raw) if isinstance(raw, tuple) else raw


class Writer:
    def __init__(self, target: str):
        self.dir = os.path.join(CORPUS, target)
        os.makedirs(self.dir, exist_ok=True)
        self.seen: set[bytes] = set()

    def add(self, name: str, data: bytes) -> None:
        if data in self.seen:
            return
        self.seen.add(data)
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
        with open(os.path.join(self.dir, "seed-" + safe), "wb") as f:
            f.write(data)


def request_seeds() -> None:
    line, codec, chunked, target = (Writer(n) for n in
                                    ("request_line", "server_codec", "chunked", "request_target"))
    for name, _cls, raw, *_ in cases.REQUEST_CASES:
        data = raw_bytes(raw)
        codec.add(name, data)
        first = data.split(b"\n", 1)[0] + b"\n"
        line.add(name, first)
        parts = first.rstrip(b"\r\n").split(b" ")
        if len(parts) >= 3:
            target.add(name, b" ".join(parts[1:-1]))
        head, sep, body = data.partition(b"\r\n\r\n")
        if sep and re.search(rb"(?i)transfer-encoding:[ \t]*chunked", head):
            chunked.add(name, body)
    # The pipelining and keep-alive shapes, whole.
    codec.add("pipeline-three", b"GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
              b"POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"
              b"POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
              b"3;x=1\r\nabc\r\n0\r\nT: v\r\n\r\n")
    chunked.add("ext-quoted-trailer", b'4;a="b c";d=e\r\nwxyz\r\n0\r\nX-T: 1\r\n\r\n')
    chunked.add("two-chunks", b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
    for t in (b"/%E4%B8%AD%E6%96%87", "/中文".encode(), b"/\xD6\xD0\xCE\xC4",
              "/s?q=中".encode(), b"/a#frag", b"/static/%2e%2e/admin", b"/../x",
              b"http://h/\xE4\xB8\xAD", b"*", b"//a///b/./c/../d?x=//y", b"/%2F%5c%00%25%zz%41",
              b"HTTP://Example.COM:8080/p?q", b"/a/b/%2E%2e/%2e/c/"):
        target.add("policy-" + t.hex()[:24], t)


def response_seeds() -> None:
    client = Writer("client_codec")
    for name, _cls, raw, *_ in cases.RESPONSE_CASES:
        client.add(name, raw_bytes(raw))
    client.add("keepalive-two", b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2"
               b"\r\n\r\nokHTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"3\r\nabc\r\n0\r\n\r\n")
    client.add("head-with-cl", b"HEAD\nHTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"
               b"HTTP/1.1 204 No Content\r\n\r\n")
    client.add("until-close", b"HTTP/1.0 200 OK\r\nServer: x\r\n\r\nbody until close")


def config_seeds() -> None:
    conf = Writer("config_loader")
    examples = os.path.join(ROOT, "conf", "examples")
    for f in sorted(os.listdir(examples)):
        if f.endswith(".toml"):
            with open(os.path.join(examples, f), "rb") as fh:
                conf.add(f, fh.read())
    conf.add("bad-duration", b'[[listeners]]\nname = "http"\naddress = "127.0.0.1:0"\n'
             b'[timeouts]\nconnect = "5 parsecs"\n')
    conf.add("unknown-key", b'[[listeners]]\nname = "http"\naddress = "127.0.0.1:0"\nbogus = 1\n')
    conf.add("not-toml", b"[[listeners]\nname = \n")


def marathon_seeds() -> None:
    apps = Writer("marathon_apps")
    with open(os.path.join(ROOT, "conf", "examples", "demo_apps.json"), "rb") as fh:
        apps.add("demo_apps.json", fh.read())
    apps.add("bridge", b'{"apps":[{"id":"/b","instances":1,"container":{"type":"DOCKER",'
             b'"portMappings":[{"containerPort":80,"hostPort":0,"servicePort":10010}]},'
             b'"networks":[{"mode":"container/bridge"}],"labels":{"HAPROXY_GROUP":"external",'
             b'"HAPROXY_0_VHOST":"b.example.com","HAPROXY_0_PATH":"/api","HAPROXY_0_STICKY":"true"},'
             b'"healthChecks":[{"protocol":"MESOS_HTTP","path":"/h","portIndex":0}],'
             b'"tasks":[{"id":"b.1","appId":"/b","host":"agent1","ports":[31001],'
             b'"state":"TASK_RUNNING","healthCheckResults":[{"alive":false}]}]}]}')
    apps.add("container", b'{"apps":[{"id":"/c/d","networks":[{"mode":"container","name":"n"}],'
             b'"container":{"portMappings":[{"containerPort":8080,"servicePort":10020}]},'
             b'"labels":{"HAPROXY_DEPLOYMENT_GROUP":"g","HAPROXY_DEPLOYMENT_ALT_PORT":"10021",'
             b'"HAPROXY_0_MODE":"tcp","HAPROXY_0_BALANCE":"leastconn","BATON_0_TIMEOUT_CONNECT":"2s"},'
             b'"tasks":[{"id":"d.1","ipAddresses":[{"ipAddress":"10.1.2.3","protocol":"IPv4"}],'
             b'"state":"TASK_STAGING"},{"id":"d.2","host":"","state":"TASK_KILLING"}]}]}')
    apps.add("legacy-ports", b'{"apps":[{"id":"/l","ports":[10030,10031],"labels":{'
             b'"HAPROXY_1_GROUP":"internal","HAPROXY_0_AUTH":"realm:user:pass",'
             b'"HAPROXY_0_BACKEND_NETWORK_ALLOWED_ACL":"10.0.0.0/8"},"tasks":[{"id":"l.1",'
             b'"host":"10.0.0.5","ports":[31000]}]}]}')
    apps.add("empty", b'{"apps":[]}')
    apps.add("null-fields", b'{"apps":[{"id":"/n","labels":null,"tasks":null,"portDefinitions":null}]}')
    apps.add("bad-id", b'{"apps":[{"id":"n"}]}')


if __name__ == "__main__":
    request_seeds()
    response_seeds()
    config_seeds()
    marathon_seeds()
    for t in sorted(os.listdir(CORPUS)):
        print(t, len(os.listdir(os.path.join(CORPUS, t))))
