//! Which destinations a hook may reach. Pure functions over addresses and names: no IO.

use std::{
    fmt,
    net::{IpAddr, Ipv4Addr, Ipv6Addr},
};

/// Why a destination is refused. The `Display` text is what a hook author reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BlockReason {
    /// 127.0.0.0/8 and ::1.
    Loopback,
    /// 0.0.0.0/8 and ::.
    Unspecified,
    /// RFC 1918 (10/8, 172.16/12, 192.168/16) and IPv6 unique-local fc00::/7.
    PrivateNetwork,
    /// RFC 6598 carrier-grade NAT, 100.64.0.0/10.
    SharedAddressSpace,
    /// 169.254.0.0/16 and fe80::/10 (cloud metadata endpoints live here).
    LinkLocal,
    /// 224.0.0.0/4 and ff00::/8.
    Multicast,
    /// 255.255.255.255.
    Broadcast,
    /// IETF reserved, documentation and benchmarking ranges.
    Reserved,
    /// A host name that names a cloud metadata service or the local machine.
    MetadataHost,
}

impl fmt::Display for BlockReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BlockReason::Loopback => "loopback address",
            BlockReason::Unspecified => "unspecified address",
            BlockReason::PrivateNetwork => "private network address",
            BlockReason::SharedAddressSpace => "carrier-grade NAT address",
            BlockReason::LinkLocal => "link-local address (cloud metadata range)",
            BlockReason::Multicast => "multicast address",
            BlockReason::Broadcast => "broadcast address",
            BlockReason::Reserved => "reserved address",
            BlockReason::MetadataHost => "cloud metadata or local host name",
        })
    }
}

/// Host names refused before any DNS lookup: cloud metadata services and the local machine.
const BLOCKED_HOST_NAMES: &[&str] = &[
    "localhost",
    "metadata",
    "metadata.google.internal",
    "metadata.goog",
    "metadata.azure.internal",
    "instance-data",
    "instance-data.ec2.internal",
    "metadata.platformequinix.com",
    "metadata.packet.net",
];

/// Checks a host *name* (not an address). Case and a trailing dot do not matter, and every
/// subdomain of `localhost` counts as `localhost` (RFC 6761).
///
/// ```
/// use flowstate_egress::policy::{check_host_name, BlockReason};
/// assert_eq!(check_host_name("Metadata.Google.Internal."), Err(BlockReason::MetadataHost));
/// assert_eq!(check_host_name("api.localhost"), Err(BlockReason::MetadataHost));
/// assert_eq!(check_host_name("api.example.com"), Ok(()));
/// ```
pub fn check_host_name(host: &str) -> Result<(), BlockReason> {
    let name = host.trim_end_matches('.').to_ascii_lowercase();
    if BLOCKED_HOST_NAMES.contains(&name.as_str()) || name.ends_with(".localhost") {
        return Err(BlockReason::MetadataHost);
    }
    Ok(())
}

/// Checks an address a hook would connect to.
///
/// IPv6 addresses that embed an IPv4 address (mapped `::ffff:a.b.c.d`, compatible
/// `::a.b.c.d`, NAT64 `64:ff9b::/96` and `64:ff9b:1::/48`, 6to4 `2002::/16`, Teredo
/// `2001::/32`) are refused when the embedded address is.
///
/// ```
/// use flowstate_egress::policy::{check_ip, BlockReason};
/// assert_eq!(check_ip("169.254.169.254".parse().unwrap()), Err(BlockReason::LinkLocal));
/// assert_eq!(check_ip("::ffff:127.0.0.1".parse().unwrap()), Err(BlockReason::Loopback));
/// assert_eq!(check_ip("93.184.215.14".parse().unwrap()), Ok(()));
/// ```
pub fn check_ip(ip: IpAddr) -> Result<(), BlockReason> {
    match ip {
        IpAddr::V4(v4) => check_ipv4(v4),
        IpAddr::V6(v6) => check_ipv6(v6),
    }
}

fn in_v4(ip: Ipv4Addr, network: [u8; 4], prefix: u32) -> bool {
    let mask = if prefix == 0 { 0 } else { u32::MAX << (32 - prefix) };
    (u32::from(ip) & mask) == (u32::from(Ipv4Addr::from(network)) & mask)
}

fn check_ipv4(ip: Ipv4Addr) -> Result<(), BlockReason> {
    use BlockReason::*;
    const RANGES: &[([u8; 4], u32, BlockReason)] = &[
        ([0, 0, 0, 0], 8, Unspecified),
        ([10, 0, 0, 0], 8, PrivateNetwork),
        ([100, 64, 0, 0], 10, SharedAddressSpace),
        ([127, 0, 0, 0], 8, Loopback),
        ([169, 254, 0, 0], 16, LinkLocal),
        ([172, 16, 0, 0], 12, PrivateNetwork),
        ([192, 0, 0, 0], 24, Reserved),
        ([192, 0, 2, 0], 24, Reserved),
        ([192, 88, 99, 0], 24, Reserved),
        ([192, 168, 0, 0], 16, PrivateNetwork),
        ([198, 18, 0, 0], 15, Reserved),
        ([198, 51, 100, 0], 24, Reserved),
        ([203, 0, 113, 0], 24, Reserved),
        ([224, 0, 0, 0], 4, Multicast),
        ([255, 255, 255, 255], 32, Broadcast),
        ([240, 0, 0, 0], 4, Reserved),
    ];
    for (network, prefix, reason) in RANGES {
        if in_v4(ip, *network, *prefix) {
            return Err(*reason);
        }
    }
    Ok(())
}

fn check_ipv6(ip: Ipv6Addr) -> Result<(), BlockReason> {
    use BlockReason::*;
    let bits = u128::from(ip);
    let in_v6 = |network: u128, prefix: u32| {
        let mask = if prefix == 0 { 0 } else { u128::MAX << (128 - prefix) };
        (bits & mask) == (network & mask)
    };
    let low32 = Ipv4Addr::from((bits & 0xffff_ffff) as u32);
    if ip.is_unspecified() {
        return Err(Unspecified);
    }
    if ip.is_loopback() {
        return Err(Loopback);
    }
    // IPv4-mapped ::ffff:0:0/96 and IPv4-compatible ::/96.
    if in_v6(0x0000_0000_0000_0000_0000_ffff_0000_0000, 96) || in_v6(0, 96) {
        return check_ipv4(low32);
    }
    // NAT64 well-known prefix 64:ff9b::/96 and local-use 64:ff9b:1::/48 (RFC 8215), where the
    // IPv4 address sits in the last 32 bits for a /96 translator, the common deployment.
    if in_v6(0x0064_ff9b_0000_0000_0000_0000_0000_0000, 96) || in_v6(0x0064_ff9b_0001_0000_0000_0000_0000_0000, 48) {
        return check_ipv4(low32);
    }
    // 6to4 2002:AABB:CCDD::/48 embeds AA.BB.CC.DD.
    if in_v6(0x2002_0000_0000_0000_0000_0000_0000_0000, 16) {
        return check_ipv4(Ipv4Addr::from(((bits >> 80) & 0xffff_ffff) as u32));
    }
    // Teredo 2001:0::/32 carries the client's IPv4 address inverted in the last 32 bits, and
    // the server's in bits 32..64.
    if in_v6(0x2001_0000_0000_0000_0000_0000_0000_0000, 32) {
        check_ipv4(Ipv4Addr::from(((bits >> 64) & 0xffff_ffff) as u32))?;
        return check_ipv4(Ipv4Addr::from(!((bits & 0xffff_ffff) as u32)));
    }
    const RANGES: &[(u128, u32, BlockReason)] = &[
        (0xfc00_0000_0000_0000_0000_0000_0000_0000, 7, PrivateNetwork),
        (0xfe80_0000_0000_0000_0000_0000_0000_0000, 10, LinkLocal),
        (0xfec0_0000_0000_0000_0000_0000_0000_0000, 10, PrivateNetwork),
        (0xff00_0000_0000_0000_0000_0000_0000_0000, 8, Multicast),
        (0x0100_0000_0000_0000_0000_0000_0000_0000, 64, Reserved),
        (0x2001_0db8_0000_0000_0000_0000_0000_0000, 32, Reserved),
        (0x3fff_0000_0000_0000_0000_0000_0000_0000, 20, Reserved),
    ];
    for (network, prefix, reason) in RANGES {
        if in_v6(*network, *prefix) {
            return Err(*reason);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(text: &str) -> Result<(), BlockReason> {
        check_ip(text.parse().unwrap())
    }

    #[test]
    fn blocked_ipv4_ranges() {
        use BlockReason::*;
        let cases = [
            ("0.0.0.0", Unspecified),
            ("0.1.2.3", Unspecified),
            ("10.0.0.1", PrivateNetwork),
            ("10.255.255.255", PrivateNetwork),
            ("100.64.0.1", SharedAddressSpace),
            ("100.127.255.254", SharedAddressSpace),
            ("127.0.0.1", Loopback),
            ("127.255.0.9", Loopback),
            ("169.254.169.254", LinkLocal),
            ("172.16.0.1", PrivateNetwork),
            ("172.31.255.255", PrivateNetwork),
            ("192.168.1.1", PrivateNetwork),
            ("192.0.0.8", Reserved),
            ("198.18.0.1", Reserved),
            ("224.0.0.1", Multicast),
            ("239.255.255.250", Multicast),
            ("240.0.0.1", Reserved),
            ("255.255.255.255", Broadcast),
        ];
        for (ip, expected) in cases {
            assert_eq!(reason(ip), Err(expected), "{ip}");
        }
    }

    #[test]
    fn public_ipv4_neighbours_of_blocked_ranges_pass() {
        for ip in [
            "1.1.1.1",
            "100.63.255.255",
            "100.128.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "169.253.255.255",
            "192.167.255.255",
            "223.255.255.255",
            "8.8.8.8",
        ] {
            assert_eq!(reason(ip), Ok(()), "{ip}");
        }
    }

    #[test]
    fn blocked_ipv6_ranges() {
        use BlockReason::*;
        let cases = [
            ("::", Unspecified),
            ("::1", Loopback),
            ("fc00::1", PrivateNetwork),
            ("fd12:3456::1", PrivateNetwork),
            ("fe80::1", LinkLocal),
            ("febf::1", LinkLocal),
            ("ff02::1", Multicast),
            ("2001:db8::1", Reserved),
        ];
        for (ip, expected) in cases {
            assert_eq!(reason(ip), Err(expected), "{ip}");
        }
        assert_eq!(reason("2606:4700::1111"), Ok(()));
    }

    #[test]
    fn ipv4_embedded_in_ipv6_is_judged_by_the_embedded_address() {
        use BlockReason::*;
        let cases = [
            ("::ffff:127.0.0.1", Err(Loopback)),
            ("::ffff:7f00:1", Err(Loopback)),
            ("::ffff:169.254.169.254", Err(LinkLocal)),
            ("::ffff:10.1.2.3", Err(PrivateNetwork)),
            ("::ffff:8.8.8.8", Ok(())),
            ("::127.0.0.1", Err(Loopback)),
            ("::192.168.0.1", Err(PrivateNetwork)),
            ("64:ff9b::127.0.0.1", Err(Loopback)),
            ("64:ff9b::a9fe:a9fe", Err(LinkLocal)),
            ("64:ff9b::8.8.8.8", Ok(())),
            ("64:ff9b:1::10.0.0.1", Err(PrivateNetwork)),
            ("2002:7f00:1::", Err(Loopback)),
            ("2002:c0a8:101::1", Err(PrivateNetwork)),
            ("2002:808:808::1", Ok(())),
            // Teredo: server 65.54.227.120, client 127.0.0.1 inverted = 80ff:fffe.
            ("2001:0:4136:e378:8000:63bf:80ff:fffe", Err(Loopback)),
        ];
        for (ip, expected) in cases {
            assert_eq!(reason(ip), expected, "{ip}");
        }
    }

    #[test]
    fn metadata_and_local_host_names() {
        for name in
            ["localhost", "LOCALHOST.", "foo.localhost", "metadata.google.internal", "metadata", "instance-data"]
        {
            assert_eq!(check_host_name(name), Err(BlockReason::MetadataHost), "{name}");
        }
        for name in ["api.example.com", "localhost.example.com", "metadata.example.com"] {
            assert_eq!(check_host_name(name), Ok(()), "{name}");
        }
    }
}
