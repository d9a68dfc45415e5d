//! Invariant checks shared by the mutation tests (`tests/mutate.rs`) and
//! the cargo-fuzz targets (`fuzz/fuzz_targets/`), which include this file by
//! path.

use handoff_proto::cookie::as_v4;
use handoff_proto::packet::{self, IpVersion, TcpFlags, TcpPacket};
use handoff_proto::tcpopt;

/// What the module relies on for every accepted packet.
pub fn check_packet(buf: &[u8], p: &TcpPacket<'_>) {
    assert!((5..=15).contains(&p.data_offset));
    let hl = usize::from(p.data_offset) * 4;
    assert_eq!(p.options.len(), hl - 20);
    assert_eq!(p.segment.len(), hl + p.payload.len());
    assert_eq!(p.segment[hl..], *p.payload);
    assert_eq!(p.segment[20..hl], *p.options);
    let ip_len = p.ip_header.len();
    assert_eq!(buf[..ip_len], *p.ip_header);
    assert_eq!(buf[ip_len..ip_len + p.segment.len()], *p.segment);
    assert!(ip_len + p.segment.len() <= buf.len());
    assert_eq!(p.sport, u16::from_be_bytes([p.segment[0], p.segment[1]]));
    assert_eq!(p.flags.0, p.segment[13]);
    match p.version {
        IpVersion::V4 => {
            assert_eq!(buf[0] >> 4, 4);
            assert!(ip_len >= 20 && ip_len == usize::from(buf[0] & 15) * 4);
            let total = usize::from(u16::from_be_bytes([buf[2], buf[3]]));
            assert_eq!(total, ip_len + p.segment.len());
            assert_eq!(u16::from_be_bytes([buf[6], buf[7]]) & 0x3fff, 0);
            assert_eq!(buf[9], 6);
            assert_eq!(as_v4(&p.src), Some([buf[12], buf[13], buf[14], buf[15]]));
            assert!(p.tuple().is_v4());
        }
        IpVersion::V6 => {
            assert_eq!(buf[0] >> 4, 6);
            assert_eq!(ip_len, 40);
            let pl = usize::from(u16::from_be_bytes([buf[4], buf[5]]));
            assert_eq!(pl, p.segment.len());
            assert_eq!(buf[6], 6);
            assert_eq!(as_v4(&p.src), None);
            assert_eq!(as_v4(&p.dst), None);
            assert_eq!(p.src[..], buf[8..24]);
        }
    }
    // Checksum helpers and the options parsers must cope with anything.
    let _ = p.tcp_checksum_ok();
    let _ = p.ip_checksum_ok();
    let _ = p.seg_len();
    let _ = p.is_syn_only();
    if check_options(p.options) && p.is_syn_only() {
        check_synack(p);
    }
    // A reset in reply must itself parse back, with a valid checksum.
    let mut out = [0u8; 128];
    match packet::build_rst(&mut out, p) {
        Ok(n) => {
            let r = packet::parse(&out[..n]).expect("our RST parses");
            assert!(r.flags.contains(TcpFlags::RST));
            assert!(r.tcp_checksum_ok() && r.ip_checksum_ok());
            assert_eq!(r.dst, p.src);
            assert_eq!(r.dport, p.sport);
        }
        Err(e) => {
            assert_eq!(e, packet::BuildError::RstForRst);
            assert!(p.flags.contains(TcpFlags::RST));
        }
    }
}

/// Parses an option area both ways; returns whether the strict parser
/// accepted it. Whatever is accepted must yield a well-formed reply.
pub fn check_options(data: &[u8]) -> bool {
    let lenient = tcpopt::parse_lenient(data);
    assert!(lenient.wscale.map_or(true, |w| w <= tcpopt::MAX_WSCALE));
    assert!(lenient.sack.as_slice().len() <= tcpopt::MAX_SACK_BLOCKS);
    let Ok(o) = tcpopt::parse(data) else {
        return false;
    };
    assert_eq!(o, lenient);
    let reply = tcpopt::SynAckOptions::reply_to(&o, 1460, 7, 42);
    let mut out = [0u8; tcpopt::MAX_OPTIONS_LEN];
    let n = tcpopt::write_synack(&reply, &mut out);
    assert!(n % 4 == 0 && n <= 20);
    let back = tcpopt::parse(&out[..n]).expect("our options parse");
    assert_eq!(back.mss, Some(1460));
    assert_eq!(back.sack_perm, o.sack_perm);
    assert_eq!(back.timestamp.map(|t| t.ecr), o.timestamp.map(|t| t.val));
    assert_eq!(back.wscale.is_some(), o.wscale.is_some());
    true
}

/// Answers an accepted SYN the way the module does and checks the reply.
fn check_synack(syn: &TcpPacket<'_>) {
    let Ok(o) = tcpopt::parse(syn.options) else {
        return;
    };
    let mut ob = [0u8; tcpopt::MAX_OPTIONS_LEN];
    let olen = tcpopt::write_synack(&tcpopt::SynAckOptions::reply_to(&o, 1400, 7, 9), &mut ob);
    let mut out = [0u8; 128];
    let n = packet::build_synack(
        &mut out,
        &packet::SynAck {
            tuple: syn.tuple(),
            isn: 77,
            client_isn: syn.seq,
            window: 65535,
            options: &ob[..olen],
        },
    )
    .expect("SYN-ACK fits");
    let r = packet::parse(&out[..n]).expect("our SYN-ACK parses");
    assert_eq!(r.flags, TcpFlags::SYN | TcpFlags::ACK);
    assert_eq!(r.ack, syn.seq.wrapping_add(1));
    assert_eq!(
        (r.src, r.dst, r.sport, r.dport),
        (syn.dst, syn.src, syn.dport, syn.sport)
    );
    assert!(r.tcp_checksum_ok() && r.ip_checksum_ok());
}
