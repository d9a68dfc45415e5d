//! TLS ClientHello, for content-aware server selection.
//!
//! A TLS client speaks first, and its ClientHello is in cleartext: the
//! server name it wants (SNI, RFC 6066 §3), whether it offers TLS 1.3
//! (RFC 8446 §4.2.1) and what it resumes, a TLS 1.2 session id or ticket
//! (RFC 5246, RFC 5077) or a TLS 1.3 PSK identity (RFC 8446 §4.2.11). A
//! content policy routes by the name, or a resumption back to the same
//! node. As for HTTP ([`super::http`]), the front holds the first bytes and
//! calls [`parse_client_hello`] on all of them each time more arrive, with
//! the same [`Progress`] verdicts and the same incremental safety: every
//! proper prefix of a valid ClientHello is Incomplete, and the ClientHello
//! followed by anything is Done with the same fields.
//!
//! # Records
//!
//! The ClientHello is a handshake message (type 1, a 3-byte length, the
//! body) carried in handshake records (content type 22, version 0x0301 to
//! 0x0303, length 1 to 2^14). One larger than a record, or from a client
//! that likes small records, spans several, with nothing in between (RFC
//! 8446 §5.1). The parser reads the *handshake stream*, the concatenated
//! record payloads, through a cursor that steps over the record headers:
//! nothing is allocated or copied to reassemble it. A [`Span`] is a piece
//! of that stream, offset 0 being the message's type byte. The verdict is
//! Done as soon as the message's last byte is there; what follows it (the
//! rest of its record, later records) is not looked at. Record headers are
//! checked byte by byte as they arrive, so anything but TLS is Invalid at
//! its first byte (an HTTP request at its `G`).
//!
//! # Checks
//!
//! Lengths are checked against the structure that encloses them, never
//! against what has arrived: a vector longer than its container is Invalid
//! at once, a short buffer only Incomplete. The body is at most
//! [`MAX_HELLO_LEN`] bytes; `legacy_version` is 3.x; the session id at most
//! 32 bytes; cipher suites a non-empty even length; compression methods
//! not empty; the extensions, if any, fill the rest of the body exactly.
//! The extensions read here must not repeat (RFC 8446 §4.2): server_name
//! (a list of `type, length, name` entries with at most one host_name of
//! 1 to [`MAX_SNI_LEN`] bytes; a DNS name has at most 253 characters, so a
//! longer one is Invalid rather than cut), session_ticket, supported_versions
//! (an even length of 2 to 254) and pre_shared_key (the last extension,
//! identities of at least one byte, as many binders of 32 to 255 bytes).
//! Values are not compared with lists of known ones, so GREASE values (RFC
//! 8701) and whatever comes next pass.
//!
//! # What is kept
//!
//! The server name and the session id are copied into the [`ClientHello`]
//! (255 and 32 bytes at most): in a ClientHello spanning records either may
//! straddle a boundary. A session ticket or PSK identity may be long
//! (hundreds of bytes, in principle 64 KiB): they are [`Span`]s;
//! [`ClientHello::read`] copies from one and [`super::content::resumption_key`]
//! hashes one, with the same result however it is split into records.

use super::http::{Progress, Res, Stop};

/// The largest ClientHello body accepted (16 KiB): far above what clients
/// send, post-quantum key shares included (about 2 KiB).
pub const MAX_HELLO_LEN: usize = 16384;
/// The longest server name kept: a DNS name is at most 255 bytes on the
/// wire, 253 characters written out.
pub const MAX_SNI_LEN: usize = 255;
/// The longest legacy session id (RFC 8446 §4.1.2).
pub const MAX_SESSION_ID_LEN: usize = 32;
/// The protocol version of TLS 1.3 in supported_versions.
pub const TLS13: u16 = 0x0304;

const RECORD_HDR_LEN: usize = 5;
/// The largest record payload (RFC 8446 §5.1).
const MAX_RECORD_LEN: usize = 16384;
const CONTENT_HANDSHAKE: u8 = 22;
const HANDSHAKE_CLIENT_HELLO: u8 = 1;
// Extension types read here (IANA "TLS ExtensionType Values").
const EXT_SERVER_NAME: u16 = 0;
const EXT_SESSION_TICKET: u16 = 35;
const EXT_PRE_SHARED_KEY: u16 = 41;
const EXT_SUPPORTED_VERSIONS: u16 = 43;
/// `NameType` host_name of server_name.
const HOST_NAME: u8 = 0;

/// A piece of the handshake stream (see the module documentation): `len`
/// bytes from offset `off`, where offset 0 is the ClientHello's type byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Span {
    /// Where it starts in the handshake stream.
    pub off: usize,
    /// Its length.
    pub len: usize,
}

/// A parsed ClientHello.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ClientHello<'a> {
    /// `legacy_version`: 0x0303 for TLS 1.2 and 1.3 clients.
    pub legacy_version: u16,
    /// The client's random.
    pub random: [u8; 32],
    /// Whether supported_versions lists TLS 1.3 ([`TLS13`]).
    pub offers_tls13: bool,
    /// The session_ticket extension, if present: empty when the client
    /// asks for a ticket, the ticket when it resumes with one (TLS 1.2).
    pub session_ticket: Option<Span>,
    /// The first identity of pre_shared_key, if present: what a TLS 1.3
    /// client resumes (normally a ticket of the server's).
    pub psk_identity: Option<Span>,
    /// The bytes of the buffer the ClientHello takes, record headers
    /// included: what follows it starts here.
    pub len: usize,
    session_id: [u8; MAX_SESSION_ID_LEN],
    session_id_len: u8,
    sni: [u8; MAX_SNI_LEN],
    sni_len: u8,
    /// The parsed buffer up to `len`.
    raw: &'a [u8],
}

impl<'a> ClientHello<'a> {
    /// The legacy session id, 0 to 32 bytes.
    pub fn session_id(&self) -> &[u8] {
        let n = usize::from(self.session_id_len);
        self.session_id.get(..n).unwrap_or_default()
    }

    /// The host_name of server_name, if the client sent one. Bytes as
    /// sent: clients send lower-case ASCII, without a trailing dot.
    pub fn sni(&self) -> Option<&[u8]> {
        let n = usize::from(self.sni_len);
        (n > 0).then(|| self.sni.get(..n).unwrap_or_default())
    }

    /// Copies the bytes of `span` from its `skip`-th on into `out`, as many
    /// as fit, and returns how many; fewer only if `span` is not within
    /// this ClientHello.
    pub fn read(&self, span: Span, skip: usize, out: &mut [u8]) -> usize {
        let mut s = Stream::new(self.raw);
        let Some(start) = span.off.checked_add(skip) else {
            return 0;
        };
        if s.skip(start).is_err() {
            return 0;
        }
        let n = span.len.saturating_sub(skip).min(out.len());
        let mut dst = out.iter_mut();
        let mut copied = 0usize;
        let _ = s.walk(n, |piece| {
            for (&b, d) in piece.iter().zip(dst.by_ref()) {
                *d = b;
                copied = copied.saturating_add(1);
            }
        });
        copied
    }

    /// The bytes of `span` as one slice of the parsed buffer, if they lie
    /// within one record (always, when the ClientHello does).
    pub fn contiguous(&self, span: Span) -> Option<&'a [u8]> {
        let mut s = Stream::new(self.raw);
        s.skip(span.off).ok()?;
        if span.len == 0 {
            return self.raw.get(s.at..s.at);
        }
        if s.rec_left == 0 {
            s.next_record().ok()?;
        }
        if s.rec_left < span.len {
            return None;
        }
        self.raw.get(s.at..s.at.checked_add(span.len)?)
    }
}

/// Parses the ClientHello at the start of `buf`, the bytes a client sent
/// so far (see the module documentation).
pub fn parse_client_hello(buf: &[u8]) -> Progress<ClientHello<'_>> {
    Progress::of(parse(buf))
}

fn check(ok: bool) -> Res<()> {
    if ok {
        Ok(())
    } else {
        Err(Stop::Invalid)
    }
}

/// A cursor in the handshake stream of a buffer of records.
struct Stream<'a> {
    buf: &'a [u8],
    /// Where the next byte is in `buf`.
    at: usize,
    /// The bytes of the current record's payload from `at` on, arrived or
    /// not.
    rec_left: usize,
    /// The next byte's offset in the handshake stream.
    pos: usize,
    /// The end of the structure being read (a stream offset): reading
    /// beyond it is Invalid.
    end: usize,
}

impl<'a> Stream<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Stream {
            buf,
            at: 0,
            rec_left: 0,
            pos: 0,
            end: usize::MAX,
        }
    }

    /// Steps over the header of the next record, checking each byte that
    /// has arrived.
    fn next_record(&mut self) -> Res<()> {
        let rest = self.buf.get(self.at..).unwrap_or_default();
        let hdr = rest.get(..RECORD_HDR_LEN).unwrap_or(rest);
        for (i, &b) in hdr.iter().enumerate() {
            check(match i {
                0 => b == CONTENT_HANDSHAKE,
                1 => b == 3,
                2 => (1..=3).contains(&b),
                _ => true,
            })?;
        }
        let &[_, _, _, hi, lo] = hdr else {
            return Err(Stop::Incomplete);
        };
        let len = usize::from(u16::from_be_bytes([hi, lo]));
        check((1..=MAX_RECORD_LEN).contains(&len))?;
        self.at = self.at.saturating_add(RECORD_HDR_LEN);
        self.rec_left = len;
        Ok(())
    }

    /// Consumes the next `n` bytes of the stream, handing them to `f` in
    /// pieces, one per record they lie in.
    fn walk(&mut self, n: usize, mut f: impl FnMut(&'a [u8])) -> Res<()> {
        let stop = self.pos.checked_add(n).ok_or(Stop::Invalid)?;
        check(stop <= self.end)?;
        let mut left = n;
        while left > 0 {
            if self.rec_left == 0 {
                self.next_record()?;
            }
            let rest = self.buf.get(self.at..).unwrap_or_default();
            let piece = rest.get(..left.min(self.rec_left)).unwrap_or(rest);
            if piece.is_empty() {
                return Err(Stop::Incomplete);
            }
            f(piece);
            let k = piece.len();
            self.at = self.at.saturating_add(k);
            self.rec_left = self.rec_left.saturating_sub(k);
            self.pos = self.pos.saturating_add(k);
            left = left.saturating_sub(k);
        }
        Ok(())
    }

    fn skip(&mut self, n: usize) -> Res<()> {
        self.walk(n, |_| {})
    }

    /// Copies the next `n` bytes into `out`, which is at least that long.
    fn copy(&mut self, n: usize, out: &mut [u8]) -> Res<()> {
        check(n <= out.len())?;
        let mut dst = out.iter_mut();
        self.walk(n, |piece| {
            for (&b, d) in piece.iter().zip(dst.by_ref()) {
                *d = b;
            }
        })
    }

    /// A big-endian integer of `n` (at most 4) bytes.
    fn uint(&mut self, n: usize) -> Res<u32> {
        let mut v = 0u32;
        self.walk(n, |piece| {
            for &b in piece {
                v = v << 8 | u32::from(b);
            }
        })?;
        Ok(v)
    }

    fn u8(&mut self) -> Res<u8> {
        u8::try_from(self.uint(1)?).map_err(|_| Stop::Invalid)
    }

    fn u16(&mut self) -> Res<u16> {
        u16::try_from(self.uint(2)?).map_err(|_| Stop::Invalid)
    }

    fn len8(&mut self) -> Res<usize> {
        self.u8().map(usize::from)
    }

    fn len16(&mut self) -> Res<usize> {
        self.u16().map(usize::from)
    }

    fn len24(&mut self) -> Res<usize> {
        usize::try_from(self.uint(3)?).map_err(|_| Stop::Invalid)
    }

    /// Starts a structure of `len` bytes within the current one; returns
    /// the current one's end for [`Stream::leave`].
    fn enter(&mut self, len: usize) -> Res<usize> {
        let end = self.pos.checked_add(len).ok_or(Stop::Invalid)?;
        check(end <= self.end)?;
        Ok(core::mem::replace(&mut self.end, end))
    }

    /// Ends a structure, which must have been read completely.
    fn leave(&mut self, outer: usize) -> Res<()> {
        check(self.pos == self.end)?;
        self.end = outer;
        Ok(())
    }

    /// Whether the structure being read has bytes left.
    fn more(&self) -> bool {
        self.pos < self.end
    }
}

fn parse(buf: &[u8]) -> Res<ClientHello<'_>> {
    let mut s = Stream::new(buf);
    check(s.u8()? == HANDSHAKE_CLIENT_HELLO)?;
    let len = s.len24()?;
    check(len <= MAX_HELLO_LEN)?;
    s.enter(len)?;
    let legacy_version = s.u16()?;
    check(legacy_version >> 8 == 3)?;
    let mut hello = ClientHello {
        legacy_version,
        random: [0; 32],
        offers_tls13: false,
        session_ticket: None,
        psk_identity: None,
        len: 0,
        session_id: [0; MAX_SESSION_ID_LEN],
        session_id_len: 0,
        sni: [0; MAX_SNI_LEN],
        sni_len: 0,
        raw: &[],
    };
    s.copy(32, &mut hello.random)?;
    let n = s.len8()?;
    s.copy(n, &mut hello.session_id)?;
    hello.session_id_len = u8::try_from(n).map_err(|_| Stop::Invalid)?;
    let n = s.len16()?;
    check(n >= 2 && n % 2 == 0)?;
    s.skip(n)?;
    let n = s.len8()?;
    check(n >= 1)?;
    s.skip(n)?;
    if s.more() {
        let n = s.len16()?;
        let body_end = s.enter(n)?;
        // The extensions fill the rest of the body.
        check(s.end == body_end)?;
        extensions(&mut s, &mut hello)?;
        s.leave(body_end)?;
    }
    hello.len = s.at;
    hello.raw = buf.get(..s.at).unwrap_or_default();
    Ok(hello)
}

fn extensions(s: &mut Stream<'_>, hello: &mut ClientHello<'_>) -> Res<()> {
    let mut seen = 0u8;
    while s.more() {
        // pre_shared_key must be the last extension (RFC 8446 §4.2.11).
        check(hello.psk_identity.is_none())?;
        let ty = s.u16()?;
        let n = s.len16()?;
        let outer = s.enter(n)?;
        let bit = match ty {
            EXT_SERVER_NAME => 1,
            EXT_SESSION_TICKET => 2,
            EXT_PRE_SHARED_KEY => 4,
            EXT_SUPPORTED_VERSIONS => 8,
            _ => 0,
        };
        check(seen & bit == 0)?;
        seen |= bit;
        match ty {
            EXT_SERVER_NAME => server_name(s, hello)?,
            EXT_SESSION_TICKET => {
                hello.session_ticket = Some(Span { off: s.pos, len: n });
                s.skip(n)?;
            }
            EXT_PRE_SHARED_KEY => hello.psk_identity = Some(pre_shared_key(s)?),
            EXT_SUPPORTED_VERSIONS => hello.offers_tls13 = supported_versions(s)?,
            _ => s.skip(n)?,
        }
        s.leave(outer)?;
    }
    Ok(())
}

/// `ServerNameList` (RFC 6066 §3).
fn server_name(s: &mut Stream<'_>, hello: &mut ClientHello<'_>) -> Res<()> {
    let n = s.len16()?;
    check(n > 0)?;
    let outer = s.enter(n)?;
    while s.more() {
        let ty = s.u8()?;
        let n = s.len16()?;
        if ty == HOST_NAME {
            check(hello.sni_len == 0 && (1..=MAX_SNI_LEN).contains(&n))?;
            s.copy(n, &mut hello.sni)?;
            hello.sni_len = u8::try_from(n).map_err(|_| Stop::Invalid)?;
        } else {
            s.skip(n)?;
        }
    }
    s.leave(outer)
}

/// `supported_versions` of a ClientHello (RFC 8446 §4.2.1): whether it
/// lists TLS 1.3.
fn supported_versions(s: &mut Stream<'_>) -> Res<bool> {
    let n = s.len8()?;
    check(n >= 2 && n % 2 == 0)?;
    let outer = s.enter(n)?;
    let mut tls13 = false;
    while s.more() {
        tls13 |= s.u16()? == TLS13;
    }
    s.leave(outer)?;
    Ok(tls13)
}

/// `OfferedPsks` (RFC 8446 §4.2.11): the first identity.
fn pre_shared_key(s: &mut Stream<'_>) -> Res<Span> {
    let n = s.len16()?;
    check(n >= 7)?;
    let outer = s.enter(n)?;
    let mut first = None;
    let mut identities = 0usize;
    while s.more() {
        let len = s.len16()?;
        check(len >= 1)?;
        first.get_or_insert(Span { off: s.pos, len });
        s.skip(len)?;
        // obfuscated_ticket_age
        s.skip(4)?;
        identities = identities.saturating_add(1);
    }
    s.leave(outer)?;
    let n = s.len16()?;
    check(n >= 33)?;
    let outer = s.enter(n)?;
    let mut binders = 0usize;
    while s.more() {
        let len = s.len8()?;
        check(len >= 32)?;
        s.skip(len)?;
        binders = binders.saturating_add(1);
    }
    s.leave(outer)?;
    check(identities == binders)?;
    first.ok_or(Stop::Invalid)
}

/// Builds ClientHellos for the tests (here and in `content`).
#[cfg(test)]
pub(crate) mod build {
    use std::vec::Vec;

    /// A GREASE value (RFC 8701): 0x0a0a, 0x1a1a, ... 0xfafa.
    pub(crate) fn grease(i: u8) -> u16 {
        let b = (i % 16) << 4 | 0x0a;
        u16::from_be_bytes([b, b])
    }

    pub(crate) fn u16s(v: &[u16]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_be_bytes()).collect()
    }

    /// `data` behind a length of `n` bytes.
    pub(crate) fn vec_n(n: usize, data: &[u8]) -> Vec<u8> {
        let len = data.len().to_be_bytes();
        let mut v = len[len.len() - n..].to_vec();
        v.extend_from_slice(data);
        v
    }

    pub(crate) fn vec8(data: &[u8]) -> Vec<u8> {
        vec_n(1, data)
    }

    pub(crate) fn vec16(data: &[u8]) -> Vec<u8> {
        vec_n(2, data)
    }

    /// Fill bytes that differ from message to message.
    pub(crate) fn bytes(n: usize, seed: u8) -> Vec<u8> {
        (0..n)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
            .collect()
    }

    pub(crate) struct Hello {
        pub(crate) version: u16,
        pub(crate) random: [u8; 32],
        pub(crate) session_id: Vec<u8>,
        pub(crate) suites: Vec<u16>,
        pub(crate) compression: Vec<u8>,
        /// `None`: no extensions block at all.
        pub(crate) exts: Option<Vec<(u16, Vec<u8>)>>,
    }

    impl Hello {
        /// A bare TLS 1.2 ClientHello with an empty extensions block.
        pub(crate) fn new() -> Self {
            Hello {
                version: 0x0303,
                random: core::array::from_fn(|i| i as u8 ^ 0x5a),
                session_id: Vec::new(),
                suites: std::vec![0xc02f, 0xc030, 0x009c],
                compression: std::vec![0],
                exts: Some(Vec::new()),
            }
        }

        pub(crate) fn ext(mut self, ty: u16, data: Vec<u8>) -> Self {
            self.exts.get_or_insert_with(Vec::new).push((ty, data));
            self
        }

        pub(crate) fn body(&self) -> Vec<u8> {
            let mut b = self.version.to_be_bytes().to_vec();
            b.extend_from_slice(&self.random);
            b.extend(vec8(&self.session_id));
            b.extend(vec16(&u16s(&self.suites)));
            b.extend(vec8(&self.compression));
            if let Some(exts) = &self.exts {
                let mut e = Vec::new();
                for (ty, data) in exts {
                    e.extend_from_slice(&ty.to_be_bytes());
                    e.extend(vec16(data));
                }
                b.extend(vec16(&e));
            }
            b
        }

        /// The handshake message: type 1, length, body.
        pub(crate) fn message(&self) -> Vec<u8> {
            let mut m = std::vec![1];
            m.extend(vec_n(3, &self.body()));
            m
        }

        /// The message in one record.
        pub(crate) fn record(&self) -> Vec<u8> {
            records(&self.message(), usize::MAX)
        }
    }

    /// `msg` in handshake records of at most `frag` bytes of payload.
    pub(crate) fn records(msg: &[u8], frag: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for chunk in msg.chunks(frag.min(16384)) {
            out.extend_from_slice(&[22, 3, 1]);
            out.extend(vec16(chunk));
        }
        out
    }

    pub(crate) fn sni_ext(name: &[u8]) -> Vec<u8> {
        let mut entry = std::vec![0];
        entry.extend(vec16(name));
        vec16(&entry)
    }

    pub(crate) fn versions(v: &[u16]) -> Vec<u8> {
        vec8(&u16s(v))
    }

    /// pre_shared_key with these identities and a 32-byte binder each.
    pub(crate) fn psk(identities: &[&[u8]]) -> Vec<u8> {
        let mut ids = Vec::new();
        let mut binders = Vec::new();
        for (i, id) in identities.iter().enumerate() {
            ids.extend(vec16(id));
            ids.extend_from_slice(&[0x12, 0x34, 0x56, i as u8]);
            binders.extend(vec8(&bytes(32, i as u8)));
        }
        let mut v = vec16(&ids);
        v.extend(vec16(&binders));
        v
    }

    /// A ClientHello shaped like a current browser's: TLS 1.3 and 1.2,
    /// GREASE, ECH GREASE, and a hybrid post-quantum key share
    /// (X25519MLKEM768, 1216 bytes) besides an X25519 one.
    pub(crate) fn browser(name: &[u8]) -> Hello {
        let mut h = Hello::new();
        h.session_id = bytes(32, 7);
        h.suites = std::vec![
            grease(2),
            0x1301,
            0x1302,
            0x1303,
            0xc02b,
            0xc02f,
            0xc02c,
            0xc030,
            0xcca9,
            0xcca8,
            0xc013,
            0xc014,
            0x009c,
            0x009d,
            0x002f,
            0x0035,
        ];
        let mut alpn = vec8(b"h2");
        alpn.extend(vec8(b"http/1.1"));
        let mut shares = Vec::new();
        for (group, len) in [(grease(5), 1), (0x11ec, 1216), (0x001d, 32)] {
            shares.extend_from_slice(&u16::to_be_bytes(group));
            shares.extend(vec16(&bytes(len, group as u8)));
        }
        let mut ech = std::vec![0, 0, 1, 0, 1, 0x9d];
        ech.extend(vec16(&bytes(32, 1)));
        ech.extend(vec16(&bytes(144, 2)));
        h.ext(grease(0), Vec::new())
            .ext(0, sni_ext(name))
            .ext(23, Vec::new())
            .ext(0xff01, std::vec![0])
            .ext(
                10,
                vec16(&u16s(&[grease(5), 0x11ec, 0x001d, 0x0017, 0x0018])),
            )
            .ext(11, vec8(&[0]))
            .ext(35, Vec::new())
            .ext(16, vec16(&alpn))
            .ext(5, std::vec![1, 0, 0, 0, 0])
            .ext(
                13,
                vec16(&u16s(&[
                    0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601,
                ])),
            )
            .ext(18, Vec::new())
            .ext(51, vec16(&shares))
            .ext(45, vec8(&[1]))
            .ext(43, versions(&[grease(9), 0x0304, 0x0303]))
            .ext(27, vec8(&u16s(&[2])))
            .ext(17613, vec16(&vec8(b"h2")))
            .ext(0xfe0d, ech)
            .ext(grease(12), std::vec![0])
    }
}

#[cfg(test)]
mod tests {
    use super::build::*;
    use super::*;
    use std::vec::Vec;

    fn done(buf: &[u8]) -> ClientHello<'_> {
        match parse_client_hello(buf) {
            Progress::Done(h) => h,
            other => panic!("{other:?}"),
        }
    }

    fn invalid(buf: &[u8]) {
        assert_eq!(parse_client_hello(buf), Progress::Invalid, "{buf:02x?}");
    }

    /// Every proper prefix is Incomplete; trailing bytes change nothing.
    fn prefixes_incomplete(rec: &[u8]) -> ClientHello<'_> {
        let h = done(rec);
        assert_eq!(h.len, rec.len());
        for n in 0..rec.len() {
            assert_eq!(
                parse_client_hello(&rec[..n]),
                Progress::Incomplete,
                "prefix {n}"
            );
        }
        let mut more = rec.to_vec();
        // ChangeCipherSpec, then application data.
        more.extend_from_slice(&[20, 3, 3, 0, 1, 1, 23, 3, 3, 0, 2, 0xab, 0xcd]);
        assert_eq!(parse_client_hello(&more), Progress::Done(h.clone()));
        h
    }

    fn span_bytes(h: &ClientHello<'_>, span: Span) -> Vec<u8> {
        let mut out = std::vec![0; span.len];
        assert_eq!(h.read(span, 0, &mut out), span.len);
        out
    }

    #[test]
    fn browser_hello() {
        let rec = browser(b"www.example.com").record();
        assert!((1500..2000).contains(&rec.len()), "{}", rec.len());
        let h = prefixes_incomplete(&rec);
        assert_eq!(h.legacy_version, 0x0303);
        assert_eq!(h.random, Hello::new().random);
        assert_eq!(h.session_id(), &bytes(32, 7)[..]);
        assert_eq!(h.sni(), Some(&b"www.example.com"[..]));
        assert!(h.offers_tls13);
        let t = h.session_ticket.unwrap();
        assert_eq!(t.len, 0);
        assert_eq!(h.contiguous(t), Some(&[][..]));
        assert_eq!(h.psk_identity, None);
    }

    #[test]
    fn split_across_records() {
        let msg = browser(b"split.example.net")
            .ext(41, psk(&[&bytes(300, 3), b"second"]))
            .message();
        let whole = records(&msg, usize::MAX);
        let one = done(&whole);
        let id = one.psk_identity.unwrap();
        assert_eq!(one.contiguous(id), Some(&bytes(300, 3)[..]));
        for frag in [1, 2, 3, 5, 31, 256, 1000, msg.len() - 1] {
            let rec = records(&msg, frag);
            let h = if frag >= 256 {
                prefixes_incomplete(&rec)
            } else {
                done(&rec)
            };
            assert_eq!(h.len, rec.len());
            assert_eq!(h.sni(), one.sni());
            assert_eq!(h.session_id(), one.session_id());
            assert_eq!(h.random, one.random);
            assert_eq!(h.offers_tls13, one.offers_tls13);
            assert_eq!(h.session_ticket, one.session_ticket);
            // Spans are stream offsets: the same however the records fall.
            assert_eq!(h.psk_identity, Some(id));
            assert_eq!(span_bytes(&h, id), bytes(300, 3));
            let one_record = id.off / frag == (id.off + id.len - 1) / frag;
            assert_eq!(h.contiguous(id).is_some(), one_record, "{frag}");
            // Partial reads.
            let mut out = [0u8; 7];
            assert_eq!(h.read(id, 295, &mut out), 5);
            assert_eq!(out[..5], bytes(300, 3)[295..]);
            assert_eq!(h.read(id, 300, &mut out), 0);
            assert_eq!(
                h.read(
                    Span {
                        off: msg.len(),
                        len: 1
                    },
                    0,
                    &mut out
                ),
                0
            );
            assert_eq!(
                h.read(
                    Span {
                        off: usize::MAX,
                        len: 9
                    },
                    1,
                    &mut out
                ),
                0
            );
        }
        // Small records: every prefix still Incomplete.
        let rec = records(&msg, 7);
        let h = prefixes_incomplete(&rec);
        assert_eq!(h.psk_identity, Some(id));
    }

    #[test]
    fn tls12_resumption() {
        // A TLS 1.2 client resuming a cached session: the server's session
        // id, a session_ticket extension asking for a ticket.
        let sid = bytes(32, 0x42);
        let mut hello = Hello::new()
            .ext(0, sni_ext(b"legacy.example"))
            .ext(35, Vec::new())
            .ext(13, vec16(&u16s(&[0x0401, 0x0501])));
        hello.session_id = sid.clone();
        let rec = hello.record();
        let h = prefixes_incomplete(&rec);
        assert_eq!(h.session_id(), &sid[..]);
        assert!(!h.offers_tls13);
        assert_eq!(h.session_ticket.map(|t| t.len), Some(0));
        // Resuming with a ticket instead.
        let ticket = bytes(192, 9);
        let mut hello = Hello::new().ext(35, ticket.clone());
        hello.session_id = bytes(32, 1);
        let rec = hello.record();
        let h = prefixes_incomplete(&rec);
        assert_eq!(span_bytes(&h, h.session_ticket.unwrap()), ticket);
        assert_eq!(h.contiguous(h.session_ticket.unwrap()), Some(&ticket[..]));
        assert_eq!(h.sni(), None);
    }

    #[test]
    fn tls13_psk() {
        let ticket = bytes(219, 0x77);
        let rec = browser(b"api.example").ext(41, psk(&[&ticket])).record();
        let h = prefixes_incomplete(&rec);
        let id = h.psk_identity.unwrap();
        assert_eq!(span_bytes(&h, id), ticket);
        assert!(h.offers_tls13);
    }

    #[test]
    fn grease_and_minimal_hellos() {
        // GREASE extensions, versions and a GREASE-only server name type.
        let mut names = std::vec![0x1a];
        names.extend(vec16(b"x"));
        names.push(0);
        names.extend(vec16(b"grease.example"));
        let rec = Hello::new()
            .ext(grease(3), bytes(5, 0))
            .ext(0, vec16(&names))
            .ext(43, versions(&[grease(1), grease(2)]))
            .ext(grease(4), Vec::new())
            .record();
        let h = prefixes_incomplete(&rec);
        assert_eq!(h.sni(), Some(&b"grease.example"[..]));
        assert!(!h.offers_tls13);
        // No extensions block at all, and an empty one.
        let mut bare = Hello::new();
        bare.exts = None;
        let rec = bare.record();
        let h = prefixes_incomplete(&rec);
        assert_eq!((h.sni(), h.session_ticket), (None, None));
        prefixes_incomplete(&Hello::new().record());
        // The longest server name.
        let long = [b'a'; MAX_SNI_LEN];
        let rec = Hello::new().ext(0, sni_ext(&long)).record();
        assert_eq!(done(&rec).sni(), Some(&long[..]));
        // Another legacy_version and record version.
        let mut rec = Hello::new().record();
        rec[2] = 3;
        rec[10] = 1;
        assert_eq!(done(&rec).legacy_version, 0x0301);
    }

    /// `body` edited, re-wrapped in a correct header and record.
    fn rewrap(body: &[u8]) -> Vec<u8> {
        let mut m = std::vec![1];
        m.extend(vec_n(3, body));
        records(&m, usize::MAX)
    }

    #[test]
    fn malformed() {
        let good = Hello::new().ext(0, sni_ext(b"a.example")).record();
        done(&good);
        let edit = |i: usize, b: u8| {
            let mut r = good.clone();
            r[i] = b;
            r
        };
        invalid(&edit(0, 23)); // not a handshake record
        invalid(&edit(1, 2));
        invalid(&edit(2, 0)); // SSL 3.0 record
        invalid(&edit(2, 4));
        invalid(&edit(5, 2)); // a ServerHello
        invalid(&edit(9, 2)); // legacy_version 2.3
        invalid(&[22, 3, 1, 0, 0]); // empty record
        invalid(&[22, 3, 1, 0x40, 1]); // record too long
        invalid(&[22, 3, 1, 0x40, 0, 1, 0, 0x40, 1]); // body too long
        invalid(b"GET / HTTP/1.1\r\n\r\n");
        invalid(&[0x80, 0x2e, 0x01, 0x03, 0x01]); // SSLv2-compatible hello
        let body = Hello::new().body();
        let mut b = body.clone();
        b[34] = 33; // session id too long
        invalid(&rewrap(&b));
        let mut h = Hello::new();
        h.suites.clear();
        invalid(&h.record());
        let mut b = body.clone();
        b[36] = 5; // odd cipher suites length
        invalid(&rewrap(&b));
        let mut h = Hello::new();
        h.compression.clear();
        invalid(&h.record());
        // The extensions block shorter or longer than the rest of the body.
        let mut b = body.clone();
        b.push(0);
        invalid(&rewrap(&b));
        let mut b = body.clone();
        *b.last_mut().unwrap() = 4;
        b.extend_from_slice(&[0, 23, 0, 0, 0]);
        invalid(&rewrap(&b));
        // A body that ends inside the extensions length.
        let mut b = body.clone();
        b.pop();
        invalid(&rewrap(&b));
        // An extension longer than the block.
        invalid(&rewrap(
            &[&body[..body.len() - 2], &[0, 4, 0, 23, 0, 1]].concat(),
        ));
        for hello in [
            Hello::new().ext(0, sni_ext(b"a")).ext(0, sni_ext(b"b")),
            Hello::new().ext(0, Vec::new()),
            Hello::new().ext(0, vec16(&[])),
            Hello::new().ext(0, sni_ext(b"")),
            Hello::new().ext(0, sni_ext(&[b'a'; MAX_SNI_LEN + 1])),
            Hello::new().ext(0, [sni_ext(b"a"), std::vec![0]].concat()),
            Hello::new().ext(0, vec16(&[[0, 0, 1, b'a'], [0, 0, 1, b'b']].concat())),
            Hello::new().ext(0, vec16(&[0, 0, 2, b'a'])),
            Hello::new().ext(43, vec8(&[3])),
            Hello::new().ext(43, vec8(&[])),
            Hello::new()
                .ext(43, versions(&[0x0304]))
                .ext(43, versions(&[0x0304])),
            Hello::new().ext(35, Vec::new()).ext(35, Vec::new()),
            Hello::new()
                .ext(41, psk(&[b"id"]))
                .ext(43, versions(&[0x0304])),
            Hello::new().ext(41, psk(&[b"id"])).ext(41, psk(&[b"id"])),
            Hello::new().ext(41, psk(&[b""])),
            Hello::new().ext(41, psk(&[])),
            Hello::new().ext(41, [psk(&[b"id"]), std::vec![0]].concat()),
            Hello::new().ext(41, {
                let mut v = vec16(&[0, 2, b'i', b'd', 0, 0, 0, 0]);
                v.extend(vec16(
                    &[[vec8(&[0; 32])], [vec8(&[0; 32])]].concat().concat(),
                ));
                v
            }),
            Hello::new().ext(41, {
                let mut v = vec16(&[0, 2, b'i', b'd', 0, 0, 0, 0]);
                v.extend(vec16(&vec8(&[0; 31])));
                v
            }),
        ] {
            invalid(&hello.record());
        }
        // Another record type between the fragments.
        let msg = Hello::new().ext(0, sni_ext(b"a.example")).message();
        let mut rec = records(&msg[..10], 10);
        rec.extend_from_slice(&[21, 3, 3, 0, 2, 1, 0]);
        rec.extend(records(&msg[10..], 100));
        invalid(&rec);
    }

    #[test]
    fn early_verdicts() {
        for bad in [
            &[0x17][..],
            &[22, 2],
            &[22, 3, 4],
            &[22, 3, 1, 0, 0],
            &[22, 3, 1, 0, 4, 2],
        ] {
            invalid(bad);
        }
        for ok in [
            &[][..],
            &[22],
            &[22, 3, 3, 0x40],
            &[22, 3, 1, 0, 4, 1, 0, 1],
        ] {
            assert_eq!(parse_client_hello(ok), Progress::Incomplete, "{ok:?}");
        }
    }
}
