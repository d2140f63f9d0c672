#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# Writes bad/*.http: requests that a strict HTTP/1.1 server must refuse with 400 and close.
# The parser unit test and the integration test both replay every file.
import os

H = b"Host: example.test\r\n"
POST = b"POST /echo HTTP/1.1\r\n" + H
CHUNKED = POST + b"Transfer-Encoding: chunked\r\n\r\n"

cases = {
    # Content-Length
    "cl-duplicate-same": POST + b"Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
    "cl-duplicate-different": POST + b"Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
    "cl-list": POST + b"Content-Length: 5, 5\r\n\r\nhello",
    "cl-negative": POST + b"Content-Length: -1\r\n\r\n",
    "cl-plus-sign": POST + b"Content-Length: +5\r\n\r\nhello",
    "cl-inner-space": POST + b"Content-Length: 5 5\r\n\r\nhello",
    "cl-hex": POST + b"Content-Length: 0x5\r\n\r\nhello",
    "cl-empty": POST + b"Content-Length:\r\n\r\n",
    "cl-overflow": POST + b"Content-Length: 99999999999999999999\r\n\r\n",
    # smuggling: both framings, or codings other than a final chunked
    "cl-and-te": POST + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "te-and-cl": POST + b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
    "te-gzip-chunked": POST + b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
    "te-chunked-gzip": POST + b"Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n",
    "te-identity": POST + b"Transfer-Encoding: identity\r\n\r\n",
    "te-duplicate": POST + b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "te-xchunked": POST + b"Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n",
    "te-chunked-comma": POST + b"Transfer-Encoding: chunked,\r\n\r\n0\r\n\r\n",
    "te-vertical-tab": POST + b"Transfer-Encoding:\x0bchunked\r\n\r\n0\r\n\r\n",
    "te-in-http10": b"POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "te-space-before-colon": POST + b"Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n",
    # header syntax
    "ws-before-colon": b"GET / HTTP/1.1\r\nHost : example.test\r\n\r\n",
    "tab-before-colon": b"GET / HTTP/1.1\r\n" + H + b"X-A\t: b\r\n\r\n",
    "obs-fold-space": b"GET / HTTP/1.1\r\n" + H + b"X-A: b\r\n c\r\n\r\n",
    "obs-fold-tab": b"GET / HTTP/1.1\r\n" + H + b"X-A: b\r\n\tc\r\n\r\n",
    "empty-header-name": b"GET / HTTP/1.1\r\n" + H + b": value\r\n\r\n",
    "header-without-colon": b"GET / HTTP/1.1\r\n" + H + b"X-A b\r\n\r\n",
    "header-name-bad-char": b"GET / HTTP/1.1\r\n" + H + b"X(A): b\r\n\r\n",
    "nul-in-header": b"GET / HTTP/1.1\r\n" + H + b"X-A: b\x00c\r\n\r\n",
    "ctl-in-header": b"GET / HTTP/1.1\r\n" + H + b"X-A: b\x01c\r\n\r\n",
    "del-in-header": b"GET / HTTP/1.1\r\n" + H + b"X-A: b\x7fc\r\n\r\n",
    "overlong-header-line": b"GET / HTTP/1.1\r\n" + H + b"X-A: " + b"a" * 9000 + b"\r\n\r\n",
    # line endings
    "bare-lf-request-line": b"GET / HTTP/1.1\n" + H + b"\r\n",
    "bare-lf-header": b"GET / HTTP/1.1\r\nHost: example.test\n\r\n",
    "bare-lf-end": b"GET / HTTP/1.1\r\n" + H + b"\n",
    "bare-cr-request-line": b"GET / HTTP/1.1\r" + H + b"\r\n",
    "bare-cr-header": b"GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n",
    "leading-bare-lf": b"\nGET / HTTP/1.1\r\n" + H + b"\r\n",
    "many-leading-empty-lines": b"\r\n\r\n\r\nGET / HTTP/1.1\r\n" + H + b"\r\n",
    # request line
    "method-bad-char": b"GE(T / HTTP/1.1\r\n" + H + b"\r\n",
    "method-ctl": b"GE\x01T / HTTP/1.1\r\n" + H + b"\r\n",
    "method-missing": b" / HTTP/1.1\r\n" + H + b"\r\n",
    "method-too-long": b"A" * 100 + b" / HTTP/1.1\r\n" + H + b"\r\n",
    "double-space": b"GET  / HTTP/1.1\r\n" + H + b"\r\n",
    "space-in-target": b"GET /a b HTTP/1.1\r\n" + H + b"\r\n",
    "trailing-space": b"GET / HTTP/1.1 \r\n" + H + b"\r\n",
    "tab-separator": b"GET\t/ HTTP/1.1\r\n" + H + b"\r\n",
    "nul-in-target": b"GET /a\x00b HTTP/1.1\r\n" + H + b"\r\n",
    "non-ascii-target": b"GET /\xc3\xa9 HTTP/1.1\r\n" + H + b"\r\n",
    "fragment-in-target": b"GET /a#b HTTP/1.1\r\n" + H + b"\r\n",
    "relative-target": b"GET a/b HTTP/1.1\r\n" + H + b"\r\n",
    "asterisk-not-options": b"GET * HTTP/1.1\r\n" + H + b"\r\n",
    "connect-origin-form": b"CONNECT / HTTP/1.1\r\n" + H + b"\r\n",
    "absolute-userinfo": b"GET http://user@example.test/ HTTP/1.1\r\n" + H + b"\r\n",
    "overlong-request-line": b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n" + H + b"\r\n",
    "version-missing": b"GET /\r\n" + H + b"\r\n",
    "version-2": b"GET / HTTP/2.0\r\n" + H + b"\r\n",
    "version-0.9": b"GET / HTTP/0.9\r\n" + H + b"\r\n",
    "version-1.2": b"GET / HTTP/1.2\r\n" + H + b"\r\n",
    "version-lowercase": b"GET / http/1.1\r\n" + H + b"\r\n",
    "version-garbage": b"GET / HTTP/1.1x\r\n" + H + b"\r\n",
    "version-leading-zero": b"GET / HTTP/01.1\r\n" + H + b"\r\n",
    # Host
    "host-missing": b"GET / HTTP/1.1\r\n\r\n",
    "host-duplicate": b"GET / HTTP/1.1\r\n" + H + H + b"\r\n",
    "host-space": b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n",
    "host-slash": b"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n",
    "host-empty": b"GET / HTTP/1.1\r\nHost:\r\n\r\n",
    # chunked framing
    "chunk-size-invalid": CHUNKED + b"zz\r\nhello\r\n0\r\n\r\n",
    "chunk-size-negative": CHUNKED + b"-5\r\nhello\r\n0\r\n\r\n",
    "chunk-size-0x": CHUNKED + b"0x5\r\nhello\r\n0\r\n\r\n",
    "chunk-size-trailing-space": CHUNKED + b"5 \r\nhello\r\n0\r\n\r\n",
    "chunk-size-leading-space": CHUNKED + b" 5\r\nhello\r\n0\r\n\r\n",
    "chunk-size-empty": CHUNKED + b"\r\nhello\r\n0\r\n\r\n",
    "chunk-size-overflow": CHUNKED + b"fffffffffffffffffff\r\nhello\r\n0\r\n\r\n",
    "chunk-size-bare-lf": CHUNKED + b"5\nhello\r\n0\r\n\r\n",
    "chunk-data-too-long": CHUNKED + b"5\r\nhelloXX\r\n0\r\n\r\n",
    "chunk-data-bare-lf": CHUNKED + b"5\r\nhello\n0\r\n\r\n",
    "chunk-data-no-crlf": CHUNKED + b"5\r\nhello0\r\n\r\n",
    "chunk-ext-bare-lf": CHUNKED + b"5;a=b\nhello\r\n0\r\n\r\n",
    "chunk-ext-bad-char": CHUNKED + b"5;a b\r\nhello\r\n0\r\n\r\n",
    "chunk-last-bare-lf": CHUNKED + b"0\r\n\n",
    "trailer-without-colon": CHUNKED + b"0\r\nX-T b\r\n\r\n",
    "trailer-ws-before-colon": CHUNKED + b"0\r\nX-T : b\r\n\r\n",
    "trailer-obs-fold": CHUNKED + b"0\r\nX-T: b\r\n c\r\n\r\n",
}

here = os.path.dirname(os.path.abspath(__file__))
bad = os.path.join(here, "bad")
os.makedirs(bad, exist_ok=True)
for old in os.listdir(bad):
    os.unlink(os.path.join(bad, old))
for name, data in cases.items():
    with open(os.path.join(bad, name + ".http"), "wb") as f:
        f.write(data)
print(f"wrote {len(cases)} files to {bad}")
