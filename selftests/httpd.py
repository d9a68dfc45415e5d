#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""A plain HTTP/1.1 server (an ordinary accept() loop) for the handoff tests.

POST / answers the SHA-256 of the request body, so an upload can be checked
end to end; GET /bytes/N answers N deterministic bytes; GET /tcpinfo answers
what the kernel reports of the serving socket (TCP_INFO: the options in use,
window scales, MSS), e.g. "options ts,sack,wscale snd_wscale 7 rcv_wscale 7
snd_mss 1448". Keep-alive is on.
GET /pad answers "served by NAME pad N SHA" over its X-Pad-* headers.
Usage: httpd.py ADDR PORT [NAME]
"""

import hashlib
import http.server
import socket
import socketserver
import struct
import sys

# struct tcp_info (include/uapi/linux/tcp.h): u8 state, ca_state,
# retransmits, probes, backoff, options, snd_wscale:4 rcv_wscale:4, flags;
# u32 rto, ato, snd_mss, rcv_mss.
TCPI_OPTS = ((1, "ts"), (2, "sack"), (4, "wscale"), (8, "ecn"))


def tcp_info(sock) -> str:
    raw = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
    options, scales = raw[5], raw[6]
    snd_mss = struct.unpack_from("=I", raw, 16)[0]
    names = ",".join(n for bit, n in TCPI_OPTS if options & bit) or "none"
    return (f"options {names} snd_wscale {scales & 15} rcv_wscale {scales >> 4} "
            f"snd_mss {snd_mss}\n")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, body: bytes):
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        left = int(self.headers.get("Content-Length", "0"))
        h = hashlib.sha256()
        while left > 0:
            chunk = self.rfile.read(min(left, 65536))
            if not chunk:
                break
            h.update(chunk)
            left -= len(chunk)
        self.reply((h.hexdigest() + "\n").encode())

    def do_GET(self):
        if self.path.startswith("/bytes/"):
            n = int(self.path[len("/bytes/"):])
            self.reply(bytes(i % 251 for i in range(n)))
        elif self.path == "/tcpinfo":
            self.reply(tcp_info(self.connection).encode())
        elif self.path == "/pad":
            # The X-Pad-* header values as received, in order: a request
            # with large headers reached the application intact.
            pads = [v for k, v in self.headers.items() if k.lower().startswith("x-pad-")]
            digest = hashlib.sha256("".join(pads).encode()).hexdigest()
            self.reply(f"served by {NAME} pad {len(pads)} {digest}\n".encode())
        else:
            self.reply(b"handoff httpd\n")


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


NAME = sys.argv[3] if len(sys.argv) > 3 else "httpd"

if __name__ == "__main__":
    Server((sys.argv[1], int(sys.argv[2])), Handler).serve_forever()
