//! The day-to-day operations of the browser admin, through the router:
//! stock moved between locations and a variant's ledger, orders filtered by
//! fulfilment and location and returned at a location, a channel's dead
//! letters replayed and its sync report read, conversion per channel.

use axum::http::StatusCode;
use omnistore_core::{LocationId, TenantId, VariantId};

use super::Admin;

#[tokio::test]
async fn stock_is_moved_between_locations_and_the_ledger_shows_every_change() {
    let admin = Admin::new();
    let a = admin.shop("alpha", "A").await;
    let browser = admin.sign_in("alpha", "it").await;
    let grid = admin.get("/admin/inventory", &browser).await;
    assert!(grid.html.contains("Sposta merce tra sedi"), "{}", grid.html);
    let csrf = grid.hidden("csrf");
    let t = TenantId::new("alpha").unwrap();
    let v = VariantId::new(a.variant.as_str());
    let level = |loc: &str| admin.api.core.stock_level(&t, &v, &LocationId::new(loc)).unwrap().on_hand;
    let (wh, shop) = (level(&a.warehouse), level(&a.shop));
    let r = admin
        .post(
            "/admin/inventory/transfer",
            &browser,
            &[
                ("csrf", &csrf),
                ("t_variant", &a.variant),
                ("from", &a.warehouse),
                ("to", &a.shop),
                ("quantity", "3"),
                ("t_note", "morning batch"),
            ],
        )
        .await;
    assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, "/admin/inventory?done=transferred"), "{}", r.html);
    assert_eq!((level(&a.warehouse), level(&a.shop)), (wh - 3, shop + 3));
    let done = admin.get(r.location(), &browser).await;
    assert!(done.html.contains("Merce spostata."), "{}", done.html);

    // The ledger: both legs of the transfer with the note, the receipts before.
    let ledger = admin.get(&format!("/admin/inventory/{}", a.variant), &browser).await;
    assert_eq!(ledger.status, StatusCode::OK, "{}", ledger.html);
    for text in ["Spostata via", "Arrivata", "morning batch", "Ricevuta", "Laboratorio", "Negozio", "-3", "+3"] {
        assert!(ledger.html.contains(text), "the ledger lacks {text}: {}", ledger.html);
    }
    let moved_out = ledger.html.find("Spostata via").unwrap();
    assert!(moved_out < ledger.html.find("Ricevuta").unwrap(), "newest first");
    assert_eq!(admin.get("/admin/inventory/var-nope", &browser).await.status, StatusCode::NOT_FOUND);
}
