//! A stand-in for a remote API: a local HTTP server that answers what the
//! test decides and records every request, so a test can check exactly what
//! the plugin sent (and a validator can check it against the API's published
//! description).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

/// One request the plugin sent.
#[derive(Debug, Clone)]
pub struct StubRequest {
    pub method: String,
    /// Path and query, as sent.
    pub uri: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl StubRequest {
    /// The first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The body as UTF-8 text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// What the stub answers.
#[derive(Debug, Clone)]
pub struct StubResponse {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
    /// Further response headers, sent in this order after `content-type`
    /// (`Retry-After` on a 429, say). See [`StubResponse::with_header`].
    pub headers: Vec<(String, String)>,
}

impl StubResponse {
    /// 200 with a JSON body.
    pub fn json(value: &serde_json::Value) -> StubResponse {
        StubResponse::status_json(200, value)
    }

    /// This status with a JSON body (an API's error document, say).
    pub fn status_json(status: u16, value: &serde_json::Value) -> StubResponse {
        StubResponse {
            status,
            content_type: "application/json".into(),
            body: value.to_string().into_bytes(),
            headers: Vec::new(),
        }
    }

    /// This status with a plain-text body.
    pub fn text(status: u16, body: &str) -> StubResponse {
        StubResponse {
            status,
            content_type: "text/plain; charset=utf-8".into(),
            body: body.as_bytes().to_vec(),
            headers: Vec::new(),
        }
    }

    /// The same response with one more header; a name may repeat. Panics
    /// (in the test, not in the server) when HTTP cannot carry the header.
    ///
    /// ```
    /// use omnistore_sdk_harness::StubResponse;
    /// let r = StubResponse::text(429, "slow down").with_header("Retry-After", "120");
    /// assert_eq!(r.headers, [("Retry-After".to_string(), "120".to_string())]);
    /// ```
    #[must_use]
    pub fn with_header(mut self, name: &str, value: &str) -> StubResponse {
        if let Err(e) = header(name, value) {
            panic!("{e}");
        }
        self.headers.push((name.to_string(), value.to_string()));
        self
    }
}

fn header(name: &str, value: &str) -> Result<(HeaderName, HeaderValue), String> {
    let n = HeaderName::try_from(name).map_err(|e| format!("stub response header name `{name}`: {e}"))?;
    let v = HeaderValue::try_from(value).map_err(|e| format!("stub response header `{name}: {value}`: {e}"))?;
    Ok((n, v))
}

type Handler = Arc<dyn Fn(&StubRequest) -> StubResponse + Send + Sync>;

/// A local HTTP server on 127.0.0.1; stops when dropped.
pub struct StubHttp {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<StubRequest>>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for StubHttp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StubHttp").field("addr", &self.addr).finish_non_exhaustive()
    }
}

impl StubHttp {
    /// Start a server that answers every request with `handler`.
    pub fn start(handler: impl Fn(&StubRequest) -> StubResponse + Send + Sync + 'static) -> std::io::Result<StubHttp> {
        let handler: Handler = Arc::new(handler);
        let requests = Arc::new(Mutex::new(Vec::new()));
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let recorded = requests.clone();
        let thread = std::thread::Builder::new().name("stub-http".into()).spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
            rt.block_on(async move {
                let Ok(listener) = tokio::net::TcpListener::from_std(listener) else { return };
                let app =
                    axum::Router::new().fallback(move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                        let (handler, recorded) = (handler.clone(), recorded.clone());
                        async move { answer(&handler, &recorded, method, uri, headers, body) }
                    });
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await;
            });
        })?;
        Ok(StubHttp { addr, requests, stop: Some(stop), thread: Some(thread) })
    }

    /// `http://127.0.0.1:PORT`, to put in the plugin's base-URL setting and
    /// [`crate::HarnessBuilder::allow_origin`].
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request received so far, oldest first.
    pub fn requests(&self) -> Vec<StubRequest> {
        self.requests.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

fn answer(
    handler: &Handler,
    recorded: &Mutex<Vec<StubRequest>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request = StubRequest {
        method: method.to_string(),
        uri: uri.to_string(),
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect(),
        body: body.to_vec(),
    };
    let reply = handler(&request);
    recorded.lock().unwrap_or_else(|p| p.into_inner()).push(request);
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, [(axum::http::header::CONTENT_TYPE, reply.content_type)], reply.body).into_response();
    for (name, value) in &reply.headers {
        match header(name, value) {
            Ok((name, value)) => {
                response.headers_mut().append(name, value);
            }
            // Set through the field, unchecked: a 500 saying why, never a silently different answer.
            Err(e) => return (StatusCode::INTERNAL_SERVER_ERROR, e).into_response(),
        }
    }
    response
}

impl Drop for StubHttp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
