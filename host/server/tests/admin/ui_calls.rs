//! A channel's recent calls on its page in the browser admin: the counters,
//! the limits reached by kind and the latest calls as the installer reports
//! them (`crate::calls::sample_report`), on the shop's clock, errors marked
//! in words, in Italian and English.

use axum::http::StatusCode;
use serde_json::json;

use super::Admin;

#[tokio::test]
async fn a_channels_page_shows_its_recent_calls_errors_and_limits() {
    let admin = Admin::new();
    let a = admin.shop("alpha", "A").await;
    // The shop runs on Rome's clock (UTC+2 in October).
    let r = admin
        .api
        .call("PATCH", "/tenants/alpha/shop", Some(&a.token), Some(&json!({ "time_zone": "Europe/Rome" })), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    let browser = admin.sign_in("alpha", "it").await;
    let page = admin.get(&format!("/admin/channels/{}", a.channel), &browser).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    // The templates escape `/` and `'` in what they are given.
    let html = page.html.replace("&#x2f;", "/").replace("&#x27;", "'");
    let section = html.split("id=\"calls-h\"").nth(1).unwrap_or_else(|| panic!("no calls section: {html}"));
    for text in [
        "Chiamate recenti",
        "<dt>Chiamate</dt><dd>10</dd>",
        "<dt>Richieste inviate</dt><dd>3</dd>",
        "<strong class=\"error\">10</strong>",
        "<li>limite di tempo: 1</li>",
        "<li>limite di memoria: 1</li>",
        "<li>limite di spazio: 1</li>",
        "<li>limite di dimensione di una risposta remota: 1</li>",
        // Counted since the server started, an hour before the first call: 09:53 in Rome.
        "Contate dal 09/10/2025 09:53",
        "<caption>Le ultime chiamate del canale, dalla più recente</caption>",
        "<th scope=\"col\">Esito</th>",
        // The newest call first, at 09:07 UTC: 11:07 in Rome.
        "09/10/2025 11:07",
        "<code>GET /slow</code>",
        "<strong class=\"error\">Errore:</strong> Raggiunto il limite di tempo",
        "Non concesso: mail",
        "Raggiunto il limite di spazio",
        "Ha chiesto di riprovare più tardi",
        "<code>POST https://api.example/v5/items</code>",
        "Il canale si è bloccato",
    ] {
        assert!(section.contains(text), "the calls section lacks {text}: {section}");
    }
    let newest = section.find("GET /slow").unwrap();
    let oldest = section.find("GET /products/cannolo").unwrap();
    assert!(newest < oldest, "newest first");
    // A visitor's not-found is the channel's answer, not an error of it.
    let not_found = section.split("GET /nowhere").nth(1).unwrap().split("</tr>").next().unwrap();
    assert!(not_found.contains("Risposta: non trovato") && !not_found.contains("Errore:"), "{not_found}");

    let english = admin.sign_in("alpha", "en").await;
    let page = admin.get(&format!("/admin/channels/{}", a.channel), &english).await;
    for text in [
        "Recent calls",
        "Limits reached",
        "time limit: 1",
        "Error:</strong> Reached the time limit",
        "9 Oct 2025, 11:07",
    ] {
        assert!(page.html.contains(text), "the English page lacks {text}: {}", page.html);
    }
}
