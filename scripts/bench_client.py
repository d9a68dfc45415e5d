#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The load generator of `make bench` (scripts/bench.sh): N sequential
connections to a URL, each an HTTP/1.0 GET with Connection: close. For every
connection it measures the time from the start of connect() to the first byte
of the response, and reads the response to its end.

Prints one JSON object: n (connections measured), ok, failed, mismatched
(responses without --expect in their body), p50_us, p99_us (nearest rank,
successful connections only), rate (successful connections per second over
the whole run) and elapsed_s.

    bench_client.py [-n N] [--warmup W] [--expect TEXT] [--timeout S] [--samples FILE] URL
"""
import argparse
import json
import socket
import sys
import time
import urllib.parse


def one(host, port, request, timeout, expect):
    """One connection: (µs to the first response byte, body matched)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        t0 = time.perf_counter_ns()
        s.connect((host, port))
        s.sendall(request)
        first = s.recv(65536)
        t1 = time.perf_counter_ns()
        if not first:
            raise ConnectionError("closed before the response")
        chunks = [first]
        while True:
            b = s.recv(65536)
            if not b:
                break
            chunks.append(b)
    finally:
        s.close()
    resp = b"".join(chunks)
    if not resp.startswith(b"HTTP/1.") or b" 200 " not in resp.split(b"\r\n", 1)[0]:
        raise ConnectionError("not a 200 response: %r" % resp[:40])
    return (t1 - t0) / 1000.0, expect is None or expect in resp


def pct(sorted_vals, p):
    """Nearest-rank percentile of a sorted list."""
    if not sorted_vals:
        return None
    k = max(0, min(len(sorted_vals) - 1, -(-p * len(sorted_vals) // 100) - 1))
    return sorted_vals[int(k)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", type=int, default=1000, help="connections measured (1000)")
    ap.add_argument("--warmup", type=int, default=10, help="connections before measuring (10)")
    ap.add_argument("--expect", help="text every response body must contain")
    ap.add_argument("--timeout", type=float, default=10.0, help="per-socket-operation timeout, s")
    ap.add_argument("--samples", help="append each latency (us) to this file, one a line")
    ap.add_argument("url")
    a = ap.parse_args()

    u = urllib.parse.urlsplit(a.url)
    if u.scheme != "http" or not u.hostname:
        ap.error("an http:// URL is needed")
    host, port = u.hostname, u.port or 80
    path = u.path or "/"
    if u.query:
        path += "?" + u.query
    request = (
        "GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: handoff-bench\r\n"
        "Connection: close\r\n\r\n" % (path, u.netloc)
    ).encode()
    expect = a.expect.encode() if a.expect else None

    for _ in range(a.warmup):
        try:
            one(host, port, request, a.timeout, expect)
        except OSError:
            pass

    lat, failed, mismatched, errors = [], 0, 0, {}
    start = time.perf_counter_ns()
    for _ in range(a.n):
        try:
            us, matched = one(host, port, request, a.timeout, expect)
        except OSError as e:
            failed += 1
            key = type(e).__name__ + (": %s" % e if isinstance(e, ConnectionError) else "")
            errors[key] = errors.get(key, 0) + 1
            continue
        lat.append(us)
        if not matched:
            mismatched += 1
    elapsed = (time.perf_counter_ns() - start) / 1e9
    if a.samples:
        with open(a.samples, "a") as f:
            f.writelines("%.3f\n" % us for us in lat)
    lat.sort()
    out = {
        "url": a.url,
        "n": a.n,
        "ok": len(lat),
        "failed": failed,
        "mismatched": mismatched,
        "p50_us": pct(lat, 50),
        "p99_us": pct(lat, 99),
        "rate": len(lat) / elapsed if elapsed > 0 else None,
        "elapsed_s": elapsed,
    }
    if errors:
        out["errors"] = errors
    json.dump(out, sys.stdout)
    print()
    return 0 if lat else 1


if __name__ == "__main__":
    sys.exit(main())
