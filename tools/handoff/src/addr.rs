//! Addresses and ports on the command line: `10.0.0.1:80`, `[2001:db8::1]:80`,
//! and, where the port is optional, `10.0.0.1`, `[2001:db8::1]` or
//! `2001:db8::1`.

use std::net::{IpAddr, Ipv6Addr};

use crate::Error;

/// Whether a port must, may or must not follow the address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Port {
    Required,
    Optional,
}

/// `invalid address "ADDR" in "ARG"`, without the `in` part when the address
/// is the whole word.
fn invalid_addr_msg(addr: &str, arg: &str) -> String {
    if addr == arg {
        format!("invalid address \"{arg}\"")
    } else {
        format!("invalid address \"{addr}\" in \"{arg}\"")
    }
}

fn invalid_addr(addr: &str, arg: &str) -> Error {
    Error::Usage(invalid_addr_msg(addr, arg))
}

/// Parse a port: decimal, 1..=65535.  `arg` is the word it came from
/// (`ADDR:PORT`), or the port itself when it is a word of its own.
pub fn parse_port(port: &str, arg: &str) -> Result<u16, Error> {
    let ok = !port.is_empty() && port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit());
    match port.parse::<u16>() {
        Ok(p) if ok && p != 0 => Ok(p),
        _ if port == arg => Err(Error::Usage(format!("invalid port \"{port}\""))),
        _ => Err(Error::Usage(format!(
            "invalid port \"{port}\" in \"{arg}\""
        ))),
    }
}

fn parse_ip(addr: &str, arg: &str, v6_only: bool) -> Result<IpAddr, Error> {
    let ip = if v6_only {
        addr.parse::<Ipv6Addr>().map(IpAddr::V6)
    } else {
        addr.parse::<IpAddr>()
    };
    ip.map_err(|_| invalid_addr(addr, arg))
}

/// Parse `ADDR:PORT` (or `ADDR[:PORT]` with `Port::Optional`).
pub fn parse_addr_port(arg: &str, port: Port) -> Result<(IpAddr, Option<u16>), Error> {
    if arg.is_empty() {
        return Err(Error::Usage("empty address".to_string()));
    }
    if let Some(rest) = arg.strip_prefix('[') {
        // [IPv6] or [IPv6]:PORT
        let Some((inner, tail)) = rest.split_once(']') else {
            return Err(invalid_addr(arg, arg));
        };
        let ip = parse_ip(inner, arg, true)?;
        if tail.is_empty() {
            return match port {
                Port::Required => Err(Error::Usage(format!("missing port in \"{arg}\""))),
                Port::Optional => Ok((ip, None)),
            };
        }
        let Some(p) = tail.strip_prefix(':') else {
            return Err(invalid_addr(arg, arg));
        };
        return Ok((ip, Some(parse_port(p, arg)?)));
    }
    match arg.matches(':').count() {
        0 => {
            let ip = parse_ip(arg, arg, false)?;
            match port {
                Port::Required => Err(Error::Usage(format!("missing port in \"{arg}\""))),
                Port::Optional => Ok((ip, None)),
            }
        }
        1 => {
            let (a, p) = arg.split_once(':').expect("one colon");
            let ip = parse_ip(a, arg, false)?;
            if ip.is_ipv6() {
                return Err(invalid_addr(a, arg));
            }
            Ok((ip, Some(parse_port(p, arg)?)))
        }
        _ => {
            // A bare IPv6 address: it cannot carry a port.
            let ip = parse_ip(arg, arg, true).map_err(|_| {
                Error::Usage(format!(
                    "invalid address \"{arg}\" (write IPv6 with a port as [ADDR]:PORT)"
                ))
            })?;
            match port {
                Port::Required => Err(Error::Usage(format!(
                    "missing port in \"{arg}\" (write IPv6 with a port as [ADDR]:PORT)"
                ))),
                Port::Optional => Ok((ip, None)),
            }
        }
    }
}

/// `ADDR:PORT`, port required.
pub fn parse_endpoint(arg: &str) -> Result<(IpAddr, u16), Error> {
    let (ip, port) = parse_addr_port(arg, Port::Required)?;
    Ok((ip, port.expect("required port")))
}

/// A service or peer address must be a unicast, specified address.
pub fn check_unicast(ip: IpAddr, arg: &str) -> Result<(), Error> {
    let broadcast = matches!(ip, IpAddr::V4(v4) if v4.is_broadcast());
    if ip.is_unspecified() || ip.is_multicast() || broadcast {
        let m = invalid_addr_msg(&ip.to_string(), arg);
        return Err(Error::Usage(format!("{m} (must be a unicast address)")));
    }
    Ok(())
}

/// Format an address with an optional port: `10.0.0.1:80`, `[::1]:80`,
/// `10.0.0.1`, `::1`.
pub fn format_addr(ip: IpAddr, port: Option<u16>) -> String {
    match (ip, port) {
        (IpAddr::V4(a), Some(p)) => format!("{a}:{p}"),
        (IpAddr::V6(a), Some(p)) => format!("[{a}]:{p}"),
        (a, None) => a.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(r: Result<(IpAddr, Option<u16>), Error>) -> String {
        match r {
            Err(Error::Usage(m)) => m,
            other => panic!("expected a usage error, got {other:?}"),
        }
    }

    #[test]
    fn v4_with_port() {
        let (ip, p) = parse_addr_port("10.0.0.1:80", Port::Required).unwrap();
        assert_eq!(ip, "10.0.0.1".parse::<IpAddr>().unwrap());
        assert_eq!(p, Some(80));
        assert_eq!(parse_endpoint("192.0.2.1:65535").unwrap().1, 65535);
    }

    #[test]
    fn v6_bracketed() {
        let (ip, p) = parse_addr_port("[2001:db8::1]:80", Port::Required).unwrap();
        assert_eq!(ip, "2001:db8::1".parse::<IpAddr>().unwrap());
        assert_eq!(p, Some(80));
        let (ip, p) = parse_addr_port("[::1]", Port::Optional).unwrap();
        assert_eq!(ip, "::1".parse::<IpAddr>().unwrap());
        assert_eq!(p, None);
        let (ip, p) = parse_addr_port("2001:db8::2", Port::Optional).unwrap();
        assert_eq!(ip, "2001:db8::2".parse::<IpAddr>().unwrap());
        assert_eq!(p, None);
    }

    #[test]
    fn optional_port() {
        assert_eq!(parse_addr_port("10.0.0.2", Port::Optional).unwrap().1, None);
        assert_eq!(
            parse_addr_port("10.0.0.2:7000", Port::Optional).unwrap().1,
            Some(7000)
        );
    }

    #[test]
    fn port_errors() {
        assert_eq!(
            msg(parse_addr_port("10.0.0.1:0", Port::Required)),
            "invalid port \"0\" in \"10.0.0.1:0\""
        );
        assert_eq!(
            msg(parse_addr_port("10.0.0.1:65536", Port::Required)),
            "invalid port \"65536\" in \"10.0.0.1:65536\""
        );
        assert_eq!(
            msg(parse_addr_port("10.0.0.1:", Port::Required)),
            "invalid port \"\" in \"10.0.0.1:\""
        );
        assert_eq!(
            msg(parse_addr_port("10.0.0.1:http", Port::Required)),
            "invalid port \"http\" in \"10.0.0.1:http\""
        );
        assert_eq!(
            msg(parse_addr_port("10.0.0.1:+80", Port::Required)),
            "invalid port \"+80\" in \"10.0.0.1:+80\""
        );
        assert_eq!(
            msg(parse_addr_port("[::1]:0", Port::Required)),
            "invalid port \"0\" in \"[::1]:0\""
        );
        assert_eq!(
            msg(parse_addr_port("10.0.0.1", Port::Required)),
            "missing port in \"10.0.0.1\""
        );
        assert_eq!(
            msg(parse_addr_port("[::1]", Port::Required)),
            "missing port in \"[::1]\""
        );
        assert!(msg(parse_addr_port("2001:db8::1", Port::Required))
            .starts_with("missing port in \"2001:db8::1\""));
    }

    #[test]
    fn address_errors() {
        assert_eq!(
            msg(parse_addr_port("10.0.0.300:80", Port::Required)),
            "invalid address \"10.0.0.300\" in \"10.0.0.300:80\""
        );
        assert_eq!(
            msg(parse_addr_port("[::1:80", Port::Required)),
            "invalid address \"[::1:80\""
        );
        assert_eq!(
            msg(parse_addr_port("[::1]80", Port::Required)),
            "invalid address \"[::1]80\""
        );
        assert_eq!(
            msg(parse_addr_port("[10.0.0.1]:80", Port::Required)),
            "invalid address \"10.0.0.1\" in \"[10.0.0.1]:80\""
        );
        assert_eq!(
            msg(parse_addr_port("host:80", Port::Required)),
            "invalid address \"host\" in \"host:80\""
        );
        assert_eq!(msg(parse_addr_port("", Port::Required)), "empty address");
        assert_eq!(
            msg(parse_addr_port("bogus", Port::Optional)),
            "invalid address \"bogus\""
        );
        assert!(msg(parse_addr_port("2001:db8::zz", Port::Optional))
            .starts_with("invalid address \"2001:db8::zz\""));
        assert!(msg(parse_addr_port("fe80::1%eth0", Port::Optional)).starts_with("invalid address"));
    }

    #[test]
    fn port_alone() {
        assert_eq!(parse_port("7000", "7000").unwrap(), 7000);
        for bad in ["0", "65536", "x", "", "+1", "123456"] {
            assert_eq!(
                parse_port(bad, bad).unwrap_err(),
                Error::Usage(format!("invalid port \"{bad}\""))
            );
        }
    }

    #[test]
    fn unicast_check() {
        let err = |ip: &str, arg: &str| match check_unicast(ip.parse().unwrap(), arg) {
            Err(Error::Usage(m)) => m,
            other => panic!("{ip}: {other:?}"),
        };
        assert_eq!(
            err("0.0.0.0", "0.0.0.0:80"),
            "invalid address \"0.0.0.0\" in \"0.0.0.0:80\" (must be a unicast address)"
        );
        // A bare address is not repeated.
        assert_eq!(
            err("239.1.1.1", "239.1.1.1"),
            "invalid address \"239.1.1.1\" (must be a unicast address)"
        );
        assert_eq!(
            err("255.255.255.255", "255.255.255.255"),
            "invalid address \"255.255.255.255\" (must be a unicast address)"
        );
        assert!(check_unicast("10.0.0.1".parse().unwrap(), "x").is_ok());
        assert!(check_unicast("0.0.0.0".parse().unwrap(), "0.0.0.0:80").is_err());
        assert!(check_unicast("::".parse().unwrap(), "[::]:80").is_err());
        assert!(check_unicast("239.1.1.1".parse().unwrap(), "x").is_err());
        assert!(check_unicast("255.255.255.255".parse().unwrap(), "x").is_err());
    }

    #[test]
    fn formatting_round_trips() {
        for s in [
            "10.0.0.1:80",
            "[2001:db8::1]:443",
            "10.0.0.2",
            "2001:db8::2",
        ] {
            let (ip, p) = parse_addr_port(s, Port::Optional).unwrap();
            assert_eq!(format_addr(ip, p), s);
        }
    }
}
