//! From a parsed command to the request sent to the kernel, and from the
//! kernel's replies to records to print.

use crate::args::{Command, Opts};
use crate::attr::Attr;
use crate::model::{selection_record, Conn, IfName, Node, Peer, Service, Stats};
use crate::netlink::{HandoffMsg, Request};
use crate::output::Record;
use crate::uapi::*;
use crate::Error;

/// Interface name to index.
pub type IfIndex<'a> = &'a dyn Fn(&str) -> Result<u32, Error>;

fn service_key(s: &Service) -> Attr {
    Attr::nested(HANDOFF_A_SERVICE, Service::new(s.addr, s.port).to_attrs())
}

fn peer_key(id: u32) -> Attr {
    Attr::nested(HANDOFF_A_PEER, vec![Attr::u32(HANDOFF_A_PEER_ID, id)])
}

fn table(t: Option<u32>) -> Vec<Attr> {
    t.map(|t| vec![Attr::u32(HANDOFF_A_TABLE, t)])
        .unwrap_or_default()
}

/// The request for a command; `None` for commands that send none (help,
/// version, monitor).
pub fn build(cmd: &Command, opts: &Opts, ifindex: IfIndex) -> Result<Option<Request>, Error> {
    let req = |cmd: u8, dump: bool, attrs: Vec<Attr>| Ok(Some(Request { cmd, dump, attrs }));
    match cmd {
        Command::Help(_) | Command::Version | Command::Monitor => Ok(None),
        Command::ServiceAdd(svc, devs) => {
            let mut svc = svc.clone();
            for d in devs {
                svc.ifaces.push(ifindex(d)?);
            }
            req(
                HANDOFF_CMD_SERVICE_ADD,
                false,
                vec![Attr::nested(HANDOFF_A_SERVICE, svc.to_attrs())],
            )
        }
        Command::ServiceDel(svc) => req(HANDOFF_CMD_SERVICE_DEL, false, vec![service_key(svc)]),
        Command::ServiceShow(Some(svc)) => {
            req(HANDOFF_CMD_SERVICE_GET, false, vec![service_key(svc)])
        }
        Command::ServiceShow(None) => req(HANDOFF_CMD_SERVICE_GET, true, vec![]),
        Command::ServiceSelect(svc, client) => req(
            HANDOFF_CMD_SELECT_GET,
            false,
            vec![service_key(svc), Attr::addr(HANDOFF_A_CLIENT, *client)],
        ),
        Command::PeerAdd(peer) => req(
            HANDOFF_CMD_PEER_ADD,
            false,
            vec![Attr::nested(HANDOFF_A_PEER, peer.to_attrs())],
        ),
        Command::PeerDel(id) => req(HANDOFF_CMD_PEER_DEL, false, vec![peer_key(*id)]),
        Command::PeerShow(Some(id)) => req(HANDOFF_CMD_PEER_GET, false, vec![peer_key(*id)]),
        Command::PeerShow(None) => req(HANDOFF_CMD_PEER_GET, true, vec![]),
        Command::NodeSet(node) => req(
            HANDOFF_CMD_NODE_SET,
            false,
            vec![Attr::nested(HANDOFF_A_NODE, node.to_attrs())],
        ),
        Command::NodeShow => req(HANDOFF_CMD_NODE_GET, false, vec![]),
        Command::ConnShow(t) => req(HANDOFF_CMD_CONN_GET, true, table(*t)),
        Command::ConnFlush(t) => req(HANDOFF_CMD_CONN_FLUSH, false, table(*t)),
        Command::Stats => req(HANDOFF_CMD_STATS_GET, opts.details, vec![]),
    }
}

fn nested(msg: &HandoffMsg, kind: u16) -> Result<Option<Vec<crate::attr::RawAttr>>, Error> {
    match msg.raw.iter().find(|a| a.kind == kind) {
        Some(a) => Ok(Some(a.get_nested()?)),
        None => Ok(None),
    }
}

/// The records to print for the replies of a command.  Messages without the
/// expected attribute are skipped.
pub fn records(
    cmd: &Command,
    replies: &[HandoffMsg],
    ifname: IfName,
) -> Result<Vec<Record>, Error> {
    let mut out = Vec::new();
    for msg in replies {
        let rec = match cmd {
            Command::ServiceShow(_) => nested(msg, HANDOFF_A_SERVICE)?
                .map(|a| Service::from_raw(&a).map(|s| s.to_record(ifname)))
                .transpose()?,
            Command::PeerShow(_) => nested(msg, HANDOFF_A_PEER)?
                .map(|a| Peer::from_raw(&a).map(|p| p.to_record()))
                .transpose()?,
            Command::NodeShow => nested(msg, HANDOFF_A_NODE)?
                .map(|a| Node::from_raw(&a).map(|n| n.to_record()))
                .transpose()?,
            Command::ConnShow(_) => nested(msg, HANDOFF_A_CONN)?
                .map(|a| Conn::from_raw(&a).map(|c| c.to_record()))
                .transpose()?,
            Command::Stats => Some(Stats::from_msg(&msg.raw)?.to_record()),
            Command::ServiceSelect(..) => nested(msg, HANDOFF_A_NODE)?
                .map(|a| selection_record(&a))
                .transpose()?,
            _ => None,
        };
        out.extend(rec);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::parse;
    use crate::attr::{parse_attrs, RawAttr};
    use crate::model::{PolicyParams, Rule};
    use netlink_packet_core::NetlinkMessage;
    use netlink_packet_core::NetlinkPayload;
    use netlink_packet_generic::GenlMessage;

    fn fake_ifindex(name: &str) -> Result<u32, Error> {
        match name {
            "eth0" => Ok(2),
            "eth1" => Ok(3),
            _ => Err(Error::Fail(format!("unknown interface \"{name}\""))),
        }
    }

    fn request(line: &str) -> Request {
        let args: Vec<String> = line.split_whitespace().map(str::to_string).collect();
        let (opts, cmd) = parse(&args).unwrap();
        build(&cmd, &opts, &fake_ifindex).unwrap().unwrap()
    }

    /// Serialize as the kernel would receive it, parse it back with the
    /// crates, and return (command, flags, attributes).
    fn wire(req: &Request) -> (u8, u16, Vec<RawAttr>) {
        let bytes = req.to_bytes(0x1d, 42);
        let msg = NetlinkMessage::<GenlMessage<HandoffMsg>>::deserialize(&bytes).unwrap();
        assert_eq!(msg.header.message_type, 0x1d);
        assert_eq!(msg.header.sequence_number, 42);
        assert_eq!(msg.header.length as usize, bytes.len());
        let NetlinkPayload::InnerMessage(genl) = msg.payload else {
            panic!("not a genl message")
        };
        assert_eq!(genl.header.version, HANDOFF_GENL_VERSION);
        assert_eq!(genl.header.cmd, genl.payload.cmd);
        (genl.payload.cmd, msg.header.flags, genl.payload.raw)
    }

    fn only(raw: &[RawAttr], kind: u16) -> Vec<RawAttr> {
        assert_eq!(raw.len(), 1, "{raw:?}");
        assert_eq!(raw[0].kind, kind);
        raw[0].get_nested().unwrap()
    }

    const DO: u16 = 1 | 4; // NLM_F_REQUEST | NLM_F_ACK
    const DUMP: u16 = 1 | 0x300; // NLM_F_REQUEST | NLM_F_DUMP

    #[cfg(target_endian = "little")]
    #[test]
    fn exact_bytes_of_peer_del() {
        let bytes = request("peer del 7").to_bytes(0x1d, 42);
        #[rustfmt::skip]
        let want: &[u8] = &[
            32, 0, 0, 0,        // nlmsg_len
            0x1d, 0,            // nlmsg_type: the family id
            5, 0,               // NLM_F_REQUEST | NLM_F_ACK
            42, 0, 0, 0,        // nlmsg_seq
            0, 0, 0, 0,         // nlmsg_pid
            HANDOFF_CMD_PEER_DEL, HANDOFF_GENL_VERSION, 0, 0, // genlmsghdr
            12, 0, HANDOFF_A_PEER as u8, 0x80, // HANDOFF_A_PEER | NLA_F_NESTED
            8, 0, HANDOFF_A_PEER_ID as u8, 0, 7, 0, 0, 0, // HANDOFF_A_PEER_ID = 7
        ];
        assert_eq!(bytes, want);
    }

    #[cfg(target_endian = "little")]
    #[test]
    fn exact_bytes_of_service_del() {
        let bytes = request("service del 10.0.0.1:80").to_bytes(0x1d, 1);
        #[rustfmt::skip]
        let want: &[u8] = &[
            HANDOFF_CMD_SERVICE_DEL, 1, 0, 0,
            20, 0, HANDOFF_A_SERVICE as u8, 0x80,
            8, 0, HANDOFF_A_SERVICE_ADDR as u8, 0, 10, 0, 0, 1, // address, network order
            6, 0, HANDOFF_A_SERVICE_PORT as u8, 0, 80, 0, 0, 0, // port, host order, padded
        ];
        assert_eq!(&bytes[16..], want);
    }

    #[test]
    fn service_add_roundtrip() {
        let req = request(
            "service add [2001:db8::1]:443 dev eth0 dev eth1 policy host-uri match a.example/api node 2 \
             fallback weighted max-temporary 10 max-forward 20 syn-timeout 30 idle-timeout 40 \
             syncookies always first-data-wait 500 request-limit 4096",
        );
        let (cmd, flags, raw) = wire(&req);
        assert_eq!((cmd, flags), (HANDOFF_CMD_SERVICE_ADD, DO));
        let svc = Service::from_raw(&only(&raw, HANDOFF_A_SERVICE)).unwrap();
        let mut want = Service::new("2001:db8::1".parse().unwrap(), 443);
        want.protocol = Some(6);
        want.ifaces = vec![2, 3];
        want.policy = Some(HANDOFF_POLICY_HOST_URI);
        want.params = PolicyParams {
            fallback: Some(HANDOFF_POLICY_WEIGHTED),
            cookie_name: None,
            rules: vec![Rule {
                host: Some("a.example".into()),
                path: Some("/api".into()),
                node: 2,
            }],
        };
        want.max_temporary = Some(10);
        want.max_forward = Some(20);
        want.syn_timeout = Some(30);
        want.idle_timeout = Some(40);
        want.syncookies = Some(HANDOFF_SYNCOOKIES_ALWAYS);
        want.first_data_wait = Some(500);
        want.request_limit = Some(4096);
        assert_eq!(svc, want);
    }

    /// `syncookies MODE` is HANDOFF_A_SERVICE_SYNCOOKIES, a u32, last;
    /// without it nothing is sent (the kernel's default applies).
    #[test]
    fn service_add_syncookies() {
        let (_, _, raw) = wire(&request("service add 10.0.0.1:80 syncookies always"));
        let inner = only(&raw, HANDOFF_A_SERVICE);
        let last = inner.last().unwrap();
        assert_eq!(last.kind, HANDOFF_A_SERVICE_SYNCOOKIES);
        assert_eq!(last.get_u32().unwrap(), HANDOFF_SYNCOOKIES_ALWAYS);
        let (_, _, raw) = wire(&request("service add 10.0.0.1:80 syncookies auto"));
        let svc = Service::from_raw(&only(&raw, HANDOFF_A_SERVICE)).unwrap();
        assert_eq!(svc.syncookies, Some(HANDOFF_SYNCOOKIES_AUTO));
        let (_, _, raw) = wire(&request("service add 10.0.0.1:80"));
        assert!(only(&raw, HANDOFF_A_SERVICE)
            .iter()
            .all(|a| a.kind != HANDOFF_A_SERVICE_SYNCOOKIES));
    }

    /// `first-data-wait MS` is HANDOFF_A_SERVICE_FIRST_DATA_WAIT, a u32 of
    /// milliseconds, 0 included; without it nothing is sent.
    #[test]
    fn service_add_first_data_wait() {
        for ms in [0, 200, 60000] {
            let line = format!("service add 10.0.0.1:80 first-data-wait {ms}");
            let (_, _, raw) = wire(&request(&line));
            let inner = only(&raw, HANDOFF_A_SERVICE);
            let last = inner.last().unwrap();
            assert_eq!(last.kind, HANDOFF_A_SERVICE_FIRST_DATA_WAIT, "{line}");
            assert_eq!(last.get_u32().unwrap(), ms, "{line}");
        }
        let (_, _, raw) = wire(&request(
            "service add 10.0.0.1:80 first-data-wait 0 syncookies always",
        ));
        let svc = Service::from_raw(&only(&raw, HANDOFF_A_SERVICE)).unwrap();
        assert_eq!(svc.first_data_wait, Some(0));
        assert_eq!(svc.syncookies, Some(HANDOFF_SYNCOOKIES_ALWAYS));
        let (_, _, raw) = wire(&request("service add 10.0.0.1:80"));
        assert!(only(&raw, HANDOFF_A_SERVICE)
            .iter()
            .all(|a| a.kind != HANDOFF_A_SERVICE_FIRST_DATA_WAIT));
    }

    /// `request-limit BYTES` is HANDOFF_A_SERVICE_REQUEST_LIMIT, a u32 of
    /// bytes; without it nothing is sent.
    #[test]
    fn service_add_request_limit() {
        for bytes in [1, 1500, 16384] {
            let line = format!("service add 10.0.0.1:80 policy host-uri request-limit {bytes}");
            let (_, _, raw) = wire(&request(&line));
            let inner = only(&raw, HANDOFF_A_SERVICE);
            let last = inner.last().unwrap();
            assert_eq!(last.kind, HANDOFF_A_SERVICE_REQUEST_LIMIT, "{line}");
            assert_eq!(last.get_u32().unwrap(), bytes, "{line}");
        }
        let (_, _, raw) = wire(&request(
            "service add 10.0.0.1:80 request-limit 512 first-data-wait 0",
        ));
        let svc = Service::from_raw(&only(&raw, HANDOFF_A_SERVICE)).unwrap();
        assert_eq!(svc.request_limit, Some(512));
        assert_eq!(svc.first_data_wait, Some(0));
        let (_, _, raw) = wire(&request("service add 10.0.0.1:80 first-data-wait 0"));
        assert!(only(&raw, HANDOFF_A_SERVICE)
            .iter()
            .all(|a| a.kind != HANDOFF_A_SERVICE_REQUEST_LIMIT));
    }

    #[test]
    fn service_add_cookie_roundtrip() {
        let (_, _, raw) = wire(&request("service add 10.0.0.1:80 policy cookie name SRV"));
        let svc = Service::from_raw(&only(&raw, HANDOFF_A_SERVICE)).unwrap();
        assert_eq!(svc.params.cookie_name.as_deref(), Some("SRV"));
        assert_eq!(svc.policy, Some(HANDOFF_POLICY_COOKIE));
    }

    #[test]
    fn unknown_interface() {
        let args: Vec<String> = "service add 10.0.0.1:80 dev eth9"
            .split(' ')
            .map(str::to_string)
            .collect();
        let (opts, cmd) = parse(&args).unwrap();
        let err = build(&cmd, &opts, &fake_ifindex).unwrap_err();
        assert_eq!(err, Error::Fail("unknown interface \"eth9\"".into()));
    }

    #[test]
    fn service_del_and_show() {
        let (cmd, flags, raw) = wire(&request("service del 10.0.0.1:80"));
        assert_eq!((cmd, flags), (HANDOFF_CMD_SERVICE_DEL, DO));
        assert_eq!(
            Service::from_raw(&only(&raw, HANDOFF_A_SERVICE)).unwrap(),
            Service::new("10.0.0.1".parse().unwrap(), 80)
        );

        let (cmd, flags, raw) = wire(&request("service show [::1]:8080"));
        assert_eq!((cmd, flags), (HANDOFF_CMD_SERVICE_GET, DO));
        assert_eq!(
            Service::from_raw(&only(&raw, HANDOFF_A_SERVICE))
                .unwrap()
                .port,
            8080
        );

        let (cmd, flags, raw) = wire(&request("service show"));
        assert_eq!((cmd, flags, raw.len()), (HANDOFF_CMD_SERVICE_GET, DUMP, 0));
    }

    /// `service select VIP:PORT client ADDR`: SELECT_GET, a "do", with the
    /// service's address and port (nothing else) and the top-level client
    /// address, 4 or 16 bytes in network order.
    #[test]
    fn service_select() {
        let (cmd, flags, raw) = wire(&request("service select 10.0.0.1:80 client 198.51.100.7"));
        assert_eq!((cmd, flags), (HANDOFF_CMD_SELECT_GET, DO));
        assert_eq!(raw.len(), 2, "{raw:?}");
        assert_eq!(raw[0].kind, HANDOFF_A_SERVICE);
        let inner = raw[0].get_nested().unwrap();
        let kinds: Vec<u16> = inner.iter().map(|a| a.kind).collect();
        assert_eq!(kinds, [HANDOFF_A_SERVICE_ADDR, HANDOFF_A_SERVICE_PORT]);
        assert_eq!(
            Service::from_raw(&inner).unwrap(),
            Service::new("10.0.0.1".parse().unwrap(), 80)
        );
        assert_eq!(
            (raw[1].kind, raw[1].value.as_slice()),
            (HANDOFF_A_CLIENT, &[198, 51, 100, 7][..])
        );

        let (cmd, _, raw) = wire(&request(
            "service select [2001:db8::1]:443 client 2001:db8:1::7",
        ));
        assert_eq!(cmd, HANDOFF_CMD_SELECT_GET);
        assert_eq!(raw[1].kind, HANDOFF_A_CLIENT);
        assert_eq!(raw[1].value.len(), 16);
        assert_eq!(
            raw[1].get_addr().unwrap(),
            "2001:db8:1::7".parse::<std::net::IpAddr>().unwrap()
        );
        let svc = Service::from_raw(&raw[0].get_nested().unwrap()).unwrap();
        assert_eq!((svc.addr, svc.port), ("2001:db8::1".parse().unwrap(), 443));
    }

    #[cfg(target_endian = "little")]
    #[test]
    fn exact_bytes_of_service_select() {
        let bytes = request("service select 10.0.0.1:80 client 10.0.0.9").to_bytes(0x1d, 42);
        #[rustfmt::skip]
        let want: &[u8] = &[
            48, 0, 0, 0,        // nlmsg_len
            0x1d, 0,            // nlmsg_type: the family id
            5, 0,               // NLM_F_REQUEST | NLM_F_ACK
            42, 0, 0, 0,        // nlmsg_seq
            0, 0, 0, 0,         // nlmsg_pid
            16, 1, 0, 0,        // genlmsghdr: HANDOFF_CMD_SELECT_GET (16), version 1
            20, 0, 2, 0x80,     // HANDOFF_A_SERVICE | NLA_F_NESTED, 20 bytes
            8, 0, 1, 0,         //   HANDOFF_A_SERVICE_ADDR, 4 bytes
            10, 0, 0, 1,
            6, 0, 2, 0,         //   HANDOFF_A_SERVICE_PORT, u16 80
            80, 0, 0, 0,
            8, 0, 10, 0,        // HANDOFF_A_CLIENT (10), 4 bytes, network order
            10, 0, 0, 9,
        ];
        assert_eq!(bytes, want);
    }

    #[test]
    fn peer_commands() {
        let (cmd, flags, raw) = wire(&request("peer add 2 address [2001:db8::2]:7000 weight 5"));
        assert_eq!((cmd, flags), (HANDOFF_CMD_PEER_ADD, DO));
        let p = Peer::from_raw(&only(&raw, HANDOFF_A_PEER)).unwrap();
        assert_eq!(
            p,
            Peer {
                id: 2,
                addr: Some("2001:db8::2".parse().unwrap()),
                port: Some(7000),
                weight: Some(5),
                ..Default::default()
            }
        );
        // The bare address, with or without `port`, sends the same.
        assert_eq!(
            request("peer add 2 2001:db8::2 port 7000 weight 5").to_bytes(0x1d, 1),
            request("peer add 2 address [2001:db8::2]:7000 weight 5").to_bytes(0x1d, 1)
        );
        assert_eq!(
            request("peer add 3 10.0.0.3").to_bytes(0x1d, 1),
            request("peer add 3 address 10.0.0.3").to_bytes(0x1d, 1)
        );
        let (_, _, raw) = wire(&request("peer add 3 address 10.0.0.3"));
        let inner = only(&raw, HANDOFF_A_PEER);
        assert!(inner.iter().all(|a| a.kind != HANDOFF_A_PEER_PORT
            && a.kind != HANDOFF_A_PEER_WEIGHT
            && a.kind != HANDOFF_A_PEER_SYNC_ADDR));

        // `sync-address ADDR` is HANDOFF_A_PEER_SYNC_ADDR, 4 or 16 bytes in
        // network order, after the other attributes.
        let (cmd, _, raw) = wire(&request(
            "peer add 2 10.0.0.2 port 7000 sync-address 10.1.0.2 weight 5",
        ));
        assert_eq!(cmd, HANDOFF_CMD_PEER_ADD);
        let inner = only(&raw, HANDOFF_A_PEER);
        let last = inner.last().unwrap();
        assert_eq!(last.kind, HANDOFF_A_PEER_SYNC_ADDR);
        assert_eq!(last.value, [10, 1, 0, 2]);
        let p = Peer::from_raw(&inner).unwrap();
        assert_eq!(p.sync_addr, Some("10.1.0.2".parse().unwrap()));
        assert_eq!((p.port, p.weight), (Some(7000), Some(5)));
        let (_, _, raw) = wire(&request(
            "peer add 4 2001:db8::4 sync-address 2001:db8:1::4",
        ));
        let inner = only(&raw, HANDOFF_A_PEER);
        let sync = inner
            .iter()
            .find(|a| a.kind == HANDOFF_A_PEER_SYNC_ADDR)
            .unwrap();
        assert_eq!(sync.value.len(), 16);
        assert_eq!(
            Peer::from_raw(&inner).unwrap().sync_addr,
            Some("2001:db8:1::4".parse().unwrap())
        );

        let (cmd, flags, raw) = wire(&request("peer show 3"));
        assert_eq!((cmd, flags), (HANDOFF_CMD_PEER_GET, DO));
        assert_eq!(Peer::from_raw(&only(&raw, HANDOFF_A_PEER)).unwrap().id, 3);
        let (cmd, flags, raw) = wire(&request("peer show"));
        assert_eq!((cmd, flags, raw.len()), (HANDOFF_CMD_PEER_GET, DUMP, 0));
        let (cmd, _, raw) = wire(&request("peer del 3"));
        assert_eq!(cmd, HANDOFF_CMD_PEER_DEL);
        assert_eq!(
            Peer::from_raw(&only(&raw, HANDOFF_A_PEER)).unwrap(),
            Peer {
                id: 3,
                ..Default::default()
            }
        );
    }

    #[test]
    fn node_commands() {
        let (cmd, flags, raw) = wire(&request(
            "node set id 1 forward 10.0.0.1:7000 sync 239.1.1.1:7001 weight 2",
        ));
        assert_eq!((cmd, flags), (HANDOFF_CMD_NODE_SET, DO));
        let n = Node::from_raw(&only(&raw, HANDOFF_A_NODE)).unwrap();
        assert_eq!(n.id, Some(1));
        assert_eq!(n.forward_port, Some(7000));
        assert_eq!(n.sync_addr, Some("239.1.1.1".parse().unwrap()));
        assert_eq!(n.weight, Some(2));
        // `ADDR port PORT` sends what `ADDR:PORT` sends.
        assert_eq!(
            request("node set id 1 forward 10.0.0.1 port 7000 sync 239.1.1.1 port 7001 weight 2")
                .to_bytes(0x1d, 1),
            request("node set id 1 forward 10.0.0.1:7000 sync 239.1.1.1:7001 weight 2")
                .to_bytes(0x1d, 1)
        );
        let (_, _, raw) = wire(&request("node set forward 2001:db8::1 port 7000"));
        let n = Node::from_raw(&only(&raw, HANDOFF_A_NODE)).unwrap();
        assert_eq!(n.forward_addr, Some("2001:db8::1".parse().unwrap()));
        assert_eq!(n.forward_port, Some(7000));
        assert_eq!((n.sync_addr, n.sync_port, n.id), (None, None, None));
        let (_, _, raw) = wire(&request("node set weight 3"));
        assert_eq!(only(&raw, HANDOFF_A_NODE).len(), 1);

        // `sync-interval MS` and `dead-intervals N`: u32s, only when given.
        let (cmd, _, raw) = wire(&request("node set sync-interval 250 dead-intervals 4"));
        assert_eq!(cmd, HANDOFF_CMD_NODE_SET);
        let inner = only(&raw, HANDOFF_A_NODE);
        let got: Vec<(u16, u32)> = inner
            .iter()
            .map(|a| (a.kind, a.get_u32().unwrap()))
            .collect();
        assert_eq!(
            got,
            [
                (HANDOFF_A_NODE_SYNC_INTERVAL, 250),
                (HANDOFF_A_NODE_DEAD_INTERVALS, 4)
            ]
        );
        let (_, _, raw) = wire(&request("node set dead-intervals 1"));
        let n = Node::from_raw(&only(&raw, HANDOFF_A_NODE)).unwrap();
        assert_eq!((n.sync_interval, n.dead_intervals), (None, Some(1)));
        let (_, _, raw) = wire(&request("node set id 1 sync 10.1.0.1:7001"));
        assert!(only(&raw, HANDOFF_A_NODE)
            .iter()
            .all(|a| a.kind != HANDOFF_A_NODE_SYNC_INTERVAL
                && a.kind != HANDOFF_A_NODE_DEAD_INTERVALS));
        let (cmd, flags, raw) = wire(&request("node show"));
        assert_eq!((cmd, flags, raw.len()), (HANDOFF_CMD_NODE_GET, DO, 0));
    }

    #[test]
    fn conn_and_stats_commands() {
        let (cmd, flags, raw) = wire(&request("conn show forward"));
        assert_eq!((cmd, flags), (HANDOFF_CMD_CONN_GET, DUMP));
        assert_eq!(raw.len(), 1);
        assert_eq!(
            (raw[0].kind, raw[0].get_u32().unwrap()),
            (HANDOFF_A_TABLE, HANDOFF_TABLE_FORWARD)
        );
        let (_, _, raw) = wire(&request("conn show"));
        assert!(raw.is_empty());
        let (cmd, flags, raw) = wire(&request("conn flush temporary"));
        assert_eq!((cmd, flags), (HANDOFF_CMD_CONN_FLUSH, DO));
        assert_eq!(raw[0].get_u32().unwrap(), HANDOFF_TABLE_TEMPORARY);
        let (cmd, flags, _) = wire(&request("stats"));
        assert_eq!((cmd, flags), (HANDOFF_CMD_STATS_GET, DO));
        let (cmd, flags, _) = wire(&request("stats -s"));
        assert_eq!((cmd, flags), (HANDOFF_CMD_STATS_GET, DUMP));
    }

    #[test]
    fn no_request_for_local_commands() {
        for line in [
            "help",
            "-V",
            "monitor",
            "service help",
            "service select help",
        ] {
            let args: Vec<String> = line.split(' ').map(str::to_string).collect();
            let (opts, cmd) = parse(&args).unwrap();
            assert!(
                build(&cmd, &opts, &fake_ifindex).unwrap().is_none(),
                "{line}"
            );
        }
    }

    #[test]
    fn replies_to_records() {
        let svc = Service::new("10.0.0.1".parse().unwrap(), 80);
        let reply = |cmd: u8, attrs: Vec<Attr>| HandoffMsg {
            cmd,
            attrs: Vec::new(),
            raw: parse_attrs(&crate::attr::emit_attrs(&attrs)).unwrap(),
        };
        let msgs = vec![
            reply(
                HANDOFF_CMD_SERVICE_GET,
                vec![Attr::nested(HANDOFF_A_SERVICE, svc.to_attrs())],
            ),
            reply(HANDOFF_CMD_SERVICE_GET, vec![]),
        ];
        let recs = records(&Command::ServiceShow(None), &msgs, &|i| format!("if{i}")).unwrap();
        assert_eq!(recs.len(), 1);
        assert_eq!(recs[0].human(), "service 10.0.0.1:80");

        let msgs = vec![reply(
            HANDOFF_CMD_STATS_GET,
            vec![
                Attr::u32(HANDOFF_A_SCOPE, HANDOFF_SCOPE_GLOBAL),
                Attr::nested(
                    HANDOFF_A_STATS,
                    vec![
                        Attr::u64(HANDOFF_A_STATS_INJECTED, 4),
                        Attr::bytes(HANDOFF_A_STATS_PAD, vec![]),
                    ],
                ),
            ],
        )];
        let recs = records(&Command::Stats, &msgs, &|i| format!("if{i}")).unwrap();
        let j = crate::output::render(&recs, crate::output::Format::Json);
        let v: serde_json::Value = serde_json::from_str(&j).unwrap();
        assert_eq!(v[0]["injected"], 4);
        assert_eq!(v[0]["scope"], "global");
        assert_eq!(v[0]["sync_sent"], 0);

        // peer show: one peer up with its report, one never heard of.
        let msgs = vec![
            reply(
                HANDOFF_CMD_PEER_GET,
                vec![Attr::nested(
                    HANDOFF_A_PEER,
                    vec![
                        Attr::u32(HANDOFF_A_PEER_ID, 2),
                        Attr::addr(HANDOFF_A_PEER_ADDR, "10.0.0.2".parse().unwrap()),
                        Attr::u16(HANDOFF_A_PEER_PORT, 7000),
                        Attr::u32(HANDOFF_A_PEER_WEIGHT, 1),
                        Attr::u32(HANDOFF_A_PEER_STATE, HANDOFF_PEER_STATE_UP),
                        Attr::addr(HANDOFF_A_PEER_SYNC_ADDR, "10.0.0.2".parse().unwrap()),
                        Attr::u32(HANDOFF_A_PEER_REPORT_AGE, 40),
                        Attr::u32(HANDOFF_A_PEER_LOAD, 12),
                    ],
                )],
            ),
            reply(
                HANDOFF_CMD_PEER_GET,
                vec![Attr::nested(
                    HANDOFF_A_PEER,
                    vec![
                        Attr::u32(HANDOFF_A_PEER_ID, 3),
                        Attr::addr(HANDOFF_A_PEER_ADDR, "10.0.0.3".parse().unwrap()),
                        Attr::u16(HANDOFF_A_PEER_PORT, 7000),
                        Attr::u32(HANDOFF_A_PEER_WEIGHT, 1),
                        Attr::u32(HANDOFF_A_PEER_STATE, HANDOFF_PEER_STATE_UNKNOWN),
                        Attr::addr(HANDOFF_A_PEER_SYNC_ADDR, "10.1.0.3".parse().unwrap()),
                    ],
                )],
            ),
        ];
        let recs = records(&Command::PeerShow(None), &msgs, &|i| format!("if{i}")).unwrap();
        let text = crate::output::render(&recs, crate::output::Format::Human);
        assert_eq!(
            text,
            "peer 2 address 10.0.0.2:7000 weight 1 state up sync-address 10.0.0.2 \
             report-age 40 load 12\n\
             peer 3 address 10.0.0.3:7000 weight 1 state unknown sync-address 10.1.0.3\n"
        );
        let j = crate::output::render(&recs, crate::output::Format::Json);
        assert_eq!(
            j,
            "[{\"peer\":2,\"address\":\"10.0.0.2:7000\",\"weight\":1,\"state\":\"up\",\
             \"sync-address\":\"10.0.0.2\",\"report-age\":40,\"load\":12},\
             {\"peer\":3,\"address\":\"10.0.0.3:7000\",\"weight\":1,\"state\":\"unknown\",\
             \"sync-address\":\"10.1.0.3\"}]\n"
        );

        // service select: the node of the reply's HANDOFF_A_NODE; a message
        // without it is skipped.
        let select = Command::ServiceSelect(svc.clone(), "10.0.0.9".parse().unwrap());
        let msgs = vec![
            reply(HANDOFF_CMD_SELECT_GET, vec![]),
            reply(
                HANDOFF_CMD_SELECT_GET,
                vec![Attr::nested(
                    HANDOFF_A_NODE,
                    vec![Attr::u32(HANDOFF_A_NODE_ID, 3)],
                )],
            ),
        ];
        let recs = records(&select, &msgs, &|i| format!("if{i}")).unwrap();
        assert_eq!(recs.len(), 1);
        assert_eq!(recs[0].human(), "node 3");
        assert_eq!(
            crate::output::render_one(&recs[0], crate::output::Format::Json),
            "{\"node\":3}\n"
        );
        let msgs = vec![reply(
            HANDOFF_CMD_SELECT_GET,
            vec![Attr::nested(HANDOFF_A_NODE, vec![])],
        )];
        assert!(records(&select, &msgs, &|i| format!("if{i}")).is_err());

        // node show.
        let msgs = vec![reply(
            HANDOFF_CMD_NODE_GET,
            vec![Attr::nested(
                HANDOFF_A_NODE,
                vec![
                    Attr::u32(HANDOFF_A_NODE_ID, 1),
                    Attr::addr(HANDOFF_A_NODE_FORWARD_ADDR, "10.0.0.1".parse().unwrap()),
                    Attr::u16(HANDOFF_A_NODE_FORWARD_PORT, 7000),
                    Attr::addr(HANDOFF_A_NODE_SYNC_ADDR, "10.0.0.1".parse().unwrap()),
                    Attr::u16(HANDOFF_A_NODE_SYNC_PORT, 7001),
                    Attr::u32(HANDOFF_A_NODE_WEIGHT, 1),
                    Attr::u32(HANDOFF_A_NODE_SYNC_INTERVAL, 100),
                    Attr::u32(HANDOFF_A_NODE_DEAD_INTERVALS, 3),
                ],
            )],
        )];
        let recs = records(&Command::NodeShow, &msgs, &|i| format!("if{i}")).unwrap();
        assert_eq!(
            crate::output::render(&recs, crate::output::Format::Human),
            "node 1 forward 10.0.0.1:7000 sync 10.0.0.1:7001 weight 1 sync-interval 100 \
             dead-intervals 3\n"
        );
        assert_eq!(
            crate::output::render(&recs, crate::output::Format::Json),
            "[{\"node\":1,\"forward\":\"10.0.0.1:7000\",\"sync\":\"10.0.0.1:7001\",\"weight\":1,\
             \"sync-interval\":100,\"dead-intervals\":3}]\n"
        );
    }
}
