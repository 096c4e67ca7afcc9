//! Who a request comes from, as the per-IP rate limit counts it: the TCP peer,
//! or, when the peer is a reverse proxy the operator listed (`trusted_proxies`),
//! the client address that proxy recorded in `X-Forwarded-For`; and the bucket
//! that address falls in (an IPv6 client is its /64, the smallest network an
//! ISP assigns, so a client cannot get a fresh bucket per address).

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use axum::http::HeaderMap;

/// An address or a network in CIDR notation (`192.0.2.7`, `10.0.0.0/8`,
/// `2001:db8::/32`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    /// Whether `ip` is in this network (an IPv4-mapped IPv6 address as its IPv4 address).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl FromStr for IpNet {
    type Err = String;

    fn from_str(text: &str) -> Result<IpNet, String> {
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let addr = canonical(
            addr.trim()
                .parse::<IpAddr>()
                .map_err(|_| format!("{text:?} is not an IP address or CIDR network"))?,
        );
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => match p.trim().parse::<u8>() {
                Ok(p) if p <= max => p,
                _ => return Err(format!("{text:?}: prefix length must be 0 to {max}")),
            },
        };
        Ok(IpNet { addr, prefix })
    }
}

impl fmt::Display for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// The reverse proxies whose `X-Forwarded-For` is believed.
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    pub fn new(nets: Vec<IpNet>) -> TrustedProxies {
        TrustedProxies(nets)
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|n| n.contains(ip))
    }

    /// The client of a request from TCP peer `peer`. Only a listed proxy's
    /// header is read: anyone else could write any address into it. Each proxy
    /// appends the address it received the request from, so the list is read
    /// from the right, past the listed proxies, and the first other address is
    /// the client; what is left of it was written by the client and is ignored.
    /// A value that is not an address stops the walk at the hop that relayed it.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let mut client = canonical(peer);
        if !self.trusts(client) {
            return client;
        }
        let hops = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .collect::<Vec<_>>();
        for hop in hops.into_iter().rev() {
            let Some(ip) = parse_hop(hop) else {
                break;
            };
            client = ip;
            if !self.trusts(ip) {
                break;
            }
        }
        client
    }
}

/// One `X-Forwarded-For` element: an address, possibly with a port (and then
/// bracketed if IPv6), as some proxies write it.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    hop.parse::<IpAddr>()
        .or_else(|_| hop.parse::<SocketAddr>().map(|s| s.ip()))
        .ok()
        .map(canonical)
}

pub use glassbox_edge::ratelimit::bucket;
use glassbox_edge::ratelimit::canonical;

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        headers
    }

    fn proxies(nets: &[&str]) -> TrustedProxies {
        TrustedProxies::new(nets.iter().map(|n| n.parse().unwrap()).collect())
    }

    #[test]
    fn every_address_of_an_ipv6_64_shares_one_bucket() {
        let a = bucket(ip("2001:db8:1:2::1"));
        assert_eq!(a, ip("2001:db8:1:2::"));
        assert_eq!(bucket(ip("2001:db8:1:2:ffff:ffff:ffff:ffff")), a);
        assert_ne!(bucket(ip("2001:db8:1:3::1")), a);
    }

    #[test]
    fn ipv4_clients_are_bucketed_by_address_mapped_or_not() {
        assert_eq!(bucket(ip("192.0.2.7")), ip("192.0.2.7"));
        assert_ne!(bucket(ip("192.0.2.8")), bucket(ip("192.0.2.7")));
        assert_eq!(bucket(ip("::ffff:192.0.2.7")), ip("192.0.2.7"));
    }

    #[test]
    fn a_spoofed_forwarded_for_from_a_peer_that_is_not_a_listed_proxy_is_ignored() {
        let headers = forwarded(&["203.0.113.9"]);
        assert_eq!(
            proxies(&[]).client(ip("198.51.100.1"), &headers),
            ip("198.51.100.1")
        );
        assert_eq!(
            proxies(&["10.0.0.0/8"]).client(ip("198.51.100.1"), &headers),
            ip("198.51.100.1")
        );
    }

    #[test]
    fn behind_a_listed_proxy_the_rightmost_unlisted_hop_is_the_client() {
        let trusted = proxies(&["10.0.0.0/8", "2001:db8:ffff::/48"]);
        // The client wrote "1.2.3.4" itself; the proxies appended the rest.
        let headers = forwarded(&["1.2.3.4, 203.0.113.9", "10.1.1.1"]);
        assert_eq!(trusted.client(ip("10.0.0.1"), &headers), ip("203.0.113.9"));
        assert_eq!(
            trusted.client(ip("2001:db8:ffff::5"), &forwarded(&["[2001:db8::7]:4431"])),
            ip("2001:db8::7")
        );
        assert_eq!(
            trusted.client(ip("::ffff:10.0.0.1"), &forwarded(&["198.51.100.2:80"])),
            ip("198.51.100.2")
        );
    }

    #[test]
    fn a_listed_proxy_without_a_usable_header_is_the_client() {
        let trusted = proxies(&["10.0.0.1"]);
        assert_eq!(
            trusted.client(ip("10.0.0.1"), &HeaderMap::new()),
            ip("10.0.0.1")
        );
        assert_eq!(
            trusted.client(ip("10.0.0.1"), &forwarded(&["203.0.113.9, junk"])),
            ip("10.0.0.1")
        );
        // Every hop listed: the farthest one is all that is known.
        assert_eq!(
            trusted.client(ip("10.0.0.1"), &forwarded(&["10.0.0.1"])),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn networks_parse_and_match_by_prefix() {
        let net: IpNet = "10.0.0.0/8".parse().unwrap();
        assert!(net.contains(ip("10.255.0.1")));
        assert!(net.contains(ip("::ffff:10.1.2.3")));
        assert!(!net.contains(ip("11.0.0.1")));
        assert!("0.0.0.0/0"
            .parse::<IpNet>()
            .unwrap()
            .contains(ip("8.8.8.8")));
        assert!("2001:db8::/32"
            .parse::<IpNet>()
            .unwrap()
            .contains(ip("2001:db8:5::1")));
        assert_eq!(
            "192.0.2.7".parse::<IpNet>().unwrap().to_string(),
            "192.0.2.7/32"
        );
        for bad in ["10.0.0.0/33", "::/129", "proxy.example", "10.0.0.0/x", ""] {
            assert!(bad.parse::<IpNet>().is_err(), "{bad}");
        }
    }
}
