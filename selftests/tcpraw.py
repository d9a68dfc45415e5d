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


def tcp_segment(src, dst, sport, dport, seq, ack, flags, opts=b"", payload=b"", window=64240,
                bad_csum=False):
    if len(opts) % 4:
        opts += b"\x01" * (4 - len(opts) % 4)
    doff = (20 + len(opts)) // 4
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, doff << 4, flags, window, 0, 0)
    seg = hdr + opts + payload
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(seg))
    c = csum(pseudo + seg) ^ (0x5555 if bad_csum else 0)
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

    def send(self, seq, ack, flags, opts=b"", payload=b"", bad_csum=False):
        pkt = tcp_segment(self.a.src, self.a.dst, self.sport, self.a.dport, seq, ack, flags, opts,
                          payload, bad_csum=bad_csum)
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
    p.add_argument("--mss", type=int, default=1460, help="the SYN's MSS option")
    p.add_argument("--expect-mss", type=int, default=0,
                   help="request: the largest payload the reply may have")
    p.add_argument("--dup-after", type=float, default=4.0,
                   help="late-dup: seconds before the first segment is sent again")
    p.add_argument("case", choices=["syn", "syn-twice", "bad-ack", "unknown-data", "bad-syn-opts",
                                    "syn-fin", "unknown-bad-csum", "request", "late-dup"])
    a = p.parse_args()
    c = Conn(a)
    isn = random.randint(0, 2**32 - 1)
    got = lambda f: (lambda r: r["flags"] == f)
    syn_opts = SYN_OPTS.replace(b"\x02\x04\x05\xb4", b"\x02\x04" + struct.pack("!H", a.mss))
    request = b"GET / HTTP/1.0\r\n\r\n"
    if a.case == "syn-fin":
        # Discarded by a stack (RFC 9293 leaves it undefined): no answer.
        c.send(isn, 0, FLAGS["S"] | FLAGS["F"], SYN_OPTS)
        r = first(c.replies(a.timeout), lambda x: True)
        return 0 if r is None else 1
    if a.case == "unknown-bad-csum":
        # A corrupted segment of no known connection: nobody's to reset.
        c.send(isn, random.randint(0, 2**32 - 1), FLAGS["A"] | FLAGS["P"], payload=request,
               bad_csum=True)
        r = first(c.replies(a.timeout), lambda x: True)
        return 0 if r is None else 1
    if a.case in ("request", "late-dup"):
        # Handshake, the request as the first segment, then the server's
        # data (acknowledged, so it keeps sending) until it closes.
        c.send(isn, 0, FLAGS["S"], syn_opts)
        r = first(c.replies(a.timeout), got("SA"))
        if not r:
            return 1
        seq, ack = (isn + 1) % 2**32, (r["seq"] + 1) % 2**32
        c.send(seq, ack, FLAGS["A"] | FLAGS["P"], payload=request)
        got_data, largest, end = 0, 0, time.time() + 3 * a.timeout
        while time.time() < end:
            r = first(c.replies(end - time.time()), lambda x: x["payload_len"] > 0 or
                      "F" in x["flags"] or "R" in x["flags"])
            if not r or "R" in r["flags"]:
                break
            got_data += r["payload_len"]
            largest = max(largest, r["payload_len"])
            nxt = (r["seq"] + r["payload_len"] + (1 if "F" in r["flags"] else 0)) % 2**32
            # (late-dup sends nothing after its first segment: the module
            # hears of the connection again only from the duplicate.)
            if a.case == "request":
                c.send((seq + len(request)) % 2**32, nxt, FLAGS["A"])
            if "F" in r["flags"]:
                break
        print(json.dumps({"reply_bytes": got_data, "largest_segment": largest}), flush=True)
        if a.case == "request":
            return 0 if got_data > 0 and (not a.expect_mss or largest <= a.expect_mss) else 1
        # The same first segment again, long after: an old duplicate.
        time.sleep(a.dup_after)
        c.send(seq, ack, FLAGS["A"] | FLAGS["P"], payload=request)
        r = first(c.replies(a.timeout), lambda x: x["payload_len"] > 0)
        return 0 if r is None else 1
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
