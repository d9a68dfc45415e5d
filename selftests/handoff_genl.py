#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Raw generic netlink requests to the handoff family, for the kselftests.

Bypasses the handoff CLI (which refuses bad input itself) to reach the
kernel's own validation, and fuzzes the family.

  handoff_genl.py send CMD EXPR     one request; prints "errno N: MESSAGE"
  handoff_genl.py select VIP PORT FIRST COUNT
                                    SELECT_GET for COUNT clients from address
                                    FIRST on; prints "ADDR NODE" lines
  handoff_genl.py peers FIRST LAST  PEER_ADD for ids FIRST..LAST; prints the
                                    first error, if any
  handoff_genl.py services N        SERVICE_ADD of 10.1.X.Y:80, N of them
  handoff_genl.py fuzz COUNT SEED   COUNT random and mutated requests

EXPR is a Python expression of attributes built with u8(T, v), u16(T, v),
u32(T, v), u64(T, v), addr(T, "10.0.0.1"), raw(T, b"..."), s(T, "text")
and nest(T, ...), e.g.
  nest(2, addr(1, "10.0.0.1"), u16(2, 80), nest(4, u32(1, 9999)))
"""

import errno
import ipaddress
import os
import random
import select
import socket
import struct
import sys

NETLINK_GENERIC = 16
SOL_NETLINK = 270
NETLINK_CAP_ACK = 10
NETLINK_EXT_ACK = 11
GENL_ID_CTRL = 0x10
CTRL_CMD_GETFAMILY = 3
CTRL_CMD_GETPOLICY = 10
CTRL_ATTR_FAMILY_ID = 1
CTRL_ATTR_FAMILY_NAME = 2
NLMSG_ERROR = 2
NLMSG_DONE = 3
NLM_F_REQUEST = 0x1
NLM_F_MULTI = 0x2
NLM_F_ACK = 0x4
NLM_F_ECHO = 0x8
NLM_F_DUMP = 0x300
NLM_F_ACK_TLVS = 0x200
NLA_F_NESTED = 0x8000
NLMSGERR_ATTR_MSG = 1

HANDOFF_CMD_SERVICE_ADD = 3
HANDOFF_CMD_PEER_ADD = 6
HANDOFF_CMD_SELECT_GET = 16
HANDOFF_A_NODE = 1
HANDOFF_A_NODE_ID = 1
HANDOFF_A_CLIENT = 10
HANDOFF_A_SERVICE = 2
HANDOFF_A_SERVICE_ADDR = 1
HANDOFF_A_SERVICE_PORT = 2
HANDOFF_A_PEER = 3
HANDOFF_A_PEER_ID = 1
HANDOFF_A_PEER_ADDR = 2


def attr(t, payload):
    hdr = struct.pack("=HH", 4 + len(payload), t)
    pad = b"\0" * (-len(payload) % 4)
    return hdr + payload + pad


def u8(t, v):
    return attr(t, struct.pack("=B", v))


def u16(t, v):
    return attr(t, struct.pack("=H", v))


def u32(t, v):
    return attr(t, struct.pack("=I", v))


def u64(t, v):
    return attr(t, struct.pack("=Q", v))


def raw(t, b):
    return attr(t, b)


def s(t, text):
    return attr(t, text.encode() + b"\0")


def addr(t, a):
    return attr(t, ipaddress.ip_address(a).packed)


def nest(t, *inner):
    return attr(t | NLA_F_NESTED, b"".join(inner))


class Genl:
    def __init__(self):
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
        self.sock.bind((0, 0))
        self.sock.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
        self.sock.setsockopt(SOL_NETLINK, NETLINK_CAP_ACK, 1)
        self.seq = 1
        self.family = None
        reply = self.request(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, NLM_F_REQUEST | NLM_F_ACK,
                             s(CTRL_ATTR_FAMILY_NAME, "handoff"))
        err, _, msgs = reply
        if err:
            raise SystemExit("family handoff not found: errno %d" % err)
        for m in msgs:
            for t, v in parse_attrs(m[4:]):
                if t == CTRL_ATTR_FAMILY_ID:
                    self.family = struct.unpack("=H", v[:2])[0]
        if self.family is None:
            raise SystemExit("no family id in the controller's reply")

    def close(self):
        self.sock.close()

    def send_raw(self, data):
        self.sock.send(data)

    def message(self, family, cmd, flags, payload, version=1, seq=None):
        if seq is None:
            self.seq += 1
            seq = self.seq
        body = struct.pack("=BBH", cmd, version, 0) + payload
        return struct.pack("=IHHII", 16 + len(body), family, flags, seq, 0) + body, seq

    def request(self, family, cmd, flags, payload):
        data, seq = self.message(family, cmd, flags, payload)
        self.sock.send(data)
        return self.collect(seq)

    def collect(self, seq, timeout=5.0):
        """(errno, extack message, [genl payloads]) of request seq."""
        msgs = []
        while True:
            r, _, _ = select.select([self.sock], [], [], timeout)
            if not r:
                return (-errno.ETIMEDOUT, "timeout", msgs)
            buf = self.sock.recv(1 << 20)
            off = 0
            while off + 16 <= len(buf):
                ln, typ, flags, mseq, _ = struct.unpack_from("=IHHII", buf, off)
                if ln < 16:
                    break
                body = buf[off + 16:off + ln]
                off += (ln + 3) & ~3
                if mseq != seq:
                    continue
                if typ == NLMSG_ERROR or typ == NLMSG_DONE:
                    code = struct.unpack_from("=i", body)[0] if len(body) >= 4 else 0
                    msg = ""
                    if flags & NLM_F_ACK_TLVS:
                        if typ == NLMSG_ERROR:
                            # error code, the request's header (capped ACK)
                            tlvs = body[4 + 16:]
                        else:
                            tlvs = body[4:]
                        for t, v in parse_attrs(tlvs):
                            if t == NLMSGERR_ATTR_MSG:
                                msg = v.split(b"\0")[0].decode(errors="replace")
                    return (code, msg, msgs)
                msgs.append(body)


def parse_attrs(b):
    out = []
    off = 0
    while off + 4 <= len(b):
        ln, t = struct.unpack_from("=HH", b, off)
        if ln < 4 or off + ln > len(b):
            break
        out.append((t & 0x3FFF, b[off + 4:off + ln]))
        off += (ln + 3) & ~3
    return out


def cmd_send(cmd, expr):
    g = Genl()
    env = dict(u8=u8, u16=u16, u32=u32, u64=u64, raw=raw, s=s, addr=addr, nest=nest)
    value = eval(expr, env)  # test input written by the tests themselves
    payload = b"".join(value) if isinstance(value, tuple) else value
    code, msg, _ = g.request(g.family, int(cmd), NLM_F_REQUEST | NLM_F_ACK, payload)
    print("errno %d: %s" % (-code, msg))
    return 0


def cmd_peers(first, last):
    g = Genl()
    for i in range(int(first), int(last) + 1):
        a = "10.%d.%d.%d" % ((i >> 16) & 255, (i >> 8) & 255, max(i & 255, 1))
        code, msg, _ = g.request(g.family, HANDOFF_CMD_PEER_ADD, NLM_F_REQUEST | NLM_F_ACK,
                                 nest(HANDOFF_A_PEER, u32(HANDOFF_A_PEER_ID, i),
                                      addr(HANDOFF_A_PEER_ADDR, a)))
        if code:
            print("peer %d: errno %d: %s" % (i, -code, msg))
            return 1
    return 0


def cmd_services(count):
    g = Genl()
    for i in range(int(count)):
        a = "10.1.%d.%d" % (i // 200, i % 200 + 1)
        code, msg, _ = g.request(g.family, HANDOFF_CMD_SERVICE_ADD, NLM_F_REQUEST | NLM_F_ACK,
                                 nest(HANDOFF_A_SERVICE, addr(HANDOFF_A_SERVICE_ADDR, a),
                                      u16(HANDOFF_A_SERVICE_PORT, 80)))
        if code:
            print("service %s: errno %d: %s" % (a, -code, msg))
            return 1
    return 0


def cmd_select(vip, port, first, count):
    """SELECT_GET for COUNT client addresses from FIRST on: "ADDR NODE"."""
    g = Genl()
    base = struct.unpack("!I", socket.inet_aton(first))[0]
    for i in range(int(count)):
        a = socket.inet_ntoa(struct.pack("!I", base + i))
        code, msg, msgs = g.request(g.family, HANDOFF_CMD_SELECT_GET, NLM_F_REQUEST | NLM_F_ACK,
                                    nest(HANDOFF_A_SERVICE, addr(HANDOFF_A_SERVICE_ADDR, vip),
                                         u16(HANDOFF_A_SERVICE_PORT, int(port)))
                                    + addr(HANDOFF_A_CLIENT, a))
        node = None
        for m in msgs:
            for t, v in parse_attrs(m[4:]):
                if t == HANDOFF_A_NODE:
                    for t2, v2 in parse_attrs(v):
                        if t2 == HANDOFF_A_NODE_ID:
                            node = struct.unpack("=I", v2[:4])[0]
        if node is None:
            print("%s: errno %d: %s" % (a, -code, msg))
            return 1
        print(a, node)
    return 0


# --- fuzzing -----------------------------------------------------------------

def valid_corpus():
    """Well-formed requests of every command, to mutate."""
    svc = nest(2, addr(1, "10.0.0.100"), u16(2, 80))
    full = nest(2, addr(1, "2001:db8::1"), u16(2, 443), u8(3, 6),
                nest(4, u32(1, 1)), u32(5, 4),
                nest(6, u32(1, 3), nest(3, s(1, "a.example"), s(2, "/api"), u32(3, 2))),
                u32(7, 10), u32(8, 20), u32(9, 30), u32(10, 40))
    cookie = nest(2, addr(1, "10.0.0.101"), u16(2, 80), u32(5, 5), nest(6, s(2, "SRV")))
    peer = nest(3, u32(1, 2), addr(2, "10.0.2.3"), u16(3, 7000), u32(4, 5))
    node = nest(1, u32(1, 1), addr(2, "10.0.2.2"), u16(3, 7000), addr(4, "239.1.1.1"),
                u16(5, 7001), u32(6, 2))
    return [
        (1, b""), (2, node), (3, svc), (3, full), (3, cookie), (4, svc), (5, svc), (5, b""),
        (6, peer), (7, nest(3, u32(1, 2))), (8, nest(3, u32(1, 2))), (8, b""),
        (9, u32(6, 1)), (9, b""), (10, u32(6, 2)), (10, b""), (11, b""),
    ]


def random_attrs(rnd, depth=0):
    out = b""
    for _ in range(rnd.randint(0, 6)):
        t = rnd.choice([rnd.randint(0, 12), rnd.randint(0, 40), rnd.randint(0, 0xFFFF)])
        kind = rnd.random()
        if depth < 3 and kind < 0.3:
            out += attr((t & 0x3FFF) | (NLA_F_NESTED if rnd.random() < 0.8 else 0),
                        random_attrs(rnd, depth + 1))
        else:
            n = rnd.choice([0, 1, 2, 3, 4, 5, 8, 15, 16, 17, rnd.randint(0, 300)])
            payload = bytes(rnd.getrandbits(8) for _ in range(n))
            if rnd.random() < 0.2:
                payload = payload[:-1] + b"\0" if payload else b"\0"
            out += attr(t, payload)
    return out


def mutate(rnd, b):
    b = bytearray(b)
    for _ in range(rnd.randint(1, 4)):
        op = rnd.random()
        if op < 0.4 and b:
            i = rnd.randrange(len(b))
            b[i] ^= 1 << rnd.randrange(8)
        elif op < 0.55 and b:
            i = rnd.randrange(len(b))
            b[i] = rnd.choice([0, 1, 4, 0x7F, 0x80, 0xFF])
        elif op < 0.7 and b:
            del b[rnd.randrange(len(b)):]
        elif op < 0.85:
            i = rnd.randrange(len(b) + 1)
            b[i:i] = bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 12)))
        else:
            b += random_attrs(rnd, 1)
    return bytes(b)


def cmd_fuzz(count, seed):
    rnd = random.Random(int(seed))
    g = Genl()
    corpus = valid_corpus()
    flag_choices = [NLM_F_REQUEST | NLM_F_ACK, NLM_F_REQUEST, NLM_F_REQUEST | NLM_F_DUMP,
                    NLM_F_REQUEST | NLM_F_DUMP | NLM_F_ACK, NLM_F_REQUEST | NLM_F_ECHO | NLM_F_ACK]
    stats = {}
    failures = 0
    for i in range(int(count)):
        if i % 200 == 0:
            # A fresh socket now and then: none keeps a dump or a backlog.
            g.close()
            g = Genl()
        r = rnd.random()
        if r < 0.5:
            cmd, payload = rnd.choice(corpus)
            payload = mutate(rnd, payload) if rnd.random() < 0.9 else payload
        elif r < 0.85:
            cmd, payload = rnd.randint(0, 16), random_attrs(rnd)
        else:
            cmd, payload = rnd.randint(0, 255), bytes(rnd.getrandbits(8) for _ in range(rnd.randint(0, 64)))
        flags = rnd.choice(flag_choices) if rnd.random() < 0.9 else rnd.getrandbits(16) | NLM_F_REQUEST
        version = 1 if rnd.random() < 0.9 else rnd.getrandbits(8)
        data, seq = g.message(g.family, cmd, flags, payload, version=version)
        lying = rnd.random() < 0.05
        if lying:
            # A lying length in the netlink header.
            data = struct.pack("=I", rnd.randint(0, len(data) + 8)) + data[4:]
        try:
            g.send_raw(data)
        except OSError as e:
            key = "send " + errno.errorcode.get(e.errno, str(e.errno))
            stats[key] = stats.get(key, 0) + 1
            continue
        if not lying and ((flags & NLM_F_DUMP) == NLM_F_DUMP or flags & NLM_F_ACK):
            code, _, msgs = g.collect(seq, timeout=5.0)
        else:
            # No answer is due (a "do" without ACK that succeeded, or a
            # dropped message): a request with ACK behind it tells when the
            # kernel is done with it.
            g.collect(seq, timeout=0.0)
            code, _, msgs = g.request(g.family, 1, NLM_F_REQUEST | NLM_F_ACK, b"")
            if code:
                print("# barrier after request %d failed: errno %d" % (i, -code))
                failures += 1
            code, msgs = 0, []
        if code == -errno.ETIMEDOUT:
            print("# request %d (cmd %d flags %#x) got no answer" % (i, cmd, flags))
            failures += 1
        key = "errno %d" % -code if code else ("ok, %s" % ("data" if msgs else "no data"))
        stats[key] = stats.get(key, 0) + 1
    g.close()
    for k in sorted(stats):
        print("# %-24s %d" % (k, stats[k]))
    return 1 if failures else 0


def main(argv):
    if len(argv) >= 3 and argv[0] == "send":
        return cmd_send(argv[1], argv[2])
    if len(argv) == 3 and argv[0] == "peers":
        return cmd_peers(argv[1], argv[2])
    if len(argv) == 5 and argv[0] == "select":
        return cmd_select(*argv[1:])
    if len(argv) == 2 and argv[0] == "services":
        return cmd_services(argv[1])
    if len(argv) == 3 and argv[0] == "fuzz":
        return cmd_fuzz(argv[1], argv[2])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
