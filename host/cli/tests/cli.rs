//! The `omnistore` binary as a user runs it.

use std::process::Command;

fn omnistore(args: &[&str]) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_omnistore")).args(args).output().expect("running omnistore");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn sms_segments_prints_the_encoding_segments_and_characters_as_json() {
    for (text, expected) in [
        ("Ciao! Il tuo ordine è pronto.", serde_json::json!({"encoding": "GSM-7", "segments": 1, "characters": 29})),
        ("Prezzo: 10€ {sconto}", serde_json::json!({"encoding": "GSM-7", "segments": 1, "characters": 23})),
        ("Buon compleanno 🎂", serde_json::json!({"encoding": "UCS-2", "segments": 1, "characters": 17})),
        (&"a".repeat(161), serde_json::json!({"encoding": "GSM-7", "segments": 2, "characters": 161})),
    ] {
        let (ok, stdout, stderr) = omnistore(&["sms", "segments", text]);
        assert!(ok, "{stderr}");
        let printed: serde_json::Value =
            serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"));
        assert_eq!(printed, expected, "{text}");
    }
}

#[test]
fn sms_segments_without_a_text_says_what_is_missing() {
    let (ok, _, stderr) = omnistore(&["sms", "segments"]);
    assert!(!ok);
    assert!(stderr.contains("<TEXT>"), "{stderr}");
}

/// A host started by `omnistore serve`, killed when dropped.
struct Served {
    child: std::process::Child,
    port: u16,
    lines: std::sync::mpsc::Receiver<String>,
    printed: Vec<String>,
}

impl Served {
    fn start(config: &std::path::Path, token: &str) -> Served {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(env!("CARGO_BIN_EXE_omnistore"))
            .args(["serve", "--config", config.to_str().unwrap(), "--listen", &format!("127.0.0.1:{port}")])
            .env("OMNISTORE_OPERATOR_TOKEN", token)
            .env_remove("OMNISTORE_STORE")
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("starting omnistore serve");
        let mut served = Served::adopt(child, port);
        served.wait_for("listening on");
        served
    }

    /// A started host printing to a piped stdout.
    fn adopt(mut child: std::process::Child, port: u16) -> Served {
        use std::io::BufRead;
        let stdout = child.stdout.take().unwrap();
        let (send, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = send.send(line);
            }
        });
        Served { child, port, lines, printed: Vec::new() }
    }

    /// Read what the host prints until a line containing `marker`.
    fn wait_for(&mut self, marker: &str) {
        self.wait_for_within(marker, 120);
    }

    fn wait_for_within(&mut self, marker: &str, secs: u64) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
        while std::time::Instant::now() < deadline {
            match self.lines.recv_timeout(std::time::Duration::from_secs(1)) {
                Ok(line) => {
                    let found = line.contains(marker);
                    self.printed.push(line);
                    if found {
                        return;
                    }
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    assert!(self.child.try_wait().unwrap().is_none(), "the host stopped: {:?}", self.printed);
                }
                Err(e) => panic!("the host stopped ({e}): {:?}", self.printed),
            }
        }
        panic!("the host did not print {marker:?}: {:?}", self.printed);
    }

    /// One request to the admin API; the status and body.
    fn get(&self, path: &str, token: &str) -> (u16, String) {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        let status = answer[9..12].parse().unwrap();
        let body = answer.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
        (status, body)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The deployment file of a shop with the example channel, in `dir`.
fn deployment(dir: &std::path::Path) -> std::path::PathBuf {
    let package = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/plugins/hello-channel");
    assert!(package.join("plugin.wasm").exists(), "build the plugins first: cargo xtask build-plugins");
    let config = dir.join("omnistore.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = \"data\"\n\n[[tenants]]\nid = \"atelier\"\nname = \"Atelier\"\n\n\
             [[tenants.installations]]\nid = \"hello\"\npackage = {:?}\nmount = \"/hello\"\n\
             settings = {{ greeting = \"Ciao\" }}\n",
            package.to_str().unwrap()
        ),
    )
    .unwrap();
    config
}

const OPERATOR: &str = "operator-token-for-the-cli-tests-0123456789";

#[test]
fn serve_installs_the_deployment_files_installations_once() {
    let dir = tempfile::tempdir().unwrap();
    let config = deployment(dir.path());
    let host = Served::start(&config, OPERATOR);
    let installed = host.printed.iter().find(|l| l.starts_with("installed hello")).cloned();
    let installed = installed.unwrap_or_else(|| panic!("no installation reported: {:?}", host.printed));
    assert!(
        installed.contains("(hello-channel ") && installed.contains(") for atelier as channel chn-"),
        "{installed}"
    );
    let (status, channels) = host.get("/api/v1/tenants/atelier/channels", OPERATOR);
    assert_eq!(status, 200, "{channels}");
    assert!(channels.contains("\"plugin_id\":\"hello-channel\""), "{channels}");
    drop(host);

    // On the next start the channel is there: nothing is installed twice.
    let host = Served::start(&config, OPERATOR);
    assert!(!host.printed.iter().any(|l| l.starts_with("installed")), "{:?}", host.printed);
    let (_, channels) = host.get("/api/v1/tenants/atelier/channels", OPERATOR);
    assert_eq!(channels.matches("\"plugin_id\":\"hello-channel\"").count(), 1, "{channels}");
}

#[test]
fn theme_push_sends_what_changed_previews_prunes_and_publishes() {
    let dir = tempfile::tempdir().unwrap();
    let host = Served::start(&deployment(dir.path()), OPERATOR);
    let line = host.printed.iter().find(|l| l.starts_with("installed hello")).unwrap();
    let channel = line.rsplit(' ').next().unwrap().to_string();

    let theme = dir.path().join("theme");
    for (path, text) in [
        ("templates/index.liquid", "<h1>{{ shop.name }}</h1>"),
        ("assets/shop.css", "body { margin: 0 }"),
        ("locales/it.json", "{\"general\": {\"ciao\": \"Ciao\"}}"),
        ("assets/.DS_Store", "junk"),
        ("README.md", "not a theme file"),
    ] {
        let file = theme.join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, text).unwrap();
    }
    let url = format!("http://127.0.0.1:{}", host.port);
    let push = |extra: &[&str], token: &str| {
        let mut args = vec!["theme", "push", theme.to_str().unwrap(), "--tenant", "atelier"];
        args.extend(["--channel", &channel, "--url", &url, "--token", token]);
        args.extend(extra);
        omnistore(&args)
    };

    let (ok, out, err) = push(&[], OPERATOR);
    assert!(ok, "{err}");
    assert!(out.contains("3 sent, 0 unchanged, 0 deleted"), "{out}");
    assert!(out.contains("[1/3] assets/shop.css"), "progress is shown: {out}");
    assert!(out.contains("preview for an hour: add ?preview="), "{out}");
    let (_, listed) = host.get(&format!("/api/v1/tenants/atelier/channels/{channel}/files"), OPERATOR);
    assert_eq!(listed.matches("\"state\":\"added\"").count(), 3, "{listed}");
    assert!(!listed.contains("DS_Store") && !listed.contains("README"), "{listed}");

    let (ok, out, err) = push(&[], OPERATOR);
    assert!(ok, "{err}");
    assert!(out.contains("0 sent, 3 unchanged, 0 deleted"), "{out}");

    std::fs::write(theme.join("templates/index.liquid"), "<h1>{{ shop.name | upcase }}</h1>").unwrap();
    std::fs::remove_file(theme.join("assets/shop.css")).unwrap();
    let (ok, out, err) = push(&["--prune", "--publish"], OPERATOR);
    assert!(ok, "{err}");
    assert!(out.contains("1 sent, 1 unchanged, 1 deleted"), "{out}");
    assert!(out.contains("published: 2 files changed"), "{out}");
    let (_, live) = host.get(
        &format!("/api/v1/tenants/atelier/channels/{channel}/files/templates/index.liquid?version=live"),
        OPERATOR,
    );
    assert_eq!(live, "<h1>{{ shop.name | upcase }}</h1>");

    let (ok, _, err) = push(&[], "a-token-nobody-issued");
    assert!(!ok);
    assert!(err.contains("refused the token"), "{err}");
    let (ok, _, err) = omnistore(&[
        "theme",
        "push",
        "/no/such/theme",
        "--tenant",
        "atelier",
        "--channel",
        &channel,
        "--token",
        OPERATOR,
    ]);
    assert!(!ok);
    assert!(err.contains("is not a folder"), "{err}");
}

/// One HTTP/1.1 request to 127.0.0.1:`port`; the status and body.
fn http(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer[9..12].parse().unwrap();
    let mut body = answer.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    if answer.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        body = unchunk(&body);
    }
    (status, body)
}

fn unchunk(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    while let Some((size, after)) = rest.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.push_str(&after[..size]);
        rest = after[size..].trim_start_matches("\r\n");
    }
    out
}

/// A port nobody listens on, for a server the test starts in another
/// process. It is taken below the kernel's ephemeral range: a port `bind(0)`
/// chose is in that range, and any outgoing connection of a test running
/// beside this one may take it before the server binds it (CI saw that).
/// Ports handed out once are not handed out again by this process.
fn free_port() -> u16 {
    use std::collections::BTreeSet;
    use std::sync::Mutex;
    static GIVEN: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());
    let ephemeral_start = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    let (low, high) = (10_000u16, ephemeral_start.max(10_001));
    let span = u32::from(high - low);
    let seed = std::process::id().wrapping_mul(2_654_435_761)
        ^ std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let mut given = GIVEN.lock().unwrap_or_else(|p| p.into_inner());
    for i in 0..span {
        let port = low + ((seed.wrapping_add(i.wrapping_mul(7919))) % span) as u16;
        if !given.contains(&port) && std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            given.insert(port);
            return port;
        }
    }
    panic!("no free port between {low} and {high}")
}

/// Poll `probe` every half second until it gives something, for at most `secs`.
fn eventually<T>(secs: u64, what: &str, probe: impl FnMut() -> Option<T>) -> T {
    eventually_explained(secs, what, probe, String::new)
}

/// [`eventually`], and on timeout what `explain` finds out about why.
fn eventually_explained<T>(
    secs: u64,
    what: &str,
    mut probe: impl FnMut() -> Option<T>,
    explain: impl FnOnce() -> String,
) -> T {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        if let Some(found) = probe() {
            return found;
        }
        if std::time::Instant::now() >= deadline {
            panic!("waited {secs} s for {what}\n{}", explain());
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
}

/// The demo as a newcomer runs it, on free ports and a fresh data folder:
/// the catalog reaches the Pinterest and Meta stand-ins, the Instagram channel
/// reports its sync, a signed Instagram order lands once, and its receipt
/// reaches the SMTP stand-in; the demo's campaign, sent with the printed
/// command, mails with one-click unsubscribe and texts only the regulars who
/// agreed to each.
#[test]
fn the_demo_connects_every_channel_to_its_stand_in() {
    use hmac::{Hmac, Mac};

    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let plugins = root.join("target/plugins");
    for id in ["web-storefront", "email", "sms", "pinterest", "instagram-shop"] {
        assert!(plugins.join(id).join("plugin.wasm").exists(), "build the plugins first: cargo xtask build-plugins");
    }
    let dir = tempfile::tempdir().unwrap();
    let (web, meta, pinterest, twilio, smtp) = (free_port(), free_port(), free_port(), free_port(), free_port());
    let mailbox = free_port();
    let config = std::fs::read_to_string(root.join("examples/demo/omnistore.toml"))
        .unwrap()
        .replace("\"../../target/demo-data\"", "\"data\"")
        .replace("\"../../target/plugins/", &format!("\"{}/", plugins.to_str().unwrap()))
        .replace(":8080", &format!(":{web}"))
        .replace(":8091", &format!(":{meta}"))
        .replace(":8092", &format!(":{pinterest}"))
        .replace(":8093", &format!(":{twilio}"))
        .replace(":8025", &format!(":{smtp}"))
        .replace(":8026", &format!(":{mailbox}"))
        .replace("port = 8025", &format!("port = {smtp}"));
    let config_path = dir.path().join("omnistore.toml");
    std::fs::write(&config_path, config).unwrap();

    let child = Command::new(env!("CARGO_BIN_EXE_omnistore"))
        .args(["demo", "--config", config_path.to_str().unwrap()])
        .env("OMNISTORE_OPERATOR_TOKEN", OPERATOR)
        .env_remove("OMNISTORE_STORE")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("starting omnistore demo");
    let mut demo = Served::adopt(child, web);
    demo.wait_for_within("listening on", 600);
    assert!(
        demo.printed.iter().any(|l| l.contains(&format!("http://127.0.0.1:{pinterest}/_calls"))),
        "{:?}",
        demo.printed
    );

    // The catalog reaches both platforms, with the storefront's product URLs.
    for (port, batch) in [(pinterest, "/v5/catalogs/items/batch"), (meta, "/items_batch")] {
        let calls = eventually(180, batch, || {
            let (_, calls) = http(port, "GET", "/_calls", &[], b"");
            let calls: serde_json::Value = serde_json::from_str(&calls).ok()?;
            let sent = calls.as_array()?.iter().any(|c| {
                c["path"].as_str().is_some_and(|p| p.contains(batch))
                    && c["body"].as_str().is_some_and(|b| b.contains("DV-01-GRA"))
            });
            sent.then_some(calls)
        });
        let calls = calls.as_array().unwrap();
        assert!(
            calls.iter().all(|c| c["status"].as_u64().is_some_and(|s| s < 400)),
            "a stand-in refused a call: {calls:?}"
        );
    }

    let token = std::fs::read_to_string(dir.path().join("data/dolce-vita-token")).unwrap();
    let token = token.trim();
    let auth = format!("Bearer {token}");
    let (status, channels) = http(web, "GET", "/api/v1/tenants/dolce-vita/channels", &[("Authorization", &auth)], b"");
    assert_eq!(status, 200, "{channels}");
    let channels: serde_json::Value = serde_json::from_str(&channels).unwrap();
    let instagram = channels["items"].as_array().unwrap().iter().find(|c| c["plugin_id"] == "instagram-shop").unwrap();
    let sync_path = format!("/api/v1/tenants/dolce-vita/channels/{}/sync", instagram["id"].as_str().unwrap());
    eventually(60, "the Instagram channel's sync report", || {
        let (_, sync) = http(web, "GET", &sync_path, &[("Authorization", &auth)], b"");
        let sync: serde_json::Value = serde_json::from_str(&sync).ok()?;
        (!sync["products"].as_array()?.is_empty()).then_some(())
    });

    // The admin in the browser, on the host's own name, with the owner's sign-in printed.
    assert!(
        demo.printed
            .iter()
            .any(|l| l.contains(&format!("http://127.0.0.1:{web}/admin/")) && l.contains("titolare@dolcevita.example")),
        "{:?}",
        demo.printed
    );
    let (status, page) = http(web, "GET", "/admin/sign-in", &[("Accept-Language", "it")], b"");
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("action=\"/admin/sign-in\"") && page.contains("<html lang=\"it\">"), "{page}");

    // An order on Instagram, signed as Meta signs it, delivered twice.
    let order = serde_json::json!({
        "object": "page",
        "entry": [{ "id": "demo-page", "time": 1_764_000_000, "changes": [{ "field": "commerce_orders", "value": {
            "id": "ig-demo-order-1",
            "buyer_details": { "name": "Giulia Verdi", "email": "giulia.verdi@example.com" },
            "items": [{ "retailer_id": "DV-01-GRA", "quantity": 1, "price_per_unit": { "amount": "3.50", "currency": "EUR" } }],
            "shipping_address": { "name": "Giulia Verdi", "street1": "Via Roma 1", "city": "Napoli", "postal_code": "80100", "country": "IT" }
        } }] }]
    })
    .to_string();
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(b"demo-app-secret").unwrap();
    mac.update(order.as_bytes());
    let signature = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    for _ in 0..2 {
        let (status, body) = http(
            web,
            "POST",
            "/t/dolce-vita/instagram/webhook",
            &[("Content-Type", "application/json"), ("X-Hub-Signature-256", &signature)],
            order.as_bytes(),
        );
        assert_eq!(status, 200, "{body}");
    }
    let (_, orders) =
        http(web, "GET", "/api/v1/tenants/dolce-vita/orders?limit=1000", &[("Authorization", &auth)], b"");
    assert_eq!(orders.matches("ig-demo-order-1").count(), 1, "the order lands once: {orders}");

    // Its receipt reaches the mail relay.
    let mail_dir = dir.path().join("data/demo-mail");
    eventually(60, "the receipt at the SMTP stand-in", || {
        std::fs::read_dir(&mail_dir)
            .ok()?
            .filter_map(Result::ok)
            .find(|e| std::fs::read_to_string(e.path()).is_ok_and(|m| m.contains("giulia.verdi@example.com")))
    });
    // And the demo's mailbox page lists it, readable as sent.
    let (status, page) = http(mailbox, "GET", "/", &[], b"");
    assert_eq!(status, 200, "{page}");
    let row = page.lines().find(|l| l.contains("giulia.verdi@example.com")).unwrap_or_else(|| panic!("{page}"));
    let file = row.split("href=\"/").nth(1).and_then(|r| r.split('"').next()).unwrap();
    let (status, message) = http(mailbox, "GET", &format!("/{file}"), &[], b"");
    assert_eq!(status, 200);
    assert!(message.contains("giulia.verdi@example.com") && message.contains("MIME-Version"), "{message}");
    assert_eq!(http(mailbox, "GET", "/..%2Fomnistore.toml", &[], b"").0, 404);

    // Repricing, selling out and unpublishing a product reach both platforms.
    let admin = |method: &str, path: &str, body: Option<serde_json::Value>| {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let headers = [("Authorization", auth.as_str()), ("Content-Type", "application/json")];
        let (status, text) = http(web, method, &format!("/api/v1/tenants/dolce-vita{path}"), &headers, body.as_bytes());
        assert!(status < 300, "{method} {path}: {status} {text}");
        serde_json::from_str::<serde_json::Value>(&text).unwrap_or(serde_json::Value::Null)
    };
    let products = admin("GET", "/products?limit=1000", None);
    let caprese = products["items"].as_array().unwrap().iter().find(|p| p["handle"] == "torta-caprese").unwrap();
    let caprese = caprese["id"].as_str().unwrap().to_owned();
    let variant = admin("GET", &format!("/products/{caprese}/variants"), None)["items"][0].clone();
    let (variant_id, sku) = (variant["id"].as_str().unwrap().to_owned(), variant["sku"].as_str().unwrap().to_owned());
    let platforms = [("Pinterest", pinterest, "pinterest"), ("Meta", meta, "instagram-shop")];
    // What the platform was sent last and what the channel did lately, so
    // a timeout tells where the change stopped.
    let explain = |port: u16, plugin: &str| {
        let (_, calls) = http(port, "GET", "/_calls", &[], b"");
        let calls: serde_json::Value = serde_json::from_str(&calls).unwrap_or_default();
        let sent: Vec<String> = calls
            .as_array()
            .into_iter()
            .flatten()
            .rev()
            .take(8)
            .map(|c| {
                let body = form_decoded(c["body"].as_str().unwrap_or(""));
                format!("{} {} {} {}", c["method"], c["path"], c["status"], body.chars().take(300).collect::<String>())
            })
            .collect();
        let id = channels["items"].as_array().unwrap().iter().find(|c| c["plugin_id"] == plugin).unwrap()["id"].clone();
        let id = id.as_str().unwrap();
        let headers = [("Authorization", auth.as_str())];
        let (_, recent) = http(web, "GET", &format!("/api/v1/tenants/dolce-vita/channels/{id}/calls"), &headers, b"");
        let (_, dead) = http(web, "GET", "/api/v1/tenants/dolce-vita/events/dead-letters", &headers, b"");
        format!(
            "last calls the platform was sent:\n{}\nthe channel's recent calls: {recent}\ndead letters: {dead}",
            sent.join("\n")
        )
    };
    let both_saw = |what: &str, needles: &[&str]| {
        for (platform, port, plugin) in platforms {
            eventually_explained(
                120,
                &format!("{platform} to be sent {what}"),
                || {
                    let (_, calls) = http(port, "GET", "/_calls", &[], b"");
                    let calls: serde_json::Value = serde_json::from_str(&calls).ok()?;
                    calls
                        .as_array()?
                        .iter()
                        .any(|c| {
                            let body = form_decoded(c["body"].as_str().unwrap_or(""));
                            c["status"].as_u64().is_some_and(|s| s < 300) && needles.iter().all(|n| body.contains(n))
                        })
                        .then_some(())
                },
                || explain(port, plugin),
            );
        }
    };

    let promotion = serde_json::json!({
        "name": "Caprese -10%", "scope": "line", "value": { "type": "percent", "bps": 1000 },
        "conditions": { "products": [caprese] }
    });
    admin("POST", "/promotions", Some(promotion));
    both_saw("the new promotion's sale price", &[&sku, "sale_price"]);

    for level in admin("GET", &format!("/inventory/levels?variant_id={variant_id}"), None)["items"].as_array().unwrap()
    {
        let count = serde_json::json!({ "variant_id": variant_id, "location_id": level["location_id"], "on_hand": 0 });
        admin("POST", "/inventory/count", Some(count));
    }
    both_saw("the sold-out availability", &[&sku, "out of stock"]);

    for c in channels["items"].as_array().unwrap() {
        if c["plugin_id"] == "pinterest" || c["plugin_id"] == "instagram-shop" {
            admin("DELETE", &format!("/products/{caprese}/publications/{}", c["id"].as_str().unwrap()), None);
        }
    }
    both_saw("the unpublished product's removal", &[&sku, "DELETE"]);

    // The demo's campaign, sent as the README says: the printed curl names it.
    let send = demo
        .printed
        .iter()
        .find(|l| l.contains("send ") && l.contains("/campaigns/"))
        .unwrap_or_else(|| panic!("no campaign to send is printed: {:?}", demo.printed))
        .clone();
    assert!(send.contains(&format!("Bearer {token}")), "{send}");
    let campaign = send.split("/campaigns/").nth(1).unwrap().trim_end_matches("/send").to_owned();
    let regulars = admin("GET", "/customers?limit=1000", None);
    let regular = |email: &str| {
        let found = regulars["items"].as_array().unwrap().iter().find(|c| c.to_string().contains(email)).cloned();
        found.unwrap_or_else(|| panic!("no demo customer {email}: {regulars}"))
    };
    for email in ["marco.rossi@example.com", "sofia.bianchi@example.com", "luca.esposito@example.com"] {
        regular(email);
    }

    // Texts wait for the morning in the shop's time zone: pick the zone
    // where it is midday now, so the test runs at any hour. `Etc/GMT-N` is
    // N hours east of UTC.
    let sms = channels["items"].as_array().unwrap().iter().find(|c| c["plugin_id"] == "sms").unwrap();
    let sms_id = sms["id"].as_str().unwrap();
    let utc_hour =
        (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() / 3600 % 24) as i64;
    let zone = match 12 - utc_hour {
        0 => "Etc/GMT".to_owned(),
        east if east > 0 => format!("Etc/GMT-{east}"),
        west => format!("Etc/GMT+{}", -west),
    };
    let mut settings = admin("GET", &format!("/channels/{sms_id}"), None)["settings"].clone();
    settings["time_zone"] = serde_json::json!(zone);
    let updated = admin("PUT", &format!("/channels/{sms_id}/settings"), Some(settings));
    assert_eq!(updated["settings"]["time_zone"], zone.as_str(), "{updated}");

    let started = admin("POST", &format!("/campaigns/{campaign}/send"), None);
    assert_eq!(started["progress"]["total"], 4, "the segment is the four regulars: {started}");
    let results = eventually(120, "the campaign to be sent", || {
        let c = admin("GET", &format!("/campaigns/{campaign}"), None);
        (c["status"] == "sent").then(|| admin("GET", &format!("/campaigns/{campaign}/results"), None))
    });
    // Two regulars agreed to each channel; the other two are counted as skipped.
    let channels_sent = results["channels"].as_array().unwrap();
    assert_eq!(channels_sent.len(), 2, "{results}");
    for c in channels_sent {
        assert_eq!(c["queued"], 2, "{results}");
        assert_eq!(c["skipped"], serde_json::json!([{ "reason": "no_consent", "count": 2 }]), "{results}");
    }

    // E-mail: the two regulars who agreed to it, with one-click unsubscribe.
    let campaign_mail = |email: &str| {
        std::fs::read_dir(&mail_dir).ok()?.filter_map(Result::ok).find_map(|e| {
            let m = std::fs::read_to_string(e.path()).ok()?;
            m.contains(email).then_some(m)
        })
    };
    for email in ["marco.rossi@example.com", "sofia.bianchi@example.com"] {
        let mail = eventually(60, &format!("the campaign mail to {email}"), || campaign_mail(email));
        let unfolded = mail.replace("\r\n ", " ").replace("\r\n\t", " ");
        assert!(unfolded.contains("List-Unsubscribe: <http"), "{mail}");
        assert!(unfolded.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"), "{mail}");
    }

    // SMS: only the two regulars who agreed to texts.
    let texted = |calls: &serde_json::Value| -> Vec<String> {
        let mut to: Vec<String> = calls
            .as_array()
            .into_iter()
            .flatten()
            .filter(|c| c["status"].as_u64().is_some_and(|s| s < 300))
            .map(|c| form_decoded(c["body"].as_str().unwrap_or("")))
            .filter(|b| b.contains("/collections/cannoli"))
            .filter_map(|b| b.split('&').find_map(|f| f.strip_prefix("To=").map(str::to_owned)))
            .collect();
        to.sort();
        to
    };
    let calls = eventually(60, "the campaign texts at the Twilio stand-in", || {
        let (_, calls) = http(twilio, "GET", "/_calls", &[], b"");
        let calls: serde_json::Value = serde_json::from_str(&calls).ok()?;
        (texted(&calls).len() >= 2).then_some(calls)
    });
    // A moment more, so a text sent where none is due would be seen too.
    std::thread::sleep(std::time::Duration::from_secs(3));
    let (_, later) = http(twilio, "GET", "/_calls", &[], b"");
    let later: serde_json::Value = serde_json::from_str(&later).unwrap_or(calls);
    assert_eq!(texted(&later), ["+393331234501", "+393331234503"], "{later}");
    for email in ["luca.esposito@example.com", "anna.romano@example.com"] {
        assert!(campaign_mail(email).is_none(), "{email} never agreed to e-mail");
    }
    drop(demo);
}

/// A request body as text, form-encoding undone (Meta's batch is a form).
fn form_decoded(body: &str) -> String {
    let bytes = body.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped =
            (bytes[i] == b'%').then(|| body.get(i + 1..i + 3)).flatten().and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], escaped) {
            (_, Some(byte)) => {
                out.push(byte);
                i += 2;
            }
            (b'+', None) => out.push(b' '),
            (b, None) => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A tenant's export carries its images; deleting the tenant removes them;
/// importing the export brings them back.
#[test]
fn tenant_export_delete_and_import_carry_the_tenants_images() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("omnistore.toml");
    std::fs::write(&config, "data_dir = \"data\"\n").unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let tenant = omnistore_core::TenantId::new("atelier").unwrap();
    let media = omnistore_media::MediaStore::new(data.join("media"));
    let tile = omnistore_media::demo_tile(64, [200, 120, 40]).unwrap();
    let stored = media.put(&tenant, &tile, None).unwrap();
    {
        let store = omnistore_storage::open(&format!("redb:{}", data.join("omnistore.redb").display())).unwrap();
        omnistore_core::Core::new(store).create_tenant(&tenant, "Atelier", "EUR", 1).unwrap();
    }
    let export = dir.path().join("atelier.jsonl");
    let cfg = config.to_str().unwrap();
    let (ok, _, err) = omnistore(&["tenant", "export", "atelier", "--out", export.to_str().unwrap(), "--config", cfg]);
    assert!(ok, "{err}");
    assert!(err.contains("1 images"), "{err}");
    let text = std::fs::read_to_string(&export).unwrap();
    assert!(text.contains(&format!("\"file\":\"media/{}\"", stored.key.file_name())), "the image is in the export");

    let (ok, _, err) = omnistore(&["tenant", "delete", "atelier", "--yes", "--config", cfg]);
    assert!(ok, "{err}");
    assert!(!media.contains(&tenant, &stored.key), "deleting the tenant removes its images");

    let (ok, _, err) = omnistore(&["tenant", "import", export.to_str().unwrap(), "--config", cfg]);
    assert!(ok, "{err}");
    assert!(media.contains(&tenant, &stored.key), "the import brings the image back");
    let served = media.serve(&tenant, &stored.key, None).unwrap().unwrap();
    assert_eq!(served.bytes, tile, "byte for byte");
}
