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
