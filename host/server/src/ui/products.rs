//! Products: the list with search, a new product, a product's page (title,
//! description, status, brand, tags, collections, its variants' SKUs and
//! prices), publication per channel, and images uploaded through the same
//! path as the JSON API's upload (checked and stored by `omnistore-media`,
//! attached by the core). Adding a variant and ordering or removing images
//! are `products/variants.rs` and `products/images.rs`.

use std::collections::BTreeMap;

use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use omnistore_core::{
    ChannelId, Core, NewProduct, NewVariant, ProductDetail, ProductId, ProductPatch, ProductQuery, ProductStatus,
    TenantId, VariantPatch,
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::forms::{self, FieldErrors, Fields, refused_or};
use super::i18n::{Locale, money_input};
use super::render::{Chrome, page};
use super::session::{Shop, ShopForm};
use super::{UiError, UiState};
use crate::admin::images::{Upload, store_and_attach};
use crate::admin::{AdminError, blocking};

mod images;
mod variants;

pub(crate) use images::arrange_image;
pub(crate) use variants::add_variant;

const STATUSES: [(ProductStatus, &str); 3] =
    [(ProductStatus::Draft, "draft"), (ProductStatus::Active, "active"), (ProductStatus::Archived, "archived")];
/// Products looked through for one search at most.
const SCAN_LIMIT: usize = 20_000;
/// Matches shown.
const SHOWN: usize = 200;

fn status_name(s: ProductStatus) -> &'static str {
    STATUSES.iter().find(|(x, _)| *x == s).map_or("draft", |(_, n)| n)
}

fn parse_status(fields: &Fields, locale: Locale, errors: &mut FieldErrors) -> Option<ProductStatus> {
    let value = fields.get("status").map(String::as_str).unwrap_or("");
    let found = STATUSES.iter().find(|(_, n)| *n == value).map(|(s, _)| *s);
    if found.is_none() {
        errors.add("status", locale.t("err_invalid"));
    }
    found
}

fn statuses(locale: Locale) -> Vec<Value> {
    STATUSES.iter().map(|(_, n)| json!({ "key": n, "label": locale.t(&format!("pstatus_{n}")) })).collect()
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Search {
    #[serde(default)]
    q: String,
    /// `draft`, `active`, `archived`; empty: any.
    #[serde(default)]
    status: String,
    /// A collection id of this shop; empty: any.
    #[serde(default)]
    collection: String,
    #[serde(default)]
    done: String,
}

/// Products whose title, handle or tags contain `q` (any case), or with a
/// variant of SKU `q`, of the status and in the collection asked (the core
/// filters those); newest first. Blocking.
fn search(
    core: &Core,
    tenant: &TenantId,
    q: &str,
    status: Option<ProductStatus>,
    collection: Option<omnistore_core::CollectionId>,
) -> Result<Vec<(omnistore_core::Product, usize)>, AdminError> {
    let needle = q.trim().to_lowercase();
    let by_sku =
        if needle.is_empty() { None } else { core.variant_by_sku(tenant, q.trim()).ok().map(|v| v.product_id) };
    let mut found = std::collections::VecDeque::new();
    let mut after = None;
    let mut scanned = 0;
    loop {
        let query = ProductQuery { after: after.clone(), limit: 500, status, collection: collection.clone() };
        let batch = core.list_products(tenant, &query)?;
        scanned += batch.len();
        after = batch.last().map(|p| p.id.clone());
        let full = batch.len() == 500;
        for p in batch {
            let hit = needle.is_empty()
                || by_sku.as_ref() == Some(&p.id)
                || p.title.to_lowercase().contains(&needle)
                || p.handle.contains(&needle)
                || p.tags.iter().any(|t| t.contains(&needle));
            if hit {
                found.push_back(p);
                if found.len() > SHOWN {
                    found.pop_front();
                }
            }
        }
        if !full || scanned >= SCAN_LIMIT {
            break;
        }
    }
    let mut out = Vec::new();
    for p in found.into_iter().rev() {
        let variants = core.product_variants(tenant, &p.id)?.len();
        out.push((p, variants));
    }
    Ok(out)
}

pub(crate) async fn list(
    State(state): State<UiState>,
    shop: Shop,
    headers: HeaderMap,
    uri: Uri,
    Query(s): Query<Search>,
) -> Result<Response, UiError> {
    let locale = shop.locale(&headers);
    let status = STATUSES.iter().find(|(_, n)| *n == s.status).map(|(st, _)| *st);
    let (core, tenant, q) = (state.admin.core().clone(), shop.tenant.clone(), s.q.clone());
    let chosen = s.collection.trim().to_owned();
    let (products, collections) = blocking(move || {
        let collections = core.list_collections(&tenant)?;
        // Only this shop's collections filter; another id matches nothing.
        let collection = (!chosen.is_empty()).then(|| omnistore_core::CollectionId::new(chosen.as_str()));
        if collection.as_ref().is_some_and(|c| !collections.iter().any(|k| &k.id == c)) {
            return Ok((Vec::new(), collections));
        }
        Ok::<_, AdminError>((search(&core, &tenant, &q, status, collection)?, collections))
    })
    .await?;
    let collections: Vec<Value> =
        collections.iter().map(|c| json!({ "id": c.id.to_string(), "title": c.title })).collect();
    let rows: Vec<Value> = products
        .iter()
        .map(|(p, variants)| {
            json!({
                "id": p.id.to_string(), "title": p.title, "handle": p.handle,
                "status": locale.t(&format!("pstatus_{}", status_name(p.status))),
                "variants": locale.number(*variants as i64),
                "updated": locale.datetime(p.updated_ms),
            })
        })
        .collect();
    let done = (s.done == "created").then(|| locale.t("done_created"));
    let chrome = Chrome::new(locale, Some(&shop.session), "products", uri.to_string());
    page(
        &state,
        StatusCode::OK,
        "products.html",
        &chrome,
        json!({
            "products": rows, "q": s.q, "done": done, "form": null, "statuses": statuses(locale),
            "status": s.status, "collections": collections, "collection": s.collection,
        }),
    )
}

/// The new-product form, empty or as it was sent with its errors.
fn new_form_page(
    state: &UiState,
    shop: &Shop,
    locale: Locale,
    status: StatusCode,
    values: Value,
    errors: &FieldErrors,
    message: Option<String>,
) -> Result<Response, UiError> {
    let chrome = Chrome::new(locale, Some(&shop.session), "products", "/admin/products/new");
    page(
        state,
        status,
        "products.html",
        &chrome,
        json!({
            "products": [], "q": "", "done": null,
            "form": { "values": values, "errors": errors.to_json(), "statuses": statuses(locale), "message": message },
        }),
    )
}

pub(crate) async fn new_form(
    State(state): State<UiState>,
    shop: Shop,
    headers: HeaderMap,
) -> Result<Response, UiError> {
    let locale = shop.locale(&headers);
    let values = json!({ "title": "", "handle": "", "description": "", "sku": "", "price": "", "status": "draft" });
    new_form_page(&state, &shop, locale, StatusCode::OK, values, &FieldErrors::default(), None)
}

pub(super) fn currency(core: &Core, tenant: &TenantId) -> Result<String, AdminError> {
    Ok(core.get_tenant(tenant)?.currency)
}

pub(crate) async fn create(
    State(state): State<UiState>,
    ShopForm { shop, locale, fields }: ShopForm,
) -> Result<Response, UiError> {
    let (core, tenant) = (state.admin.core().clone(), shop.tenant.clone());
    let cur = {
        let (core, tenant) = (core.clone(), tenant.clone());
        blocking(move || currency(&core, &tenant)).await?
    };
    let mut errors = FieldErrors::default();
    let title = forms::text(&fields, "title", 300, locale, &mut errors);
    let description = forms::optional_text(&fields, "description", 64 * 1024, locale, &mut errors);
    let typed_handle = forms::optional_text(&fields, "handle", 128, locale, &mut errors);
    let handle = if typed_handle.is_empty() {
        title.as_deref().map(forms::handle_from).unwrap_or_default()
    } else {
        typed_handle
    };
    if !handle.is_empty()
        && !handle.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    {
        errors.add("handle", locale.t("err_handle"));
    }
    let sku = forms::text(&fields, "sku", 64, locale, &mut errors);
    let price = forms::price(&fields, "price", &cur, locale, &mut errors);
    let status = parse_status(&fields, locale, &mut errors);
    let values = json!({
        "title": fields.get("title").cloned().unwrap_or_default(),
        "handle": fields.get("handle").cloned().unwrap_or_default(),
        "description": fields.get("description").cloned().unwrap_or_default(),
        "sku": fields.get("sku").cloned().unwrap_or_default(),
        "price": fields.get("price").cloned().unwrap_or_default(),
        "status": fields.get("status").cloned().unwrap_or_default(),
    });
    let (Some(title), Some(sku), Some(price), Some(status), true) = (title, sku, price, status, errors.is_empty())
    else {
        return new_form_page(&state, &shop, locale, StatusCode::UNPROCESSABLE_ENTITY, values, &errors, None);
    };
    let now = state.admin.now();
    let result = blocking(move || {
        // Say which field is taken, next to it, before the core refuses.
        let mut taken = FieldErrors::default();
        if core.product_by_handle(&tenant, &handle).is_ok() {
            taken.add("handle", locale.t("err_taken"));
        }
        if core.variant_by_sku(&tenant, &sku).is_ok() {
            taken.add("sku", locale.t("err_taken"));
        }
        if !taken.is_empty() {
            return Ok(Err((taken, None)));
        }
        let new = NewProduct {
            handle,
            title: title.clone(),
            description,
            brand: None,
            tags: vec![],
            collections: vec![],
            images: vec![],
            status,
            variants: vec![NewVariant {
                sku,
                title,
                options: BTreeMap::new(),
                gtin: None,
                weight_grams: None,
                price: omnistore_core::Money { amount_minor: price, currency: cur },
                compare_at: None,
                backorderable: false,
            }],
        };
        Ok(refused_or(core.create_product(&tenant, new, now))?
            .map(|detail| detail.product.id)
            .map_err(|message| (FieldErrors::default(), Some(message))))
    })
    .await?;
    match result {
        Ok(id) => Ok(Redirect::to(&format!("/admin/products/{id}?done=created")).into_response()),
        Err((errors, message)) => {
            new_form_page(&state, &shop, locale, StatusCode::UNPROCESSABLE_ENTITY, values, &errors, message)
        }
    }
}

/// What a product's page shows. Blocking.
fn product_view(core: &Core, tenant: &TenantId, id: &ProductId, locale: Locale) -> Result<Value, AdminError> {
    let ProductDetail { product, variants } = core.get_product(tenant, id)?;
    let published: Vec<String> =
        core.product_publications(tenant, id)?.into_iter().map(|p| p.channel_id.to_string()).collect();
    // Each channel with this product's sync report, where the channel keeps one.
    let kv = core.store().clone();
    let mut channels: Vec<Value> = Vec::new();
    for c in core.list_channels(tenant)? {
        let report = omnistore_services::sync_state::product_state(&*kv, tenant, c.id.as_str(), id.as_str())
            .map_err(AdminError::storage)?;
        channels.push(json!({
            "id": c.id.to_string(), "name": c.name, "published": published.contains(&c.id.to_string()),
            "sync": report.map(|r| super::channel_health::product_sync_row(&r, locale)),
        }));
    }
    let variants: Vec<Value> = variants
        .iter()
        .map(|v| {
            json!({
                "id": v.id.to_string(), "title": v.title, "sku": v.sku,
                "price": money_input(locale, v.price.amount_minor, &v.price.currency),
                "price_shown": locale.money(v.price.amount_minor, &v.price.currency),
            })
        })
        .collect();
    let collections: Vec<Value> = core
        .list_collections(tenant)?
        .into_iter()
        .map(|c| json!({ "id": c.id.to_string(), "title": c.title, "member": product.collections.contains(&c.id) }))
        .collect();
    let images: Vec<Value> = product
        .images
        .iter()
        .map(|i| {
            let src = match &i.media {
                // Served to the signed-in merchant by the admin itself: the
                // shop's own host name may not be the admin's.
                Some(_) => i.url.replacen("/media/", "/admin/media/", 1),
                None => i.url.clone(),
            };
            json!({ "src": src, "alt": i.alt.clone().unwrap_or_default(), "url": i.url })
        })
        .collect();
    Ok(json!({
        "id": product.id.to_string(),
        "title": product.title,
        "handle": product.handle,
        "description": product.description,
        "status": status_name(product.status),
        "brand": product.brand.clone().unwrap_or_default(),
        "tags": product.tags.join(", "),
        "collections": collections,
        "variants": variants,
        "channels": channels,
        "images": images,
    }))
}

/// Edited values sent back with their errors, by field name.
pub(super) type Sent = BTreeMap<String, String>;

pub(super) async fn render_product(
    state: &UiState,
    shop: &Shop,
    locale: Locale,
    id: ProductId,
    status: StatusCode,
    notice: Notice,
) -> Result<Response, UiError> {
    let (core, tenant) = (state.admin.core().clone(), shop.tenant.clone());
    let here = format!("/admin/products/{id}");
    let mut view = blocking(move || product_view(&core, &tenant, &id, locale)).await?;
    // What was sent stays in the form beside its errors.
    for key in ["title", "description", "status", "brand", "tags"] {
        if let Some(value) = notice.sent.get(key) {
            view[key] = json!(value);
        }
    }
    if let Some(variants) = view["variants"].as_array_mut() {
        for v in variants {
            let id = v["id"].as_str().unwrap_or_default().to_owned();
            for key in ["sku", "price"] {
                if let Some(value) = notice.sent.get(&format!("{key}_{id}")) {
                    v[key] = json!(value);
                }
            }
        }
    }
    // The details form was sent: its ticks stay as they were sent.
    if let Some(collections) = view["collections"].as_array_mut()
        && notice.sent.contains_key("title")
    {
        for c in collections {
            let field = format!("collection_{}", c["id"].as_str().unwrap_or_default());
            c["member"] = json!(notice.sent.get(&field).is_some_and(|v| v == "on"));
        }
    }
    view["new_variant"] = json!({
        "title": notice.sent.get("new_title").cloned().unwrap_or_default(),
        "sku": notice.sent.get("new_sku").cloned().unwrap_or_default(),
        "price": notice.sent.get("new_price").cloned().unwrap_or_default(),
    });
    let done = match notice.done.as_str() {
        "created" | "saved" | "published" | "image" | "variant" | "images" => {
            Some(locale.t(&format!("done_{}", notice.done)))
        }
        _ => None,
    };
    let chrome = Chrome::new(locale, Some(&shop.session), "products", here);
    page(
        state,
        status,
        "product.html",
        &chrome,
        json!({
            "product": view, "done": done, "errors": notice.errors.to_json(),
            "message": notice.message, "statuses": statuses(locale),
        }),
    )
}

/// What a product's page says above its forms.
#[derive(Debug, Default)]
pub(super) struct Notice {
    pub done: String,
    pub errors: FieldErrors,
    pub sent: Sent,
    pub message: Option<String>,
}

pub(crate) async fn edit(
    State(state): State<UiState>,
    shop: Shop,
    headers: HeaderMap,
    Path(product): Path<String>,
    Query(s): Query<Search>,
) -> Result<Response, UiError> {
    let locale = shop.locale(&headers);
    let notice = Notice { done: s.done, ..Notice::default() };
    render_product(&state, &shop, locale, ProductId::new(product), StatusCode::OK, notice).await
}

/// Tags typed as a list separated by commas: each at most 64 characters,
/// at most 50, repeated ones once.
fn read_tags(fields: &Fields, locale: Locale, errors: &mut FieldErrors) -> Vec<String> {
    let mut tags: Vec<String> = Vec::new();
    for tag in fields.get("tags").map(String::as_str).unwrap_or_default().split(',') {
        let tag = tag.trim();
        if tag.is_empty() || tags.iter().any(|t| t.eq_ignore_ascii_case(tag)) {
            continue;
        }
        if tag.chars().count() > 64 {
            errors.add("tags", locale.t("err_tag_too_long"));
        }
        tags.push(tag.to_owned());
    }
    if tags.len() > 50 {
        errors.add("tags", locale.t("err_too_many_tags"));
    }
    tags
}

/// Save the product's fields and its variants' SKUs and prices: every field
/// is checked first, then the changes are made; a refusal changes nothing.
pub(crate) async fn update(
    State(state): State<UiState>,
    Path(product): Path<String>,
    ShopForm { shop, locale, fields }: ShopForm,
) -> Result<Response, UiError> {
    let id = ProductId::new(product);
    let (core, tenant, now) = (state.admin.core().clone(), shop.tenant.clone(), state.admin.now());
    let pid = id.clone();
    let result = blocking(move || {
        let detail = core.get_product(&tenant, &pid)?;
        let cur = currency(&core, &tenant)?;
        let mut errors = FieldErrors::default();
        let title = forms::text(&fields, "title", 300, locale, &mut errors);
        let description = forms::optional_text(&fields, "description", 64 * 1024, locale, &mut errors);
        let status = parse_status(&fields, locale, &mut errors);
        let brand = forms::optional_text(&fields, "brand", 200, locale, &mut errors);
        let tags = read_tags(&fields, locale, &mut errors);
        // Only this shop's collections can be ticked; anything else is ignored.
        let collections: Vec<_> = core
            .list_collections(&tenant)?
            .into_iter()
            .filter(|c| fields.get(&format!("collection_{}", c.id)).is_some_and(|v| v == "on"))
            .map(|c| c.id)
            .collect();
        let mut changes = Vec::new();
        for v in &detail.variants {
            let sku_field = format!("sku_{}", v.id);
            let price_field = format!("price_{}", v.id);
            let sku = forms::text(&fields, &sku_field, 64, locale, &mut errors);
            let price = forms::price(&fields, &price_field, &cur, locale, &mut errors);
            if let Some(sku) = &sku
                && *sku != v.sku
                && core.variant_by_sku(&tenant, sku).is_ok()
            {
                errors.add(&sku_field, locale.t("err_taken"));
            }
            if let (Some(sku), Some(price)) = (sku, price) {
                changes.push((v.id.clone(), sku, price));
            }
        }
        let (Some(title), Some(status), true) = (title, status, errors.is_empty()) else {
            return Ok(Err((errors, fields)));
        };
        for (variant, sku, price) in changes {
            let patch = VariantPatch {
                sku: Some(sku),
                price: Some(omnistore_core::Money { amount_minor: price, currency: cur.clone() }),
                ..VariantPatch::default()
            };
            core.update_variant(&tenant, &variant, patch, now)?;
        }
        let patch = ProductPatch {
            title: Some(title),
            description: Some(description),
            status: Some(status),
            brand: Some((!brand.is_empty()).then_some(brand)),
            tags: Some(tags),
            collections: Some(collections),
            ..Default::default()
        };
        core.update_product(&tenant, &pid, patch, now)?;
        Ok(Ok(()))
    })
    .await;
    match result {
        Ok(Ok(())) => Ok(Redirect::to(&format!("/admin/products/{id}?done=saved")).into_response()),
        Ok(Err((errors, sent))) => {
            let notice = Notice { errors, sent, ..Notice::default() };
            render_product(&state, &shop, locale, id, StatusCode::UNPROCESSABLE_ENTITY, notice).await
        }
        Err(e) if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND => {
            let notice = Notice { message: Some(e.message), ..Notice::default() };
            render_product(&state, &shop, locale, id, StatusCode::UNPROCESSABLE_ENTITY, notice).await
        }
        Err(e) => Err(e.into()),
    }
}

/// Publish the product on the ticked channels and take it off the others.
pub(crate) async fn publications(
    State(state): State<UiState>,
    Path(product): Path<String>,
    ShopForm { shop, fields, .. }: ShopForm,
) -> Result<Response, UiError> {
    let id = ProductId::new(product);
    let (core, tenant, now, pid) = (state.admin.core().clone(), shop.tenant.clone(), state.admin.now(), id.clone());
    blocking(move || {
        core.get_product(&tenant, &pid)?;
        let published: Vec<ChannelId> =
            core.product_publications(&tenant, &pid)?.into_iter().map(|p| p.channel_id).collect();
        for channel in core.list_channels(&tenant)? {
            let wanted = fields.get(&format!("channel_{}", channel.id)).is_some_and(|v| v == "on");
            match (wanted, published.contains(&channel.id)) {
                (true, false) => {
                    core.publish_product(&tenant, &pid, &channel.id, now)?;
                }
                (false, true) => core.unpublish_product(&tenant, &pid, &channel.id, now)?,
                _ => {}
            }
        }
        Ok(())
    })
    .await?;
    Ok(Redirect::to(&format!("/admin/products/{id}?done=published")).into_response())
}

/// An image from the upload form (multipart: `csrf`, `image`, `alt`).
pub(crate) async fn upload_image(
    State(state): State<UiState>,
    shop: Shop,
    headers: HeaderMap,
    Path(product): Path<String>,
    mut multipart: Multipart,
) -> Result<Response, UiError> {
    let locale = shop.locale(&headers);
    let id = ProductId::new(product);
    let (mut csrf, mut alt, mut image, mut declared) = (None, None, None, None);
    let mut errors = FieldErrors::default();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(_) => {
                errors.add("image", locale.t("err_upload"));
                break;
            }
        };
        match field.name().unwrap_or("") {
            "csrf" => csrf = field.text().await.ok(),
            "alt" => alt = field.text().await.ok(),
            "image" => {
                declared = field.content_type().and_then(omnistore_media::ImageFormat::from_mime);
                image = field.bytes().await.ok();
            }
            _ => {}
        }
    }
    shop.session.check_csrf(csrf.as_deref())?;
    let alt = alt.map(|a| a.trim().to_owned()).filter(|a| !a.is_empty());
    if alt.as_ref().is_some_and(|a| a.chars().count() > 300) {
        errors.add("alt", locale.t("err_too_long").replace("{max}", "300"));
    }
    let bytes = image.filter(|b| !b.is_empty());
    if bytes.is_none() {
        errors.add("image", locale.t("err_image_missing"));
    } else if declared.is_none() {
        errors.add("image", locale.t("err_image_type"));
    }
    let media = state.admin.media_store();
    if media.is_none() {
        errors.add("image", locale.t("err_no_media"));
    }
    let (Some(bytes), Some(media), true) = (bytes, media, errors.is_empty()) else {
        let notice = Notice { errors, ..Notice::default() };
        return render_product(&state, &shop, locale, id, StatusCode::UNPROCESSABLE_ENTITY, notice).await;
    };
    let (core, tenant, now, pid) = (state.admin.core().clone(), shop.tenant.clone(), state.admin.now(), id.clone());
    let stored = blocking(move || {
        let upload = Upload { bytes: &bytes, declared, alt };
        Ok(store_and_attach(&core, &media, &tenant, &pid, upload, now))
    })
    .await?;
    match stored {
        Ok(_) => Ok(Redirect::to(&format!("/admin/products/{id}?done=image")).into_response()),
        Err(e) if e.status == StatusCode::NOT_FOUND => Err(e.into()),
        Err(e) if e.status.is_client_error() => {
            let mut errors = FieldErrors::default();
            errors.add("image", format!("{} ({})", locale.t("err_image_refused"), e.message));
            let notice = Notice { errors, ..Notice::default() };
            render_product(&state, &shop, locale, id, StatusCode::UNPROCESSABLE_ENTITY, notice).await
        }
        Err(e) => Err(e.into()),
    }
}

/// A product image of the signed-in shop, for the admin's previews.
pub(crate) async fn media(
    State(state): State<UiState>,
    shop: Shop,
    headers: HeaderMap,
    Path((image, file)): Path<(String, String)>,
    uri: Uri,
) -> Result<Response, UiError> {
    let Some(media) = state.admin.media_store() else {
        return Err(AdminError::not_found("no images on this host").into());
    };
    let path = format!("/media/{image}/{file}");
    match crate::media::serve(media, shop.tenant, &Method::GET, &path, uri.query(), &headers).await {
        Ok(response) => Ok(response),
        Err(e) => Ok(e.into_response()),
    }
}
