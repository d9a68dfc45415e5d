#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""A plain HTTP/1.1 server (an ordinary accept() loop) for the handoff tests.

POST / answers the SHA-256 of the request body, so an upload can be checked
end to end; GET /bytes/N answers N deterministic bytes. Keep-alive is on.
Usage: httpd.py ADDR PORT
"""

import hashlib
import http.server
import socketserver
import sys


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
        else:
            self.reply(b"handoff httpd\n")


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


if __name__ == "__main__":
    Server((sys.argv[1], int(sys.argv[2])), Handler).serve_forever()
