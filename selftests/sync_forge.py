#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Forged datagrams at a node's sync port (include/uapi/linux/handoff.h,
"Sync channel"), sent from this namespace with a raw socket so that their
source port can be the sync port the module's own socket holds.

  sync_forge.py --dev DEV --dst ADDR --port P peer   (in a peer's namespace)
      captures one of this node's real reports to ADDR, then sends: the
      same datagram again, an older seq, an older epoch (replays), a cut
      one, another type, a bad length (malformed), another node's id (not
      a peer), and --random random datagrams. Prints one JSON object: what
      was sent, by the counter that should take it.
  sync_forge.py --dst ADDR --port P stranger   (in a non-peer's namespace)
      sends a well-formed report claiming --node's id: not a peer.
"""

import argparse
import json
import random
import socket
import struct
import sys
import time

HDR = struct.Struct("!BBHIIIIII")  # type flags len node epoch seq interval conns weight
REPORT = 0x10


def udp(sport, dport, payload):
    # A checksum of 0: none, which IPv4 receivers accept.
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def capture(dev, dst, port, timeout):
    """The source port and UDP payload of one datagram this namespace sends
    to dst:port (ETH_P_ALL: only such taps see outgoing frames)."""
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
    s.bind((dev, 0))
    end = time.monotonic() + timeout
    want = socket.inet_aton(dst)
    while time.monotonic() < end:
        s.settimeout(max(0.01, end - time.monotonic()))
        try:
            frame, addr = s.recvfrom(65535)
        except socket.timeout:
            break
        if addr[2] != socket.PACKET_OUTGOING or frame[12:14] != b"\x08\x00":
            continue
        ip = frame[14:]
        ihl = (ip[0] & 0x0F) * 4
        if ip[9] != 17 or ip[16:20] != want:
            continue
        sport, dport, length = struct.unpack("!HHH", ip[ihl:ihl + 6])
        if dport == port:
            return sport, ip[ihl + 8:ihl + length]
    raise TimeoutError(f"no datagram to {dst}:{port} seen on {dev}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dev", default="eth1")
    ap.add_argument("--dst", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--node", type=int, default=2)
    ap.add_argument("--random", type=int, default=0)
    ap.add_argument("mode", choices=["peer", "stranger"])
    a = ap.parse_args()
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
    sent = {"replay": 0, "malformed": 0, "not_peer": 0, "other": 0}

    def send(kind, payload, sport=a.port):
        raw.sendto(udp(sport, a.port, payload), (a.dst, 0))
        sent[kind] += 1

    if a.mode == "stranger":
        body = HDR.pack(REPORT, 0, 0, a.node, 0x7FFFFFFF, 1, 100, 0, 1)
        send("not_peer", body)
        print(json.dumps(sent))
        return 0

    sport, real = capture(a.dev, a.dst, a.port, 10)
    if sport != a.port or len(real) < HDR.size:
        print("unexpected capture", sport, real.hex(), file=sys.stderr)
        return 1
    ty, flags, blen, node, epoch, seq, interval, conns, weight = HDR.unpack(real[:HDR.size])
    body = real[HDR.size:]
    # By the time these arrive, newer reports were taken: all replays.
    send("replay", real)
    send("replay", HDR.pack(ty, flags, blen, node, epoch, (seq - 1000) & 0xFFFFFFFF,
                            interval, conns, weight) + body)
    send("replay", HDR.pack(ty, flags, blen, node, (epoch - 1) & 0xFFFFFFFF, seq + 1,
                            interval, conns, weight) + body)
    send("malformed", real[:20])
    send("malformed", HDR.pack(0x11, flags, blen, node, epoch, seq + 2, interval, conns,
                               weight) + body)
    send("malformed", HDR.pack(ty, flags, blen + 5, node, epoch, seq + 3, interval, conns,
                               weight) + body)
    send("not_peer", HDR.pack(ty, flags, blen, node + 1, epoch, seq + 4, interval, conns,
                              weight) + body)
    rnd = random.Random(20261201)
    for _ in range(a.random):
        n = rnd.randrange(0, 1400)
        send("other", rnd.randbytes(n))
    print(json.dumps(sent))
    return 0


if __name__ == "__main__":
    sys.exit(main())
