//! Talking to the kernel: the handoff generic netlink family over
//! `netlink-sys`, messages framed by `netlink-packet-core` and
//! `netlink-packet-generic` (which also resolves the family id).

use std::fmt::Debug;

use netlink_packet_core::{
    DecodeError, Emitable, NetlinkBuffer, NetlinkMessage, NetlinkPayload, NlasIterator,
    ParseableParametrized, NLM_F_ACK, NLM_F_ACK_TLVS, NLM_F_CAPPED, NLM_F_DUMP, NLM_F_DUMP_INTR,
    NLM_F_REQUEST,
};
use netlink_packet_generic::ctrl::nlas::{GenlCtrlAttrs, McastGrpAttrs};
use netlink_packet_generic::ctrl::{GenlCtrl, GenlCtrlCmd};
use netlink_packet_generic::{GenlFamily, GenlHeader, GenlMessage};
use netlink_sys::{protocols::NETLINK_GENERIC, Socket, SocketAddr};

use crate::attr::{parse_attrs, Attr, RawAttr};
use crate::uapi::*;
use crate::Error;

/// Size of `struct nlmsghdr`.
const NLMSG_HDRLEN: usize = 16;
/// `NLMSGERR_ATTR_MSG` of `enum nlmsgerr_attrs` (linux/netlink.h).
const NLMSGERR_ATTR_MSG: u16 = 1;

/// A message of the handoff family: a command and its attributes.  Sent
/// messages carry `attrs`; received ones `raw`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HandoffMsg {
    pub cmd: u8,
    pub attrs: Vec<Attr>,
    pub raw: Vec<RawAttr>,
}

impl HandoffMsg {
    pub fn new(cmd: u8, attrs: Vec<Attr>) -> HandoffMsg {
        HandoffMsg {
            cmd,
            attrs,
            raw: Vec::new(),
        }
    }
}

impl GenlFamily for HandoffMsg {
    fn family_name() -> &'static str {
        HANDOFF_GENL_NAME
    }
    fn command(&self) -> u8 {
        self.cmd
    }
    fn version(&self) -> u8 {
        HANDOFF_GENL_VERSION
    }
}

impl Emitable for HandoffMsg {
    fn buffer_len(&self) -> usize {
        self.attrs.as_slice().buffer_len()
    }
    fn emit(&self, buffer: &mut [u8]) {
        self.attrs.as_slice().emit(buffer)
    }
}

impl ParseableParametrized<[u8], GenlHeader> for HandoffMsg {
    fn parse_with_param(buf: &[u8], header: GenlHeader) -> Result<Self, DecodeError> {
        let raw = parse_attrs(buf).map_err(|e| DecodeError::from(e.to_string()))?;
        Ok(HandoffMsg {
            cmd: header.cmd,
            attrs: Vec::new(),
            raw,
        })
    }
}

/// A request to send: command, whether it is a dump, attributes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub cmd: u8,
    pub dump: bool,
    pub attrs: Vec<Attr>,
}

impl Request {
    pub fn flags(&self) -> u16 {
        if self.dump {
            NLM_F_REQUEST | NLM_F_DUMP
        } else {
            NLM_F_REQUEST | NLM_F_ACK
        }
    }

    /// The complete netlink message (header, genl header, attributes).
    pub fn to_bytes(&self, family_id: u16, seq: u32) -> Vec<u8> {
        let mut genl = GenlMessage::from_payload(HandoffMsg::new(self.cmd, self.attrs.clone()));
        genl.set_resolved_family_id(family_id);
        serialize(genl, self.flags(), seq)
    }
}

fn serialize<F>(mut genl: GenlMessage<F>, flags: u16, seq: u32) -> Vec<u8>
where
    F: GenlFamily + Emitable + Debug,
{
    genl.finalize();
    let mut nl = NetlinkMessage::from(genl);
    nl.header.flags = flags;
    nl.header.sequence_number = seq;
    nl.finalize();
    let mut buf = vec![0u8; nl.buffer_len()];
    nl.serialize(&mut buf);
    buf
}

/// `strerror()` of an errno, without Rust's " (os error N)" suffix.
pub fn strerror(errno: i32) -> String {
    let s = std::io::Error::from_raw_os_error(errno).to_string();
    match s.find(" (os error ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

fn io_error(what: &str, e: std::io::Error) -> Error {
    let msg = match e.raw_os_error() {
        Some(errno) => strerror(errno),
        None => e.to_string(),
    };
    if what.is_empty() {
        Error::Fail(msg)
    } else {
        Error::Fail(format!("{what}: {msg}"))
    }
}

/// The extack message (NLMSGERR_ATTR_MSG) of an NLMSG_ERROR, from the
/// message's flags and the payload after the error code.
pub fn extack_of_error(flags: u16, after_code: &[u8]) -> Option<String> {
    if flags & NLM_F_ACK_TLVS == 0 {
        return None;
    }
    // The request's header, and its payload unless capped, come first.
    let skip = if flags & NLM_F_CAPPED != 0 {
        NLMSG_HDRLEN
    } else {
        let len = u32::from_ne_bytes(after_code.get(..4)?.try_into().ok()?) as usize;
        (len + 3) & !3
    };
    extack_msg(after_code.get(skip..)?)
}

/// The NLMSGERR_ATTR_MSG string in a list of extack attributes.
pub fn extack_msg(tlvs: &[u8]) -> Option<String> {
    for nla in NlasIterator::new(tlvs) {
        let nla = nla.ok()?;
        if nla.kind() == NLMSGERR_ATTR_MSG {
            let v = nla.value();
            let end = v.iter().position(|&b| b == 0).unwrap_or(v.len());
            let msg = String::from_utf8_lossy(&v[..end]).trim().to_string();
            return (!msg.is_empty()).then_some(msg);
        }
    }
    None
}

/// A kernel error: its extack message if there is one, else strerror.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KernelError {
    pub errno: i32,
    pub msg: Option<String>,
}

impl KernelError {
    pub fn into_error(self) -> Error {
        Error::Fail(self.msg.unwrap_or_else(|| strerror(self.errno)))
    }
}

/// The outcome of splitting a received buffer into messages of request `seq`.
#[derive(Debug, Default)]
struct Batch<F> {
    msgs: Vec<F>,
    done: bool,
    interrupted: bool,
    error: Option<KernelError>,
}

/// Parse the netlink messages of one datagram, keeping those of `seq`.
fn parse_batch<F>(buf: &[u8], seq: u32) -> Result<Batch<F>, Error>
where
    F: ParseableParametrized<[u8], GenlHeader> + Debug,
{
    let mut b = Batch {
        msgs: Vec::new(),
        done: false,
        interrupted: false,
        error: None,
    };
    let mut off = 0;
    while off + NLMSG_HDRLEN <= buf.len() {
        let len = NetlinkBuffer::new_checked(&buf[off..])
            .map_err(bad_reply)?
            .length() as usize;
        let msg = NetlinkMessage::<GenlMessage<F>>::deserialize(&buf[off..off + len])
            .map_err(bad_reply)?;
        off += (len + 3) & !3;
        if msg.header.sequence_number != seq {
            continue;
        }
        if msg.header.flags & NLM_F_DUMP_INTR != 0 {
            b.interrupted = true;
        }
        match msg.payload {
            NetlinkPayload::Error(e) => {
                b.done = true;
                if let Some(code) = e.code {
                    b.error = Some(KernelError {
                        errno: -code.get(),
                        msg: extack_of_error(msg.header.flags, &e.header),
                    });
                }
            }
            NetlinkPayload::Done(d) => {
                b.done = true;
                if d.code < 0 {
                    let msg = if msg.header.flags & NLM_F_ACK_TLVS != 0 {
                        extack_msg(&d.extended_ack)
                    } else {
                        None
                    };
                    b.error = Some(KernelError {
                        errno: -d.code,
                        msg,
                    });
                }
            }
            NetlinkPayload::InnerMessage(m) => b.msgs.push(m.payload),
            _ => {}
        }
        if b.done {
            break;
        }
    }
    Ok(b)
}

fn bad_reply(e: DecodeError) -> Error {
    Error::Fail(format!("malformed reply from the kernel: {e}"))
}

/// A socket talking to the handoff family.
pub struct Genl {
    sock: Socket,
    seq: u32,
    pub family_id: u16,
    pub events_group: Option<u32>,
}

impl Genl {
    /// Open a socket and resolve the handoff family; a missing family is
    /// the "is the module loaded?" error.
    pub fn open() -> Result<Genl, Error> {
        Genl::open_family(HANDOFF_GENL_NAME)
    }

    /// Open a socket and resolve the generic netlink family `name` (another
    /// family than handoff only in tests).
    pub fn open_family(name: &str) -> Result<Genl, Error> {
        let mut sock = Socket::new(NETLINK_GENERIC)
            .map_err(|e| io_error("cannot open a generic netlink socket", e))?;
        sock.bind_auto()
            .map_err(|e| io_error("cannot bind the netlink socket", e))?;
        // Best effort: extended ACKs carry the kernel's error messages.
        let _ = sock.set_ext_ack(true);
        let _ = sock.set_cap_ack(true);
        sock.connect(&SocketAddr::new(0, 0))
            .map_err(|e| io_error("cannot connect the netlink socket", e))?;
        let mut genl = Genl {
            sock,
            seq: std::process::id().wrapping_mul(1000),
            family_id: 0,
            events_group: None,
        };
        genl.resolve(name)?;
        Ok(genl)
    }

    fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }

    fn resolve(&mut self, name: &str) -> Result<(), Error> {
        let genl = GenlMessage::from_payload(GenlCtrl {
            cmd: GenlCtrlCmd::GetFamily,
            nlas: vec![GenlCtrlAttrs::FamilyName(name.to_string())],
        });
        let seq = self.next_seq();
        let replies: Vec<GenlCtrl> =
            match self.transact(serialize(genl, NLM_F_REQUEST | NLM_F_ACK, seq), seq) {
                Err(k) if k.errno == libc::ENOENT => {
                    return Err(Error::Fail(format!(
                        "generic netlink family \"{name}\" not found (is the module loaded?)"
                    )))
                }
                Err(k) => return Err(k.into_error()),
                Ok(r) => r,
            };
        for reply in replies {
            for nla in reply.nlas {
                match nla {
                    GenlCtrlAttrs::FamilyId(id) => self.family_id = id,
                    GenlCtrlAttrs::McastGroups(groups) => {
                        for g in groups {
                            let name = g.iter().find_map(|a| match a {
                                McastGrpAttrs::Name(n) => Some(n.clone()),
                                _ => None,
                            });
                            let id = g.iter().find_map(|a| match a {
                                McastGrpAttrs::Id(id) => Some(*id),
                                _ => None,
                            });
                            if name.as_deref() == Some(HANDOFF_GENL_MCGRP_EVENTS) {
                                self.events_group = id;
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        if self.family_id == 0 {
            return Err(Error::Fail(
                "malformed reply from the kernel: no family id".to_string(),
            ));
        }
        Ok(())
    }

    fn recv(&self) -> Result<Vec<u8>, Error> {
        loop {
            match self.sock.recv_from_full() {
                Ok((buf, _)) => return Ok(buf),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(io_error("", e)),
            }
        }
    }

    /// Send a serialized request and collect the replies up to the ACK or
    /// NLMSG_DONE.  `Err` is the kernel's error.
    fn transact<F>(&mut self, bytes: Vec<u8>, seq: u32) -> Result<Vec<F>, KernelError>
    where
        F: ParseableParametrized<[u8], GenlHeader> + Debug,
    {
        let local = |e: Error| KernelError {
            errno: libc::EIO,
            msg: Some(e.to_string()),
        };
        self.sock.send(&bytes, 0).map_err(|e| KernelError {
            errno: e.raw_os_error().unwrap_or(libc::EIO),
            msg: None,
        })?;
        let mut out = Vec::new();
        let mut interrupted = false;
        loop {
            let buf = self.recv().map_err(local)?;
            let batch = parse_batch::<F>(&buf, seq).map_err(local)?;
            out.extend(batch.msgs);
            interrupted |= batch.interrupted;
            if let Some(e) = batch.error {
                return Err(e);
            }
            if batch.done {
                break;
            }
        }
        if interrupted {
            eprintln!("handoff: warning: the dump was interrupted, the output may be inconsistent");
        }
        Ok(out)
    }

    /// Run a request of the handoff family; the replies' messages.
    pub fn request(&mut self, req: &Request) -> Result<Vec<HandoffMsg>, Error> {
        let seq = self.next_seq();
        let bytes = req.to_bytes(self.family_id, seq);
        self.transact(bytes, seq).map_err(KernelError::into_error)
    }

    /// Join the events multicast group.
    pub fn subscribe_events(&self) -> Result<(), Error> {
        let group = self.events_group.ok_or_else(|| {
            Error::Fail(format!("multicast group \"{HANDOFF_GENL_MCGRP_EVENTS}\" of family \"{HANDOFF_GENL_NAME}\" not found"))
        })?;
        self.sock
            .add_membership(group)
            .map_err(|e| io_error("cannot join the events group", e))
    }

    /// Wait for the next notifications (sequence number 0).  A lost-event
    /// overrun (ENOBUFS) is reported on stderr and skipped.
    pub fn next_events(&self) -> Result<Vec<HandoffMsg>, Error> {
        loop {
            match self.sock.recv_from_full() {
                Ok((buf, _)) => return Ok(parse_batch::<HandoffMsg>(&buf, 0)?.msgs),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                    eprintln!("handoff: warning: events were lost (receive queue overflow)");
                }
                Err(e) => return Err(io_error("", e)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(flags: u16, typ: u16, seq: u32, payload: &[u8]) -> Vec<u8> {
        let len = (NLMSG_HDRLEN + payload.len()) as u32;
        let mut b = Vec::new();
        b.extend_from_slice(&len.to_ne_bytes());
        b.extend_from_slice(&typ.to_ne_bytes());
        b.extend_from_slice(&flags.to_ne_bytes());
        b.extend_from_slice(&seq.to_ne_bytes());
        b.extend_from_slice(&0u32.to_ne_bytes());
        b.extend_from_slice(payload);
        while b.len() % 4 != 0 {
            b.push(0);
        }
        b
    }

    fn tlv_msg(text: &str) -> Vec<u8> {
        let mut v = text.as_bytes().to_vec();
        v.push(0);
        let mut b = Vec::new();
        b.extend_from_slice(&((4 + v.len()) as u16).to_ne_bytes());
        b.extend_from_slice(&NLMSGERR_ATTR_MSG.to_ne_bytes());
        b.extend_from_slice(&v);
        while b.len() % 4 != 0 {
            b.push(0);
        }
        b
    }

    const NLMSG_ERROR: u16 = 2;
    const NLMSG_DONE: u16 = 3;

    #[test]
    fn error_with_capped_extack() {
        // error code, the request's header only (capped), then the TLVs.
        let mut p = (-libc::EEXIST).to_ne_bytes().to_vec();
        p.extend_from_slice(&msg(5, 0x20, 7, &[])[..NLMSG_HDRLEN]);
        p.extend_from_slice(&tlv_msg("service already exists"));
        let buf = msg(NLM_F_CAPPED | NLM_F_ACK_TLVS, NLMSG_ERROR, 7, &p);
        let b = parse_batch::<HandoffMsg>(&buf, 7).unwrap();
        assert!(b.done);
        let e = b.error.unwrap();
        assert_eq!(e.errno, libc::EEXIST);
        assert_eq!(e.into_error().to_string(), "service already exists");
    }

    #[test]
    fn error_with_uncapped_extack() {
        let request = msg(5, 0x20, 8, &[1, 1, 0, 0, 8, 0, 1, 0, 9, 0, 0, 0]);
        let mut p = (-libc::EINVAL).to_ne_bytes().to_vec();
        p.extend_from_slice(&request);
        p.extend_from_slice(&tlv_msg("bad port"));
        let buf = msg(NLM_F_ACK_TLVS, NLMSG_ERROR, 8, &p);
        let e = parse_batch::<HandoffMsg>(&buf, 8).unwrap().error.unwrap();
        assert_eq!(e.msg.as_deref(), Some("bad port"));
    }

    #[test]
    fn error_without_extack_is_strerror() {
        let mut p = (-libc::EPERM).to_ne_bytes().to_vec();
        p.extend_from_slice(&msg(5, 0x20, 9, &[])[..NLMSG_HDRLEN]);
        let buf = msg(NLM_F_CAPPED, NLMSG_ERROR, 9, &p);
        let e = parse_batch::<HandoffMsg>(&buf, 9).unwrap().error.unwrap();
        assert_eq!(e.into_error().to_string(), "Operation not permitted");
        assert_eq!(strerror(libc::ENOENT), "No such file or directory");
    }

    #[test]
    fn ack_ends_a_request() {
        let mut p = 0i32.to_ne_bytes().to_vec();
        p.extend_from_slice(&msg(5, 0x20, 3, &[])[..NLMSG_HDRLEN]);
        let b = parse_batch::<HandoffMsg>(&msg(NLM_F_CAPPED, NLMSG_ERROR, 3, &p), 3).unwrap();
        assert!(b.done && b.error.is_none() && b.msgs.is_empty());
    }

    #[test]
    fn dump_messages_then_done() {
        let reply = |cmd: u8, attrs: Vec<Attr>| {
            let mut payload = vec![cmd, HANDOFF_GENL_VERSION, 0, 0];
            payload.extend(crate::attr::emit_attrs(&attrs));
            payload
        };
        let peer = |id| {
            vec![Attr::nested(
                HANDOFF_A_PEER,
                vec![Attr::u32(HANDOFF_A_PEER_ID, id)],
            )]
        };
        let mut buf = msg(
            2 | NLM_F_DUMP_INTR,
            0x20,
            4,
            &reply(HANDOFF_CMD_PEER_GET, peer(1)),
        );
        buf.extend(msg(2, 0x20, 99, &reply(HANDOFF_CMD_PEER_GET, peer(5)))); // other seq: skipped
        buf.extend(msg(2, 0x20, 4, &reply(HANDOFF_CMD_PEER_GET, peer(2))));
        let b = parse_batch::<HandoffMsg>(&buf, 4).unwrap();
        assert!(!b.done && b.interrupted);
        assert_eq!(b.msgs.len(), 2);
        assert_eq!(b.msgs[1].cmd, HANDOFF_CMD_PEER_GET);
        let inner = b.msgs[1].raw[0].get_nested().unwrap();
        assert_eq!(inner[0].get_u32().unwrap(), 2);

        let done = msg(2, NLMSG_DONE, 4, &0i32.to_ne_bytes());
        let b = parse_batch::<HandoffMsg>(&done, 4).unwrap();
        assert!(b.done && b.error.is_none());

        let mut p = (-libc::EMSGSIZE).to_ne_bytes().to_vec();
        p.extend(tlv_msg("dump failed"));
        let b = parse_batch::<HandoffMsg>(&msg(2 | NLM_F_ACK_TLVS, NLMSG_DONE, 4, &p), 4).unwrap();
        assert_eq!(b.error.unwrap().msg.as_deref(), Some("dump failed"));
    }

    #[test]
    fn garbage_is_an_error() {
        let mut buf = msg(0, 0x20, 1, &[1, 1, 0, 0]);
        buf[0] = 200; // length beyond the buffer
        assert!(parse_batch::<HandoffMsg>(&buf, 1).is_err());
    }
}

/// Against the running kernel's own generic netlink controller: family
/// resolution, a dump, and errors with and without an extack message.
/// Skipped where no generic netlink socket can be opened.
#[cfg(test)]
mod live {
    use super::*;

    const CTRL_CMD_GETFAMILY: u8 = 3;
    const CTRL_ATTR_FAMILY_ID: u16 = 1;
    const CTRL_ATTR_FAMILY_NAME: u16 = 2;

    fn ctrl() -> Option<Genl> {
        match Genl::open_family("nlctrl") {
            Ok(g) => Some(g),
            Err(e) => {
                eprintln!("skipped, no generic netlink here: {e}");
                None
            }
        }
    }

    #[test]
    fn missing_family_message() {
        if ctrl().is_none() {
            return;
        }
        let err = Genl::open_family("hoff-nonexist").err().unwrap();
        assert_eq!(
            err,
            Error::Fail(
                "generic netlink family \"hoff-nonexist\" not found (is the module loaded?)".into()
            )
        );
    }

    #[test]
    fn dump_and_errors() {
        let Some(mut g) = ctrl() else { return };
        assert_eq!(g.family_id, 0x10); // GENL_ID_CTRL
        let fams = g
            .request(&Request {
                cmd: CTRL_CMD_GETFAMILY,
                dump: true,
                attrs: vec![],
            })
            .unwrap();
        assert!(fams.len() > 1);
        let names: Vec<String> = fams
            .iter()
            .flat_map(|m| {
                m.raw
                    .iter()
                    .filter(|a| a.kind == CTRL_ATTR_FAMILY_NAME)
                    .map(|a| a.get_str().unwrap())
            })
            .collect();
        assert!(names.iter().any(|n| n == "nlctrl"), "{names:?}");

        let err = g
            .request(&Request {
                cmd: CTRL_CMD_GETFAMILY,
                dump: false,
                attrs: vec![Attr::str(CTRL_ATTR_FAMILY_NAME, "hoff-nonexist")],
            })
            .unwrap_err();
        assert_eq!(err, Error::Fail(strerror(libc::ENOENT)));

        // A u16 attribute one byte long fails policy validation: EINVAL with
        // an extack message.
        let err = g
            .request(&Request {
                cmd: CTRL_CMD_GETFAMILY,
                dump: false,
                attrs: vec![Attr::u8(CTRL_ATTR_FAMILY_ID, 1)],
            })
            .unwrap_err();
        let Error::Fail(msg) = err else { panic!() };
        assert_ne!(msg, strerror(libc::EINVAL), "no extack message");
        eprintln!("kernel said: {msg}");

        // The socket stays usable after errors.
        assert!(!g
            .request(&Request {
                cmd: CTRL_CMD_GETFAMILY,
                dump: true,
                attrs: vec![]
            })
            .unwrap()
            .is_empty());
    }
}
