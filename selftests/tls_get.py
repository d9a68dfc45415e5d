#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""HTTPS GET of / from ADDR:443 with server name NAME (no certificate check).

  tls_get.py ADDR NAME [--pad-alpn]   prints the response body, stripped
  tls_get.py ADDR NAME --resume N     one connection, then N resuming its
                                      session: prints the first's host, the
                                      hosts of the others (sorted, distinct)
                                      and how many of them resumed

--pad-alpn offers long ALPN names: a ClientHello of about 2 kB. The index
pages name their host ("served by HOST"): the host is the body's last word.
"""
import argparse
import socket
import ssl


def context(pad_alpn=False):
    """A client context (a session resumes only through the one it came from)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if pad_alpn:
        ctx.set_alpn_protocols(["x" * 250 + str(i) for i in range(6)] + ["http/1.1"])
    return ctx


def get(ctx, addr, name, session=None):
    """One GET; returns (body, the connection's session, whether it resumed)."""
    raw = socket.create_connection((addr, 443), timeout=20)
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s = ctx.wrap_socket(raw, server_hostname=name, session=session)
    s.sendall(b"GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % name.encode())
    data = b""
    while True:
        try:
            chunk = s.recv(65536)
        except ssl.SSLError:
            break
        if not chunk:
            break
        data += chunk
    body = data.split(b"\r\n\r\n", 1)[-1].decode().strip()
    return body, s.session, s.session_reused


def host(body):
    """The host an index page names, "none" without one."""
    return (body.split() or ["none"])[-1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("addr")
    ap.add_argument("name")
    ap.add_argument("--pad-alpn", action="store_true")
    ap.add_argument("--resume", type=int, default=0)
    a = ap.parse_args()
    ctx = context(a.pad_alpn)
    body, session, _ = get(ctx, a.addr, a.name)
    if not a.resume:
        print(body)
        return
    seen = [get(ctx, a.addr, a.name, session)[0::2] for _ in range(a.resume)]
    print(host(body), " ".join(sorted({host(b) for b, _ in seen})), sum(r for _, r in seen))


if __name__ == "__main__":
    main()
