//! Invariant checks of the redistribution datagram parser, shared by the
//! mutation test (`tests/wire.rs`) and the `wire` cargo-fuzz target, which
//! include this file by path.

use handoff_proto::wire::{self, PktType};

/// What [`check_datagram`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// [`wire::parse`] rejected the datagram.
    Rejected,
    /// A DATA or MIGRATED_ACK datagram was accepted.
    Other,
    /// A NEW datagram was accepted but [`wire::parse_new`] rejected its
    /// body.
    NewRejected,
    /// A NEW datagram and its body were accepted (and round-tripped).
    New,
}

/// Parses `data` as a datagram and, for NEW, its body; checks what the
/// module relies on for everything accepted, and that an accepted NEW
/// re-encoded with `write_new` and `new_datagram` parses back to the same
/// connection and request bytes.
pub fn check_datagram(data: &[u8]) -> Outcome {
    let Ok(d) = wire::parse(data) else {
        return Outcome::Rejected;
    };
    assert_ne!(d.hdr.conn_ref, 0);
    assert_eq!(d.hdr.ty.as_u8(), data[0]);
    assert_eq!(d.hdr.flags, data[1]);
    let len = usize::from(u16::from_be_bytes([data[2], data[3]]));
    assert_eq!(
        d.body,
        &data[wire::ENCAP_HDR_LEN..wire::ENCAP_HDR_LEN + len]
    );
    // The header re-encodes to the same bytes, unknown flags included.
    let mut h = [0u8; wire::ENCAP_HDR_LEN];
    assert_eq!(
        wire::write_hdr(&mut h, &d.hdr, d.body.len()),
        Ok(wire::ENCAP_HDR_LEN)
    );
    assert_eq!(h[..], data[..wire::ENCAP_HDR_LEN]);
    match d.hdr.ty {
        PktType::MigratedAck => {
            assert!(d.body.is_empty());
            if d.hdr.flags & !wire::F_REFUSED == 0 && (!d.hdr.refused() || d.hdr.flow_id == 0) {
                let mut a = [0u8; wire::ENCAP_HDR_LEN];
                let n = wire::ack_datagram(&mut a, d.hdr.conn_ref, d.hdr.flow_id, d.hdr.refused());
                assert_eq!(a[..n], data[..wire::ENCAP_HDR_LEN]);
            }
            return Outcome::Other;
        }
        PktType::Data => {
            assert!(!d.body.is_empty());
            return Outcome::Other;
        }
        PktType::New => assert!(d.body.len() >= wire::NEW_CONN_LEN),
    }
    let Ok((nc, req)) = wire::parse_new(d.body) else {
        return Outcome::NewRejected;
    };
    assert_eq!(req, &d.body[wire::NEW_CONN_LEN..]);
    assert_eq!(nc.check(), Ok(()));
    let mut out = vec![0u8; wire::ENCAP_HDR_LEN + d.body.len()];
    let n = wire::write_new(&mut out, &nc, req).expect("an accepted NEW re-encodes");
    // The encoding is canonical: an accepted body comes back byte for byte.
    assert_eq!(out[..n], *d.body);
    assert_eq!(wire::parse_new(&out[..n]), Ok((nc, req)));
    let n = wire::new_datagram(&mut out, d.hdr.conn_ref, &nc, req).expect("fits");
    assert_eq!(n, wire::ENCAP_HDR_LEN + d.body.len());
    let back = wire::parse(&out[..n]).expect("our NEW parses");
    assert_eq!(back.hdr.ty, PktType::New);
    assert_eq!((back.hdr.flags, back.hdr.flow_id), (0, 0));
    assert_eq!(back.hdr.conn_ref, d.hdr.conn_ref);
    assert_eq!(wire::parse_new(back.body), Ok((nc, req)));
    Outcome::New
}
