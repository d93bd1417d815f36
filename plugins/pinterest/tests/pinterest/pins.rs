//! One Pin per new product, never two; the feed.

use std::time::Duration;

use serde_json::Value;

use crate::shop::*;
use crate::stand_in::{Pinterest, error};

#[test]
fn a_new_product_is_pinned_once_within_pinterests_limits() {
    let pinterest = Pinterest::start();
    let h = shop(&pinterest, &[]);
    let mut p = product("p-1", "Cannolo", &["CAN-1"]);
    p.title = "Cannolo siciliano con ricotta ".repeat(10);
    p.description = "Ricotta ".repeat(200);
    deliver(&h, &changed("e-1", &p));
    h.advance(Duration::from_secs(2));
    deliver(&h, &changed("e-2", &p));
    let pins = pinterest.calls("POST", "/v5/pins");
    assert_eq!(pins.len(), 1, "pinned once");
    let pin: Value = serde_json::from_slice(&pins[0].body).unwrap();
    assert_eq!(pin["board_id"], BOARD);
    assert!(pin["title"].as_str().unwrap().chars().count() <= 100);
    assert!(pin["description"].as_str().unwrap().chars().count() <= 800);
    assert_eq!(pin["alt_text"], "Cannolo on a plate", "the image's own alt text");
    assert_eq!(pin["link"], format!("{SHOP_URL}/products/{}", p.handle));
    assert_eq!(pin["media_source"]["url"], format!("{SHOP_URL}/media/p-1/photo.jpg"));
    assert_eq!(stored(&h, "pin/p-1").unwrap()["state"], "created");
    pinterest.assert_conformant();
}

#[test]
fn a_pin_that_may_exist_is_never_sent_again() {
    let pinterest = Pinterest::start();
    let h = shop(&pinterest, &[]);
    let p = product("p-1", "Cannolo", &["CAN-1"]);
    // The Pin call (made before the batch) fails on Pinterest's side: it may have been created.
    pinterest.then(error(502, 0, "Bad gateway"));
    deliver(&h, &changed("e-1", &p));
    assert_eq!(stored(&h, "pin/p-1").unwrap()["state"], "unknown");
    h.advance(Duration::from_secs(60));
    deliver(&h, &changed("e-2", &p));
    assert_eq!(pinterest.calls("POST", "/v5/pins").len(), 1, "never twice");
    assert_eq!(pinterest.batches().len(), 2, "the catalog sync went on");
}

#[test]
fn the_feed_streams_every_variant_in_pinterests_columns() {
    let pinterest = Pinterest::start();
    let h = shop(&pinterest, &[]);
    let r = h.get("/feed.tsv").unwrap();
    assert_eq!(r.status, 200);
    assert!(r.pages > 1, "streamed in pages: {}", r.pages);
    let text = r.text();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    assert_eq!(&header[..5], &["id", "item_group_id", "title", "description", "link"]);
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split('\t').collect()).collect();
    assert!(rows.len() >= 31, "{} rows", rows.len());
    for row in &rows {
        assert_eq!(row.len(), header.len(), "{row:?}");
        let price = row[header.iter().position(|c| *c == "price").unwrap()];
        assert!(price.ends_with(" EUR"), "{price}");
        let availability = row[header.iter().position(|c| *c == "availability").unwrap()];
        assert!(["in stock", "out of stock", "preorder"].contains(&availability), "{availability}");
        assert!(row[4].starts_with(SHOP_URL));
    }
    assert!(pinterest.requests().is_empty());
}

#[test]
fn the_feed_is_registered_on_install_when_asked() {
    let pinterest = Pinterest::start();
    let h = shop(&pinterest, &[("register_feed", "on"), ("feed_base_url", "https://dolce-vita.example/pinterest")]);
    let installed = event("i-1", "installed", NOW, omnistore_sdk_harness::types::EventPayload::Installed);
    deliver(&h, &installed);
    deliver(&h, &event("i-2", "installed", NOW, omnistore_sdk_harness::types::EventPayload::Installed));
    let feeds = pinterest.calls("POST", "/v5/catalogs/feeds");
    assert_eq!(feeds.len(), 1, "registered once");
    let body: Value = serde_json::from_slice(&feeds[0].body).unwrap();
    assert_eq!(body["location"], "https://dolce-vita.example/pinterest/feed.tsv");
    assert_eq!(body["format"], "TSV");
    pinterest.assert_conformant();
}

#[test]
fn the_csv_feed_holds_the_same_rows_as_pythons_csv_reader_reads_them() {
    let pinterest = Pinterest::start();
    let h = shop(&pinterest, &[]);
    let tsv = h.get("/feed.tsv").unwrap().text();
    let r = h.get("/feed.csv").unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/csv; charset=utf-8"));
    assert!(r.pages > 1, "streamed in pages: {}", r.pages);
    let script = "import csv, json, sys\njson.dump(list(csv.reader(sys.stdin.read().splitlines(True), strict=True)), sys.stdout)";
    let judges = omnistore_judges::Judges::find().unwrap();
    let rows = judges.run_python(script, &[], r.text().as_bytes()).unwrap();
    let rows: Vec<Vec<String>> = serde_json::from_value(rows).unwrap();
    let tsv_rows: Vec<Vec<String>> = tsv.lines().map(|l| l.split('\t').map(str::to_string).collect()).collect();
    assert_eq!(rows.len(), tsv_rows.len(), "one record per variant and the header");
    assert_eq!(rows[0], tsv_rows[0], "the same columns");
    for (csv_row, tsv_row) in rows.iter().zip(&tsv_rows) {
        assert_eq!(csv_row.len(), tsv_row.len(), "{csv_row:?}");
        assert_eq!(csv_row[0], tsv_row[0], "same order, same ids");
    }
}

#[test]
fn the_xml_feed_holds_the_same_items_as_pythons_xml_parser_reads_them() {
    let pinterest = Pinterest::start();
    let h = shop(&pinterest, &[]);
    let tsv = h.get("/feed.tsv").unwrap().text();
    let r = h.get("/feed.xml").unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/rss+xml; charset=utf-8"));
    assert!(r.pages > 1, "streamed in pages: {}", r.pages);
    // Python's own XML parser reads it whole: well formed, every item in the
    // `g:` namespace, no field left empty.
    let script = "import json, sys, xml.etree.ElementTree as ET\n\
        G = '{http://base.google.com/ns/1.0}'\n\
        root = ET.fromstring(sys.stdin.buffer.read())\n\
        items = []\n\
        for item in root.find('channel').findall('item'):\n\
        \x20   fields = {}\n\
        \x20   for child in item:\n\
        \x20       assert child.tag.startswith(G), child.tag\n\
        \x20       assert child.text, child.tag\n\
        \x20       fields.setdefault(child.tag[len(G):], []).append(child.text)\n\
        \x20   items.append(fields)\n\
        json.dump({'rss': root.tag, 'title': root.find('channel').find('title').text, 'items': items}, sys.stdout)";
    let judges = omnistore_judges::Judges::find().unwrap();
    let feed = judges.run_python(script, &[], r.text().as_bytes()).unwrap();
    assert_eq!(feed["rss"], "rss");
    assert_eq!(feed["title"], "Pasticceria Dolce Vita");
    let items = feed["items"].as_array().unwrap();
    let tsv_rows: Vec<Vec<&str>> = tsv.lines().skip(1).map(|l| l.split('\t').collect()).collect();
    assert_eq!(items.len(), tsv_rows.len(), "an item per variant, as the TSV has a row");
    for (item, row) in items.iter().zip(&tsv_rows) {
        assert_eq!(item["id"][0], row[0], "same order, same ids");
        let price = item["price"][0].as_str().unwrap();
        assert!(price.ends_with(" EUR"), "{price}");
        assert!(item["link"][0].as_str().unwrap().starts_with(SHOP_URL));
    }
    assert!(pinterest.requests().is_empty());
}
