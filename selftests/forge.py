#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Crafted redistribution datagrams for the handoff kselftests.

Sends hand-made handoff datagrams (include/uapi/linux/handoff.h,
"Redistribution protocol": a 12-byte struct handoff_encap_hdr, then the
body) as whole IPv4/UDP packets through a raw socket (IP_HDRINCL), so the
source address and port can be anything, a peer's endpoint included. The
UDP checksum is correct unless --udp-csum says otherwise, so the UDP layer
hands every datagram to the module's socket.

CASE picks what is sent; each case but random cycles through its variants
(--count defaults to their number), every datagram the module must drop:

  not-peer           well-formed NEW (for VIP:80), DATA, MIGRATED_ACK: for a
                     source that is no peer (--src/--sport)
  truncated          headers of 0..11 bytes; NEW bodies of 0..59 bytes
  unknown-type       types 0, 4, 0x10, 0x80, 0xff
  len-past-end       len one byte or many bytes past the datagram's end
  bad-body           MIGRATED_ACK with a body, DATA without one, DATA whose
                     body is no IPv4 TCP packet
  new-bad-family     family 0, 1, 3, 6, 7, 9, 11, 28, 255
  new-bad-pad        AF_INET with a non-zero byte in the padding of saddr or
                     daddr, or the v4-mapped layout
  new-bad-wscale     a shift above 14; shifts set without the option flag
  new-bad-mss        MSS 0, 1, 100, 535
  new-bad-opts       unknown tcp_opts bits; timestamps without their flag
  new-zero-port      client port 0, service port 0, both
  zero-conn-ref      conn_ref 0 on otherwise valid NEW, DATA, MIGRATED_ACK
  data-unknown-flow  DATA with a non-zero flow id that names no connection,
                     carrying a valid client segment (ACK+PSH, payload)
  random             --count (20000) datagrams of 0..--max-len bytes (1472:
                     a 1500-byte MTU less the IPv4 and UDP headers): random
                     bytes, and datagrams with a valid type and a plausible
                     len (mutated NEW bodies, inner IPv4 TCP and ICMP
                     packets, small conn_refs that meet each other) to
                     reach the deeper code. A NEW that would be valid for a
                     --avoid service gets another service port: the
                     receiver may refuse a NEW, never adopt one

Every NEW the cases send is, apart from the one defect, a valid handoff of a
connection from --client to VIP:80 (--vip): a receiver that overlooked the
defect would adopt it.

--also SRC:SPORT:DST:DPORT (random only, repeatable) sends --also-share of
the datagrams to more destinations, each from its own source.

Prints the number of datagrams sent on stdout (one line); a breakdown by
destination and kind goes to stderr with --verbose. --dump prints each
datagram instead ("DST:DPORT HEX-PAYLOAD") and sends nothing. --serve
reads command lines (the options and CASE above) from stdin, one run per
line, and answers each with one line: the count, then with --verbose the
breakdown, joined by " | " (one python start for a whole test).
"""

import argparse
import random
import shlex
import socket
import struct
import sys

HDR_LEN = 12
NEW_LEN = 60
PKT_NEW, PKT_DATA, PKT_ACK = 1, 2, 3
AF_INET, AF_INET6 = 2, 10
OPT_SACK, OPT_TS, OPT_WS = 1, 2, 4
TCP_ACK, TCP_PSH = 0x10, 0x08
REQUEST = b"GET / HTTP/1.1\r\nHost: forged\r\n\r\n"


def csum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(src, dst, proto, payload, ident=0):
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, 0x4000, 64, proto, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    return ip[:10] + struct.pack("!H", csum(ip)) + ip[12:] + payload


def udp_packet(src, dst, sport, dport, payload, mode="ok"):
    """A whole IPv4/UDP packet; mode ok (right checksum), zero (none), bad."""
    ulen = 8 + len(payload)
    hdr = struct.pack("!HHHH", sport, dport, ulen, 0)
    c = 0
    if mode != "zero":
        pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 17, ulen)
        c = csum(pseudo + hdr + payload) or 0xFFFF
        if mode == "bad":
            c = (c ^ 0x5A5A) or 1
    hdr = hdr[:6] + struct.pack("!H", c)
    return ipv4(src, dst, 17, hdr + payload, random.randint(0, 65535))


def tcp_packet(src, dst, sport, dport, seq, ack, flags, payload=b"", window=502):
    seg = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, window, 0, 0) + payload
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(seg))
    c = csum(pseudo + seg)
    seg = seg[:16] + struct.pack("!H", c) + seg[18:]
    return ipv4(src, dst, 6, seg, random.randint(0, 65535))


def encap(ty, conn_ref, flow_id, body=b"", flags=0, length=None):
    """struct handoff_encap_hdr + body; len is the body's unless given."""
    n = len(body) if length is None else length
    return struct.pack("!BBHII", ty, flags, n, conn_ref, flow_id) + body


def new_body(a, **kw):
    """A valid struct handoff_new_conn (and the request), fields overridable."""
    f = dict(family=AF_INET, opts=OPT_SACK | OPT_TS | OPT_WS, snd_ws=7, rcv_ws=7, mss=1460,
             window=502, client_isn=random.getrandbits(32), local_isn=random.getrandbits(32),
             ts_recent=random.getrandbits(32) | 1, ts_local=random.getrandbits(32) | 1,
             sport=random.randint(20000, 60000), dport=a.vport,
             saddr=socket.inet_aton(a.client) + bytes(12), daddr=socket.inet_aton(a.vip) + bytes(12),
             request=REQUEST)
    f.update(kw)
    return struct.pack("!BBBBHHIIIIHH16s16s", f["family"], f["opts"], f["snd_ws"], f["rcv_ws"],
                       f["mss"], f["window"], f["client_isn"], f["local_isn"], f["ts_recent"],
                       f["ts_local"], f["sport"], f["dport"], f["saddr"], f["daddr"]) + f["request"]


def conn_ref():
    return random.randint(1, 2**32 - 1)


def client_segment(a, flags=TCP_ACK | TCP_PSH, payload=REQUEST):
    return tcp_packet(a.client, a.vip, random.randint(20000, 60000), a.vport,
                      random.getrandbits(32), random.getrandbits(32), flags, payload)


def valid_new(a, **kw):
    return encap(PKT_NEW, conn_ref(), 0, new_body(a, **kw))


def with_byte(b, off, v):
    return b[:off] + bytes([v]) + b[off + 1:]


# --- the cases: each returns the list of variants (UDP payloads) ----------

def case_not_peer(a):
    return [valid_new(a),
            encap(PKT_DATA, conn_ref(), 0, client_segment(a)),
            encap(PKT_DATA, conn_ref(), random.randint(1, 2**32 - 1), client_segment(a)),
            encap(PKT_ACK, conn_ref(), random.randint(1, 2**32 - 1)),
            encap(PKT_ACK, conn_ref(), 0, flags=1)]


def case_truncated(a):
    hdr = encap(PKT_ACK, conn_ref(), 7)
    out = [hdr[:n] for n in range(HDR_LEN)]
    body = new_body(a)
    out += [encap(PKT_NEW, conn_ref(), 0, body[:n]) for n in (0, 1, 30, 59)]
    return out


def case_unknown_type(a):
    return [encap(t, conn_ref(), 0, b"\x45" * 40) for t in (0, 4, 0x10, 0x80, 0xFF)]


def case_len_past_end(a):
    body = new_body(a)
    seg = client_segment(a)
    return [encap(PKT_NEW, conn_ref(), 0, body, length=len(body) + 1),
            encap(PKT_NEW, conn_ref(), 0, body[:NEW_LEN], length=0xFFFF),
            encap(PKT_DATA, conn_ref(), 0, seg, length=len(seg) + 1),
            encap(PKT_DATA, conn_ref(), 5, seg, length=1400),
            encap(PKT_ACK, conn_ref(), 0, length=1),
            encap(PKT_ACK, conn_ref(), 0, length=0xFFFF)]


def case_bad_body(a):
    return [encap(PKT_ACK, conn_ref(), 9, b"x"),
            encap(PKT_ACK, conn_ref(), 0, bytes(64), flags=1),
            encap(PKT_DATA, conn_ref(), 0),
            encap(PKT_DATA, conn_ref(), 3),
            encap(PKT_DATA, conn_ref(), 0, b"\x60" + bytes(59)),       # IPv6
            encap(PKT_DATA, conn_ref(), 0, b"\x45" + bytes(9)),        # short IPv4
            encap(PKT_DATA, conn_ref(), 0, ipv4(a.client, a.vip, 17, bytes(16)))]  # UDP


def case_new_bad_family(a):
    return [valid_new(a, family=f) for f in (0, 1, 3, 6, 7, 9, 11, 28, 0xFF)]


def case_new_bad_pad(a):
    out = []
    for field in ("saddr", "daddr"):
        base = socket.inet_aton(a.client if field == "saddr" else a.vip)
        for i in range(4, 16):
            pad = bytearray(12)
            pad[i - 4] = 1
            out.append(valid_new(a, **{field: base + bytes(pad)}))
        out.append(valid_new(a, **{field: bytes(10) + b"\xff\xff" + base}))   # v4-mapped
    return out


def case_new_bad_wscale(a):
    out = [valid_new(a, snd_ws=s, rcv_ws=r) for s, r in ((15, 0), (0, 15), (15, 15), (255, 7), (7, 255))]
    no_ws = OPT_SACK | OPT_TS
    out += [valid_new(a, opts=no_ws, snd_ws=s, rcv_ws=r) for s, r in ((1, 0), (0, 1), (14, 14))]
    return out


def case_new_bad_mss(a):
    return [valid_new(a, mss=m) for m in (0, 1, 100, 535)]


def case_new_bad_opts(a):
    out = [valid_new(a, opts=OPT_SACK | OPT_TS | OPT_WS | (1 << b)) for b in range(3, 8)]
    no_ts = OPT_SACK | OPT_WS
    out += [valid_new(a, opts=no_ts, ts_recent=1, ts_local=0),
            valid_new(a, opts=no_ts, ts_recent=0, ts_local=0x80000000)]
    return out


def case_new_zero_port(a):
    return [valid_new(a, sport=0), valid_new(a, dport=0), valid_new(a, sport=0, dport=0)]


def case_zero_conn_ref(a):
    return [encap(PKT_NEW, 0, 0, new_body(a)),
            encap(PKT_DATA, 0, 0, client_segment(a)),
            encap(PKT_DATA, 0, 77, client_segment(a)),
            encap(PKT_ACK, 0, 12),
            encap(PKT_ACK, 0, 0, flags=1)]


def case_data_unknown_flow(a):
    return [encap(PKT_DATA, conn_ref(), random.randint(1, 2**32 - 1), client_segment(a))]


CASES = {
    "not-peer": case_not_peer,
    "truncated": case_truncated,
    "unknown-type": case_unknown_type,
    "len-past-end": case_len_past_end,
    "bad-body": case_bad_body,
    "new-bad-family": case_new_bad_family,
    "new-bad-pad": case_new_bad_pad,
    "new-bad-wscale": case_new_bad_wscale,
    "new-bad-mss": case_new_bad_mss,
    "new-bad-opts": case_new_bad_opts,
    "new-zero-port": case_new_zero_port,
    "zero-conn-ref": case_zero_conn_ref,
    "data-unknown-flow": case_data_unknown_flow,
}


# --- random ----------------------------------------------------------------

def rand_bytes(n):
    return random.getrandbits(8 * n).to_bytes(n, "big") if n > 0 else b""


def mutate(b, n):
    b = bytearray(b)
    for _ in range(n):
        if not b:
            break
        i = random.randrange(len(b))
        r = random.random()
        if r < 0.5:
            b[i] = random.randrange(256)
        elif r < 0.8:
            b[i] ^= 1 << random.randrange(8)
        else:
            b[i] = random.choice((0, 1, 0x7F, 0x80, 0xFF))
    return bytes(b)


class Random:
    """The random datagrams; body sizes keep each within max_len."""

    def __init__(self, a):
        self.a = a
        self.avoid = set()
        for s in a.avoid:
            host, port = s.rsplit(":", 1)
            self.avoid.add((socket.inet_aton(host), int(port)))
        self.kinds = {}

    def ref(self):
        # Small conn_refs meet each other: DATA held early, then a NEW for it.
        r = random.random()
        return 0 if r < 0.05 else random.randint(1, 64) if r < 0.35 else conn_ref()

    def flow(self):
        return 0 if random.random() < 0.5 else random.choice((1, 2, random.getrandbits(32)))

    def inner(self, room):
        a = self.a
        vip = random.choice((a.vip, a.vip, a.client, "10.0.2.3"))
        r = random.random()
        if r < 0.6:
            flags = random.choice((TCP_ACK, TCP_ACK | TCP_PSH, 0x02, 0x04, 0x01 | TCP_ACK, random.getrandbits(8)))
            pay = rand_bytes(random.randint(0, max(0, min(room - 40, 600))))
            p = tcp_packet(a.client, vip, random.randint(1, 65535), random.choice((a.vport, 9000, 22)),
                           random.getrandbits(32), random.getrandbits(32), flags, pay)
        else:
            quoted = tcp_packet(vip, a.client, a.vport, random.randint(1, 65535), random.getrandbits(32),
                                random.getrandbits(32), TCP_ACK)[:28]
            icmp = struct.pack("!BBHI", random.choice((3, 11, 0, 8)), random.randrange(16), 0, 0) + quoted
            icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
            p = ipv4(a.client, vip, 1, icmp)
        if random.random() < 0.4:
            p = mutate(p, random.randint(1, 4))
        if random.random() < 0.1:
            p = p[:random.randint(1, len(p))]
        return p[:room]

    def new(self, room):
        a = self.a
        kw = {}
        if random.random() < 0.3:
            kw["family"] = AF_INET6
            kw["saddr"] = random.choice((b"\xfd" + rand_bytes(15), bytes(10) + b"\xff\xff" + rand_bytes(4), bytes(16)))
            kw["daddr"] = random.choice((b"\xfd" + rand_bytes(15), b"\xff\x02" + bytes(13) + b"\x01"))
        if random.random() < 0.5:
            kw["dport"] = random.choice((81, 9001, 443, random.randint(1, 65535)))
        if random.random() < 0.3:
            kw["mss"] = random.choice((536, 1460, 65535, 9000))
        req = rand_bytes(random.randint(0, max(0, min(room - NEW_LEN, 200))))
        b = new_body(a, request=req, **kw)
        if random.random() < 0.8:
            b = mutate(b, random.randint(1, 3))
        if random.random() < 0.1:
            b = rand_bytes(len(b))
        return self.harmless(b[:room])

    def harmless(self, b):
        """No NEW for a service here: every receiver would adopt it."""
        if len(b) >= NEW_LEN:
            fam, daddr = b[0], b[44:60]
            for host, port in self.avoid:
                same = daddr[:4] == host if fam == AF_INET else daddr == bytes(10) + b"\xff\xff" + host
                if same and struct.unpack("!H", b[26:28])[0] == port:
                    b = b[:26] + struct.pack("!H", port + 1) + b[28:]
        return b

    def one(self):
        a = self.a
        r = random.random()
        room = random.randint(0, a.max_len)
        if r < 0.35:
            kind = "bytes"
            d = rand_bytes(room)
            if len(d) >= HDR_LEN and d[0] == PKT_NEW:
                d = d[:HDR_LEN] + self.harmless(d[HDR_LEN:])
        elif r < 0.40:
            kind = "short"
            d = rand_bytes(random.randint(0, HDR_LEN - 1))
            if d and random.random() < 0.5:
                d = bytes([random.randint(1, 3)]) + d[1:]
        else:
            ty = random.choice((PKT_NEW, PKT_NEW, PKT_DATA, PKT_DATA, PKT_DATA, PKT_ACK))
            room = max(0, room - HDR_LEN)
            if ty == PKT_NEW:
                body = self.new(max(room, NEW_LEN + 8) if random.random() < 0.8 else room)
            elif ty == PKT_DATA:
                body = self.inner(max(room, 40)) if random.random() < 0.85 else rand_bytes(room)
            else:
                body = b"" if random.random() < 0.8 else rand_bytes(random.randint(1, 8))
            body = body[:a.max_len - HDR_LEN]
            length = len(body)
            x = random.random()
            if x < 0.05:
                length = random.randint(0, 0xFFFF)
            elif x < 0.15:
                length = max(0, length + random.choice((-2, -1, 1, 2)))
            elif x < 0.2:
                body += rand_bytes(min(random.randint(1, 32), a.max_len - HDR_LEN - len(body)))
            flags = 0 if random.random() < 0.7 else random.getrandbits(8)
            d = encap(ty, self.ref(), 0 if ty == PKT_NEW and random.random() < 0.8 else self.flow(),
                      body, flags=flags, length=length & 0xFFFF)
            kind = {PKT_NEW: "new", PKT_DATA: "data", PKT_ACK: "ack"}[ty]
        self.kinds[kind] = self.kinds.get(kind, 0) + 1
        return d


def parse_flow(s):
    src, sport, dst, dport = s.split(":")
    return src, int(sport), dst, int(dport)


def parser():
    p = argparse.ArgumentParser(description="crafted handoff datagrams (see the top of this file)")
    p.add_argument("--src", help="outer source address (spoofable)")
    p.add_argument("--sport", type=int, default=7000)
    p.add_argument("--dst")
    p.add_argument("--dport", type=int, default=7000)
    p.add_argument("--count", type=int, default=0, help="datagrams (default: each variant once; random 20000)")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--udp-csum", choices=("ok", "zero", "bad"), default="ok")
    p.add_argument("--vip", default="10.0.0.100", help="service address of the NEWs and inner packets")
    p.add_argument("--vport", type=int, default=80)
    p.add_argument("--client", default="10.0.1.77", help="client address of the NEWs and inner packets")
    p.add_argument("--avoid", action="append", default=None,
                   help="random: ADDR:PORT no NEW may be valid for (default VIP:80, VIP:9000)")
    p.add_argument("--also", action="append", default=[], metavar="SRC:SPORT:DST:DPORT")
    p.add_argument("--also-share", type=float, default=0.2)
    p.add_argument("--max-len", type=int, default=1472, help="largest UDP payload (MTU - 28)")
    p.add_argument("--verbose", "-v", action="store_true")
    p.add_argument("--dump", action="store_true", help="print the UDP payloads in hex, send nothing")
    p.add_argument("--serve", action="store_true", help="read one command line per line from stdin")
    p.add_argument("case", nargs="?", choices=sorted(CASES) + ["random"])
    return p


_tx = None


def raw_socket():
    global _tx
    if _tx is None:
        _tx = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
        _tx.setsockopt(socket.SOL_IP, socket.IP_HDRINCL, 1)
    return _tx


def run(a):
    """Sends what the arguments `a` ask for; returns the count and the
    --verbose lines."""
    if not (a.src and a.dst and a.case):
        raise ValueError("--src, --dst and CASE are required")
    if not HDR_LEN <= a.max_len <= 65507:
        raise ValueError("--max-len must be within %d..65507" % HDR_LEN)
    tx = None if a.dump else raw_socket()
    if a.avoid is None:
        a.avoid = ["%s:80" % a.vip, "%s:9000" % a.vip]
    random.seed(a.seed)
    primary = (a.src, a.sport, a.dst, a.dport)
    extra = [parse_flow(s) for s in a.also]
    per_flow = {}

    def send(flow, payload):
        src, sport, dst, dport = flow
        if a.dump:
            print("%s:%d %s" % (dst, dport, payload.hex()))
        else:
            tx.sendto(udp_packet(src, dst, sport, dport, payload, a.udp_csum), (dst, 0))
        per_flow[flow] = per_flow.get(flow, 0) + 1

    if a.case == "random":
        gen = Random(a)
        for i in range(a.count or 20000):
            flow = random.choice(extra) if extra and random.random() < a.also_share else primary
            send(flow, gen.one())
        kinds = gen.kinds
    else:
        variants = CASES[a.case](a)
        n = a.count or len(variants)
        # Fresh conn_refs and ISNs on every round through the variants.
        for i in range(n):
            if i and i % len(variants) == 0:
                variants = CASES[a.case](a)
            send(primary, variants[i % len(variants)])
        kinds = {a.case: n}
    info = []
    if a.verbose:
        for (src, sport, dst, dport), n in per_flow.items():
            info.append("forge: %s:%d -> %s:%d: %d" % (src, sport, dst, dport, n))
        info.append("forge: kinds %s" % " ".join("%s=%d" % kv for kv in sorted(kinds.items())))
    return sum(per_flow.values()), info


def main():
    p = parser()
    a = p.parse_args()
    if not a.serve:
        try:
            total, info = run(a)
        except ValueError as e:
            p.error(str(e))
        for line in info:
            print(line, file=sys.stderr)
        if not a.dump:
            print(total)
        return 0
    # One python start for many runs (python starts slowly in an emulated
    # VM): each input line is a command line, each answer one line, the
    # count first, then the --verbose lines joined by " | ".
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            total, info = run(p.parse_args(shlex.split(line)))
            print(" | ".join([str(total)] + info), flush=True)
        except (SystemExit, ValueError, OSError) as e:
            print("error %s" % (e,), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
