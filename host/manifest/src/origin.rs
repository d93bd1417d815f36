use std::fmt;

/// An origin a plugin may call: scheme, host and port, where the port may be
/// `*` (any). Paths are not part of an origin; `https://api.example.com`
/// allows every path on that host at port 443.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Origin {
    pub scheme: String,
    pub host: String,
    /// `None` means any port.
    pub port: Option<u16>,
}

#[derive(Debug, thiserror::Error)]
#[error("`{origin}` is not an origin such as \"https://api.example.com\" or \"http://127.0.0.1:*\": {reason}")]
pub struct OriginError {
    origin: String,
    reason: String,
}

impl Origin {
    pub fn parse(text: &str) -> Result<Self, OriginError> {
        let fail = |reason: &str| OriginError { origin: text.to_string(), reason: reason.to_string() };
        let (scheme, rest) = text.split_once("://").ok_or_else(|| fail("missing scheme"))?;
        if scheme != "http" && scheme != "https" {
            return Err(fail("the scheme must be http or https"));
        }
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains('/') || rest.contains('?') || rest.contains('#') || rest.contains('@') {
            return Err(fail("an origin has no path, query, fragment or user"));
        }
        let (host, port) = match rest.rsplit_once(':') {
            Some((host, "*")) => (host, None),
            Some((host, port)) if !host.ends_with(']') || rest.starts_with('[') => {
                let port: u16 = port.parse().map_err(|_| fail("the port must be a number or *"))?;
                (host, Some(port))
            }
            _ => (rest, Some(if scheme == "https" { 443 } else { 80 })),
        };
        if host.is_empty() || host.contains('*') {
            return Err(fail("the host must be given in full, without wildcards"));
        }
        Ok(Origin { scheme: scheme.to_string(), host: host.to_ascii_lowercase(), port })
    }

    /// Whether a request to `url` falls within this origin.
    pub fn allows(&self, url: &url::Url) -> bool {
        let host = match url.host() {
            Some(url::Host::Domain(d)) => d.to_ascii_lowercase(),
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => format!("[{ip}]"),
            None => return false,
        };
        url.scheme() == self.scheme
            && host == self.host
            && self.port.is_none_or(|p| url.port_or_known_default() == Some(p))
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.port {
            Some(p) => write!(f, "{}://{}:{p}", self.scheme, self.host),
            None => write!(f, "{}://{}:*", self.scheme, self.host),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_match_scheme_host_and_port() {
        let o = Origin::parse("https://api.example.com").unwrap();
        assert!(o.allows(&"https://api.example.com/v5/pins?x=1".parse().unwrap()));
        assert!(o.allows(&"https://API.example.com:443/".parse().unwrap()));
        assert!(!o.allows(&"http://api.example.com/".parse().unwrap()));
        assert!(!o.allows(&"https://api.example.com:8443/".parse().unwrap()));
        assert!(!o.allows(&"https://api.example.com.evil.test/".parse().unwrap()));
        let any = Origin::parse("http://127.0.0.1:*").unwrap();
        assert!(any.allows(&"http://127.0.0.1:39999/x".parse().unwrap()));
        assert!(!any.allows(&"http://127.0.0.2:39999/x".parse().unwrap()));
    }

    #[test]
    fn bad_origins_are_refused() {
        for bad in ["api.example.com", "ftp://x", "https://x/path", "https://*.x.com", "https://u@x", "https://x:port"]
        {
            assert!(Origin::parse(bad).is_err(), "{bad} should be refused");
        }
    }
}
