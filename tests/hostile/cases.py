"""The byte-exact hostile-input table (issue 5 items 1 and 2): data only, one row per case.

Read by tests/integration/test_hostile_suite.py (assertions against baton) and by
tests/hostile/differential.py (the same bytes against HAProxy and nginx). Adding a case is one row.

Request-side row: (name, class, raw, expect, open, backend)
  raw     bytes sent on one fresh connection in one write; or a tuple of parts: part i is sent,
          then response i is read (a request split across writes).
  expect  int status | tuple of accepted statuses | "close" (no answer, the connection just ends) |
          list of those, one per response read in order (pipelining); with parts, "none" reads
          no response after that part.
  open    True: the connection stays open; a canary request on the SAME connection must then get
          its own 200 from the backend. False: after the last answer the connection must close
          (the runner then appends `GET /smuggled` to a single-part raw; it must never arrive).
          None (response side only): either.
  backend what the backend must have received for this case (a canary on a fresh connection
          follows every case; what arrived before it belongs to the case):
          NOTHING  not even a head;
          ABORTED  a head may have been streamed, but never a complete request (upstream aborted);
          a tuple of checks, all on the first forwarded request unless stated:
            ("line", b"...")        its exact request line
            ("lines", (b"...",))    the exact request lines of all forwarded requests, in order
            ("has", name, value)    the header is present with exactly this value (first one);
                                    value None: present with any value
            ("lacks", name)         no such header
            ("without", name, sub)  no value of that header contains sub
            ("body", b"...")        its exact (de-chunked) body
            ("trailers", n)         the number of trailer fields forwarded

Response-side row: (name, class, upstream_raw, expect, open, client)
  upstream_raw  bytes the scripted upstream sends after reading `GET /__resp/<name>`, then it
                closes. expect as above, plus "truncated" (a 200 head, then the connection ends
                before the body does). client: None, or ("body", b"...") the exact body the client
                got.

The suite's baton (see test_hostile_suite.py) has limits.body 1GiB, routes /limited (body_limit
1KiB), /api (upstream_host api.internal), /admin (upstream_host admin.internal), /__resp (the
scripted upstream), / (the recording backend); vhost "h" -> upstream_host vhost-h.internal.
"""

NOTHING = "nothing"
ABORTED = "aborted"
OPEN, CLOSED = True, False

H = b"Host: example.com\r\n"
# Short prefixes (a request head up to its Host line) to keep rows on one line.
POST_F = b"POST /h/f HTTP/1.1\r\n" + H
POST_C = b"POST /h/c HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n"
GET_S = b"GET /h/s HTTP/1.1\r\n" + H
GET_X = b"GET /h/x HTTP/1.1\r\n" + H
GET_P = b"GET /h/p HTTP/1.1\r\n" + H + b"\r\n"


def _line(target: bytes, method: bytes = b"GET") -> bytes:
    return method + b" " + target + b" HTTP/1.1"


def _req(target: bytes, method: bytes = b"GET") -> bytes:
    return _line(target, method) + b"\r\n" + H + b"\r\n"


REQUEST_CASES = [
    # ---- framing: Content-Length / Transfer-Encoding (hostile-inputs.md "HTTP/1 framing") ----
    ("cl-and-te", "framing", POST_F + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, CLOSED, NOTHING),
    ("te-and-cl", "framing", POST_F + b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", 400, CLOSED, NOTHING),
    ("te-xchunked", "framing", POST_F + b"Transfer-Encoding: xchunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 400, CLOSED, NOTHING),
    ("te-gzip-unknown", "framing", POST_F + b"Transfer-Encoding: gzip\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 501, CLOSED, NOTHING),
    ("te-identity", "framing", POST_F + b"Transfer-Encoding: identity\r\n\r\nhello", 501, CLOSED, NOTHING),
    ("te-chunked-chunked", "framing", POST_F + b"Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", 400, CLOSED, NOTHING),
    ("te-gzip-chunked", "framing", POST_F + b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 400, CLOSED, NOTHING),
    ("te-leading-comma", "framing", POST_F + b"Transfer-Encoding: , chunked\r\n\r\n0\r\n\r\n", 400, CLOSED, NOTHING),
    ("te-two-lines", "framing", POST_F + b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, CLOSED, NOTHING),
    ("te-two-lines-identity", "framing", POST_F + b"Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n", 400, CLOSED, NOTHING),
    ("te-space-before-colon", "framing", POST_F + b"Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n", 400, CLOSED, NOTHING),
    ("te-tab-before-value", "framing", POST_F + b"Transfer-Encoding: \tchunked\r\n\r\n0\r\n\r\n", 400, CLOSED, NOTHING),
    ("te-vtab-after-value", "framing", POST_F + b"Transfer-Encoding: chunked\x0b\r\n\r\n0\r\n\r\n", 400, CLOSED, NOTHING),
    ("te-quoted", "framing", POST_F + b'Transfer-Encoding: "chunked"\r\n\r\n0\r\n\r\n', 400, CLOSED, NOTHING),
    ("te-parameter", "framing", POST_F + b"Transfer-Encoding: chunked;q=1\r\n\r\n0\r\n\r\n", 400, CLOSED, NOTHING),
    ("te-obs-fold", "framing", POST_F + b"Transfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n", 400, CLOSED, NOTHING),
    ("te-empty", "framing", POST_F + b"Transfer-Encoding: \r\n\r\n0\r\n\r\n", 400, CLOSED, NOTHING),
    ("te-http10", "framing", b"POST /h/f HTTP/1.0\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, CLOSED, NOTHING),
    ("te-upper-case-ok", "framing", POST_F + b"Transfer-Encoding: CHUNKED\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 200, OPEN, (("body", b"hello"), ("has", "transfer-encoding", b"chunked"))),
    ("te-trailing-space-ok", "framing", POST_F + b"Transfer-Encoding: chunked \r\n\r\n5\r\nhello\r\n0\r\n\r\n", 200, OPEN, (("body", b"hello"),)),
    ("te-underscore-name", "framing", POST_F + b"Transfer_Encoding: chunked\r\nContent-Length: 5\r\n\r\nhello", 200, OPEN, (("body", b"hello"), ("lacks", "transfer_encoding"), ("lacks", "transfer-encoding"))),
    ("cl-dup-equal", "framing", POST_F + b"Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello", 400, CLOSED, NOTHING),
    ("cl-dup-differ", "framing", POST_F + b"Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello", 400, CLOSED, NOTHING),
    ("cl-list", "framing", POST_F + b"Content-Length: 5, 5\r\n\r\nhello", 400, CLOSED, NOTHING),
    ("cl-plus", "framing", POST_F + b"Content-Length: +5\r\n\r\nhello", 400, CLOSED, NOTHING),
    ("cl-minus", "framing", POST_F + b"Content-Length: -5\r\n\r\nhello", 400, CLOSED, NOTHING),
    ("cl-hex", "framing", POST_F + b"Content-Length: 0x5\r\n\r\nhello", 400, CLOSED, NOTHING),
    ("cl-empty", "framing", POST_F + b"Content-Length: \r\n\r\nhello", 400, CLOSED, NOTHING),
    ("cl-20-digits", "framing", POST_F + b"Content-Length: 00000000000000000005\r\n\r\nhello", 400, CLOSED, NOTHING),
    ("cl-overflow", "framing", POST_F + b"Content-Length: 99999999999999999999999\r\n\r\nhello", 400, CLOSED, NOTHING),
    ("cl-space-inside", "framing", POST_F + b"Content-Length: 5 5\r\n\r\nhello", 400, CLOSED, NOTHING),
    ("cl-space-before-colon", "framing", POST_F + b"Content-Length : 5\r\n\r\nhello", 400, CLOSED, NOTHING),
    ("cl-obs-fold", "framing", POST_F + b"Content-Length:\r\n 5\r\n\r\nhello", 400, CLOSED, NOTHING),
    ("cl-decimal-point", "framing", POST_F + b"Content-Length: 5.0\r\n\r\nhello", 400, CLOSED, NOTHING),
    ("cl-leading-zeros-ok", "framing", POST_F + b"Content-Length: 005\r\n\r\nhello", 200, OPEN, (("body", b"hello"), ("has", "content-length", b"5"))),
    ("cl-trailing-space-ok", "framing", POST_F + b"Content-Length: 5 \r\n\r\nhello", 200, OPEN, (("body", b"hello"),)),
    ("cl-underscore-smuggle", "framing", POST_F + b"Content_Length: 7\r\n\r\nhello\r\n", [200, 400], CLOSED, (("lines", (_line(b"/h/f", b"POST"),)), ("body", b""))),
    ("cl-get-with-body", "framing", b"GET /h/f HTTP/1.1\r\n" + H + b"Content-Length: 5\r\n\r\nhello", 200, OPEN, (("body", b"hello"),)),
    ("cl-http10-get-body", "framing", b"GET /h/f HTTP/1.0\r\n" + H + b"Content-Length: 5\r\n\r\nhello", 200, CLOSED, (("body", b"hello"),)),
    ("cl-zero", "framing", POST_F + b"Content-Length: 0\r\n\r\n", 200, OPEN, (("body", b""),)),
    # ---- chunked bodies: sizes, extensions, trailers ----
    ("chunk-17-hex-digits", "chunked", POST_C + b"\r\n00000000000000005\r\nhello\r\n0\r\n\r\n", 400, CLOSED, ABORTED),
    ("chunk-overflow", "chunked", POST_C + b"\r\n1FFFFFFFFFFFFFFFF\r\nhello\r\n0\r\n\r\n", 400, CLOSED, ABORTED),
    ("chunk-16-f", "chunked", POST_C + b"\r\nFFFFFFFFFFFFFFFF\r\nhello\r\n0\r\n\r\n", (400, 413), CLOSED, ABORTED),
    ("chunk-0x-prefix", "chunked", POST_C + b"\r\n0x5\r\nhello\r\n0\r\n\r\n", 400, CLOSED, ABORTED),
    ("chunk-plus-sign", "chunked", POST_C + b"\r\n+5\r\nhello\r\n0\r\n\r\n", 400, CLOSED, ABORTED),
    ("chunk-minus-sign", "chunked", POST_C + b"\r\n-5\r\nhello\r\n0\r\n\r\n", 400, CLOSED, ABORTED),
    ("chunk-space-before-crlf", "chunked", POST_C + b"\r\n5 \r\nhello\r\n0\r\n\r\n", 400, CLOSED, ABORTED),
    ("chunk-tab-before-crlf", "chunked", POST_C + b"\r\n5\t\r\nhello\r\n0\r\n\r\n", 400, CLOSED, ABORTED),
    ("chunk-space-before-size", "chunked", POST_C + b"\r\n 5\r\nhello\r\n0\r\n\r\n", 400, CLOSED, ABORTED),
    ("chunk-empty-size-line", "chunked", POST_C + b"\r\n\r\nhello\r\n0\r\n\r\n", 400, CLOSED, ABORTED),
    ("chunk-bare-lf", "chunked", POST_C + b"\r\n5\nhello\r\n0\r\n\r\n", 400, CLOSED, ABORTED),
    ("chunk-bare-cr", "chunked", POST_C + b"\r\n5\rhello\r\n0\r\n\r\n", 400, CLOSED, ABORTED),
    ("chunk-nul-in-size", "chunked", POST_C + b"\r\n5\x00\r\nhello\r\n0\r\n\r\n", 400, CLOSED, ABORTED),
    ("chunk-data-lf-only", "chunked", POST_C + b"\r\n5\r\nhello\n0\r\n\r\n", 400, CLOSED, ABORTED),
    ("chunk-data-too-long", "chunked", POST_C + b"\r\n3\r\nhello\r\n0\r\n\r\n", 400, CLOSED, ABORTED),
    ("chunk-last-bare-lf", "chunked", POST_C + b"\r\n5\r\nhello\r\n0\n\r\n", 400, CLOSED, ABORTED),
    ("chunk-second-bad", "chunked", POST_C + b"\r\n5\r\nhello\r\nzz\r\nhello\r\n0\r\n\r\n", 400, CLOSED, ABORTED),
    ("chunk-ext-ctl", "chunked", POST_C + b"\r\n5;a\x01b\r\nhello\r\n0\r\n\r\n", 400, CLOSED, ABORTED),
    ("chunk-ext-huge", "chunked", POST_C + b"\r\n5;" + b"a" * 20000 + b"\r\nhello\r\n0\r\n\r\n", 400, CLOSED, ABORTED),
    ("chunk-ext-bws", "chunked", POST_C + b"\r\n5 ;a=b\r\nhello\r\n0\r\n\r\n", 400, CLOSED, ABORTED),
    ("chunk-ext-unterminated-quote", "chunked", POST_C + b'\r\n5;a="b\r\nhello\r\n0\r\n\r\n', 400, CLOSED, ABORTED),
    ("chunk-ext-list-ok", "chunked", POST_C + b"\r\n5;a=b;c=d\r\nhello\r\n0;e=f;g\r\n\r\n", 200, OPEN, (("body", b"hello"),)),
    ("chunk-ext-trailing-semicolon", "chunked", POST_C + b"\r\n5;a=b;\r\nhello\r\n0\r\n\r\n", 400, CLOSED, ABORTED),
    ("chunk-trailer-bare-lf", "chunked", POST_C + b"\r\n5\r\nhello\r\n0\r\nX-T: t\n\r\n", 400, CLOSED, ABORTED),
    ("chunk-trailer-no-colon", "chunked", POST_C + b"\r\n5\r\nhello\r\n0\r\nX-T\r\n\r\n", 400, CLOSED, ABORTED),
    ("chunk-trailer-obs-fold", "chunked", POST_C + b"\r\n5\r\nhello\r\n0\r\nX-T: a\r\n b\r\n\r\n", 400, CLOSED, ABORTED),
    ("chunk-trailer-over-8k", "chunked", POST_C + b"\r\n5\r\nhello\r\n0\r\nX-T: " + b"t" * 9000 + b"\r\n\r\n", (400, 431), CLOSED, ABORTED),
    ("chunk-basic-ok", "chunked", POST_C + b"\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", 200, OPEN, (("body", b"hello world"), ("has", "transfer-encoding", b"chunked"))),
    ("chunk-upper-hex-ok", "chunked", POST_C + b"\r\nA\r\n0123456789\r\n0\r\n\r\n", 200, OPEN, (("body", b"0123456789"),)),
    ("chunk-lower-hex-ok", "chunked", POST_C + b"\r\na\r\n0123456789\r\n0\r\n\r\n", 200, OPEN, (("body", b"0123456789"),)),
    ("chunk-leading-zeros-ok", "chunked", POST_C + b"\r\n0005\r\nhello\r\n000\r\n\r\n", 200, OPEN, (("body", b"hello"),)),
    ("chunk-one-byte-chunks-ok", "chunked", POST_C + b"\r\n" + b"".join(b"1\r\n%c\r\n" % c for c in b"hello") + b"0\r\n\r\n", 200, OPEN, (("body", b"hello"),)),
    ("chunk-ext-name-ok", "chunked", POST_C + b"\r\n5;a\r\nhello\r\n0\r\n\r\n", 200, OPEN, (("body", b"hello"),)),
    ("chunk-ext-token-ok", "chunked", POST_C + b"\r\n5;name=value\r\nhello\r\n0;x=y\r\n\r\n", 200, OPEN, (("body", b"hello"),)),
    ("chunk-ext-quoted-ok", "chunked", POST_C + b'\r\n5;a="q r"\r\nhello\r\n0\r\n\r\n', 200, OPEN, (("body", b"hello"),)),
    ("chunk-trailer-dropped", "chunked", POST_C + b"\r\n5\r\nhello\r\n0\r\nX-T: t\r\n\r\n", 200, OPEN, (("body", b"hello"), ("trailers", 0))),
    ("chunk-trailer-framing-dropped", "chunked", POST_C + b"\r\n5\r\nhello\r\n0\r\nContent-Length: 99\r\nHost: evil\r\n\r\n", 200, OPEN, (("body", b"hello"), ("trailers", 0))),
    ("chunk-trailer-te-refused", "chunked", POST_C + b"\r\n5\r\nhello\r\n0\r\nTransfer-Encoding: chunked\r\n\r\n", 400, CLOSED, ABORTED),
    ("chunk-empty-body-ok", "chunked", POST_C + b"\r\n0\r\n\r\n", 200, OPEN, (("body", b""),)),
    # ---- header syntax (hostile-inputs.md "HTTP/1 syntax") ----
    ("hdr-ws-before-colon", "syntax", GET_S + b"Foo : bar\r\n\r\n", 400, CLOSED, NOTHING),
    ("hdr-tab-before-colon", "syntax", GET_S + b"Foo\t: bar\r\n\r\n", 400, CLOSED, NOTHING),
    ("hdr-space-in-name", "syntax", GET_S + b"Fo o: bar\r\n\r\n", 400, CLOSED, NOTHING),
    ("hdr-name-paren", "syntax", GET_S + b"Fo(o: bar\r\n\r\n", 400, CLOSED, NOTHING),
    ("hdr-name-quote", "syntax", GET_S + b'Fo"o: bar\r\n\r\n', 400, CLOSED, NOTHING),
    ("hdr-name-slash", "syntax", GET_S + b"Fo/o: bar\r\n\r\n", 400, CLOSED, NOTHING),
    ("hdr-name-high-byte", "syntax", GET_S + b"Fo\x80o: bar\r\n\r\n", 400, CLOSED, NOTHING),
    ("hdr-name-nul", "syntax", GET_S + b"Fo\x00o: bar\r\n\r\n", 400, CLOSED, NOTHING),
    ("hdr-no-colon", "syntax", GET_S + b"Foo\r\n\r\n", 400, CLOSED, NOTHING),
    ("hdr-value-cr", "syntax", GET_S + b"X-A: a\rb\r\n\r\n", 400, CLOSED, NOTHING),
    ("hdr-value-cr-injection", "syntax", GET_S + b"X-A: a\rX-Injected: 1\r\n\r\n", 400, CLOSED, NOTHING),
    ("hdr-value-nul", "syntax", GET_S + b"X-A: a\x00b\r\n\r\n", 400, CLOSED, NOTHING),
    ("hdr-value-ctl", "syntax", GET_S + b"X-A: a\x01b\r\n\r\n", 400, CLOSED, NOTHING),
    ("hdr-value-esc", "syntax", GET_S + b"X-A: a\x1bb\r\n\r\n", 400, CLOSED, NOTHING),
    ("hdr-value-del", "syntax", GET_S + b"X-A: a\x7fb\r\n\r\n", 400, CLOSED, NOTHING),
    ("hdr-obs-fold-tab", "syntax", GET_S + b"X-A: a\r\n\tb\r\n\r\n", 400, CLOSED, NOTHING),
    ("hdr-leading-ws-first", "syntax", b"GET /h/s HTTP/1.1\r\n X-A: a\r\n" + H + b"\r\n", 400, CLOSED, NOTHING),
    ("hdr-bare-lf-all", "syntax", b"GET /h/s HTTP/1.1\nHost: example.com\n\n", 400, CLOSED, NOTHING),
    ("hdr-bare-lf-one", "syntax", GET_S + b"X-A: a\nX-B: b\r\n\r\n", 400, CLOSED, NOTHING),
    ("hdr-bare-lf-end", "syntax", GET_S + b"\n", 400, CLOSED, NOTHING),
    ("hdr-bare-cr-end", "syntax", GET_S + b"X-A: a\r\r\n\r\n", 400, CLOSED, NOTHING),
    ("hdr-value-htab-ok", "syntax", GET_S + b"X-Tab: a\tb\r\n\r\n", 200, OPEN, (("has", "x-tab", b"a\tb"),)),
    ("hdr-value-obs-text-ok", "syntax", GET_S + b"X-U: caf\xc3\xa9\r\n\r\n", 200, OPEN, (("has", "x-u", b"caf\xc3\xa9"),)),
    ("hdr-value-empty-ok", "syntax", GET_S + b"X-E:\r\n\r\n", 200, OPEN, (("has", "x-e", b""),)),
    ("hdr-value-ows-trimmed", "syntax", GET_S + b"X-W: \t v \t\r\n\r\n", 200, OPEN, (("has", "x-w", b"v"),)),
    ("hdr-underscore-dropped", "syntax", GET_S + b"X_Custom: 1\r\nX-Ok: 1\r\n\r\n", 200, OPEN, (("lacks", "x_custom"), ("has", "x-ok", b"1"))),
    ("hdr-long-name-ok", "syntax", GET_S + b"X-" + b"n" * 1000 + b": v\r\n\r\n", 200, OPEN, (("has", "x-" + "n" * 1000, b"v"),)),
    ("hdr-tchar-name-ok", "syntax", GET_S + b"X!#$%&'*+-.^_`|~1: v\r\n\r\n", 200, OPEN, (("lacks", "x!#$%&'*+-.^_`|~1"),)),
    ("hdr-leading-crlf-ok", "syntax", b"\r\n\r\n" + GET_S + b"\r\n", 200, OPEN, (("line", _line(b"/h/s")),)),
    ("hdr-leading-bare-lf", "syntax", b"\n" + GET_S + b"\r\n", 400, CLOSED, NOTHING),
    # ---- request line ----
    ("rl-two-spaces-before-version", "request-line", b"GET /h/r  HTTP/1.1\r\n" + H + b"\r\n", 400, CLOSED, NOTHING),
    ("rl-tab-separator", "request-line", b"GET\t/h/r HTTP/1.1\r\n" + H + b"\r\n", 400, CLOSED, NOTHING),
    ("rl-trailing-space", "request-line", b"GET /h/r HTTP/1.1 \r\n" + H + b"\r\n", 400, CLOSED, NOTHING),
    ("rl-leading-space", "request-line", b" GET /h/r HTTP/1.1\r\n" + H + b"\r\n", 400, CLOSED, NOTHING),
    ("rl-bare-lf", "request-line", b"GET /h/r HTTP/1.1\n" + H + b"\r\n", 400, CLOSED, NOTHING),
    ("rl-bare-cr", "request-line", b"GET /h/r HTTP/1.1\r" + H + b"\r\n", 400, CLOSED, NOTHING),
    ("rl-no-target", "request-line", b"GET HTTP/1.1\r\n" + H + b"\r\n", 400, CLOSED, NOTHING),
    ("rl-method-not-token", "request-line", b"GE(T /h/r HTTP/1.1\r\n" + H + b"\r\n", 400, CLOSED, NOTHING),
    ("rl-method-high-byte", "request-line", b"G\xc3\x89T /h/r HTTP/1.1\r\n" + H + b"\r\n", 400, CLOSED, NOTHING),
    ("rl-method-nul", "request-line", b"GE\x00T /h/r HTTP/1.1\r\n" + H + b"\r\n", 400, CLOSED, NOTHING),
    ("rl-method-custom-ok", "request-line", _req(b"/h/r", b"PURGE"), 200, OPEN, (("line", _line(b"/h/r", b"PURGE")),)),
    ("rl-method-lower-ok", "request-line", _req(b"/h/r", b"get"), 200, OPEN, (("line", _line(b"/h/r", b"get")),)),
    ("rl-connect", "request-line", b"CONNECT example.com:443 HTTP/1.1\r\n" + H + b"\r\n", 405, CLOSED, NOTHING),
    ("rl-connect-lower", "request-line", b"connect example.com:443 HTTP/1.1\r\n" + H + b"\r\n", 405, CLOSED, NOTHING),
    ("rl-trace", "request-line", _req(b"/h/r", b"TRACE"), 405, CLOSED, NOTHING),
    ("rl-trace-mixed-case", "request-line", _req(b"/h/r", b"TrAcE"), 405, CLOSED, NOTHING),
    ("rl-version-1.2", "request-line", b"GET /h/r HTTP/1.2\r\n" + H + b"\r\n", 505, CLOSED, NOTHING),
    ("rl-version-2.0", "request-line", b"GET /h/r HTTP/2.0\r\n" + H + b"\r\n", 505, CLOSED, NOTHING),
    ("rl-version-0.9", "request-line", b"GET /h/r HTTP/0.9\r\n" + H + b"\r\n", 505, CLOSED, NOTHING),
    ("rl-version-lowercase", "request-line", b"GET /h/r http/1.1\r\n" + H + b"\r\n", 400, CLOSED, NOTHING),
    ("rl-version-extra-digit", "request-line", b"GET /h/r HTTP/1.1.1\r\n" + H + b"\r\n", 400, CLOSED, NOTHING),
    ("rl-version-leading-zero", "request-line", b"GET /h/r HTTP/01.1\r\n" + H + b"\r\n", 400, CLOSED, NOTHING),
    ("rl-version-no-minor", "request-line", b"GET /h/r HTTP/1\r\n" + H + b"\r\n", 400, CLOSED, NOTHING),
    ("rl-version-10-ok", "request-line", b"GET /h/r HTTP/1.0\r\n" + H + b"\r\n", 200, CLOSED, (("line", _line(b"/h/r")),)),
    ("rl-version-10-keepalive-ok", "request-line", b"GET /h/r HTTP/1.0\r\n" + H + b"Connection: keep-alive\r\n\r\n", 200, OPEN, (("line", _line(b"/h/r")),)),
    ("rl-options-asterisk-ok", "request-line", _req(b"*", b"OPTIONS"), 200, OPEN, (("line", _line(b"*", b"OPTIONS")),)),
    ("rl-get-asterisk", "request-line", _req(b"*"), 400, CLOSED, NOTHING),
    # ---- llhttp 8.1 gaps that baton's own scanners close (hostile-inputs.md) ----
    ("gap-empty-header-name", "llhttp-gap", GET_S + b": x\r\n\r\n", 400, CLOSED, NOTHING),
    ("gap-obs-fold", "llhttp-gap", GET_S + b"X-A: a\r\n b\r\n\r\n", 400, CLOSED, NOTHING),
    ("gap-obs-fold-te", "llhttp-gap", POST_F + b"Transfer-Encoding: gzip,\r\n chunked\r\n\r\n0\r\n\r\n", 400, CLOSED, NOTHING),
    ("gap-tab-in-target", "llhttp-gap", _req(b"/h/a\tb"), 400, CLOSED, NOTHING),
    ("gap-http09", "llhttp-gap", b"GET /h/r\r\n\r\n", 400, CLOSED, NOTHING),
    ("gap-chunk-data-not-crlf", "llhttp-gap", POST_C + b"\r\n3\r\nabcXX0\r\n\r\n", 400, CLOSED, ABORTED),
    ("gap-hash-in-target", "llhttp-gap", _req(b"/h/a#frag"), 200, OPEN, (("line", _line(b"/h/a")),)),
    ("gap-two-spaces-after-method", "llhttp-gap", b"GET  /h/r HTTP/1.1\r\n" + H + b"\r\n", 400, CLOSED, NOTHING),
    # ---- request target policy (url-policy.md) ----
    ("tgt-percent-utf8", "target", _req(b"/%E4%B8%AD%E6%96%87"), 200, OPEN, (("line", _line(b"/%E4%B8%AD%E6%96%87")),)),
    ("tgt-raw-utf8", "target", _req("/中文".encode()), 200, OPEN, (("line", _line("/中文".encode())),)),
    ("tgt-raw-utf8-query", "target", _req(b"/s?q=" + "中文".encode()), 200, OPEN, (("line", _line(b"/s?q=" + "中文".encode())),)),
    ("tgt-raw-gbk", "target", _req(b"/\xd6\xd0\xce\xc4"), 200, OPEN, (("line", _line(b"/\xd6\xd0\xce\xc4")),)),
    ("tgt-gbk-trail-5c-7c", "target", _req(b"/\x95\x5c\x95\x7c"), 200, OPEN, (("line", _line(b"/\x95\x5c\x95\x7c")),)),
    ("tgt-invalid-utf8", "target", _req(b"/a\x80b\xffc"), 200, OPEN, (("line", _line(b"/a\x80b\xffc")),)),
    ("tgt-lower-hex-kept", "target", _req(b"/%e4%b8%ad"), 200, OPEN, (("line", _line(b"/%e4%b8%ad")),)),
    ("tgt-never-decoded", "target", _req(b"/a%2Fb%5Cc%00d%3Fe%23f"), 200, OPEN, (("line", _line(b"/a%2Fb%5Cc%00d%3Fe%23f")),)),
    ("tgt-bad-percent", "target", _req(b"/a%zz%4%"), 200, OPEN, (("line", _line(b"/a%zz%4%")),)),
    ("tgt-unsafe-ascii", "target", _req(b'/q"<>\\^`{|}[]'), 200, OPEN, (("line", _line(b'/q"<>\\^`{|}[]')),)),
    ("tgt-query-slashes", "target", _req(b"/q?a=//b/../c&d=%2F"), 200, OPEN, (("line", _line(b"/q?a=//b/../c&d=%2F")),)),
    ("tgt-empty-query", "target", _req(b"/q?"), 200, OPEN, (("line", _line(b"/q?")),)),
    ("tgt-fragment-after-query", "target", _req(b"/q?a=1#f?g"), 200, OPEN, (("line", _line(b"/q?a=1")),)),
    ("tgt-space", "target", _req(b"/a b"), 400, CLOSED, NOTHING),
    ("tgt-nul", "target", _req(b"/a\x00b"), 400, CLOSED, NOTHING),
    ("tgt-del", "target", _req(b"/a\x7fb"), 400, CLOSED, NOTHING),
    ("tgt-cr", "target", _req(b"/a\rb"), 400, CLOSED, NOTHING),
    ("tgt-vt", "target", _req(b"/a\x0bb"), 400, CLOSED, NOTHING),
    ("tgt-ff", "target", _req(b"/a\x0cb"), 400, CLOSED, NOTHING),
    ("tgt-c0", "target", _req(b"/a\x01b"), 400, CLOSED, NOTHING),
    ("tgt-not-a-target", "target", _req(b"abc"), 400, CLOSED, NOTHING),
    ("tgt-authority-form", "target", _req(b"example.com:80"), 400, CLOSED, NOTHING),
    ("tgt-absolute-form", "target", b"GET http://h/x HTTP/1.1\r\nHost: other.example\r\n\r\n", 200, OPEN, (("line", _line(b"/x")), ("has", "host", b"vhost-h.internal"))),
    ("tgt-absolute-form-utf8", "target", b"GET http://h/\xe4\xb8\xad HTTP/1.1\r\nHost: other.example\r\n\r\n", 200, OPEN, (("line", _line(b"/\xe4\xb8\xad")), ("has", "host", b"vhost-h.internal"))),
    ("tgt-absolute-form-no-path", "target", b"GET http://other.example HTTP/1.1\r\n" + H + b"\r\n", 200, OPEN, (("line", _line(b"/")), ("has", "host", b"other.example"))),
    ("tgt-absolute-form-port", "target", b"GET http://other.example:8080/x HTTP/1.1\r\n" + H + b"\r\n", 200, OPEN, (("line", _line(b"/x")), ("has", "host", b"other.example:8080"))),
    ("tgt-absolute-form-userinfo", "target", b"GET http://u@other.example/x HTTP/1.1\r\n" + H + b"\r\n", 400, CLOSED, NOTHING),
    ("tgt-absolute-form-bad-scheme", "target", b"GET ftp://other.example/x HTTP/1.1\r\n" + H + b"\r\n", 400, CLOSED, NOTHING),
    ("tgt-line-too-long", "target", _req(b"/" + b"a" * 9000), 414, CLOSED, NOTHING),
    # ---- path normalisation and routing ----
    ("norm-dotdot", "normalisation", _req(b"/api/../admin/x"), 200, OPEN, (("line", _line(b"/admin/x")), ("has", "host", b"admin.internal"))),
    ("norm-encoded-dotdot", "normalisation", _req(b"/api/%2e%2e/admin/x"), 200, OPEN, (("line", _line(b"/admin/x")), ("has", "host", b"admin.internal"))),
    ("norm-upper-encoded-dotdot", "normalisation", _req(b"/api/%2E%2E/admin/x"), 200, OPEN, (("line", _line(b"/admin/x")), ("has", "host", b"admin.internal"))),
    ("norm-mixed-dotdot", "normalisation", _req(b"/api/.%2e/admin/x"), 200, OPEN, (("line", _line(b"/admin/x")), ("has", "host", b"admin.internal"))),
    ("norm-dot", "normalisation", _req(b"/api/./x/%2e/y"), 200, OPEN, (("line", _line(b"/api/x/y")), ("has", "host", b"api.internal"))),
    ("norm-trailing-dotdot", "normalisation", _req(b"/api/x/.."), 200, OPEN, (("line", _line(b"/api/")), ("has", "host", b"api.internal"))),
    ("norm-above-root", "normalisation", _req(b"/../x"), 400, CLOSED, NOTHING),
    ("norm-encoded-above-root", "normalisation", _req(b"/%2e%2e/x"), 400, CLOSED, NOTHING),
    ("norm-deep-above-root", "normalisation", _req(b"/a/../../x"), 400, CLOSED, NOTHING),
    ("norm-three-dots-literal", "normalisation", _req(b"/api/.../x"), 200, OPEN, (("line", _line(b"/api/.../x")), ("has", "host", b"api.internal"))),
    ("norm-encoded-slash-not-separator", "normalisation", _req(b"/api%2F..%2Fadmin"), 200, OPEN, (("line", _line(b"/api%2F..%2Fadmin")), ("has", "host", b"example.com"))),
    ("norm-backslash-not-separator", "normalisation", _req(b"/api\\..\\admin"), 200, OPEN, (("line", _line(b"/api\\..\\admin")), ("has", "host", b"example.com"))),
    ("norm-double-encoded", "normalisation", _req(b"/api/%252e%252e/admin"), 200, OPEN, (("line", _line(b"/api/%252e%252e/admin")), ("has", "host", b"api.internal"))),
    ("norm-overlong-dot-encoded", "normalisation", _req(b"/api/%c0%ae%c0%ae/admin"), 200, OPEN, (("line", _line(b"/api/%c0%ae%c0%ae/admin")), ("has", "host", b"api.internal"))),
    ("norm-overlong-dot-raw", "normalisation", _req(b"/api/\xc0\xae\xc0\xae/admin"), 200, OPEN, (("line", _line(b"/api/\xc0\xae\xc0\xae/admin")), ("has", "host", b"api.internal"))),
    ("norm-case-sensitive", "normalisation", _req(b"/API/x"), 200, OPEN, (("line", _line(b"/API/x")), ("has", "host", b"example.com"))),
    ("norm-segment-boundary", "normalisation", _req(b"/apix"), 200, OPEN, (("line", _line(b"/apix")), ("has", "host", b"example.com"))),
    ("norm-prefix-exact", "normalisation", _req(b"/api"), 200, OPEN, (("line", _line(b"/api")), ("has", "host", b"api.internal"))),
    ("norm-unreserved-decoded-for-routing", "normalisation", _req(b"/%61pi/x"), 200, OPEN, (("has", "host", b"api.internal"),)),
    ("norm-merge-slashes", "normalisation", _req(b"//api///x"), 200, OPEN, (("line", _line(b"/api/x")), ("has", "host", b"api.internal"))),
    # ---- sizes ----
    ("size-line-just-under", "sizes", _req(b"/h/" + b"a" * 8000), 200, OPEN, (("line", _line(b"/h/" + b"a" * 8000)),)),
    ("size-target-over-8k", "sizes", _req(b"/h/" + b"a" * 8200), 414, CLOSED, NOTHING),
    ("size-field-over-8k", "sizes", GET_S + b"X-Big: " + b"a" * 9000 + b"\r\n\r\n", 431, CLOSED, NOTHING),
    ("size-block-over-32k", "sizes", GET_S + b"".join(b"X-B%d: %s\r\n" % (i, b"a" * 7000) for i in range(5)) + b"\r\n", 431, CLOSED, NOTHING),
    ("size-101-fields", "sizes", GET_S + b"".join(b"X-C%d: c\r\n" % i for i in range(100)) + b"\r\n", 431, CLOSED, NOTHING),
    ("size-100-fields-ok", "sizes", GET_S + b"".join(b"X-C%d: c\r\n" % i for i in range(99)) + b"\r\n", 200, OPEN, (("has", "x-c98", b"c"),)),
    ("size-cl-over-route-limit", "sizes", b"POST /limited HTTP/1.1\r\n" + H + b"Content-Length: 2000\r\n\r\n" + b"x" * 2000, 413, CLOSED, NOTHING),
    ("size-cl-19-digits", "sizes", b"POST /limited HTTP/1.1\r\n" + H + b"Content-Length: 9999999999999999999\r\n\r\nx", 413, CLOSED, NOTHING),
    ("size-chunked-over-route-limit", "sizes", b"POST /limited HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n800\r\n" + b"x" * 2048 + b"\r\n0\r\n\r\n", 413, CLOSED, ABORTED),
    ("size-body-at-limit-ok", "sizes", b"POST /limited HTTP/1.1\r\n" + H + b"Content-Length: 1024\r\n\r\n" + b"x" * 1024, 200, OPEN, (("body", b"x" * 1024),)),
    # ---- pipelining ----
    ("pipe-two", "pipelining", _req(b"/h/p1") + _req(b"/h/p2"), [200, 200], OPEN, (("lines", (_line(b"/h/p1"), _line(b"/h/p2"))),)),
    ("pipe-hundred", "pipelining", GET_P * 100, [200] * 100, OPEN, (("lines", (_line(b"/h/p"),) * 100),)),
    ("pipe-body-then-next", "pipelining", POST_F + b"Content-Length: 5\r\n\r\nhello" + _req(b"/h/p2"), [200, 200], OPEN, (("lines", (_line(b"/h/f", b"POST"), _line(b"/h/p2"))), ("body", b"hello"))),
    ("pipe-chunked-then-next", "pipelining", POST_C + b"\r\n5\r\nhello\r\n0\r\n\r\n" + _req(b"/h/p2"), [200, 200], OPEN, (("lines", (_line(b"/h/c", b"POST"), _line(b"/h/p2"))), ("body", b"hello"))),
    ("pipe-half-next", "pipelining", (_req(b"/h/p1") + b"GET /h/p2 HTTP/1.1\r\nHo", b"st: example.com\r\n\r\n"), [200, 200], OPEN, (("lines", (_line(b"/h/p1"), _line(b"/h/p2"))),)),
    ("pipe-split-in-chunk", "pipelining", (POST_C + b"\r\n5\r\nhel", b"lo\r\n0\r\n\r\n"), ["none", 200], OPEN, (("body", b"hello"),)),
    ("pipe-head-then-get", "pipelining", _req(b"/h/p1", b"HEAD") + _req(b"/h/p2"), [200, 200], OPEN, (("lines", (_line(b"/h/p1", b"HEAD"), _line(b"/h/p2"))),)),
    ("pipe-error-discards-rest", "pipelining", _req(b"/h/p1") + POST_F + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + _req(b"/h/p3"), [200, 400], CLOSED, (("lines", (_line(b"/h/p1"),)),)),
    ("pipe-close-stops", "pipelining", b"GET /h/p1 HTTP/1.1\r\n" + H + b"Connection: close\r\n\r\n" + _req(b"/h/p2"), 200, CLOSED, (("lines", (_line(b"/h/p1"),)),)),
    # ---- Expect ----
    ("expect-continue-ok", "expect", POST_F + b"Expect: 100-continue\r\nContent-Length: 5\r\n\r\nhello", 200, OPEN, (("body", b"hello"),)),
    ("expect-continue-case", "expect", POST_F + b"Expect: 100-Continue\r\nContent-Length: 5\r\n\r\nhello", 200, OPEN, (("body", b"hello"),)),
    ("expect-continue-no-body", "expect", GET_S + b"Expect: 100-continue\r\n\r\n", 200, OPEN, (("line", _line(b"/h/s")),)),
    ("expect-unknown", "expect", GET_S + b"Expect: teapot\r\n\r\n", 417, CLOSED, NOTHING),
    ("expect-unknown-http10-ignored", "expect", b"GET /h/s HTTP/1.0\r\n" + H + b"Expect: teapot\r\n\r\n", 200, CLOSED, (("line", _line(b"/h/s")),)),
    ("expect-early-413", "expect", b"POST /limited HTTP/1.1\r\n" + H + b"Expect: 100-continue\r\nContent-Length: 2000\r\n\r\n" + (b"GET /smuggled HTTP/1.1\r\n" + H + b"\r\n").ljust(2000, b"x"), 413, CLOSED, NOTHING),
    # ---- Upgrade (websocket forwarded on routes that allow it; a non-101 answer keeps HTTP; h2c stripped) ----
    ("upgrade-websocket-forwarded", "upgrade", GET_S + b"Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", 200, OPEN, (("has", "upgrade", b"websocket"), ("has", "connection", b"Upgrade"), ("has", "sec-websocket-key", b"dGhlIHNhbXBsZSBub25jZQ=="))),
    ("upgrade-h2c-stripped", "upgrade", GET_S + b"Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n", 200, OPEN, (("lacks", "upgrade"), ("lacks", "http2-settings"))),
    ("upgrade-without-connection", "upgrade", GET_S + b"Upgrade: websocket\r\n\r\n", 200, OPEN, (("lacks", "upgrade"),)),
    ("upgrade-early-frame-bytes", "upgrade", GET_S + b"Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", [200, 400], CLOSED, (("lines", (_line(b"/h/s"),)),)),
    ("upgrade-h2-preface", "upgrade", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", (400, 505), CLOSED, NOTHING),
    # ---- Host ----
    ("host-missing", "host", b"GET /h/s HTTP/1.1\r\n\r\n", 400, CLOSED, NOTHING),
    ("host-missing-http10-ok", "host", b"GET /h/s HTTP/1.0\r\n\r\n", 200, CLOSED, (("line", _line(b"/h/s")),)),
    ("host-repeated", "host", GET_S + H + b"\r\n", 400, CLOSED, NOTHING),
    ("host-empty", "host", b"GET /h/s HTTP/1.1\r\nHost:\r\n\r\n", 400, CLOSED, NOTHING),
    ("host-list", "host", b"GET /h/s HTTP/1.1\r\nHost: a.com, b.com\r\n\r\n", 400, CLOSED, NOTHING),
    ("host-space", "host", b"GET /h/s HTTP/1.1\r\nHost: a .com\r\n\r\n", 400, CLOSED, NOTHING),
    ("host-ctl", "host", b"GET /h/s HTTP/1.1\r\nHost: a\x01.com\r\n\r\n", 400, CLOSED, NOTHING),
    ("host-at", "host", b"GET /h/s HTTP/1.1\r\nHost: user@a.com\r\n\r\n", 400, CLOSED, NOTHING),
    ("host-slash", "host", b"GET /h/s HTTP/1.1\r\nHost: a.com/x\r\n\r\n", 400, CLOSED, NOTHING),
    ("host-backslash", "host", b"GET /h/s HTTP/1.1\r\nHost: a.com\\x\r\n\r\n", 400, CLOSED, NOTHING),
    ("host-vhost-case-dot", "host", b"GET /h/s HTTP/1.1\r\nHost: H.\r\n\r\n", 200, OPEN, (("has", "host", b"vhost-h.internal"),)),
    ("host-port-ok", "host", b"GET /h/s HTTP/1.1\r\nHost: h:8080\r\n\r\n", 200, OPEN, (("has", "host", b"vhost-h.internal"),)),
    # ---- forwarding headers (the peer, 127.0.0.1, is not a trusted proxy) ----
    ("fwd-xff-spoofed", "forwarding", GET_S + b"X-Forwarded-For: 6.6.6.6\r\n\r\n", 200, OPEN, (("has", "x-forwarded-for", b"127.0.0.1"), ("without", "x-forwarded-for", b"6.6.6.6"))),
    ("fwd-xff-two-lines", "forwarding", GET_S + b"X-Forwarded-For: 6.6.6.6\r\nX-Forwarded-For: 7.7.7.7\r\n\r\n", 200, OPEN, (("has", "x-forwarded-for", b"127.0.0.1"), ("without", "x-forwarded-for", b"7.7.7.7"))),
    ("fwd-xff-underscore", "forwarding", GET_S + b"X_Forwarded_For: 6.6.6.6\r\n\r\n", 200, OPEN, (("has", "x-forwarded-for", b"127.0.0.1"), ("lacks", "x_forwarded_for"))),
    ("fwd-x-real-ip", "forwarding", GET_S + b"X-Real-IP: 6.6.6.6\r\n\r\n", 200, OPEN, (("without", "x-real-ip", b"6.6.6.6"),)),
    ("fwd-forwarded", "forwarding", GET_S + b"Forwarded: for=6.6.6.6;proto=https\r\n\r\n", 200, OPEN, (("without", "forwarded", b"6.6.6.6"),)),
    ("fwd-xf-proto-host", "forwarding", GET_S + b"X-Forwarded-Proto: https\r\nX-Forwarded-Host: evil.example\r\n\r\n", 200, OPEN, (("has", "x-forwarded-proto", b"http"), ("has", "x-forwarded-host", b"example.com"))),
    ("fwd-connection-lists-xff", "forwarding", GET_S + b"Connection: X-Forwarded-For, X-Request-Id\r\nX-Forwarded-For: 6.6.6.6\r\n\r\n", 200, OPEN, (("has", "x-forwarded-for", b"127.0.0.1"), ("has", "x-request-id", None))),
    ("fwd-connection-lists-custom", "forwarding", GET_S + b"Connection: keep-alive, X-Secret\r\nX-Secret: s\r\nX-Kept: k\r\n\r\n", 200, OPEN, (("lacks", "x-secret"), ("has", "x-kept", b"k"))),
    ("fwd-hop-by-hop", "forwarding", GET_S + b"Keep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\nTE: trailers\r\n\r\n", 200, OPEN, (("lacks", "keep-alive"), ("lacks", "proxy-connection"), ("lacks", "te"))),
]


RESPONSE_CASES = [
    ("resp-bad-status-code", "response", b"HTTP/1.1 abc OK\r\nContent-Length: 0\r\n\r\n", 502, OPEN, None),
    ("resp-status-4-digits", "response", b"HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n", 502, OPEN, None),
    ("resp-garbage-status-line", "response", b"FOO\r\n\r\n", 502, OPEN, None),
    ("resp-http09-body", "response", b"hello world\n", 502, OPEN, None),
    ("resp-version-2", "response", b"HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n", 502, OPEN, None),
    ("resp-empty", "response", b"", 502, OPEN, None),
    ("resp-cl-and-te", "response", b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 200, OPEN, ("body", b"hello")),
    ("resp-dup-cl-differ", "response", b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 5\r\n\r\nhello", 502, OPEN, None),
    ("resp-dup-cl-equal", "response", b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello", 502, OPEN, None),
    ("resp-negative-cl", "response", b"HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\nhello", 502, OPEN, None),
    ("resp-cl-list", "response", b"HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\nhello", 502, OPEN, None),
    ("resp-value-cr", "response", b"HTTP/1.1 200 OK\r\nX-A: a\rSet-Cookie: x\r\nContent-Length: 0\r\n\r\n", 502, OPEN, None),
    ("resp-value-nul", "response", b"HTTP/1.1 200 OK\r\nX-A: a\x00b\r\nContent-Length: 0\r\n\r\n", 502, OPEN, None),
    ("resp-value-bare-lf", "response", b"HTTP/1.1 200 OK\r\nX-A: a\nSet-Cookie: x\r\nContent-Length: 0\r\n\r\n", 502, OPEN, None),
    ("resp-space-before-colon", "response", b"HTTP/1.1 200 OK\r\nX-A : a\r\nContent-Length: 0\r\n\r\n", 502, OPEN, None),
    ("resp-obs-fold", "response", b"HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nContent-Length: 0\r\n\r\n", 502, OPEN, None),
    ("resp-oversized-field", "response", b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 70000 + b"\r\nContent-Length: 0\r\n\r\n", 502, OPEN, None),
    ("resp-too-many-fields", "response", b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-F%d: f\r\n" % i for i in range(300)) + b"Content-Length: 0\r\n\r\n", 502, OPEN, None),
    ("resp-101-unrequested", "response", b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n", 502, OPEN, None),
    ("resp-truncated-chunked", "response", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", "truncated", CLOSED, None),
    ("resp-truncated-cl", "response", b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello", "truncated", CLOSED, None),
    ("resp-bad-chunk-size", "response", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n", (502, "truncated"), CLOSED, None),
    ("resp-103-then-200", "response", b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 200, OPEN, ("body", b"ok")),
    ("resp-extra-bytes-after-body", "response", b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nevil", 200, OPEN, ("body", b"ok")),
    ("resp-read-until-close", "response", b"HTTP/1.1 200 OK\r\n\r\nhello", 200, None, ("body", b"hello")),
    ("resp-204-with-body", "response", b"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nhello", 204, OPEN, ("body", b"")),
    ("resp-no-reason-ok", "response", b"HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok", 200, OPEN, ("body", b"ok")),
    ("resp-http10-ok", "response", b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", 200, OPEN, ("body", b"ok")),
]
