//! The guestbook: the form with its anti-forgery token, the signed cookies
//! and the redirect; the JSON API and its refusals.

use serde_json::json;

use crate::browser::{BASE_URL, Browser, T0, hello, json, set_cookie, set_cookies};

fn notes(b: &mut Browser<'_>) -> serde_json::Value {
    let r = b.get("/api/notes");
    assert_eq!(r.status, 200, "{}", r.text());
    json(&r)["notes"].clone()
}

fn post_json(b: &mut Browser<'_>, body: &str) -> omnistore_sdk_harness::TestResponse {
    b.send("POST", "/api/notes", Some("application/json"), body.as_bytes())
}

#[test]
fn the_form_signs_the_guestbook_remembers_the_name_and_redirects_home() {
    let h = hello();
    let mut b = Browser::new(&h);
    let home = b.get("/");
    let visitor = set_cookie(&home, "hello_visitor").expect("a new visitor gets a cookie");
    assert!(
        visitor.contains("HttpOnly") && visitor.contains("SameSite=Lax") && visitor.contains("Secure"),
        "{visitor}"
    );
    assert!(home.text().contains(&format!(r#"<form method="post" action="{BASE_URL}/guestbook">"#)));
    let token = b.token();

    let signed = b.post_form(
        "/guestbook",
        &[("authenticity_token", &token), ("name", "Giulia Rossi"), ("message", "Buonissimi i cannoli!")],
    );
    assert_eq!(signed.status, 303, "{}", signed.text());
    assert_eq!(signed.header("location"), Some(&*format!("{BASE_URL}/")), "back home, under the mount point");
    let name = set_cookie(&signed, "hello_name").expect("the name is remembered");
    assert!(name.contains("Max-Age=31536000") && name.contains("HttpOnly"), "{name}");
    assert!(!name.contains("Giulia Rossi"), "a cookie value holds no spaces: {name}");

    let html = b.get("/").text();
    assert!(html.contains(r#"<p id="welcome">Welcome back, Giulia Rossi!</p>"#), "{html}");
    assert!(html.contains("<li><strong>Giulia Rossi</strong>: Buonissimi i cannoli!</li>"), "{html}");
    assert!(html.contains(r#"name="name" value="Giulia Rossi""#), "the form is filled in: {html}");
    assert_eq!(notes(&mut b), json!([{ "name": "Giulia Rossi", "message": "Buonissimi i cannoli!", "at": T0 }]));

    // The same visitor's token keeps working, and the newest note comes first.
    let again =
        b.post_form("/guestbook", &[("authenticity_token", &token), ("name", "Giulia"), ("message", "Ancora!")]);
    assert_eq!(again.status, 303);
    let html = b.get("/").text();
    assert!(html.contains("Welcome back, Giulia!"), "{html}");
    assert!(html.find("Ancora!").unwrap() < html.find("Buonissimi").unwrap(), "{html}");
}

#[test]
fn forged_forms_are_refused_and_change_nothing() {
    let h = hello();
    let mut b = Browser::new(&h);
    let token = b.token();
    let note = |token: &'static str| [("authenticity_token", token), ("name", "Mallory"), ("message", "Pwned")];

    let mut refused = vec![
        ("no token", b.post_form("/guestbook", &[("name", "Mallory"), ("message", "Pwned")])),
        ("a made-up token", b.post_form("/guestbook", &note("0000"))),
    ];
    // Another visitor's token is theirs only.
    let mut other = Browser::new(&h);
    let theirs = other.token();
    assert_ne!(theirs, token);
    let body = [("authenticity_token", theirs.as_str()), ("name", "Mallory"), ("message", "Pwned")];
    refused.push(("another visitor's token", b.post_form("/guestbook", &body)));
    // A page elsewhere posts without the visitor's cookie (SameSite=Lax).
    let mut stranger = Browser::new(&h);
    let body = [("authenticity_token", token.as_str()), ("name", "Mallory"), ("message", "Pwned")];
    refused.push(("the right token without the cookie", stranger.post_form("/guestbook", &body)));
    // The visitor cookie's own signature is not a token.
    let cookie_mac = b.cookies["hello_visitor"].rsplit_once('.').unwrap().1.to_string();
    let body = [("authenticity_token", cookie_mac.as_str()), ("name", "Mallory"), ("message", "Pwned")];
    refused.push(("the cookie's signature", b.post_form("/guestbook", &body)));

    for (what, r) in &refused {
        assert_eq!(r.status, 403, "{what}: {}", r.text());
        assert!(r.text().contains("The form has expired"), "{what}: {}", r.text());
        assert!(set_cookies(r).is_empty(), "{what} set a cookie");
    }
    assert_eq!(notes(&mut b), json!([]), "nothing was kept");
    let html = b.get("/").text();
    assert!(!html.contains("Mallory"), "{html}");
}

#[test]
fn a_name_cookie_the_plugin_did_not_sign_is_ignored() {
    let h = hello();
    let mut b = Browser::new(&h);
    let token = b.token();
    b.post_form("/guestbook", &[("authenticity_token", &token), ("name", "Giulia"), ("message", "Ciao")]);
    let (hex, mac) = b.cookies["hello_name"].rsplit_once('.').map(|(h, m)| (h.to_string(), m.to_string())).unwrap();
    assert_eq!(hex, "4769756c6961", "the name travels as hex");

    let mallory: String = "Mallory".bytes().map(|c| format!("{c:02x}")).collect();
    b.cookies.insert("hello_name".into(), format!("{mallory}.{mac}"));
    let html = b.get("/").text();
    assert!(!html.contains("Welcome back"), "{html}");
    b.cookies.insert("hello_name".into(), mallory);
    assert!(!b.get("/").text().contains("Welcome back"));
}

#[test]
fn a_blank_or_long_note_from_the_form_is_refused_with_the_reason() {
    let h = hello();
    let mut b = Browser::new(&h);
    let token = b.token();
    let long = "a".repeat(41);
    for (name, message, why) in [
        ("   ", "Ciao", "A name has 1 to 40 characters."),
        (long.as_str(), "Ciao", "A name has 1 to 40 characters."),
        ("Giulia", "", "A note has 1 to 280 characters."),
    ] {
        let r = b.post_form("/guestbook", &[("authenticity_token", &token), ("name", name), ("message", message)]);
        assert_eq!(r.status, 422, "{name:?} {message:?}: {}", r.text());
        assert!(r.text().contains(why), "{}", r.text());
        assert!(set_cookie(&r, "hello_name").is_none());
    }
    assert_eq!(notes(&mut b), json!([]));
}

#[test]
fn the_api_takes_a_note_as_json_and_answers_json() {
    let h = hello();
    let mut b = Browser::new(&h);
    let added = post_json(&mut b, r#"{"name": "  Marco ", "message": "<b>Ottimo</b> & \"caldo\""}"#);
    assert_eq!(added.status, 201, "{}", added.text());
    let note = json!({ "name": "Marco", "message": "<b>Ottimo</b> & \"caldo\"", "at": T0 });
    assert_eq!(json(&added), note);
    assert_eq!(notes(&mut b), json!([note]));
    // The home page shows it, escaped.
    let html = b.get("/").text();
    assert!(html.contains("<strong>Marco</strong>: &lt;b&gt;Ottimo&lt;/b&gt; &amp; &quot;caldo&quot;"), "{html}");
    assert!(set_cookies(&added).is_empty(), "the API reads and sets no cookie");
}

#[test]
fn the_api_keeps_the_latest_notes() {
    let h = hello();
    let mut b = Browser::new(&h);
    for i in 1..=25 {
        let r = post_json(&mut b, &json!({ "name": "Bot", "message": format!("note {i}") }).to_string());
        assert_eq!(r.status, 201);
    }
    let kept = notes(&mut b);
    let messages: Vec<&str> = kept.as_array().unwrap().iter().map(|n| n["message"].as_str().unwrap()).collect();
    let expected: Vec<String> = (6..=25).map(|i| format!("note {i}")).collect();
    assert_eq!(messages, expected);
}

#[test]
fn a_body_that_is_not_a_note_is_422_with_the_reason() {
    let h = hello();
    let mut b = Browser::new(&h);
    for (body, why) in [
        (r#"{"name": "Giulia""#, "EOF while parsing an object at line 1 column 17"),
        ("name=Giulia&message=Ciao", "expected ident at line 1 column 2"),
        ("", "EOF while parsing a value at line 1 column 0"),
        (r#"{"name": 7, "message": "Ciao"}"#, "invalid type: integer `7`, expected a string"),
        (r#"{"name": "Giulia"}"#, "missing field `message`"),
        (r#"{"name": "", "message": "Ciao"}"#, "A name has 1 to 40 characters."),
        (r#"{"name": "Giulia", "message": " "}"#, "A note has 1 to 280 characters."),
    ] {
        let r = post_json(&mut b, body);
        assert_eq!(r.status, 422, "{body}: {}", r.text());
        let error = json(&r)["error"].as_str().unwrap().to_string();
        assert!(error.contains(why), "{body}: {error}");
    }
    let r = post_json(&mut b, "[1, 2]");
    let error = json(&r)["error"].as_str().unwrap().to_string();
    assert!(error.starts_with(r#"The body is not a note {"name": "…", "message": "…"}: "#), "{error}");
    assert_eq!(notes(&mut b), json!([]), "nothing was kept");
}
