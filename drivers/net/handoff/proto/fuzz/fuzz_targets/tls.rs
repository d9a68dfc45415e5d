//! Fuzzes the TLS ClientHello parser (`tls::parse_client_hello`): no panic,
//! incremental safety, spans within the ClientHello, and that neither the
//! fields nor the resumption key depend on how the ClientHello is split
//! into records.

#![no_main]

use handoff_proto::content;
use handoff_proto::http::Progress;
use handoff_proto::tls::{self, ClientHello, Span, MAX_SESSION_ID_LEN, MAX_SNI_LEN};
use libfuzzer_sys::fuzz_target;

const KEY: [u8; 16] = *b"handoff fuzz key";

/// `msg` in handshake records of at most `frag` bytes.
fn records(msg: &[u8], frag: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for chunk in msg.chunks(frag) {
        out.extend_from_slice(&[22, 3, 3]);
        out.extend_from_slice(&(chunk.len() as u16).to_be_bytes());
        out.extend_from_slice(chunk);
    }
    out
}

fn bytes(h: &ClientHello<'_>, span: Span) -> Vec<u8> {
    let mut out = vec![0; span.len];
    assert_eq!(h.read(span, 0, &mut out), span.len);
    if let Some(c) = h.contiguous(span) {
        assert_eq!(c, &out[..]);
    }
    out
}

fn check_hello(h: &ClientHello<'_>, data: &[u8]) {
    assert!(h.len <= data.len());
    let part = &data[..h.len];
    assert_eq!(tls::parse_client_hello(part), Progress::Done(h.clone()));
    let step = (h.len / 128).max(1);
    for cut in (0..h.len)
        .step_by(step)
        .chain(h.len.saturating_sub(4)..h.len)
    {
        assert_eq!(
            tls::parse_client_hello(&part[..cut]),
            Progress::Incomplete,
            "cut {cut}"
        );
    }
    assert!(h.session_id().len() <= MAX_SESSION_ID_LEN);
    assert!(h.sni().is_none_or(|s| (1..=MAX_SNI_LEN).contains(&s.len())));
    // The handshake message, reassembled: nothing of the input beyond it.
    let mut msg = vec![0; h.len];
    let n = h.read(
        Span {
            off: 0,
            len: usize::MAX,
        },
        0,
        &mut msg,
    );
    msg.truncate(n);
    assert!(n >= 4 + 2 + 32 + 1 + 4 + 2 && n < h.len);
    let ticket = h.session_ticket.map(|s| bytes(h, s));
    let psk = h.psk_identity.map(|s| bytes(h, s));
    assert!(psk.as_ref().is_none_or(|p| !p.is_empty()));
    let key = content::resumption_key(h, &KEY);
    // The same message in other records: the same fields.
    let frag = usize::from(data[0] ^ data[data.len() - 1]).max(1);
    for frag in [frag, msg.len().min(16384)] {
        let rec = records(&msg, frag);
        let Progress::Done(g) = tls::parse_client_hello(&rec) else {
            panic!("refragmented by {frag}")
        };
        assert_eq!(g.len, rec.len());
        assert_eq!(
            (
                g.legacy_version,
                g.random,
                g.session_id(),
                g.sni(),
                g.offers_tls13
            ),
            (
                h.legacy_version,
                h.random,
                h.session_id(),
                h.sni(),
                h.offers_tls13
            )
        );
        assert_eq!(
            (g.session_ticket, g.psk_identity),
            (h.session_ticket, h.psk_identity)
        );
        assert_eq!(g.session_ticket.map(|s| bytes(&g, s)), ticket);
        assert_eq!(g.psk_identity.map(|s| bytes(&g, s)), psk);
        assert_eq!(content::resumption_key(&g, &KEY), key);
    }
}

fuzz_target!(|data: &[u8]| {
    let whole = tls::parse_client_hello(data);
    if let Progress::Done(h) = &whole {
        check_hello(h, data);
    }
    // A prefix is never further along than the whole.
    for cut in [data.len() / 2, data.len().saturating_sub(1)] {
        let part = tls::parse_client_hello(&data[..cut]);
        match &whole {
            Progress::Done(h) if h.len <= cut => assert_eq!(part, whole),
            Progress::Done(_) | Progress::Incomplete => assert_eq!(part, Progress::Incomplete),
            Progress::Invalid => assert!(!matches!(part, Progress::Done(_))),
        }
    }
});
