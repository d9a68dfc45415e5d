//! HTTP/1.x request heads, for content-aware server selection.
//!
//! A content policy chooses the node by the Host header, the path or a
//! cookie of a connection's first request, so the front holds the client's
//! first bytes until the request head is complete. It calls
//! [`parse_request`] on everything received so far each time more arrives:
//! [`Progress::Incomplete`] means "wait for more" (the caller bounds how
//! many bytes and how long), [`Progress::Done`] that the head is complete,
//! [`Progress::Invalid`] that the bytes are no HTTP/1.x request, so the
//! policy's fallback decides. Nothing is copied: a [`Request`] borrows the
//! buffer.
//!
//! # Incremental safety
//!
//! The request may arrive in any number of pieces, and the verdict on a
//! prefix must never contradict the verdict on the whole: for a valid
//! request head R (and whatever follows it in the buffer: a body, more
//! pipelined requests), every proper prefix of R is Incomplete and R gives
//! Done with the same fields. The parser therefore decides line by line
//! from the bytes before each point only. A complete line is checked in
//! full; the unfinished last line only for what no continuation can repair
//! (a byte of the wrong class, a version that is not `HTTP/1.`). That also
//! makes other protocols Invalid early instead of held until the caller's
//! limit: a TLS ClientHello (first byte 0x16) at its first byte.
//!
//! # What is accepted (RFC 9112)
//!
//! * Empty lines before the request line are skipped (§2.2); they count in
//!   [`Request::head_len`].
//! * Lines end in CRLF or a bare LF (§2.2). A CR elsewhere is Invalid.
//! * The request line is `method SP request-target SP HTTP/1.d` with single
//!   spaces: the method a token, the target bytes 0x21..=0x7e or 0x80..=0xff
//!   (clients do send raw UTF-8), the version HTTP/1.0 to HTTP/1.9. Other
//!   majors are Invalid: the HTTP/2 preface `PRI * HTTP/2.0`, and HTTP/0.9
//!   (no version).
//! * Header lines are `name ":" OWS value OWS`: the name a token, with no
//!   whitespace before the colon (§5.1), the value visible bytes, SP, HTAB
//!   and obs-text. A line that starts with whitespace (obs-fold, §5.2) or
//!   has no colon is Invalid.
//! * At most one Host header, with a valid `uri-host [":" port]` or an
//!   empty value (§3.2); none at all is accepted (HTTP/1.0 clients send
//!   none, and an HTTP/1.1 server answers 400 itself).
//! * The target forms of §3.2: origin-form `/p?q` (path `/p`);
//!   absolute-form `scheme://authority/p?q` (path `/p`, or `/` when empty;
//!   the host from the authority, which overrides the Host header as
//!   §3.2.2 requires; userinfo is Invalid, RFC 9110 §4.2.4); authority-form
//!   `host:port`, for CONNECT only and required by it (the host from it,
//!   no path); asterisk-form `*`, for OPTIONS only (no path). Anything else
//!   is Invalid.
//!
//! A host ([`Request::host`]) comes without its port, in the case it was
//! sent in (content rules match it case-insensitively); an IPv6 literal
//! keeps its brackets (`[::1]:80` gives `[::1]`), as in URLs and in rules,
//! and so never looks like a name with a port. An empty host is `None`.
//!
//! The head length is not bounded here, only by the caller's buffer; each
//! call is linear in the buffer's length.

/// The verdict on the bytes a client sent so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Progress<T> {
    /// The bytes are a prefix of a message that can still turn out valid:
    /// wait for more.
    Incomplete,
    /// The message is complete.
    Done(T),
    /// No continuation can make the bytes a valid message.
    Invalid,
}

/// Why a parser stopped short of a result (shared with `tls`): the
/// parsers propagate it with `?` and turn it into [`Progress`] at the end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Stop {
    Incomplete,
    Invalid,
}

pub(super) type Res<T> = Result<T, Stop>;

impl<T> Progress<T> {
    pub(super) fn of(r: Res<T>) -> Self {
        match r {
            Ok(v) => Progress::Done(v),
            Err(Stop::Incomplete) => Progress::Incomplete,
            Err(Stop::Invalid) => Progress::Invalid,
        }
    }
}

/// A parsed HTTP/1.x request head. The slices borrow the parsed buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Request<'a> {
    /// The method token, e.g. `GET`.
    pub method: &'a [u8],
    /// The request target as sent, e.g. `/index.html?x=1`.
    pub target: &'a [u8],
    /// The target's path without query (and fragment): `/index.html` for
    /// the target above. `None` for the asterisk and authority forms. The
    /// absolute form `http://h?q`, whose path is empty, gives `/` (RFC 9110
    /// §4.2.3), the only slice that does not borrow the buffer.
    pub path: Option<&'a [u8]>,
    /// The host the request is for, port stripped: from an absolute-form or
    /// authority-form target, else from the Host header; `None` if neither
    /// names one.
    pub host: Option<&'a [u8]>,
    /// The `d` of `HTTP/1.d`.
    pub version_minor: u8,
    /// The length of the head: the bytes up to and including the empty line
    /// that ends it. A body or the next pipelined request starts here.
    pub head_len: usize,
    /// The header lines, line endings included, without the empty line.
    headers: &'a [u8],
}

/// One header field of a [`Request`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Header<'a> {
    /// The field name as sent (names are case-insensitive).
    pub name: &'a [u8],
    /// The field value without leading and trailing whitespace.
    pub value: &'a [u8],
}

/// The header fields of a [`Request`], in the order sent.
#[derive(Clone, Debug)]
pub struct Headers<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Headers<'a> {
    type Item = Header<'a>;

    fn next(&mut self) -> Option<Header<'a>> {
        loop {
            let (line, rest) = next_line(self.rest);
            self.rest = rest?;
            // Every line of a parsed head has a colon.
            if let Some(h) = split_header(line) {
                return Some(h);
            }
        }
    }
}

impl<'a> Request<'a> {
    /// The header fields, in the order sent.
    pub fn headers(&self) -> Headers<'a> {
        Headers { rest: self.headers }
    }

    /// The value of the first header field called `name`, compared
    /// ASCII case-insensitively.
    pub fn header(&self, name: &[u8]) -> Option<&'a [u8]> {
        self.headers()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value)
    }
}

/// Parses the request head at the start of `buf`, the bytes a client sent
/// so far (see the module documentation).
pub fn parse_request(buf: &[u8]) -> Progress<Request<'_>> {
    Progress::of(parse(buf))
}

/// The value of the cookie `name` in the request's Cookie headers, or
/// `None`.
///
/// Each Cookie header is a list of `name=value` pairs separated by `;`
/// (RFC 6265 §4.2.1), with optional whitespace around names and values
/// tolerated (§5.4 allows clients to be sloppy). A value wrapped in double
/// quotes comes without them. Names are compared exactly (they are
/// case-sensitive); pairs without `=` are skipped; the first occurrence, in
/// header and then pair order, wins. An empty `name` matches nothing.
pub fn cookie<'a>(req: &Request<'a>, name: &[u8]) -> Option<&'a [u8]> {
    if name.is_empty() {
        return None;
    }
    req.headers()
        .filter(|h| h.name.eq_ignore_ascii_case(b"cookie"))
        .find_map(|h| cookie_in(h.value, name))
}

fn cookie_in<'a>(list: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    list.split(|&b| b == b';').find_map(|pair| {
        let mut kv = pair.splitn(2, |&b| b == b'=');
        let k = trim_ows(kv.next()?);
        let v = trim_ows(kv.next()?);
        (k == name).then_some(match v {
            [b'"', inner @ .., b'"'] => inner,
            _ => v,
        })
    })
}

/// The first line of `buf` without its line ending, and the bytes after
/// it; `None` for those if no LF has arrived yet. One trailing CR is
/// dropped either way: in an unfinished line it may be the start of CRLF.
fn next_line(buf: &[u8]) -> (&[u8], Option<&[u8]>) {
    let mut parts = buf.splitn(2, |&b| b == b'\n');
    let line = parts.next().unwrap_or_default();
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    (line, parts.next())
}

/// `tchar` of RFC 9110 §5.6.2.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// A byte of a request target: visible ASCII or obs-text.
fn is_target_byte(b: u8) -> bool {
    matches!(b, 0x21..=0x7e | 0x80..=0xff)
}

/// A byte of a field value (RFC 9110 §5.5): visible ASCII, SP, HTAB or
/// obs-text.
fn is_field_byte(b: u8) -> bool {
    matches!(b, b'\t' | 0x20..=0x7e | 0x80..=0xff)
}

fn is_ows(b: &u8) -> bool {
    matches!(b, b' ' | b'\t')
}

/// `b` without leading and trailing SP and HTAB.
fn trim_ows(b: &[u8]) -> &[u8] {
    let start = b.iter().position(|c| !is_ows(c)).unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !is_ows(c))
        .map_or(start, |i| i.saturating_add(1));
    b.get(start..end).unwrap_or_default()
}

/// Splits a checked header line at its first colon.
fn split_header(line: &[u8]) -> Option<Header<'_>> {
    let mut parts = line.splitn(2, |&b| b == b':');
    let name = parts.next()?;
    let value = trim_ows(parts.next()?);
    Some(Header { name, value })
}

/// The verdict on a line that has no line ending yet (`complete` false)
/// when nothing in it is invalid.
fn unfinished(complete: bool) -> Stop {
    if complete {
        Stop::Invalid
    } else {
        Stop::Incomplete
    }
}

fn check(ok: bool) -> Res<()> {
    if ok {
        Ok(())
    } else {
        Err(Stop::Invalid)
    }
}

/// The only HTTP-version accepted, `d` standing for any digit.
const VERSION: &[u8; 8] = b"HTTP/1.d";
const VERSION_MINOR_AT: usize = 7;

struct RequestLine<'a> {
    method: &'a [u8],
    target: &'a [u8],
    form: Target<'a>,
    minor: u8,
}

/// Checks a request line, `complete` or the unfinished last line; the
/// latter never gives `Ok`.
fn request_line(line: &[u8], complete: bool) -> Res<RequestLine<'_>> {
    let mut parts = line.splitn(3, |&b| b == b' ');
    let method = parts.next().unwrap_or_default();
    check(method.iter().all(|&b| is_tchar(b)))?;
    let target = parts.next().ok_or(unfinished(complete))?;
    check(!method.is_empty())?;
    check(target.iter().all(|&b| is_target_byte(b)))?;
    let version = parts.next().ok_or(unfinished(complete))?;
    // The target is complete: its form can be judged.
    check(!target.is_empty())?;
    let form = target_form(method, target)?;
    // The version is a prefix of `HTTP/1.d`; anything after it (a space,
    // a second digit) is Invalid.
    check(version.len() <= VERSION.len())?;
    let fits = |(&b, &p): (&u8, &u8)| {
        if p == b'd' {
            b.is_ascii_digit()
        } else {
            b == p
        }
    };
    check(version.iter().zip(VERSION).all(fits))?;
    let minor = version
        .get(VERSION_MINOR_AT)
        .and_then(|d| d.checked_sub(b'0'))
        .ok_or(unfinished(complete))?;
    if !complete {
        return Err(Stop::Incomplete);
    }
    Ok(RequestLine {
        method,
        target,
        form,
        minor,
    })
}

/// What the request target says about path and host.
struct Target<'a> {
    path: Option<&'a [u8]>,
    host: Option<&'a [u8]>,
}

/// Classifies a complete request target (RFC 9112 §3.2).
fn target_form<'a>(method: &[u8], target: &'a [u8]) -> Res<Target<'a>> {
    if method == b"CONNECT" {
        // authority-form: uri-host ":" port, both required.
        let (host, port) = host_port(target)?;
        check(host.is_some() && port.is_some_and(|p| !p.is_empty()))?;
        return Ok(Target { path: None, host });
    }
    if target == b"*" {
        check(method == b"OPTIONS")?;
        return Ok(Target {
            path: None,
            host: None,
        });
    }
    if target.first() == Some(&b'/') {
        return Ok(Target {
            path: Some(without_query(target)),
            host: None,
        });
    }
    // absolute-form: scheme "://" authority path-abempty [ "?" query ].
    let colon = target
        .iter()
        .position(|&b| b == b':')
        .ok_or(Stop::Invalid)?;
    let (scheme, rest) = target.split_at(colon);
    let scheme_ok = scheme.first().is_some_and(u8::is_ascii_alphabetic)
        && scheme
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    check(scheme_ok)?;
    let rest = rest.strip_prefix(b"://").ok_or(Stop::Invalid)?;
    let end = rest
        .iter()
        .position(|&b| matches!(b, b'/' | b'?' | b'#'))
        .unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    check(!authority.contains(&b'@'))?;
    let (host, _) = host_port(authority)?;
    check(host.is_some())?;
    let path = if tail.first() == Some(&b'/') {
        without_query(tail)
    } else {
        b"/"
    };
    Ok(Target {
        path: Some(path),
        host,
    })
}

/// A target without its query and fragment.
fn without_query(target: &[u8]) -> &[u8] {
    let end = target
        .iter()
        .position(|&b| matches!(b, b'?' | b'#'))
        .unwrap_or(target.len());
    target.get(..end).unwrap_or_default()
}

/// Splits `uri-host [":" port]` (RFC 3986 §3.2.2, §3.2.3) into the host
/// (`None` if `s` is empty) and the port digits (`None` without a colon,
/// possibly empty after it).
#[allow(clippy::type_complexity)]
fn host_port(s: &[u8]) -> Res<(Option<&[u8]>, Option<&[u8]>)> {
    if s.is_empty() {
        return Ok((None, None));
    }
    let (host, rest) = if s.first() == Some(&b'[') {
        // IP-literal: IPv6address, IPvFuture, or a zone (RFC 6874).
        let close = s.iter().position(|&b| b == b']').ok_or(Stop::Invalid)?;
        let (lit, rest) = s.split_at(close.saturating_add(1));
        let inner = lit.get(1..close).unwrap_or_default();
        check(!inner.is_empty() && inner.iter().all(|&b| is_host_byte(b) || b == b':'))?;
        (lit, rest)
    } else {
        let end = s.iter().position(|&b| b == b':').unwrap_or(s.len());
        let (name, rest) = s.split_at(end);
        check(!name.is_empty() && name.iter().all(|&b| is_host_byte(b)))?;
        (name, rest)
    };
    let port = match rest.split_first() {
        None => None,
        Some((b':', digits)) => {
            check(digits.iter().all(u8::is_ascii_digit))?;
            Some(digits)
        }
        Some(_) => return Err(Stop::Invalid),
    };
    Ok((Some(host), port))
}

/// A byte of a reg-name or IPv4address: unreserved, `%` of pct-encoded, or
/// sub-delims (RFC 3986 §3.2.2).
fn is_host_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~%!$&'()*+,;=".contains(&b)
}

/// Checks a header line, `complete` or the unfinished last line; the
/// latter never gives `Ok`.
fn header_line(line: &[u8], complete: bool) -> Res<Header<'_>> {
    // Whitespace first: obs-fold, or whitespace before the first header.
    check(!line.first().is_some_and(is_ows))?;
    let mut parts = line.splitn(2, |&b| b == b':');
    let name = parts.next().unwrap_or_default();
    check(name.iter().all(|&b| is_tchar(b)))?;
    let value = parts.next().ok_or(unfinished(complete))?;
    check(!name.is_empty())?;
    check(value.iter().all(|&b| is_field_byte(b)))?;
    if !complete {
        return Err(Stop::Incomplete);
    }
    Ok(Header {
        name,
        value: trim_ows(value),
    })
}

fn parse(buf: &[u8]) -> Res<Request<'_>> {
    // Empty lines before the request line.
    let mut rest = buf;
    let (line, after) = loop {
        match next_line(rest) {
            (b"", Some(after)) => rest = after,
            other => break other,
        }
    };
    let Some(after) = after else {
        request_line(line, false)?;
        return Err(Stop::Incomplete);
    };
    let rl = request_line(line, true)?;
    let headers = after;
    let mut rest = after;
    let mut host_header: Option<Option<&[u8]>> = None;
    loop {
        let (line, after) = next_line(rest);
        let Some(after) = after else {
            header_line(line, false)?;
            return Err(Stop::Incomplete);
        };
        if line.is_empty() {
            let headers = headers
                .get(..headers.len().saturating_sub(rest.len()))
                .unwrap_or_default();
            return Ok(Request {
                method: rl.method,
                target: rl.target,
                path: rl.form.path,
                host: rl.form.host.or(host_header.flatten()),
                version_minor: rl.minor,
                head_len: buf.len().saturating_sub(after.len()),
                headers,
            });
        }
        let h = header_line(line, true)?;
        if h.name.eq_ignore_ascii_case(b"host") {
            check(host_header.is_none())?;
            host_header = Some(host_port(h.value)?.0);
        }
        rest = after;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    fn done(buf: &[u8]) -> Request<'_> {
        match parse_request(buf) {
            Progress::Done(r) => r,
            other => panic!("{:?}: {other:?}", std::string::String::from_utf8_lossy(buf)),
        }
    }

    fn invalid(buf: &[u8]) {
        assert_eq!(
            parse_request(buf),
            Progress::Invalid,
            "{:?}",
            std::string::String::from_utf8_lossy(buf)
        );
    }

    /// Every proper prefix of a complete head is Incomplete, and the head
    /// followed by anything parses the same.
    fn prefixes_incomplete(head: &[u8]) -> Request<'_> {
        let r = done(head);
        assert_eq!(r.head_len, head.len());
        for n in 0..head.len() {
            assert_eq!(
                parse_request(&head[..n]),
                Progress::Incomplete,
                "prefix {n}"
            );
        }
        let mut more = head.to_vec();
        more.extend_from_slice(b"\x00\x16garbage\r\n\r\n");
        assert_eq!(parse_request(&more), Progress::Done(r));
        r
    }

    const CURL: &[u8] = b"GET /downloads/file.tar.gz?mirror=2 HTTP/1.1\r\n\
        Host: www.example.org:8080\r\n\
        User-Agent: curl/8.5.0\r\n\
        Accept: */*\r\n\
        \r\n";

    #[test]
    fn curl_request() {
        let r = prefixes_incomplete(CURL);
        assert_eq!(r.method, b"GET");
        assert_eq!(r.target, b"/downloads/file.tar.gz?mirror=2");
        assert_eq!(r.path, Some(&b"/downloads/file.tar.gz"[..]));
        assert_eq!(r.host, Some(&b"www.example.org"[..]));
        assert_eq!(r.version_minor, 1);
        let names: Vec<&[u8]> = r.headers().map(|h| h.name).collect();
        assert_eq!(names, [&b"Host"[..], b"User-Agent", b"Accept"]);
        assert_eq!(r.header(b"user-agent"), Some(&b"curl/8.5.0"[..]));
        assert_eq!(r.header(b"ACCEPT"), Some(&b"*/*"[..]));
        assert_eq!(r.header(b"Cookie"), None);
    }

    fn browser() -> Vec<u8> {
        let mut cookie = Vec::new();
        cookie.extend_from_slice(b"_ga=GA1.2.1234567890.1700000000; ");
        for i in 0..40 {
            cookie.extend_from_slice(std::format!("pref{i}=v{i}abcdefghijklmnop; ").as_bytes());
        }
        cookie.extend_from_slice(b"JSESSIONID=8F3A1C77D2E04B5A9C1D.node2;theme=\"dark\"");
        let mut req = Vec::new();
        req.extend_from_slice(
            b"GET /shop/cart?item=17&ref=%C3%A9t%C3%A9 HTTP/1.1\r\n\
            Host: Shop.Example.COM\r\n\
            Connection: keep-alive\r\n\
            sec-ch-ua: \"Chromium\";v=\"124\", \"Not-A.Brand\";v=\"99\"\r\n\
            User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36\r\n\
            Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n\
            Accept-Encoding: gzip, deflate, br, zstd\r\n\
            Accept-Language: de-CH,de;q=0.9,en;q=0.8\r\n\
            Cookie: ",
        );
        req.extend_from_slice(&cookie);
        req.extend_from_slice(b"\r\ncookie: route=3\r\n\r\n");
        req
    }

    #[test]
    fn browser_request_with_long_cookie() {
        let req = browser();
        assert!(req.len() > 1500);
        let r = prefixes_incomplete(&req);
        assert_eq!(r.host, Some(&b"Shop.Example.COM"[..]));
        assert_eq!(r.path, Some(&b"/shop/cart"[..]));
        assert_eq!(
            cookie(&r, b"_ga"),
            Some(&b"GA1.2.1234567890.1700000000"[..])
        );
        assert_eq!(cookie(&r, b"pref39"), Some(&b"v39abcdefghijklmnop"[..]));
        assert_eq!(
            cookie(&r, b"JSESSIONID"),
            Some(&b"8F3A1C77D2E04B5A9C1D.node2"[..])
        );
        assert_eq!(cookie(&r, b"theme"), Some(&b"dark"[..]));
        // The second Cookie header is searched too.
        assert_eq!(cookie(&r, b"route"), Some(&b"3"[..]));
        // Names are case-sensitive.
        assert_eq!(cookie(&r, b"jsessionid"), None);
        assert_eq!(cookie(&r, b"pref40"), None);
        assert_eq!(cookie(&r, b""), None);
    }

    #[test]
    fn cookie_syntax() {
        let req = b"GET / HTTP/1.1\r\nCookie: a=1;b = 2 ; flag; c=\"\"; d=\"x; e==3;\t f=\r\n\
            COOKIE: a=9; g=last\r\n\r\n";
        let r = done(req);
        let c = |n: &[u8]| cookie(&r, n);
        assert_eq!(c(b"a"), Some(&b"1"[..]), "first occurrence wins");
        assert_eq!(c(b"b"), Some(&b"2"[..]));
        assert_eq!(c(b"flag"), None, "no '='");
        assert_eq!(c(b"c"), Some(&b""[..]), "quotes stripped");
        assert_eq!(c(b"d"), Some(&b"\"x"[..]), "a lone quote stays");
        assert_eq!(c(b"e"), Some(&b"=3"[..]), "split at the first '='");
        assert_eq!(c(b"f"), Some(&b""[..]));
        assert_eq!(c(b"g"), Some(&b"last"[..]));
        assert_eq!(c(b"h"), None);
    }

    #[test]
    fn absolute_form_overrides_host() {
        let r = prefixes_incomplete(
            b"GET http://Backend.example:8080/a/b?c=d HTTP/1.1\r\nHost: other.example\r\n\r\n",
        );
        assert_eq!(r.host, Some(&b"Backend.example"[..]));
        assert_eq!(r.path, Some(&b"/a/b"[..]));
        assert_eq!(r.target, b"http://Backend.example:8080/a/b?c=d");
        let r = done(b"GET https://[2001:db8::1]:443?q HTTP/1.0\r\n\r\n");
        assert_eq!(r.host, Some(&b"[2001:db8::1]"[..]));
        assert_eq!(r.path, Some(&b"/"[..]));
        assert_eq!(r.version_minor, 0);
        let r = done(b"GET http://h HTTP/1.1\r\n\r\n");
        assert_eq!((r.host, r.path), (Some(&b"h"[..]), Some(&b"/"[..])));
        invalid(b"GET http://user@h/ HTTP/1.1\r\n\r\n");
        invalid(b"GET http:///p HTTP/1.1\r\n\r\n");
        invalid(b"GET http:/p HTTP/1.1\r\n\r\n");
        invalid(b"GET 1http://h/ HTTP/1.1\r\n\r\n");
        invalid(b"GET http://h:8x/ HTTP/1.1\r\n\r\n");
        invalid(b"GET example.com/ HTTP/1.1\r\n\r\n");
    }

    #[test]
    fn connect_and_options() {
        let r = prefixes_incomplete(
            b"CONNECT api.example.net:443 HTTP/1.1\r\nHost: api.example.net:443\r\n\r\n",
        );
        assert_eq!(r.host, Some(&b"api.example.net"[..]));
        assert_eq!(r.path, None);
        let r = done(b"CONNECT [::1]:8443 HTTP/1.1\r\n\r\n");
        assert_eq!(r.host, Some(&b"[::1]"[..]));
        invalid(b"CONNECT api.example.net HTTP/1.1\r\n\r\n");
        invalid(b"CONNECT api.example.net: HTTP/1.1\r\n\r\n");
        invalid(b"CONNECT / HTTP/1.1\r\n\r\n");
        let r = prefixes_incomplete(b"OPTIONS * HTTP/1.1\r\nHost: h.example\r\n\r\n");
        assert_eq!(r.path, None);
        assert_eq!(r.host, Some(&b"h.example"[..]));
        invalid(b"GET * HTTP/1.1\r\n\r\n");
    }

    #[test]
    fn pipelined_requests() {
        let one: &[u8] = b"GET /1 HTTP/1.1\r\nHost: a.example\r\n\r\n";
        let two: &[u8] = b"POST /2 HTTP/1.1\r\nHost: b.example\r\nContent-Length: 3\r\n\r\nabc";
        let three: &[u8] = b"GET /3 HTTP/1.1\r\nHost: c.example\r\n\r\n";
        let all = [one, two, three].concat();
        let r = done(&all);
        assert_eq!(r.head_len, one.len());
        assert_eq!(r.path, Some(&b"/1"[..]));
        assert_eq!(r.host, Some(&b"a.example"[..]));
        assert_eq!(r.headers().count(), 1);
        let r2 = done(&all[r.head_len..]);
        assert_eq!(r2.path, Some(&b"/2"[..]));
        assert_eq!(r2.header(b"content-length"), Some(&b"3"[..]));
        let r3 = done(&all[one.len() + two.len()..]);
        assert_eq!(r3.host, Some(&b"c.example"[..]));
    }

    #[test]
    fn bare_lf_and_leading_empty_lines() {
        let r = prefixes_incomplete(b"\r\n\nGET /x HTTP/1.0\nHost: h\n\n");
        assert_eq!(r.path, Some(&b"/x"[..]));
        assert_eq!(r.host, Some(&b"h"[..]));
        assert_eq!(r.version_minor, 0);
        let r = done(b"GET /x HTTP/1.1\r\nA: 1\nB:2\r\n\n");
        assert_eq!(r.header(b"b"), Some(&b"2"[..]));
    }

    #[test]
    fn hosts() {
        let host = |h: &[u8]| {
            let mut req = b"GET / HTTP/1.1\r\nHost:".to_vec();
            req.extend_from_slice(h);
            req.extend_from_slice(b"\r\n\r\n");
            match parse_request(&req) {
                Progress::Done(r) => Ok(r.host.map(<[u8]>::to_vec)),
                other => Err(std::format!("{other:?}")),
            }
        };
        let some = |h: &[u8]| Ok(Some(h.to_vec()));
        assert_eq!(host(b" a.example "), some(b"a.example"));
        assert_eq!(host(b"a.example:"), some(b"a.example"));
        assert_eq!(host(b"192.0.2.1:80"), some(b"192.0.2.1"));
        assert_eq!(host(b"[::1]:80"), some(b"[::1]"));
        assert_eq!(host(b"[fe80::1%25eth0]"), some(b"[fe80::1%25eth0]"));
        assert_eq!(
            host(b"xn--bcher-kva.example."),
            some(b"xn--bcher-kva.example.")
        );
        assert_eq!(host(b""), Ok(None));
        assert_eq!(host(b"   "), Ok(None));
        for bad in [
            &b":80"[..],
            b"a b",
            b"a:b",
            b"a:80:80",
            b"[::1",
            b"[]",
            b"[::1]x",
            b"a/b",
            b"a@b",
            b"\xc3\xa9.example",
        ] {
            assert!(host(bad).is_err(), "{bad:?}");
        }
        // No Host header.
        assert_eq!(done(b"GET / HTTP/1.0\r\n\r\n").host, None);
        invalid(b"GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n");
        invalid(b"GET / HTTP/1.1\r\nHost: a\r\nHOST:\r\n\r\n");
    }

    #[test]
    fn malformed() {
        for bad in [
            &b"\x16\x03\x01\x02\x00\x01"[..],
            b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
            b"PRI * HTTP/2",
            b"GET / HTTP/2.0\r\n\r\n",
            b"GET / HTTP/1.1 \r\n\r\n",
            b"GET / HTTP/1.10\r\n\r\n",
            b"GET / http/1.1\r\n\r\n",
            b"GET / HTTP/1.x\r\n\r\n",
            b"GET / HTTP/1.\r\n\r\n",
            b"GET /\r\n\r\n",
            b"GET\r\n\r\n",
            b"GET  / HTTP/1.1\r\n\r\n",
            b" GET / HTTP/1.1\r\n\r\n",
            b"GET / foo HTTP/1.1\r\n\r\n",
            b"G(T / HTTP/1.1\r\n",
            b"GET /\x7f HTTP/1.1\r\n",
            b"GET /\x00",
            b"GET / HTTP/1.1\rHost: a\r\n\r\n",
            b"GET / HTTP/1.1\r\r\n",
            b"GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n",
            b"GET / HTTP/1.1\r\n\tX: 1\r\n\r\n",
            b"GET / HTTP/1.1\r\nNoColon\r\n\r\n",
            b"GET / HTTP/1.1\r\nX : 1\r\n\r\n",
            b"GET / HTTP/1.1\r\n: 1\r\n\r\n",
            b"GET / HTTP/1.1\r\nX: a\x01b\r\n\r\n",
            b"GET / HTTP/1.1\r\nX: a\rb\r\n\r\n",
            b"GET / HTTP/1.1\r\nX\x80: 1\r\n",
            b"SSH-2.0-OpenSSH_9.6\r\n",
        ] {
            invalid(bad);
        }
    }

    #[test]
    fn early_verdicts() {
        // Other protocols are Invalid as soon as they can be told apart.
        invalid(b"\x16");
        invalid(b"GET /\x01");
        invalid(b"GET / HTTP/2");
        invalid(b"GET / HTTP/1.1\r\n ");
        invalid(b"GET / HTTP/1.1\r\nX y");
        // Prefixes of something valid are not.
        for ok in [
            &b""[..],
            b"\r",
            b"\r\n",
            b"G",
            b"GET / HTTP/1.1\r",
            b"GET / HTTP/1.1\r\nX",
        ] {
            assert_eq!(parse_request(ok), Progress::Incomplete, "{ok:?}");
        }
    }

    #[test]
    fn obs_text_and_other_methods() {
        let r = done(b"PROPFIND /d\xc3\xa9j\xc3\xa0 HTTP/1.1\r\nX-Name: caf\xc3\xa9\r\n\r\n");
        assert_eq!(r.method, b"PROPFIND");
        assert_eq!(r.path, Some(&b"/d\xc3\xa9j\xc3\xa0"[..]));
        assert_eq!(r.header(b"x-name"), Some(&b"caf\xc3\xa9"[..]));
        let r = done(b"GET /p#frag HTTP/1.1\r\nX:\r\nY: \t \r\n\r\n");
        assert_eq!(r.path, Some(&b"/p"[..]));
        assert_eq!(r.header(b"y"), Some(&b""[..]));
    }
}
