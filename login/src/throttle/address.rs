//! The client's address: the socket's peer, or, when the peer is a trusted proxy, the first
//! untrusted hop of the forwarding header read from the right.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use axum::http::HeaderMap;

/// The proxies whose forwarding header is believed: addresses and CIDR ranges.
///
/// Empty by default: the client's address is then the socket's peer, and no header is read
/// (any client can send `X-Forwarded-For`).
///
/// ```
/// use login::throttle::TrustedProxies;
///
/// let proxies: TrustedProxies = "10.0.0.0/8, 192.0.2.7, 2001:db8::/32".parse()?;
/// assert!(proxies.contains("10.1.2.3".parse()?));
/// assert!(!proxies.contains("192.0.2.8".parse()?));
/// assert!("10.0.0.0/33".parse::<TrustedProxies>().is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<(IpAddr, u8)>);

impl fmt::Debug for TrustedProxies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(ip, bits)| format!("{ip}/{bits}")))
            .finish()
    }
}

/// A trusted-proxy list that does not parse: the entry at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "trusted proxies: {0:?} is not an IP address or a CIDR range (such as 10.0.0.0/8 or 2001:db8::/32)"
)]
pub struct ProxyListError(pub String);

impl FromStr for TrustedProxies {
    type Err = ProxyListError;

    /// A comma-separated list of addresses and CIDR ranges (empty entries are skipped).
    fn from_str(list: &str) -> Result<Self, Self::Err> {
        let mut ranges = Vec::new();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let bad = || ProxyListError(entry.to_owned());
            let (ip, bits) = match entry.split_once('/') {
                Some((ip, bits)) => {
                    let ip = canonical(ip.parse().map_err(|_| bad())?);
                    let max = if ip.is_ipv4() { 32 } else { 128 };
                    let bits: u8 = bits.parse().map_err(|_| bad())?;
                    if bits > max {
                        return Err(bad());
                    }
                    (ip, bits)
                }
                None => {
                    let ip = canonical(entry.parse().map_err(|_| bad())?);
                    (ip, if ip.is_ipv4() { 32 } else { 128 })
                }
            };
            ranges.push((ip, bits));
        }
        Ok(TrustedProxies(ranges))
    }
}

impl TrustedProxies {
    /// No trusted proxy (the default).
    pub fn none() -> Self {
        TrustedProxies::default()
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `ip` is one of the proxies.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|&(net, bits)| in_range(ip, net, bits))
    }
}

/// Which header the trusted proxies write (a proxy passes the other one through unchanged,
/// so reading both would let a client choose its address).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ProxyHeader {
    /// `X-Forwarded-For: client, proxy1, proxy2` (the default).
    #[default]
    XForwardedFor,
    /// `Forwarded: for=client, for=proxy1` (RFC 7239).
    Forwarded,
}

/// IPv4-mapped IPv6 addresses (`::ffff:192.0.2.1`) are their IPv4 address.
pub(crate) fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

fn in_range(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(ip), IpAddr::V4(net)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(ip) & mask == u32::from(net) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(net)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(ip) & mask == u128::from(net) & mask
        }
        _ => false,
    }
}

/// The client's address: the peer, unless it is a trusted proxy; then the forwarding
/// header's hops from the right, skipping trusted ones, and the first untrusted hop is the
/// client. A hop that is not an address (`unknown`, an obfuscated name, garbage) stops the
/// walk at the proxy that wrote it. `None` without a peer: a header is never believed when
/// the socket's peer is not known.
pub(crate) fn client_address(
    peer: Option<IpAddr>,
    headers: &HeaderMap,
    proxies: &TrustedProxies,
    header: ProxyHeader,
) -> Option<IpAddr> {
    let mut client = canonical(peer?);
    if !proxies.contains(client) {
        return Some(client);
    }
    let hops = forwarded_hops(headers, header);
    for hop in hops.iter().rev() {
        match hop {
            Some(ip) => {
                client = canonical(*ip);
                if !proxies.contains(client) {
                    return Some(client);
                }
            }
            None => return Some(client),
        }
    }
    Some(client)
}

/// Every hop of the header, in order (all its lines, left to right); `None` for a hop that
/// is not an address.
fn forwarded_hops(headers: &HeaderMap, header: ProxyHeader) -> Vec<Option<IpAddr>> {
    let name = match header {
        ProxyHeader::XForwardedFor => "x-forwarded-for",
        ProxyHeader::Forwarded => "forwarded",
    };
    let mut hops = Vec::new();
    for value in headers.get_all(name) {
        let Ok(value) = value.to_str() else {
            hops.push(None);
            continue;
        };
        for element in value.split(',') {
            hops.push(match header {
                ProxyHeader::XForwardedFor => parse_node(element.trim()),
                ProxyHeader::Forwarded => element
                    .split(';')
                    .filter_map(|pair| pair.trim().split_once('='))
                    .find(|(key, _)| key.trim().eq_ignore_ascii_case("for"))
                    .and_then(|(_, node)| parse_node(node.trim().trim_matches('"'))),
            });
        }
    }
    hops
}

/// `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`, `[2001:db8::1]:4711`.
fn parse_node(node: &str) -> Option<IpAddr> {
    if let Ok(ip) = node.parse() {
        return Some(ip);
    }
    if let Some(rest) = node.strip_prefix('[') {
        return rest
            .split_once(']')?
            .0
            .parse::<Ipv6Addr>()
            .ok()
            .map(IpAddr::V6);
    }
    let (host, port) = node.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    host.parse::<Ipv4Addr>().ok().map(IpAddr::V4)
}

/// The address as counted: IPv4 whole, IPv6 by its /64 (one subscriber's usual allocation).
pub(crate) fn address_key(ip: IpAddr) -> String {
    match canonical(ip) {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let net = Ipv6Addr::from(u128::from(v6) & (u128::MAX << 64));
            format!("{net}/64")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(name: &'static str, values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for v in values {
            map.append(name, HeaderValue::from_str(v).unwrap());
        }
        map
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn without_trusted_proxies_the_header_is_never_read() {
        let h = headers("x-forwarded-for", &["203.0.113.9"]);
        let none = TrustedProxies::none();
        let got = client_address(
            Some(ip("198.51.100.1")),
            &h,
            &none,
            ProxyHeader::XForwardedFor,
        );
        assert_eq!(got, Some(ip("198.51.100.1")));
        // Without a peer, no header is believed.
        let proxies: TrustedProxies = "0.0.0.0/0".parse().unwrap();
        assert_eq!(
            client_address(None, &h, &proxies, ProxyHeader::XForwardedFor),
            None
        );
    }

    #[test]
    fn the_header_is_read_from_the_right_up_to_the_first_untrusted_hop() {
        let proxies: TrustedProxies = "10.0.0.0/8".parse().unwrap();
        // The client wrote "1.1.1.1" itself; 203.0.113.9 is what the first proxy saw.
        let h = headers("x-forwarded-for", &["1.1.1.1, 203.0.113.9", "10.0.0.5"]);
        let got = client_address(
            Some(ip("10.0.0.1")),
            &h,
            &proxies,
            ProxyHeader::XForwardedFor,
        );
        assert_eq!(got, Some(ip("203.0.113.9")));
        // A peer that is not a proxy: its header is ignored.
        let got = client_address(
            Some(ip("203.0.113.50")),
            &h,
            &proxies,
            ProxyHeader::XForwardedFor,
        );
        assert_eq!(got, Some(ip("203.0.113.50")));
        // Garbage stops the walk at the proxy that wrote it.
        let h = headers("x-forwarded-for", &["1.1.1.1, nonsense, 10.0.0.5"]);
        let got = client_address(
            Some(ip("10.0.0.1")),
            &h,
            &proxies,
            ProxyHeader::XForwardedFor,
        );
        assert_eq!(got, Some(ip("10.0.0.5")));
        // Only proxies: the leftmost.
        let h = headers("x-forwarded-for", &["10.9.9.9, 10.0.0.5"]);
        let got = client_address(
            Some(ip("10.0.0.1")),
            &h,
            &proxies,
            ProxyHeader::XForwardedFor,
        );
        assert_eq!(got, Some(ip("10.9.9.9")));
    }

    #[test]
    fn forwarded_is_read_when_chosen_and_only_then() {
        let proxies: TrustedProxies = "10.0.0.1".parse().unwrap();
        let mut h = headers(
            "forwarded",
            &[r#"for=1.1.1.1, for="[2001:db8::7]:4711";proto=https"#],
        );
        h.append("x-forwarded-for", HeaderValue::from_static("9.9.9.9"));
        let got = client_address(Some(ip("10.0.0.1")), &h, &proxies, ProxyHeader::Forwarded);
        assert_eq!(got, Some(ip("2001:db8::7")));
        let got = client_address(
            Some(ip("10.0.0.1")),
            &h,
            &proxies,
            ProxyHeader::XForwardedFor,
        );
        assert_eq!(got, Some(ip("9.9.9.9")));
        let h = headers("forwarded", &["for=unknown"]);
        let got = client_address(Some(ip("10.0.0.1")), &h, &proxies, ProxyHeader::Forwarded);
        assert_eq!(got, Some(ip("10.0.0.1")));
    }

    #[test]
    fn ipv6_is_counted_by_its_64_and_mapped_ipv4_as_ipv4() {
        assert_eq!(address_key(ip("2001:db8:1:2:aaaa::1")), "2001:db8:1:2::/64");
        assert_eq!(
            address_key(ip("2001:db8:1:2:ffff::9")),
            address_key(ip("2001:db8:1:2::1"))
        );
        assert_ne!(
            address_key(ip("2001:db8:1:3::1")),
            address_key(ip("2001:db8:1:2::1"))
        );
        assert_eq!(address_key(ip("::ffff:192.0.2.1")), "192.0.2.1");
        let proxies: TrustedProxies = "192.0.2.0/24".parse().unwrap();
        assert!(proxies.contains(ip("::ffff:192.0.2.1")));
    }

    #[test]
    fn a_bad_proxy_list_names_its_entry() {
        for bad in ["10.0.0.0/33", "nonsense", "10.0.0.1/x", "2001:db8::/129"] {
            let error = format!("10.0.0.1, {bad}")
                .parse::<TrustedProxies>()
                .unwrap_err();
            assert_eq!(error, ProxyListError(bad.to_owned()));
        }
        assert!("".parse::<TrustedProxies>().unwrap().is_empty());
    }
}
