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
        use std::io::BufRead;
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut child = Command::new(env!("CARGO_BIN_EXE_omnistore"))
            .args(["serve", "--config", config.to_str().unwrap(), "--listen", &format!("127.0.0.1:{port}")])
            .env("OMNISTORE_OPERATOR_TOKEN", token)
            .env_remove("OMNISTORE_STORE")
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("starting omnistore serve");
        let stdout = child.stdout.take().unwrap();
        let (send, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = send.send(line);
            }
        });
        let mut served = Served { child, port, lines, printed: Vec::new() };
        served.wait_for("listening on");
        served
    }

    /// Read what the host prints until a line containing `marker`.
    fn wait_for(&mut self, marker: &str) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
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
