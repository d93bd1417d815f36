//! Outbound HTTP for plugins: one shared client whose DNS resolver refuses
//! addresses the deployment does not allow, so a granted host name that
//! resolves to a private address (DNS rebinding included) is refused at
//! connect time, not just when the URL is checked.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Once};
use std::time::Duration;

use crate::capabilities::{Denied, Grants, NetworkPolicy};
use crate::types::{HttpError, IncomingResponse, OutgoingRequest};

/// Headers the host derives from the URL and body. A plugin setting `Host`
/// could reach a different virtual host than the origin it was granted; the
/// framing headers could desynchronise the connection.
const HOST_CONTROLLED: &[&str] =
    &["host", "content-length", "transfer-encoding", "connection", "upgrade", "te", "trailer", "keep-alive"];

/// The resolver's refusal, recognised again in the error chain of a failed request.
#[derive(Debug)]
struct AddressRefused(String);

impl std::fmt::Display for AddressRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for AddressRefused {}

#[derive(Debug)]
struct PolicyResolver {
    policy: NetworkPolicy,
}

impl reqwest::dns::Resolve for PolicyResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy;
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = addrs.iter().copied().filter(|a| policy.check_ip(a.ip()).is_ok()).collect();
            if allowed.is_empty() && !addrs.is_empty() {
                // The operator may see where the name pointed; the plugin must
                // not learn internal addresses from the error.
                tracing::warn!(
                    host = %host,
                    resolved = %addrs.iter().map(|a| a.ip().to_string()).collect::<Vec<_>>().join(", "),
                    blame = "guest",
                    "outbound request refused: the name resolves only to non-public addresses"
                );
                let err: Box<dyn std::error::Error + Send + Sync> = Box::new(AddressRefused(format!(
                    "{host} resolves only to private, loopback or otherwise non-public addresses, which this deployment does not allow plugins to reach"
                )));
                return Err(err);
            }
            let iter: reqwest::dns::Addrs = Box::new(allowed.into_iter());
            Ok(iter)
        })
    }
}

/// The shared outbound client.
#[derive(Clone, Debug)]
pub struct HttpClient {
    client: reqwest::Client,
    policy: NetworkPolicy,
}

static CRYPTO: Once = Once::new();

impl HttpClient {
    pub fn new(policy: NetworkPolicy) -> Result<Self, String> {
        CRYPTO.call_once(|| {
            // Another part of the process may have installed one already; either is fine.
            let _ = rustls::crypto::ring::default_provider().install_default();
        });
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(Arc::new(PolicyResolver { policy }))
            .no_proxy()
            .user_agent(concat!("omnistore-plugin-host/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("building the outbound HTTP client: {e}"))?;
        Ok(HttpClient { client, policy })
    }

    /// Send a plugin's request after checking it against the installation's
    /// grants and the network policy.
    pub async fn send(
        &self,
        grants: &Grants,
        request: OutgoingRequest,
        timeout: Duration,
        max_body: u64,
    ) -> Result<IncomingResponse, HttpError> {
        let url = url::Url::parse(&request.url)
            .map_err(|e| HttpError::InvalidRequest(format!("`{}` is not an absolute URL: {e}", request.url)))?;
        if url.scheme() != "http" && url.scheme() != "https" {
            return Err(HttpError::InvalidRequest(format!("scheme `{}` is not http or https", url.scheme())));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(HttpError::InvalidRequest("credentials in the URL are not allowed; use a header".into()));
        }
        grants.check_url(&url).map_err(|Denied(m)| HttpError::Denied(m))?;
        // IP literals never reach the resolver, so check them here.
        let literal: Option<IpAddr> = match url.host() {
            Some(url::Host::Ipv4(ip)) => Some(ip.into()),
            Some(url::Host::Ipv6(ip)) => Some(ip.into()),
            _ => None,
        };
        if let Some(ip) = literal {
            self.policy.check_ip(ip).map_err(|Denied(m)| HttpError::Denied(m))?;
        }
        let method = reqwest::Method::from_bytes(request.method.as_bytes())
            .map_err(|_| HttpError::InvalidRequest(format!("`{}` is not an HTTP method", request.method)))?;
        let mut builder = self.client.request(method, url).timeout(timeout);
        for (name, value) in &request.headers {
            let name = reqwest::header::HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| HttpError::InvalidRequest(format!("`{name}` is not a header name")))?;
            if HOST_CONTROLLED.contains(&name.as_str()) {
                return Err(HttpError::InvalidRequest(format!(
                    "header `{name}` is set by the host from the URL and body; remove it from the request"
                )));
            }
            let value = reqwest::header::HeaderValue::from_str(value)
                .map_err(|_| HttpError::InvalidRequest(format!("the value of header `{name}` is not valid")))?;
            builder = builder.header(name, value);
        }
        let response = builder.body(request.body).send().await.map_err(map_error)?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect();
        if let Some(len) = response.content_length()
            && len > max_body
        {
            return Err(HttpError::TooLarge(len));
        }
        let mut body = Vec::new();
        let mut response = response;
        while let Some(chunk) = response.chunk().await.map_err(map_error)? {
            if body.len() as u64 + chunk.len() as u64 > max_body {
                return Err(HttpError::TooLarge(body.len() as u64 + chunk.len() as u64));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(IncomingResponse { status, headers, body })
    }
}

fn map_error(err: reqwest::Error) -> HttpError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&err);
    while let Some(e) = source {
        if let Some(refused) = e.downcast_ref::<AddressRefused>() {
            return HttpError::Denied(refused.0.clone());
        }
        source = e.source();
    }
    if err.is_timeout() {
        HttpError::Timeout
    } else {
        let mut message = err.to_string();
        let mut source = std::error::Error::source(&err);
        while let Some(e) = source {
            message.push_str(": ");
            message.push_str(&e.to_string());
            source = e.source();
        }
        HttpError::Connection(message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grants() -> Grants {
        let manifest = omnistore_manifest::Manifest::parse(
            r#"
            [plugin]
            id = "probe"
            name = "Probe"
            version = "0.1.0"
            publisher = "Tests"
            contract = "^0.1"
            [capabilities]
            imports = ["http"]
            http = ["http://127.0.0.1:*", "http://localhost:*"]
            "#,
        )
        .unwrap();
        Grants::from_manifest(&manifest)
    }

    fn request(url: &str, headers: &[(&str, &str)]) -> OutgoingRequest {
        OutgoingRequest {
            method: "GET".into(),
            url: url.into(),
            headers: headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            body: vec![],
            timeout_ms: None,
        }
    }

    #[tokio::test]
    async fn a_plugin_may_not_set_host_or_framing_headers() {
        let client = HttpClient::new(NetworkPolicy { allow_private: true }).unwrap();
        for name in ["Host", "host", "HOST", "Content-Length", "Transfer-Encoding", "Connection"] {
            let result = client
                .send(
                    &grants(),
                    request("http://127.0.0.1:9/x", &[(name, "internal.example")]),
                    Duration::from_secs(1),
                    1024,
                )
                .await;
            match result {
                Err(HttpError::InvalidRequest(message)) => {
                    assert!(message.contains(&name.to_ascii_lowercase()), "{message}")
                }
                other => panic!("{name} must be refused before sending, got {other:?}"),
            }
        }
    }

    #[tokio::test]
    async fn a_refused_name_does_not_reveal_what_it_resolved_to() {
        let client = HttpClient::new(NetworkPolicy { allow_private: false }).unwrap();
        let result = client.send(&grants(), request("http://localhost:9/x", &[]), Duration::from_secs(5), 1024).await;
        match result {
            Err(HttpError::Denied(message)) => {
                assert!(message.contains("localhost") && message.contains("non-public"), "{message}");
                for leak in ["127.0.0.1", "::1", "127."] {
                    assert!(!message.contains(leak), "the refusal reveals {leak}: {message}");
                }
            }
            other => panic!("localhost must be refused, got {other:?}"),
        }
    }
}
