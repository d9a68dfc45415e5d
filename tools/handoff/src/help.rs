//! Usage texts, iproute2 style.

use crate::args::Object;

pub const MAIN: &str = "\
Usage: handoff [ OPTIONS ] OBJECT { COMMAND | help }
       handoff [ OPTIONS ] [ -force ] -batch FILE
       handoff help [ OBJECT ]
where  OBJECT := { service | peer | node | conn | stats | monitor }
       OPTIONS := { -j[son] | -p[retty] | -s[tatistics] | -n[etns] NETNS
                  | -V[ersion] | -h[elp] }
Objects, commands and keywords may be abbreviated to any unique prefix.
-netns NETNS works in network namespace NETNS, as ip -n: a name of
ip netns (under /run/netns) or, with a /, a path (/proc/PID/ns/net).
-batch FILE runs the commands of FILE (- for standard input), one per line;
-force goes on after a failed one.
";

pub const SERVICE: &str = "\
Usage: handoff service add VIP:PORT [ dev IFNAME ]... [ policy POLICY ]
                           [ max-temporary N ] [ max-forward N ]
                           [ syn-timeout MS ] [ idle-timeout MS ]
                           [ syncookies SYNCOOKIES ] [ first-data-wait MS ]
                           [ request-limit BYTES ]
       handoff service del VIP:PORT
       handoff service show [ VIP:PORT ]
       handoff service select VIP:PORT client ADDR
       handoff service help
where  VIP:PORT := { IPV4:PORT | [IPV6]:PORT }
       ADDR := { IPV4 | IPV6 | [IPV6] }
       POLICY := { local | least-load | weighted | hash
                 | host-uri [ match [HOST][/PATH] node ID ]... [ fallback FALLBACK ]
                 | cookie name COOKIE [ fallback FALLBACK ]
                 | tls-sni [ match SERVER-NAME node ID ]... [ fallback FALLBACK ] }
       FALLBACK := { local | least-load | weighted }
       SYNCOOKIES := { auto | always }
";

pub const PEER: &str = "\
Usage: handoff peer add ID [ address ] ADDR[:PORT] [ port PORT ] [ weight N ]
                        [ sync-address ADDR ]
       handoff peer del ID
       handoff peer show [ ID ]
       handoff peer help
where  ADDR[:PORT] := { IPV4[:PORT] | IPV6 | [IPV6][:PORT] }
       ADDR := { IPV4 | IPV6 | [IPV6] }
";

pub const NODE: &str = "\
Usage: handoff node set [ id ID ] [ forward ENDPOINT ] [ sync ENDPOINT ] [ weight N ]
                        [ sync-interval MS ] [ dead-intervals N ]
       handoff node show
       handoff node help
where  ENDPOINT := { ADDR:PORT | ADDR port PORT }
       ADDR:PORT := { IPV4:PORT | [IPV6]:PORT }
       ADDR := { IPV4 | IPV6 | [IPV6] }
";

pub const CONN: &str = "\
Usage: handoff conn show [ TABLE ]
       handoff conn flush [ TABLE ]
       handoff conn help
where  TABLE := { temporary | forward }
";

pub const STATS: &str = "\
Usage: handoff [ -s ] stats [ show ]
       handoff stats help
-s shows the counters of each service and each peer too.
";

pub const MONITOR: &str = "\
Usage: handoff monitor
       handoff monitor help
Prints one line per event (peer up or down, service added or deleted)
until interrupted.
";

pub fn text(obj: Option<Object>) -> &'static str {
    match obj {
        None => MAIN,
        Some(Object::Service) => SERVICE,
        Some(Object::Peer) => PEER,
        Some(Object::Node) => NODE,
        Some(Object::Conn) => CONN,
        Some(Object::Stats) => STATS,
        Some(Object::Monitor) => MONITOR,
    }
}
