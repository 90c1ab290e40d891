"""The README demo keeps its promises: conf/examples/demo.toml + demo_apps.json, with every fixed
port swapped for one chosen at run time (the demo uses 8080/8081/8082/9090/9091/10001/10002)."""

from __future__ import annotations

import csv
import io
import json
import os
import urllib.request

import harness

EXAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "conf", "examples")


def test_demo_routes_as_documented(baton, backends, tmp_path):
    blue, green = backends(2)
    ports = {p: harness.free_port() for p in (8080, 9090, 9091, 10001, 10002)}
    ports[8081], ports[8082] = blue.port, green.port
    with open(os.path.join(EXAMPLES, "demo_apps.json")) as f:
        apps = json.load(f)
    for a in apps["apps"]:
        for d in a["portDefinitions"]:
            d["port"] = ports[d["port"]]
        for t in a["tasks"]:
            t["ports"] = [ports[p] for p in t["ports"]]
    (tmp_path / "demo_apps.json").write_text(json.dumps(apps))
    with open(os.path.join(EXAMPLES, "demo.toml")) as f:
        config = f.read()
    config = config.replace('path = "stdout"', 'path = "off"')
    config = config.replace("http_port = 8080", f"http_port = {ports[8080]}")
    config = config.replace("app_id_port = 9091", f"app_id_port = {ports[9091]}")
    config = config.replace("127.0.0.1:9090", f"127.0.0.1:{ports[9090]}")
    baton.start(config, workers=1)
    baton.wait_event("discovery")

    def get(port, target="/", headers=()):
        with harness.Client(port) as c:
            return c.request("GET", target, host="127.0.0.1", headers=list(headers))

    assert get(ports[8080]).status == 200 and blue.wait_requests(1)
    assert get(ports[8080], "/green/hello").status == 200 and green.wait_requests(1)
    assert get(ports[10001]).status == 200 and len(blue.wait_requests(2)) == 2
    assert get(ports[9091], headers=[("X-Marathon-App-Id", "/demo/green")]).status == 200
    assert len(green.wait_requests(2)) == 2
    body = urllib.request.urlopen(f"http://127.0.0.1:{ports[9090]}/haproxy?stats;csv", timeout=5).read()
    rows = list(csv.DictReader(io.StringIO(body.decode().lstrip("# "))))
    names = {(r["pxname"], r["svname"]) for r in rows}
    assert ("demo_blue_%d" % ports[10001], "127_0_0_1_%d" % blue.port) in names
