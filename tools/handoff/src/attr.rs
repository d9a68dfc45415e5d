//! Netlink attributes: an owned tree for building requests (emitted through
//! `netlink_packet_core::Nla`) and a flat raw form for reading replies
//! (walked with `netlink_packet_core::NlasIterator`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use netlink_packet_core::{Emitable, Nla, NlasIterator, NLA_F_NESTED};

use crate::Error;

/// The value of an attribute being built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    U8(u8),
    U16(u16),
    U32(u32),
    U64(u64),
    /// NLA_BINARY, e.g. an address.
    Bytes(Vec<u8>),
    /// NLA_NUL_STRING: emitted with its terminating NUL.
    Str(String),
    /// NLA_NESTED: emitted with NLA_F_NESTED.
    Nested(Vec<Attr>),
}

/// An attribute being built: its type (without flags) and value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attr {
    pub kind: u16,
    pub value: Value,
}

impl Attr {
    pub fn u8(kind: u16, v: u8) -> Attr {
        Attr {
            kind,
            value: Value::U8(v),
        }
    }
    pub fn u16(kind: u16, v: u16) -> Attr {
        Attr {
            kind,
            value: Value::U16(v),
        }
    }
    pub fn u32(kind: u16, v: u32) -> Attr {
        Attr {
            kind,
            value: Value::U32(v),
        }
    }
    pub fn u64(kind: u16, v: u64) -> Attr {
        Attr {
            kind,
            value: Value::U64(v),
        }
    }
    pub fn bytes(kind: u16, v: Vec<u8>) -> Attr {
        Attr {
            kind,
            value: Value::Bytes(v),
        }
    }
    pub fn str(kind: u16, v: &str) -> Attr {
        Attr {
            kind,
            value: Value::Str(v.to_string()),
        }
    }
    pub fn nested(kind: u16, v: Vec<Attr>) -> Attr {
        Attr {
            kind,
            value: Value::Nested(v),
        }
    }
    /// An address as the header wants it: 4 or 16 bytes, network order.
    pub fn addr(kind: u16, ip: IpAddr) -> Attr {
        let bytes = match ip {
            IpAddr::V4(a) => a.octets().to_vec(),
            IpAddr::V6(a) => a.octets().to_vec(),
        };
        Attr::bytes(kind, bytes)
    }
}

impl Nla for Attr {
    fn value_len(&self) -> usize {
        match &self.value {
            Value::U8(_) => 1,
            Value::U16(_) => 2,
            Value::U32(_) => 4,
            Value::U64(_) => 8,
            Value::Bytes(b) => b.len(),
            Value::Str(s) => s.len() + 1,
            Value::Nested(attrs) => attrs.as_slice().buffer_len(),
        }
    }

    fn kind(&self) -> u16 {
        match self.value {
            Value::Nested(_) => self.kind | NLA_F_NESTED,
            _ => self.kind,
        }
    }

    fn emit_value(&self, buf: &mut [u8]) {
        match &self.value {
            Value::U8(v) => buf[0] = *v,
            Value::U16(v) => buf[..2].copy_from_slice(&v.to_ne_bytes()),
            Value::U32(v) => buf[..4].copy_from_slice(&v.to_ne_bytes()),
            Value::U64(v) => buf[..8].copy_from_slice(&v.to_ne_bytes()),
            Value::Bytes(b) => buf[..b.len()].copy_from_slice(b),
            Value::Str(s) => {
                buf[..s.len()].copy_from_slice(s.as_bytes());
                buf[s.len()] = 0;
            }
            Value::Nested(attrs) => attrs.as_slice().emit(buf),
        }
    }
}

/// Emit a list of attributes to bytes (what follows the genl header).
pub fn emit_attrs(attrs: &[Attr]) -> Vec<u8> {
    let mut buf = vec![0u8; attrs.buffer_len()];
    attrs.emit(&mut buf);
    buf
}

/// An attribute read from the kernel: type (flags masked off) and payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawAttr {
    pub kind: u16,
    pub value: Vec<u8>,
}

fn bad(what: &str) -> Error {
    Error::Fail(format!("malformed reply from the kernel: {what}"))
}

/// Split a buffer into its attributes.
pub fn parse_attrs(buf: &[u8]) -> Result<Vec<RawAttr>, Error> {
    let mut out = Vec::new();
    for nla in NlasIterator::new(buf) {
        let nla = nla.map_err(|e| bad(&e.to_string()))?;
        out.push(RawAttr {
            kind: nla.kind(),
            value: nla.value().to_vec(),
        });
    }
    Ok(out)
}

impl RawAttr {
    pub fn get_u8(&self) -> Result<u8, Error> {
        match self.value.as_slice() {
            [v] => Ok(*v),
            _ => Err(self.bad_len()),
        }
    }
    pub fn get_u16(&self) -> Result<u16, Error> {
        let b: [u8; 2] = self
            .value
            .as_slice()
            .try_into()
            .map_err(|_| self.bad_len())?;
        Ok(u16::from_ne_bytes(b))
    }
    pub fn get_u32(&self) -> Result<u32, Error> {
        let b: [u8; 4] = self
            .value
            .as_slice()
            .try_into()
            .map_err(|_| self.bad_len())?;
        Ok(u32::from_ne_bytes(b))
    }
    /// A 64-bit value; a 32-bit one is accepted too (NLA_UINT style).
    pub fn get_u64(&self) -> Result<u64, Error> {
        match self.value.len() {
            4 => self.get_u32().map(u64::from),
            8 => {
                let b: [u8; 8] = self
                    .value
                    .as_slice()
                    .try_into()
                    .map_err(|_| self.bad_len())?;
                Ok(u64::from_ne_bytes(b))
            }
            _ => Err(self.bad_len()),
        }
    }
    pub fn get_addr(&self) -> Result<IpAddr, Error> {
        match self.value.len() {
            4 => {
                let b: [u8; 4] = self
                    .value
                    .as_slice()
                    .try_into()
                    .map_err(|_| self.bad_len())?;
                Ok(IpAddr::V4(Ipv4Addr::from(b)))
            }
            16 => {
                let b: [u8; 16] = self
                    .value
                    .as_slice()
                    .try_into()
                    .map_err(|_| self.bad_len())?;
                Ok(IpAddr::V6(Ipv6Addr::from(b)))
            }
            _ => Err(self.bad_len()),
        }
    }
    /// A NUL-terminated string (the NUL is optional, as iproute2 does it).
    pub fn get_str(&self) -> Result<String, Error> {
        let v = match self.value.iter().position(|&b| b == 0) {
            Some(end) => &self.value[..end],
            None => &self.value[..],
        };
        String::from_utf8(v.to_vec())
            .map_err(|_| bad(&format!("attribute {} is not UTF-8", self.kind)))
    }
    pub fn get_nested(&self) -> Result<Vec<RawAttr>, Error> {
        parse_attrs(&self.value)
    }
    fn bad_len(&self) -> Error {
        bad(&format!(
            "attribute {} has length {}",
            self.kind,
            self.value.len()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emit_and_parse_every_kind() {
        let attrs = vec![
            Attr::u8(1, 6),
            Attr::u16(2, 80),
            Attr::u32(3, 0xdead_beef),
            Attr::u64(4, u64::MAX - 1),
            Attr::str(5, "abc"),
            Attr::addr(6, "2001:db8::1".parse().unwrap()),
            Attr::nested(7, vec![Attr::u32(1, 9), Attr::u32(1, 10)]),
        ];
        let buf = emit_attrs(&attrs);
        assert_eq!(buf.len() % 4, 0);
        let raw = parse_attrs(&buf).unwrap();
        assert_eq!(raw.len(), 7);
        assert_eq!(raw[0].get_u8().unwrap(), 6);
        assert_eq!(raw[1].get_u16().unwrap(), 80);
        assert_eq!(raw[2].get_u32().unwrap(), 0xdead_beef);
        assert_eq!(raw[3].get_u64().unwrap(), u64::MAX - 1);
        assert_eq!(raw[4].get_str().unwrap(), "abc");
        assert_eq!(raw[4].value, b"abc\0");
        assert_eq!(
            raw[5].get_addr().unwrap(),
            "2001:db8::1".parse::<IpAddr>().unwrap()
        );
        let inner = raw[6].get_nested().unwrap();
        assert_eq!(inner.len(), 2);
        assert_eq!(inner[1].get_u32().unwrap(), 10);
        // The nested flag is set on the wire and masked off when read.
        assert_eq!(
            u16::from_ne_bytes([buf[buf.len() - 20 + 2], buf[buf.len() - 19 + 2]]),
            7 | NLA_F_NESTED
        );
        assert_eq!(raw[6].kind, 7);
    }

    #[test]
    fn wrong_lengths_are_errors() {
        let raw = RawAttr {
            kind: 3,
            value: vec![1, 2, 3],
        };
        assert!(raw.get_u32().is_err());
        assert!(raw.get_u16().is_err());
        assert!(raw.get_addr().is_err());
        assert!(raw.get_u64().is_err());
        let raw = RawAttr {
            kind: 3,
            value: vec![1, 0, 0, 0],
        };
        assert_eq!(
            raw.get_u64().unwrap(),
            u64::from(u32::from_ne_bytes([1, 0, 0, 0]))
        );
        assert!(parse_attrs(&[8, 0, 1]).is_err());
    }
}
