"""Test PKI for the TLS integration tests: a CA and leaf certificates made with the openssl CLI
(Debian's `openssl` package) in a temp dir, plus a TLS flavour of harness.Client.

Nothing here is checked in: every key is generated per test run.
"""

from __future__ import annotations

import os
import socket
import ssl
import subprocess

import harness

OPENSSL = "/usr/bin/openssl"


def _run(*args: str) -> None:
    subprocess.run([OPENSSL, *args], check=True, capture_output=True, timeout=30)


class Pki:
    """A CA in `root`; leaf(name, dns) writes name.pem / name.key signed by it."""

    def __init__(self, root: str):
        self.root = root
        os.makedirs(root, exist_ok=True)
        self.ca_key = os.path.join(root, "ca.key")
        self.ca_pem = os.path.join(root, "ca.pem")
        _run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", self.ca_key, "-out", self.ca_pem, "-days", "2", "-subj", "/CN=baton test CA")
        self._serial = 1

    def leaf(self, name: str, dns: list[str], days: int = 2, cn: str | None = None) -> tuple[str, str]:
        key = os.path.join(self.root, f"{name}.key")
        csr = os.path.join(self.root, f"{name}.csr")
        pem = os.path.join(self.root, f"{name}.pem")
        ext = os.path.join(self.root, f"{name}.ext")
        with open(ext, "w") as f:
            if dns:
                f.write("subjectAltName=" + ",".join(f"DNS:{d}" for d in dns) + "\n")
            f.write("basicConstraints=CA:FALSE\n")
        _run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
             "-out", csr, "-subj", f"/CN={cn or (dns[0] if dns else name)}")
        self._serial += 1
        _run("x509", "-req", "-in", csr, "-CA", self.ca_pem, "-CAkey", self.ca_key, "-set_serial",
             str(self._serial), "-days", str(days), "-extfile", ext, "-out", pem)
        return pem, key

    def combined(self, name: str, dns: list[str]) -> str:
        """marathon-lb's format: certificate and key in one PEM file."""
        pem, key = self.leaf(name, dns)
        path = os.path.join(self.root, f"{name}.combined.pem")
        with open(path, "w") as out, open(pem) as p, open(key) as k:
            out.write(p.read() + k.read())
        return path

    def weak_combined(self, name: str, dns: str) -> str:
        """A combined PEM whose RSA-512 key OpenSSL refuses to serve at any security level."""
        key = os.path.join(self.root, f"{name}.key")
        csr = os.path.join(self.root, f"{name}.csr")
        pem = os.path.join(self.root, f"{name}.pem")
        _run("req", "-newkey", "rsa:512", "-nodes", "-keyout", key, "-out", csr, "-subj", f"/CN={dns}")
        self._serial += 1
        _run("x509", "-req", "-in", csr, "-CA", self.ca_pem, "-CAkey", self.ca_key, "-set_serial",
             str(self._serial), "-days", "2", "-out", pem)
        path = os.path.join(self.root, f"{name}.combined.pem")
        with open(path, "w") as out, open(pem) as p, open(key) as k:
            out.write(p.read() + k.read())
        return path

    def ocsp_response(self, cert: str, out: str) -> None:
        """A CA-signed OCSP response saying `cert` is good for a day, written to `out` (DER)."""
        serial = subprocess.run([OPENSSL, "x509", "-noout", "-serial", "-in", cert], check=True,
                                capture_output=True, text=True, timeout=30).stdout.strip().split("=")[1]
        subject = subprocess.run([OPENSSL, "x509", "-noout", "-subject", "-nameopt", "compat", "-in", cert],
                                 check=True, capture_output=True, text=True, timeout=30).stdout.strip()
        index = out + ".index"
        with open(index, "w") as f:
            f.write(f"V\t301231000000Z\t\t{serial}\tunknown\t{subject.split('=', 1)[1]}\n")
        request = out + ".req"
        _run("ocsp", "-issuer", self.ca_pem, "-cert", cert, "-reqout", request, "-no_nonce")
        _run("ocsp", "-index", index, "-rsigner", self.ca_pem, "-rkey", self.ca_key, "-CA", self.ca_pem,
             "-reqin", request, "-respout", out, "-ndays", "1")

    def context(self, alpn: list[str] | None = None) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=self.ca_pem)
        if alpn:
            ctx.set_alpn_protocols(alpn)
        return ctx


def served_names(cert: dict) -> list[str]:
    """DNS names of a getpeercert() dict."""
    return [v for k, v in cert.get("subjectAltName", ()) if k == "DNS"]


class TlsClient(harness.Client):
    """harness.Client over TLS: SNI `server_name` (None = none sent), verified against the CA."""

    def __init__(self, port: int, ctx: ssl.SSLContext, server_name: str | None, host: str = harness.LOCAL,
                 timeout: float = harness.TIMEOUT, session: ssl.SSLSession | None = None):
        raw = socket.create_connection((host, port), timeout=timeout)
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if server_name is None:
            ctx.check_hostname = False
        self.sock = ctx.wrap_socket(raw, server_hostname=server_name, session=session)
        self.sock.settimeout(timeout)
        self.r = harness.SockReader(self.sock)

    @property
    def names(self) -> list[str]:
        return served_names(self.sock.getpeercert())
