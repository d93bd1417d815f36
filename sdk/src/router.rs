//! Route requests to handlers by method and path.
//!
//! ```
//! use omnistore_sdk::router::{Params, Router};
//! use omnistore_sdk::{PluginError, Request, Response};
//!
//! fn product(_req: &Request, params: &Params) -> Result<Response, PluginError> {
//!     Ok(Response::text(format!("product {}", params.get("handle").unwrap_or_default())))
//! }
//!
//! let router = Router::new()
//!     .get("/products/:handle", product)
//!     .get("/products/new-arrivals", |_, _| Ok(Response::text("the newest")))
//!     .post("/cart/add", |_, _| Response::redirect_see_other("cart"));
//!
//! let r = router.handle(&Request::new("GET", "/products/caff%C3%A8")).unwrap();
//! assert_eq!(r.body_text(), Some("product caffè"));
//! // Literal segments win over parameters, whatever the order of registration.
//! let r = router.handle(&Request::new("GET", "/products/new-arrivals")).unwrap();
//! assert_eq!(r.body_text(), Some("the newest"));
//! // The path is known, the method is not: 405 with the methods that are.
//! let r = router.handle(&Request::new("DELETE", "/cart/add")).unwrap();
//! assert_eq!((r.status, r.header("allow")), (405, Some("POST")));
//! // Nothing matches: a 404 through the host's error page.
//! assert!(matches!(router.handle(&Request::new("GET", "/nowhere")), Err(PluginError::NotFound(_))));
//! ```
//!
//! # Patterns
//!
//! A pattern is a path of `/`-separated segments, each one of:
//! - a literal, compared with the request's segment after percent-decoding
//!   (`/café` matches `/caf%C3%A9`);
//! - a parameter `:name`, which matches one non-empty segment and is read with
//!   [`Params::get`], percent-decoded (`+` stays a plus sign: it means a space
//!   only in query strings and forms);
//! - a wildcard `*name` (or a bare `*`), only as the last segment, which
//!   matches the rest of the path, even an empty rest: `/static/*file` matches
//!   `/static/` and `/static/css/site.css` (`file` is `css/site.css`), but not
//!   `/static`. Read it with [`Params::get`] or [`Params::wildcard`].
//!
//! A literal segment cannot start with `:` or `*`.
//!
//! # Which route answers
//!
//! Routes are tried most specific first, whatever the order they were
//! registered in: at each segment, from the left, a literal before a
//! parameter before a wildcard. Among the routes whose pattern matches, the
//! first that accepts the method answers; a route registered with
//! [`Router::any`] accepts every method, and `HEAD` is answered by the `GET`
//! route when there is no `HEAD` route (the body is dropped, its length kept
//! in `content-length`). So `GET /products/new` goes to
//! `GET /products/:handle` when `/products/new` only has a `POST` route.
//!
//! When some pattern matches but no route accepts the method, the answer is
//! `405 Method Not Allowed` with an `Allow` header. When no pattern matches,
//! [`Router::handle`] returns [`PluginError::NotFound`], which the host turns
//! into its 404 page.
//!
//! Registering the same method (or `any`) twice for the same shape of
//! pattern (`/p/:a` and `/p/:b` have the same shape) panics, as does a
//! malformed pattern: both are mistakes in the plugin's code, found the first
//! time it runs.
//!
//! # Trailing slashes
//!
//! A trailing slash is significant: `/cart` and `/cart/` are different paths
//! (and so are empty segments, as in `/a//b`). Register both when both should
//! answer. The router does not redirect one to the other because a plugin
//! does not know where its installation is mounted: a `Location` starting
//! with `/` is resolved from the host's root, not from the mount point.
//!
//! # Cost
//!
//! Routes are kept in a tree with one level per segment, so finding the route
//! costs one step per segment of the request's path. Each call of a plugin
//! runs in a fresh instance, so the router is built for every request:
//! building it is a handful of small allocations per route.
//!
//! # How hello-channel would look
//!
//! ```text
//! use omnistore_sdk::router::{Params, Router};
//! use omnistore_sdk::{Plugin, PluginError, Request, Response, export_plugin, storage};
//!
//! struct Hello;
//!
//! impl Plugin for Hello {
//!     fn handle_request(req: Request) -> Result<Response, PluginError> {
//!         Router::new()
//!             .get("/", home)
//!             .get("/api/visits", visits)
//!             .get("/feed.csv", feed_start)
//!             .handle(&req)
//!     }
//! }
//!
//! fn visits(_req: &Request, _params: &Params) -> Result<Response, PluginError> {
//!     let visits: u64 = storage::get_json("visits")?.unwrap_or(0);
//!     Ok(Response::json(&serde_json::json!({ "visits": visits })))
//! }
//! // home and feed_start take (&Request, &Params) too.
//!
//! export_plugin!(Hello);
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::web::percent_decode_path;
use crate::{PluginError, Request, Response};

/// What a route calls: a plain `fn` or a closure.
type Handler = Box<dyn Fn(&Request, &Params) -> Result<Response, PluginError>>;

/// Requests to handlers, by method and path pattern. See the
/// [module documentation](self) for patterns and precedence.
#[derive(Default)]
pub struct Router {
    root: Node,
    /// For `Debug`: the routes as registered.
    listing: Vec<String>,
}

/// One level of the route tree. A node's depth is the index of the segment
/// it matches, so a lookup visits each node at most once.
#[derive(Default)]
struct Node {
    literals: BTreeMap<String, Node>,
    param: Option<Box<Node>>,
    /// Routes whose pattern ends here.
    endpoints: Vec<Endpoint>,
    /// Routes whose pattern ends with a wildcard at this depth.
    wildcards: Vec<Endpoint>,
}

struct Endpoint {
    /// `None` accepts every method.
    method: Option<String>,
    /// Names of the parameters, in the pattern's order, the wildcard last.
    names: Vec<String>,
    handler: Handler,
}

enum Piece {
    Literal(String),
    Param(String),
    Wildcard(String),
}

impl Router {
    /// A router without routes: every request is answered with
    /// [`PluginError::NotFound`].
    pub fn new() -> Router {
        Router::default()
    }

    /// Route `GET` (and so `HEAD`) requests matching `pattern` to `handler`.
    pub fn get<H>(self, pattern: &str, handler: H) -> Router
    where
        H: Fn(&Request, &Params) -> Result<Response, PluginError> + 'static,
    {
        self.route("GET", pattern, handler)
    }

    /// Route `POST` requests matching `pattern` to `handler`.
    pub fn post<H>(self, pattern: &str, handler: H) -> Router
    where
        H: Fn(&Request, &Params) -> Result<Response, PluginError> + 'static,
    {
        self.route("POST", pattern, handler)
    }

    /// Route `PUT` requests matching `pattern` to `handler`.
    pub fn put<H>(self, pattern: &str, handler: H) -> Router
    where
        H: Fn(&Request, &Params) -> Result<Response, PluginError> + 'static,
    {
        self.route("PUT", pattern, handler)
    }

    /// Route `PATCH` requests matching `pattern` to `handler`.
    pub fn patch<H>(self, pattern: &str, handler: H) -> Router
    where
        H: Fn(&Request, &Params) -> Result<Response, PluginError> + 'static,
    {
        self.route("PATCH", pattern, handler)
    }

    /// Route `DELETE` requests matching `pattern` to `handler`.
    pub fn delete<H>(self, pattern: &str, handler: H) -> Router
    where
        H: Fn(&Request, &Params) -> Result<Response, PluginError> + 'static,
    {
        self.route("DELETE", pattern, handler)
    }

    /// Route requests of every method matching `pattern` to `handler`; a
    /// route for a specific method on the same pattern is tried first.
    ///
    /// ```
    /// use omnistore_sdk::router::Router;
    /// use omnistore_sdk::{Request, Response};
    /// let router = Router::new()
    ///     .get("/hook", |_, _| Ok(Response::text("send a POST")))
    ///     .any("/hook", |req, _| Ok(Response::text(format!("{} received", req.method))));
    /// let r = router.handle(&Request::new("PUT", "/hook")).unwrap();
    /// assert_eq!(r.body_text(), Some("PUT received"));
    /// let r = router.handle(&Request::new("GET", "/hook")).unwrap();
    /// assert_eq!(r.body_text(), Some("send a POST"));
    /// ```
    pub fn any<H>(self, pattern: &str, handler: H) -> Router
    where
        H: Fn(&Request, &Params) -> Result<Response, PluginError> + 'static,
    {
        self.add(None, pattern, Box::new(handler))
    }

    /// Route requests with `method` (any method name, such as `"PURGE"`;
    /// compared in upper case) matching `pattern` to `handler`.
    pub fn route<H>(self, method: &str, pattern: &str, handler: H) -> Router
    where
        H: Fn(&Request, &Params) -> Result<Response, PluginError> + 'static,
    {
        assert!(
            !method.is_empty() && method.bytes().all(|b| b.is_ascii_alphabetic() || b == b'-'),
            "{method:?} is not an HTTP method"
        );
        self.add(Some(method.to_ascii_uppercase()), pattern, Box::new(handler))
    }

    fn add(mut self, method: Option<String>, pattern: &str, handler: Handler) -> Router {
        let pieces = parse_pattern(pattern);
        let shown = format!("{} {pattern}", method.as_deref().unwrap_or("*"));
        let mut node = &mut self.root;
        let mut names = Vec::new();
        let mut ends_in_wildcard = false;
        for piece in pieces {
            match piece {
                Piece::Literal(text) => node = node.literals.entry(text).or_default(),
                Piece::Param(name) => {
                    names.push(name);
                    node = node.param.get_or_insert_with(Box::default);
                }
                Piece::Wildcard(name) => {
                    names.push(name);
                    ends_in_wildcard = true;
                }
            }
        }
        let list = if ends_in_wildcard { &mut node.wildcards } else { &mut node.endpoints };
        assert!(
            !list.iter().any(|e| e.method == method),
            "the route {shown} is registered twice (or as another pattern of the same shape)"
        );
        list.push(Endpoint { method, names, handler });
        self.listing.push(shown);
        self
    }

    /// Answer `req` with the route that matches it (see the
    /// [module documentation](self)): the handler's answer, a 405 with an
    /// `Allow` header, or [`PluginError::NotFound`].
    pub fn handle(&self, req: &Request) -> Result<Response, PluginError> {
        let path = req.path.strip_prefix('/').unwrap_or(&req.path);
        let segments: Vec<String> = path.split('/').map(percent_decode_path).collect();
        let mut lookup = Lookup { method: &req.method, values: Vec::new(), wildcard: None, allowed: BTreeSet::new() };
        let Some(endpoint) = lookup.find(&self.root, &segments, 0) else {
            if lookup.allowed.is_empty() {
                return Err(PluginError::NotFound(format!("no route answers {} {}", req.method, req.path)));
            }
            let allow = lookup.allowed.into_iter().collect::<Vec<_>>().join(", ");
            return Ok(Response::text(format!("{} is not allowed here; use {allow}", req.method))
                .with_status(405)
                .with_header("allow", &allow));
        };
        let params =
            Params { pairs: endpoint.names.iter().cloned().zip(lookup.values).collect(), wildcard: lookup.wildcard };
        let response = (endpoint.handler)(req, &params)?;
        if req.method != "HEAD" {
            return Ok(response);
        }
        let answered_by_head_route = endpoint.method.as_deref() == Some("HEAD");
        Ok(without_body(response, !answered_by_head_route))
    }
}

/// A response to `HEAD` has no body, but says how long it would be: a `HEAD`
/// route sets its own headers, a `GET` route's body is measured here.
fn without_body(mut response: Response, measure: bool) -> Response {
    if measure && response.continuation.is_none() && response.header("content-length").is_none() {
        let length = response.body.len().to_string();
        response = response.with_header("content-length", &length);
    }
    response.body.clear();
    response.continuation = None;
    response
}

struct Lookup<'a, 'r> {
    method: &'a str,
    /// Parameter values of the current branch, in the pattern's order.
    values: Vec<String>,
    wildcard: Option<String>,
    /// Methods of the routes whose pattern matched but whose method did not.
    allowed: BTreeSet<&'r str>,
}

impl<'r> Lookup<'_, 'r> {
    fn find(&mut self, node: &'r Node, segments: &[String], depth: usize) -> Option<&'r Endpoint> {
        let Some(segment) = segments.get(depth) else {
            return self.pick(&node.endpoints);
        };
        if let Some(child) = node.literals.get(segment)
            && let Some(found) = self.find(child, segments, depth + 1)
        {
            return Some(found);
        }
        if let Some(child) = &node.param
            && !segment.is_empty()
        {
            self.values.push(segment.clone());
            if let Some(found) = self.find(child, segments, depth + 1) {
                return Some(found);
            }
            self.values.pop();
        }
        let found = self.pick(&node.wildcards)?;
        let rest = segments[depth..].join("/");
        self.values.push(rest.clone());
        self.wildcard = Some(rest);
        Some(found)
    }

    /// The route among `endpoints` (one pattern shape) that takes the method.
    fn pick(&mut self, endpoints: &'r [Endpoint]) -> Option<&'r Endpoint> {
        let with = |m: &str| endpoints.iter().find(|e| e.method.as_deref() == Some(m));
        let found = with(self.method)
            .or_else(|| if self.method == "HEAD" { with("GET") } else { None })
            .or_else(|| endpoints.iter().find(|e| e.method.is_none()));
        if found.is_none() {
            for method in endpoints.iter().filter_map(|e| e.method.as_deref()) {
                self.allowed.insert(method);
                if method == "GET" {
                    self.allowed.insert("HEAD");
                }
            }
        }
        found
    }
}

fn parse_pattern(pattern: &str) -> Vec<Piece> {
    let Some(path) = pattern.strip_prefix('/') else {
        panic!("the route pattern {pattern:?} does not start with /");
    };
    let segments: Vec<&str> = path.split('/').collect();
    let mut pieces = Vec::with_capacity(segments.len());
    let mut seen = BTreeSet::new();
    for (i, segment) in segments.iter().enumerate() {
        let piece = if let Some(name) = segment.strip_prefix(':') {
            assert!(!name.is_empty(), "the route pattern {pattern:?} has a parameter without a name");
            Piece::Param(name.to_string())
        } else if let Some(name) = segment.strip_prefix('*') {
            assert!(i + 1 == segments.len(), "in the route pattern {pattern:?} a wildcard is not the last segment");
            Piece::Wildcard(name.to_string())
        } else {
            Piece::Literal(segment.to_string())
        };
        if let Piece::Param(name) | Piece::Wildcard(name) = &piece {
            assert!(name.is_empty() || seen.insert(name.clone()), "the route pattern {pattern:?} names {name:?} twice");
        }
        pieces.push(piece);
    }
    pieces
}

impl fmt::Debug for Router {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Router").field("routes", &self.listing).finish()
    }
}

/// The parameters a route's pattern captured from the request's path,
/// percent-decoded.
///
/// ```
/// use omnistore_sdk::router::Router;
/// use omnistore_sdk::{Request, Response};
/// let router = Router::new().get("/c/:collection/*rest", |_, params| {
///     Ok(Response::text(format!("{:?} {:?}", params.get("collection"), params.wildcard())))
/// });
/// let r = router.handle(&Request::new("GET", "/c/dolci%20tipici/page/2")).unwrap();
/// assert_eq!(r.body_text(), Some(r#"Some("dolci tipici") Some("page/2")"#));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params {
    pairs: Vec<(String, String)>,
    wildcard: Option<String>,
}

impl Params {
    /// The value of the parameter or named wildcard `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// What the pattern's wildcard matched, named or not.
    pub fn wildcard(&self) -> Option<&str> {
        self.wildcard.as_deref()
    }

    /// Every named parameter and its value, in the pattern's order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs.iter().filter(|(k, _)| !k.is_empty()).map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn says(text: &'static str) -> impl Fn(&Request, &Params) -> Result<Response, PluginError> {
        move |_, params| {
            let shown: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
            Ok(Response::text(format!("{text} {}", shown.join(" ")).trim_end().to_string()))
        }
    }

    fn answer(router: &Router, method: &str, path: &str) -> String {
        match router.handle(&Request::new(method, path)) {
            Ok(r) if r.status == 405 => format!("405 {}", r.header("allow").unwrap()),
            Ok(r) => r.body_text().unwrap().to_string(),
            Err(PluginError::NotFound(_)) => "404".to_string(),
            Err(e) => panic!("unexpected error {e:?}"),
        }
    }

    #[test]
    fn specific_routes_win_whatever_the_order() {
        let router = Router::new()
            .get("/*rest", says("catch-all"))
            .get("/products/*rest", says("products tail"))
            .get("/products/:handle", says("product"))
            .get("/products/:handle/reviews", says("reviews"))
            .get("/products/featured", says("featured"))
            .get("/:section/featured", says("section featured"));
        assert_eq!(answer(&router, "GET", "/products/featured"), "featured");
        assert_eq!(answer(&router, "GET", "/products/cannolo"), "product handle=cannolo");
        assert_eq!(answer(&router, "GET", "/products/cannolo/reviews"), "reviews handle=cannolo");
        assert_eq!(answer(&router, "GET", "/products/cannolo/photos"), "products tail rest=cannolo/photos");
        assert_eq!(answer(&router, "GET", "/news/featured"), "section featured section=news");
        assert_eq!(answer(&router, "GET", "/about"), "catch-all rest=about");
        assert_eq!(answer(&router, "GET", "/"), "catch-all rest=");
    }

    #[test]
    fn a_dead_end_falls_back_to_a_less_specific_branch() {
        let router = Router::new().get("/a/:x/c", says("first")).get("/:y/b/d", says("second"));
        assert_eq!(answer(&router, "GET", "/a/b/d"), "second y=a");
        assert_eq!(answer(&router, "GET", "/a/b/c"), "first x=b");
        assert_eq!(answer(&router, "GET", "/a/b"), "404");
    }

    #[test]
    fn parameters_are_percent_decoded_and_keep_plus() {
        let router = Router::new().get("/p/:handle", says("p")).get("/caffè", says("literal"));
        assert_eq!(answer(&router, "GET", "/p/caff%C3%A8+latte%2Fx"), "p handle=caffè+latte/x");
        assert_eq!(answer(&router, "GET", "/p/%zz"), "p handle=%zz");
        assert_eq!(answer(&router, "GET", "/caff%c3%a8"), "literal");
        assert_eq!(answer(&router, "GET", "/p/"), "404");
    }

    #[test]
    fn a_known_path_with_another_method_is_405_with_allow() {
        let router = Router::new().get("/cart", says("cart")).post("/cart", says("add")).put("/cart/:id", says("put"));
        assert_eq!(answer(&router, "DELETE", "/cart"), "405 GET, HEAD, POST");
        assert_eq!(answer(&router, "GET", "/cart/1"), "405 PUT");
        let r = router.handle(&Request::new("PATCH", "/cart")).unwrap();
        assert_eq!(r.status, 405);
        assert!(r.body_text().unwrap().contains("PATCH"));
        assert_eq!(answer(&router, "DELETE", "/elsewhere"), "404");
    }

    #[test]
    fn the_method_can_pick_a_less_specific_route() {
        let router = Router::new().post("/products/new", says("create")).get("/products/:handle", says("show"));
        assert_eq!(answer(&router, "GET", "/products/new"), "show handle=new");
        assert_eq!(answer(&router, "POST", "/products/new"), "create");
        assert_eq!(answer(&router, "POST", "/products/x"), "405 GET, HEAD");
    }

    #[test]
    fn head_is_answered_by_get_without_a_body() {
        let router = Router::new()
            .get("/page", says("page"))
            .get("/feed", |_, _| Ok(Response::text("first").with_continuation("2")))
            .route("head", "/own", |_, _| Ok(Response::new(204)));
        let r = router.handle(&Request::new("HEAD", "/page")).unwrap();
        assert_eq!((r.status, r.body.len(), r.header("content-length")), (200, 0, Some("4")));
        assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
        let r = router.handle(&Request::new("HEAD", "/feed")).unwrap();
        assert_eq!((r.body.len(), r.continuation.as_deref(), r.header("content-length")), (0, None, None));
        let r = router.handle(&Request::new("HEAD", "/own")).unwrap();
        assert_eq!((r.status, r.header("content-length")), (204, None));
        assert_eq!(answer(&router, "GET", "/own"), "405 HEAD");
    }

    #[test]
    fn any_takes_every_method_after_the_specific_ones() {
        let router = Router::new().any("/hook", says("any")).post("/hook", says("post"));
        assert_eq!(answer(&router, "POST", "/hook"), "post");
        assert_eq!(answer(&router, "OPTIONS", "/hook"), "any");
        assert_eq!(answer(&router, "HEAD", "/hook"), "");
    }

    #[test]
    fn wildcards_need_a_segment_but_not_a_non_empty_one() {
        let router = Router::new().get("/static/*", says("static")).get("/s/*file", says("s"));
        assert_eq!(answer(&router, "GET", "/static"), "404");
        assert_eq!(answer(&router, "GET", "/static/"), "static");
        let r = router.handle(&Request::new("GET", "/static/css/a%20b.css")).unwrap();
        assert_eq!(r.body_text(), Some("static"));
        let params = Params { pairs: vec![("".into(), "css/a b.css".into())], wildcard: Some("css/a b.css".into()) };
        assert_eq!(params.wildcard(), Some("css/a b.css"));
        assert_eq!(answer(&router, "GET", "/s/a/b"), "s file=a/b");
    }

    #[test]
    fn trailing_slashes_and_empty_segments_are_significant() {
        let router = Router::new().get("/cart", says("cart")).get("/", says("home"));
        assert_eq!(answer(&router, "GET", "/cart"), "cart");
        assert_eq!(answer(&router, "GET", "/cart/"), "404");
        assert_eq!(answer(&router, "GET", "//cart"), "404");
        assert_eq!(answer(&router, "GET", "/"), "home");
        assert_eq!(answer(&router, "GET", ""), "home");
    }

    #[test]
    fn handler_errors_pass_through() {
        let router = Router::new().get("/x", |_, _| Err(PluginError::bad_request("no")));
        assert_eq!(router.handle(&Request::new("GET", "/x")), Err(PluginError::BadRequest("no".into())));
    }

    #[test]
    #[should_panic(expected = "registered twice")]
    fn the_same_route_twice_panics() {
        let _ = Router::new().get("/p/:a", says("a")).get("/p/:b", says("b"));
    }

    #[test]
    #[should_panic(expected = "not the last segment")]
    fn a_wildcard_in_the_middle_panics() {
        let _ = Router::new().get("/a/*x/b", says("a"));
    }

    #[test]
    #[should_panic(expected = "does not start with /")]
    fn a_relative_pattern_panics() {
        let _ = Router::new().get("a", says("a"));
    }

    #[test]
    #[should_panic(expected = "twice")]
    fn a_repeated_name_panics() {
        let _ = Router::new().get("/:a/:a", says("a"));
    }

    #[test]
    fn debug_lists_the_routes() {
        let router = Router::new().get("/a", says("a")).any("/b", says("b"));
        assert_eq!(format!("{router:?}"), r#"Router { routes: ["GET /a", "* /b"] }"#);
    }

    proptest::proptest! {
        #[test]
        fn routing_never_panics(method in "[A-Z]{1,7}", path in "(/[a-z%0-9+:*]{0,4}){0,6}") {
            let router = Router::new()
                .get("/", says("home"))
                .get("/p/:handle", says("p"))
                .post("/p/:handle/*rest", says("rest"))
                .any("/a/b", says("ab"));
            let _ = router.handle(&Request::new(&method, &path));
        }
    }
}
