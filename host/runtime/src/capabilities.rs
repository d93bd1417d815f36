//! The one place that decides what a plugin installation may do.
//!
//! Architecture invariant: every host import asks [`Grants`] before acting,
//! and nothing else in the runtime grants or denies a capability. The grants
//! of an installation are at most what its manifest requested (deny by
//! default); an operator or merchant may withhold more.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use omnistore_manifest::{Capability, EventKind, Manifest, Origin};

/// What one installation of a plugin may do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grants {
    imports: BTreeSet<Capability>,
    http: Vec<Origin>,
    events: BTreeSet<EventKind>,
}

/// A refused capability, with a message that says what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Denied(pub String);

impl Grants {
    /// Nothing at all.
    pub fn none() -> Self {
        Grants::default()
    }

    /// Everything the manifest requests: what a merchant accepts on install.
    pub fn from_manifest(manifest: &Manifest) -> Self {
        Grants { imports: manifest.imports.clone(), http: manifest.http.clone(), events: manifest.events.clone() }
    }

    /// The same grants with `capability` withheld.
    pub fn without(mut self, capability: Capability) -> Self {
        self.imports.remove(&capability);
        if capability == Capability::Http {
            self.http.clear();
        }
        self
    }

    /// The same grants with one more origin allowed (tests pointing a plugin
    /// at a local stand-in for a remote API).
    pub fn with_origin(mut self, origin: Origin) -> Self {
        if !self.http.contains(&origin) {
            self.http.push(origin);
        }
        self
    }

    /// The granted imports.
    pub fn imports(&self) -> impl Iterator<Item = Capability> + '_ {
        self.imports.iter().copied()
    }

    /// The granted origins.
    pub fn origins(&self) -> &[Origin] {
        &self.http
    }

    /// The subscribed event kinds.
    pub fn events(&self) -> impl Iterator<Item = EventKind> + '_ {
        self.events.iter().copied()
    }

    /// May the plugin use this host interface?
    pub fn check(&self, capability: Capability) -> Result<(), Denied> {
        if self.imports.contains(&capability) {
            Ok(())
        } else {
            Err(Denied(format!(
                "capability `{capability}` is not granted to this installation; request it in plugin.toml and reinstall"
            )))
        }
    }

    /// May the plugin send a request to this URL? Checks the origin only;
    /// [`NetworkPolicy`] checks the addresses it resolves to.
    pub fn check_url(&self, url: &url::Url) -> Result<(), Denied> {
        self.check(Capability::Http)?;
        if self.http.iter().any(|o| o.allows(url)) {
            return Ok(());
        }
        let origin = format!(
            "{}://{}:{}",
            url.scheme(),
            url.host_str().unwrap_or(""),
            url.port_or_known_default().map(|p| p.to_string()).unwrap_or_default()
        );
        let allowed = self.http.iter().map(Origin::to_string).collect::<Vec<_>>().join(", ");
        Err(Denied(format!(
            "origin {origin} is not in this plugin's allow-list ({allowed}); add it to [capabilities].http"
        )))
    }

    /// Is the plugin subscribed to this event kind?
    pub fn check_event(&self, kind: &str) -> Result<(), Denied> {
        if kind.parse::<EventKind>().is_ok_and(|k| self.events.contains(&k)) {
            Ok(())
        } else {
            Err(Denied(format!("not subscribed to `{kind}` events")))
        }
    }
}

/// The deployment-wide rule on which network addresses plugins may reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetworkPolicy {
    pub allow_private: bool,
}

impl NetworkPolicy {
    /// May a plugin connect to this address?
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), Denied> {
        if self.allow_private || is_public(ip) {
            Ok(())
        } else {
            Err(Denied(format!(
                "address {ip} is private, loopback or otherwise not public, and this deployment does not allow plugins to reach such addresses"
            )))
        }
    }
}

/// Whether an address is globally routable. Everything else (loopback,
/// private ranges, link-local, unique-local, site-local, CGNAT,
/// documentation, unspecified, multicast) is refused, and so is every IPv6
/// form that carries an IPv4 address a router or translator may deliver to
/// (mapped, compatible, SIIT-translated, NAT64, 6to4, Teredo) unless the
/// embedded IPv4 address is itself public.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(v4: Ipv4Addr) -> bool {
    let o = v4.octets();
    !(v4.is_private()
        || v4.is_loopback()
        || v4.is_link_local()
        || v4.is_broadcast()
        || v4.is_documentation()
        || v4.is_unspecified()
        || v4.is_multicast()
        || o[0] == 0
        || (o[0] == 100 && (o[1] & 0xc0) == 64) // 100.64.0.0/10 shared address space
        || (o[0] == 192 && o[1] == 0 && o[2] == 0) // 192.0.0.0/24 protocol assignments
        || (o[0] == 192 && o[1] == 88 && o[2] == 99) // 192.88.99.0/24 6to4 relay anycast
        || (o[0] == 198 && (o[1] & 0xfe) == 18) // 198.18.0.0/15 benchmarking
        || o[0] >= 240)
}

fn is_public_v6(v6: Ipv6Addr) -> bool {
    let seg = v6.segments();
    let embedded = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    if v6.is_loopback() || v6.is_unspecified() || v6.is_multicast() {
        return false;
    }
    match seg {
        // ::a.b.c.d (IPv4-compatible) and ::ffff:a.b.c.d (IPv4-mapped).
        [0, 0, 0, 0, 0, 0 | 0xffff, hi, lo] => return is_public_v4(embedded(hi, lo)),
        // ::ffff:0:a.b.c.d (SIIT translated) and 64:ff9b::/96, 64:ff9b:1::/48
        // (NAT64): a translator decides where these go, so never allow them.
        [0, 0, 0, 0, 0xffff, 0, _, _] | [0x64, 0xff9b, ..] => return false,
        // 6to4 carries its relay's IPv4 address in bits 16..48.
        [0x2002, hi, lo, ..] => return is_public_v4(embedded(hi, lo)),
        // Teredo hides the client's address; nothing public needs it.
        [0x2001, 0, ..] => return false,
        _ => {}
    }
    !((seg[0] & 0xfe00) == 0xfc00 // fc00::/7 unique local
        || (seg[0] & 0xffc0) == 0xfe80 // fe80::/10 link local
        || (seg[0] & 0xffc0) == 0xfec0 // fec0::/10 site local (deprecated, still routed inside sites)
        || (seg[0] == 0x2001 && seg[1] == 0x0db8) // 2001:db8::/32 documentation
        || (seg[0] == 0x3fff && (seg[1] & 0xf000) == 0) // 3fff::/20 documentation
        || (seg[0] == 0x0100 && seg[1] == 0 && seg[2] == 0 && seg[3] == 0) // 100::/64 discard
        || seg[0] == 0) // the rest of ::/16 is reserved
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every form a private or special address can take, each with the
    /// reason it must be refused; and public addresses that must stay reachable.
    #[test]
    fn private_and_special_addresses_are_not_public() {
        let refused = [
            ("127.0.0.1", "v4 loopback"),
            ("127.255.0.9", "v4 loopback range"),
            ("10.1.2.3", "v4 private 10/8"),
            ("172.16.0.1", "v4 private 172.16/12"),
            ("172.31.255.254", "v4 private 172.16/12 top"),
            ("192.168.1.1", "v4 private 192.168/16"),
            ("169.254.169.254", "v4 link-local (cloud metadata)"),
            ("100.64.0.1", "v4 CGNAT"),
            ("100.127.255.254", "v4 CGNAT top"),
            ("0.0.0.0", "v4 unspecified"),
            ("0.1.2.3", "v4 this network"),
            ("255.255.255.255", "v4 broadcast"),
            ("224.0.0.1", "v4 multicast"),
            ("240.0.0.1", "v4 reserved"),
            ("192.0.0.8", "v4 protocol assignments"),
            ("192.0.2.1", "v4 documentation"),
            ("198.51.100.1", "v4 documentation"),
            ("203.0.113.1", "v4 documentation"),
            ("198.18.0.1", "v4 benchmarking"),
            ("192.88.99.1", "v4 6to4 relay anycast"),
            ("::1", "v6 loopback"),
            ("::", "v6 unspecified"),
            ("fc00::1", "v6 unique local"),
            ("fdff:ffff::1", "v6 unique local top"),
            ("fe80::1", "v6 link-local"),
            ("febf::1", "v6 link-local top"),
            ("fec0::1", "v6 site-local"),
            ("feff::1", "v6 site-local top"),
            ("ff02::1", "v6 multicast"),
            ("2001:db8::1", "v6 documentation"),
            ("3fff::1", "v6 documentation (3fff::/20)"),
            ("100::1", "v6 discard"),
            ("::ffff:127.0.0.1", "v4-mapped loopback"),
            ("::ffff:10.0.0.1", "v4-mapped private"),
            ("::ffff:169.254.169.254", "v4-mapped link-local"),
            ("::127.0.0.1", "v4-compatible loopback"),
            ("::10.0.0.1", "v4-compatible private"),
            ("::192.168.0.1", "v4-compatible private"),
            ("::ffff:0:127.0.0.1", "SIIT v4-translated loopback"),
            ("::ffff:0:10.0.0.1", "SIIT v4-translated private"),
            ("::ffff:0:8.8.8.8", "SIIT v4-translated, even public"),
            ("64:ff9b::a00:1", "NAT64 private"),
            ("64:ff9b::127.0.0.1", "NAT64 loopback"),
            ("64:ff9b::8.8.8.8", "NAT64, even public"),
            ("64:ff9b:1::a00:1", "local-use NAT64"),
            ("2002:7f00:1::1", "6to4 embedding loopback"),
            ("2002:a00:1::1", "6to4 embedding 10/8"),
            ("2002:c0a8:101::1", "6to4 embedding 192.168/16"),
            ("2002:a9fe:a9fe::1", "6to4 embedding link-local"),
            ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo"),
            ("::2", "reserved ::/16"),
        ];
        for (ip, why) in refused {
            assert!(!is_public(ip.parse().unwrap()), "{ip} ({why}) must not count as public");
        }
        let public = [
            "93.184.216.34",
            "1.1.1.1",
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700::1111",
            "2a00:1450:4001:80b::200e",
            "::ffff:8.8.8.8",
            "2002:808:808::1",
        ];
        for ip in public {
            assert!(is_public(ip.parse().unwrap()), "{ip} is public");
        }
    }

    #[test]
    fn policy_allows_private_only_when_deployment_says_so() {
        let ip = "127.0.0.1".parse().unwrap();
        assert!(NetworkPolicy { allow_private: false }.check_ip(ip).is_err());
        assert!(NetworkPolicy { allow_private: true }.check_ip(ip).is_ok());
    }
}
