//! The one place that decides what a plugin installation may do.
//!
//! Architecture invariant: every host import asks [`Grants`] before acting,
//! and nothing else in the runtime grants or denies a capability. The grants
//! of an installation are at most what its manifest requested (deny by
//! default); an operator or merchant may withhold more.

use std::collections::BTreeSet;
use std::net::IpAddr;

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
        if kind.parse::<EventKind>().is_ok_and(|k| self.events.contains(&k)) { Ok(()) } else { Err(Denied(format!("not subscribed to `{kind}` events"))) }
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
/// private ranges, link-local, unique-local, CGNAT, documentation,
/// unspecified, multicast, IPv4-mapped forms of those) is refused.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
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
                || (o[0] == 198 && (o[1] & 0xfe) == 18) // 198.18.0.0/15 benchmarking
                || o[0] >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let seg = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (seg[0] & 0xfe00) == 0xfc00 // unique local
                || (seg[0] & 0xffc0) == 0xfe80 // link local
                || (seg[0] == 0x2001 && seg[1] == 0x0db8) // documentation
                || (seg[0] == 0x64 && seg[1] == 0xff9b)) // NAT64 can reach private IPv4
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_special_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "::1",
            "::",
            "fc00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip} must not count as public");
        }
        for ip in ["93.184.216.34", "1.1.1.1", "2606:4700::1111"] {
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
