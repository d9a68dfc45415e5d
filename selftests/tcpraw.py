#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Crafted TCP segments for the handoff kselftests.

Sends hand-made IPv4/TCP segments from an address the sending namespace does
not own (so its own stack never answers the replies with RSTs) and reads
the replies with an AF_PACKET socket. The server side must have a static
neighbour entry for that address pointing at this namespace's MAC address.

Prints one JSON object per reply on stdout; exits 0 when the expected reply
(or, with --expect none, no reply) was seen.
"""

import argparse
import json
import os
import random
import select
import socket
import struct
import sys
import time

ETH_P_IP = 0x0800


def csum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def tcp_segment(src, dst, sport, dport, seq, ack, flags, opts=b"", payload=b"", window=64240):
    if len(opts) % 4:
        opts += b"\x01" * (4 - len(opts) % 4)
    doff = (20 + len(opts)) // 4
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, doff << 4, flags, window, 0, 0)
    seg = hdr + opts + payload
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(seg))
    c = csum(pseudo + seg)
    seg = seg[:16] + struct.pack("!H", c) + seg[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(seg), random.randint(0, 65535), 0x4000,
                     64, 6, 0, socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return ip + seg


def parse_opts(b):
    out, i = {}, 0
    while i < len(b):
        k = b[i]
        if k == 0:
            break
        if k == 1:
            i += 1
            continue
        if i + 1 >= len(b) or b[i + 1] < 2:
            out["malformed"] = True
            break
        ln = b[i + 1]
        v = b[i + 2:i + ln]
        if k == 2 and ln == 4:
            out["mss"] = struct.unpack("!H", v)[0]
        elif k == 3 and ln == 3:
            out["wscale"] = v[0]
        elif k == 4:
            out["sack_perm"] = True
        elif k == 8 and ln == 10:
            out["tsval"], out["tsecr"] = struct.unpack("!II", v)
        i += ln
    return out


FLAGS = {"F": 1, "S": 2, "R": 4, "P": 8, "A": 16}


def flag_str(f):
    return "".join(k for k, v in FLAGS.items() if f & v)


class Conn:
    def __init__(self, args):
        self.a = args
        self.tx = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
        self.rx = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_IP))
        self.rx.bind((args.dev, ETH_P_IP))
        self.sport = args.sport or random.randint(20000, 60000)

    def send(self, seq, ack, flags, opts=b"", payload=b""):
        pkt = tcp_segment(self.a.src, self.a.dst, self.sport, self.a.dport, seq, ack, flags, opts, payload)
        self.tx.sendto(pkt, (self.a.dst, 0))

    def replies(self, timeout):
        """Yields the TCP segments from dst:dport to src:sport until timeout."""
        end = time.time() + timeout
        while True:
            left = end - time.time()
            if left <= 0:
                return
            r, _, _ = select.select([self.rx], [], [], left)
            if not r:
                return
            pkt = self.rx.recv(65535)
            if len(pkt) < 40 or pkt[9] != 6:
                continue
            ihl = (pkt[0] & 15) * 4
            src, dst = socket.inet_ntoa(pkt[12:16]), socket.inet_ntoa(pkt[16:20])
            sport, dport, seq, ack, off, flags, win = struct.unpack("!HHIIBBH", pkt[ihl:ihl + 16])
            if src != self.a.dst or dst != self.a.src or sport != self.a.dport or dport != self.sport:
                continue
            doff = (off >> 4) * 4
            yield {"flags": flag_str(flags), "seq": seq, "ack": ack, "window": win,
                   "options": parse_opts(pkt[ihl + 20:ihl + doff]),
                   "payload_len": len(pkt) - ihl - doff}


SYN_OPTS = (b"\x02\x04\x05\xb4"            # MSS 1460
            b"\x04\x02"                    # SACK permitted
            b"\x08\x0a\x00\x00\x10\x00\x00\x00\x00\x00"  # TS val 4096
            b"\x01\x03\x03\x07")           # NOP, WS 7


def first(gen, pred):
    for r in gen:
        print(json.dumps(r), flush=True)
        if pred(r):
            return r
    return None


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dev", required=True)
    p.add_argument("--src", required=True)
    p.add_argument("--dst", required=True)
    p.add_argument("--dport", type=int, default=80)
    p.add_argument("--sport", type=int, default=0)
    p.add_argument("--timeout", type=float, default=2.0)
    p.add_argument("case", choices=["syn", "syn-twice", "bad-ack", "unknown-data", "bad-syn-opts"])
    a = p.parse_args()
    c = Conn(a)
    isn = random.randint(0, 2**32 - 1)
    got = lambda f: (lambda r: r["flags"] == f)
    if a.case in ("syn", "syn-twice"):
        c.send(isn, 0, FLAGS["S"], SYN_OPTS)
        r = first(c.replies(a.timeout), got("SA"))
        if not r or r["ack"] != (isn + 1) % 2**32:
            return 1
        if a.case == "syn-twice":
            c.send(isn, 0, FLAGS["S"], SYN_OPTS)
            r2 = first(c.replies(a.timeout), got("SA"))
            if not r2 or r2["seq"] != r["seq"]:
                return 1
        return 0
    if a.case == "bad-ack":
        c.send(isn, 0, FLAGS["S"], SYN_OPTS)
        r = first(c.replies(a.timeout), got("SA"))
        if not r:
            return 1
        bad = (r["seq"] + 1000) % 2**32
        c.send((isn + 1) % 2**32, bad, FLAGS["A"])
        rst = first(c.replies(a.timeout), lambda x: "R" in x["flags"])
        # RFC 9293 / Linux: the reset takes its sequence number from the bad ACK.
        return 0 if rst and rst["seq"] == bad else 1
    if a.case == "unknown-data":
        ack = random.randint(0, 2**32 - 1)
        c.send(isn, ack, FLAGS["A"] | FLAGS["P"], payload=b"GET / HTTP/1.0\r\n\r\n")
        rst = first(c.replies(a.timeout), lambda x: "R" in x["flags"])
        return 0 if rst and rst["seq"] == ack else 1
    if a.case == "bad-syn-opts":
        # MSS option claiming 40 bytes in a 4-byte block: runs past the header.
        c.send(isn, 0, FLAGS["S"], b"\x02\x28\x05\xb4")
        r = first(c.replies(a.timeout), lambda x: True)
        return 0 if r is None else 1
    return 2


if __name__ == "__main__":
    sys.exit(main())
