//! ICMP errors about TCP connections: which connection an error quotes.
//!
//! A router on the path of a migrated connection's replies (which leave the
//! target with the VIP as source) sends its errors to the VIP, which the
//! network routes to the origin. The origin finds the connection from the
//! quoted header and forwards the error to the target, so that path MTU
//! discovery keeps working.

use super::packet::PROTO_TCP;

/// ICMP destination unreachable (fragmentation needed among its codes).
pub const ICMP_DEST_UNREACH: u8 = 3;
/// ICMP time exceeded.
pub const ICMP_TIME_EXCEEDED: u8 = 11;

/// The connection an ICMP error quotes, in the client's direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quoted {
    /// The client's address (the quoted segment's destination).
    pub client: [u8; 4],
    /// The server's address, the VIP (the quoted segment's source).
    pub server: [u8; 4],
    /// The client's port.
    pub client_port: u16,
    /// The server's port.
    pub server_port: u16,
}

/// Reads the connection quoted by the ICMPv4 error `icmp` (the ICMP
/// message, from its type byte): a destination unreachable or time
/// exceeded message quoting an IPv4 TCP segment with at least its ports.
/// `None` for anything else.
pub fn quoted_v4(icmp: &[u8]) -> Option<Quoted> {
    let ty = *icmp.first()?;
    if ty != ICMP_DEST_UNREACH && ty != ICMP_TIME_EXCEEDED {
        return None;
    }
    let ip = icmp.get(8..)?;
    let vihl = *ip.first()?;
    let ihl = usize::from(vihl & 0x0f) * 4;
    if vihl >> 4 != 4 || ihl < 20 || *ip.get(9)? != PROTO_TCP {
        return None;
    }
    let addr = |at: usize| -> Option<[u8; 4]> { ip.get(at..at + 4)?.try_into().ok() };
    let port =
        |at: usize| -> Option<u16> { Some(u16::from_be_bytes([*ip.get(at)?, *ip.get(at + 1)?])) };
    Some(Quoted {
        server: addr(12)?,
        client: addr(16)?,
        server_port: port(ihl)?,
        client_port: port(ihl + 2)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frag_needed() -> [u8; 36] {
        let mut m = [0u8; 36];
        m[0] = ICMP_DEST_UNREACH;
        m[1] = 4;
        m[8] = 0x45;
        m[17] = PROTO_TCP;
        m[20..24].copy_from_slice(&[10, 0, 0, 100]);
        m[24..28].copy_from_slice(&[10, 0, 1, 1]);
        m[28..30].copy_from_slice(&80u16.to_be_bytes());
        m[30..32].copy_from_slice(&40000u16.to_be_bytes());
        m
    }

    #[test]
    fn reads_the_quoted_connection_in_the_clients_direction() {
        let q = quoted_v4(&frag_needed()).unwrap();
        assert_eq!(q.client, [10, 0, 1, 1]);
        assert_eq!(q.server, [10, 0, 0, 100]);
        assert_eq!(q.client_port, 40000);
        assert_eq!(q.server_port, 80);
    }

    #[test]
    fn rejects_other_messages_and_short_quotes() {
        let mut m = frag_needed();
        m[0] = 8; // echo request
        assert_eq!(quoted_v4(&m), None);
        let mut m = frag_needed();
        m[17] = 17; // UDP
        assert_eq!(quoted_v4(&m), None);
        // The ports end at 8 + 20 + 4 bytes.
        let m = frag_needed();
        for n in 0..32 {
            assert_eq!(quoted_v4(&m[..n]), None, "{n}");
        }
        assert!(quoted_v4(&m[..32]).is_some());
        let mut m = frag_needed();
        m[8] = 0x44; // IHL below 5
        assert_eq!(quoted_v4(&m), None);
    }
}
