//! Catalog: products, variants (one SKU each), collections and per-channel
//! publication with sync state.

use std::collections::BTreeMap;
use std::ops::Bound;

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::error::{CoreError, CoreResult};
use crate::event_kind::DomainEventKind;
use crate::ids::{ChannelId, CollectionId, ProductId, TenantId, VariantId};
use crate::money::Money;
use crate::store::{Core, Tx};
use crate::tenants::load_channel;
use crate::validate;

mod images;

use images::check_images;
pub use images::{ImageMedia, NewImageMedia};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProductStatus {
    /// Being prepared; no channel shows it and it cannot be bought.
    Draft,
    Active,
    /// Kept for history; no channel shows it and it cannot be bought.
    Archived,
}

/// A picture of a product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Image {
    /// Where the picture is. For an image the host keeps (`media` is set)
    /// the core writes it: `/media/{image id}/{sha256}.{ext}`, a path on the
    /// shop's own host names; otherwise any URL the merchant gives.
    pub url: String,
    pub alt: Option<String>,
    /// Set for an image uploaded to the host (see [`Core::attach_image`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media: Option<ImageMedia>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    pub id: ProductId,
    /// URL-safe, unique per tenant.
    pub handle: String,
    pub title: String,
    pub description: String,
    pub brand: Option<String>,
    pub tags: Vec<String>,
    pub collections: Vec<CollectionId>,
    pub images: Vec<Image>,
    pub status: ProductStatus,
    pub created_ms: i64,
    pub updated_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Variant {
    pub id: VariantId,
    pub product_id: ProductId,
    /// Unique per tenant.
    pub sku: String,
    pub title: String,
    /// Option name → value ("Formato" → "Grande").
    pub options: BTreeMap<String, String>,
    pub gtin: Option<String>,
    pub weight_grams: Option<i64>,
    /// The base price.
    pub price: Money,
    /// The "was" price shown struck through, if any.
    pub compare_at: Option<Money>,
    /// May be sold beyond stock (made to order).
    pub backorderable: bool,
    pub created_ms: i64,
    pub updated_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductDetail {
    pub product: Product,
    pub variants: Vec<Variant>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewVariant {
    pub sku: String,
    pub title: String,
    #[serde(default)]
    pub options: BTreeMap<String, String>,
    pub gtin: Option<String>,
    pub weight_grams: Option<i64>,
    pub price: Money,
    pub compare_at: Option<Money>,
    #[serde(default)]
    pub backorderable: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewProduct {
    pub handle: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
    pub brand: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub collections: Vec<CollectionId>,
    #[serde(default)]
    pub images: Vec<Image>,
    pub status: ProductStatus,
    pub variants: Vec<NewVariant>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ProductPatch {
    pub handle: Option<String>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub brand: Option<Option<String>>,
    pub tags: Option<Vec<String>>,
    pub collections: Option<Vec<CollectionId>>,
    pub images: Option<Vec<Image>>,
    pub status: Option<ProductStatus>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct VariantPatch {
    pub sku: Option<String>,
    pub title: Option<String>,
    pub options: Option<BTreeMap<String, String>>,
    pub gtin: Option<Option<String>>,
    pub weight_grams: Option<Option<i64>>,
    pub price: Option<Money>,
    pub compare_at: Option<Option<Money>>,
    pub backorderable: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Collection {
    pub id: CollectionId,
    pub handle: String,
    pub title: String,
    pub description: String,
    pub created_ms: i64,
    pub updated_ms: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewCollection {
    pub handle: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncStatus {
    Pending,
    Synced,
    Failed,
}

/// What a channel last reported about pushing a product to its platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncState {
    pub status: SyncStatus,
    /// The product's id on the channel's platform.
    pub external_id: Option<String>,
    pub error: Option<String>,
    pub at_ms: i64,
}

/// A product shown on a channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Publication {
    pub product_id: ProductId,
    pub channel_id: ChannelId,
    pub published_ms: i64,
    pub sync: Option<SyncState>,
}

/// Filter and page for [`Core::list_products`].
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ProductQuery {
    /// Continue after this id (the last of the previous page).
    pub after: Option<ProductId>,
    /// Page size; 0 means 100.
    pub limit: usize,
    pub status: Option<ProductStatus>,
    pub collection: Option<CollectionId>,
}

pub(crate) fn page_limit(limit: usize) -> usize {
    if limit == 0 { 100 } else { limit.min(1000) }
}

fn check_gtin(gtin: &str) -> CoreResult<String> {
    let gtin = gtin.trim();
    let digits: Vec<u32> = gtin.chars().filter_map(|c| c.to_digit(10)).collect();
    if digits.len() != gtin.len() || ![8, 12, 13, 14].contains(&digits.len()) {
        return Err(CoreError::invalid(format!("GTIN `{gtin}` must be 8, 12, 13 or 14 digits")));
    }
    let (body, check) = digits.split_at(digits.len() - 1);
    let sum: u32 = body.iter().rev().enumerate().map(|(i, d)| if i % 2 == 0 { d * 3 } else { *d }).sum();
    if (10 - sum % 10) % 10 != check[0] {
        return Err(CoreError::invalid(format!("GTIN `{gtin}` has a wrong check digit")));
    }
    Ok(gtin.to_owned())
}

fn check_sku(sku: &str) -> CoreResult<String> {
    let sku = validate::text("SKU", sku, 64)?;
    if sku.chars().any(char::is_whitespace) {
        return Err(CoreError::invalid(format!("SKU `{sku}` must not contain spaces")));
    }
    Ok(sku)
}

fn check_price(field: &str, price: &Money, currency: &str) -> CoreResult<()> {
    price.validate(currency)?;
    if price.amount_minor < 0 {
        return Err(CoreError::invalid(format!("{field} must not be negative")));
    }
    Ok(())
}

fn check_options(options: &BTreeMap<String, String>) -> CoreResult<BTreeMap<String, String>> {
    options
        .iter()
        .map(|(k, v)| Ok((validate::text("option name", k, 64)?, validate::text("option value", v, 128)?)))
        .collect()
}

pub(crate) fn load_product(tx: &mut Tx<'_>, id: &ProductId) -> CoreResult<Product> {
    tx.must("product", id.as_str())
}

pub(crate) fn load_variant(tx: &mut Tx<'_>, id: &VariantId) -> CoreResult<Variant> {
    tx.must("variant", id.as_str())
}

pub(crate) fn variant_by_sku_tx(tx: &mut Tx<'_>, sku: &str) -> CoreResult<Variant> {
    let id: VariantId = tx.get(&["sku", sku.trim()])?.ok_or_else(|| CoreError::not_found("SKU", sku))?;
    load_variant(tx, &id)
}

/// Remove a product, its variants and every index and publication naming
/// them, and emit `product.removed`. Whether the product may go (no stock
/// reserved) is inventory's rule, checked by its caller
/// (`Core::delete_product` in `inventory.rs`).
pub(crate) fn remove_product_tx(tx: &mut Tx<'_>, product: &Product, variants: &[Variant]) -> CoreResult<()> {
    let id = &product.id;
    for v in variants {
        tx.del(&["var", v.id.as_str()])?;
        tx.del(&["sku", &v.sku])?;
        tx.del(&["prdvar", id.as_str(), v.id.as_str()])?;
    }
    for c in &product.collections {
        tx.del(&["colprd", c.as_str(), id.as_str()])?;
    }
    for (channel, _) in tx.scan::<Publication>(&["pub", id.as_str()])? {
        tx.del(&["pub", id.as_str(), &channel])?;
        tx.del(&["pubc", &channel, id.as_str()])?;
    }
    tx.del(&["handle", &product.handle])?;
    tx.del(&["prd", id.as_str()])?;
    tx.emit(DomainEventKind::ProductRemoved, id.as_str(), json!({ "product_id": id, "handle": product.handle }));
    Ok(())
}

pub(crate) fn product_variants_tx(tx: &mut Tx<'_>, product: &ProductId) -> CoreResult<Vec<Variant>> {
    let ids = tx.scan::<()>(&["prdvar", product.as_str()])?;
    let mut out = Vec::with_capacity(ids.len());
    for (id, ()) in ids {
        out.push(load_variant(tx, &VariantId::new(id))?);
    }
    Ok(out)
}

pub(crate) fn is_published_tx(tx: &mut Tx<'_>, product: &ProductId, channel: &ChannelId) -> CoreResult<bool> {
    tx.exists(&["pub", product.as_str(), channel.as_str()])
}

fn validate_variant(new: &NewVariant, currency: &str) -> CoreResult<NewVariant> {
    check_price("price", &new.price, currency)?;
    if let Some(c) = &new.compare_at {
        check_price("compare-at price", c, currency)?;
    }
    if let Some(w) = new.weight_grams
        && w < 0
    {
        return Err(CoreError::invalid("weight must not be negative"));
    }
    Ok(NewVariant {
        sku: check_sku(&new.sku)?,
        title: validate::text("variant title", &new.title, 200)?,
        options: check_options(&new.options)?,
        gtin: new.gtin.as_deref().map(check_gtin).transpose()?,
        weight_grams: new.weight_grams,
        price: new.price.clone(),
        compare_at: new.compare_at.clone(),
        backorderable: new.backorderable,
    })
}

fn insert_variant(tx: &mut Tx<'_>, product: &ProductId, new: NewVariant) -> CoreResult<Variant> {
    if tx.exists(&["sku", &new.sku])? {
        return Err(CoreError::conflict(format!(
            "SKU `{}` is already used by another variant; SKUs are unique per store",
            new.sku
        )));
    }
    let id = VariantId::new(tx.new_id(VariantId::PREFIX)?);
    let variant = Variant {
        id: id.clone(),
        product_id: product.clone(),
        sku: new.sku,
        title: new.title,
        options: new.options,
        gtin: new.gtin,
        weight_grams: new.weight_grams,
        price: new.price,
        compare_at: new.compare_at,
        backorderable: new.backorderable,
        created_ms: tx.now()?,
        updated_ms: tx.now()?,
    };
    tx.put(&["var", id.as_str()], &variant)?;
    tx.put(&["sku", &variant.sku], &id)?;
    tx.put(&["prdvar", product.as_str(), id.as_str()], &())?;
    Ok(variant)
}

fn check_collections(tx: &mut Tx<'_>, collections: &[CollectionId]) -> CoreResult<Vec<CollectionId>> {
    let mut out = collections.to_vec();
    out.sort();
    out.dedup();
    for c in &out {
        tx.must::<Collection>("collection", c.as_str())?;
    }
    Ok(out)
}

pub(crate) fn emit_product_changed(tx: &mut Tx<'_>, product: &Product) -> CoreResult<()> {
    let channels: Vec<String> =
        tx.scan::<Publication>(&["pub", product.id.as_str()])?.into_iter().map(|(c, _)| c).collect();
    tx.emit(
        DomainEventKind::ProductChanged,
        product.id.as_str(),
        json!({ "product_id": product.id, "handle": product.handle, "status": product.status, "channels": channels }),
    );
    Ok(())
}

impl Core {
    pub fn create_collection(&self, tenant: &TenantId, new: NewCollection, now_ms: i64) -> CoreResult<Collection> {
        let handle = validate::handle("collection handle", &new.handle)?;
        let title = validate::text("collection title", &new.title, 200)?;
        let description = validate::long_text("collection description", &new.description, 64 * 1024)?;
        self.write(tenant, now_ms, |tx| {
            if tx.exists(&["colh", &handle])? {
                return Err(CoreError::conflict(format!("collection handle `{handle}` is taken; pick another")));
            }
            let id = CollectionId::new(tx.new_id(CollectionId::PREFIX)?);
            let c = Collection {
                id: id.clone(),
                handle: handle.clone(),
                title: title.clone(),
                description: description.clone(),
                created_ms: now_ms,
                updated_ms: now_ms,
            };
            tx.put(&["col", id.as_str()], &c)?;
            tx.put(&["colh", &handle], &id)?;
            tx.emit(DomainEventKind::CollectionChanged, id.as_str(), json!({ "collection_id": id, "handle": handle }));
            Ok(c)
        })
    }

    pub fn get_collection(&self, tenant: &TenantId, id: &CollectionId) -> CoreResult<Collection> {
        self.read(tenant, |tx| tx.must("collection", id.as_str()))
    }

    pub fn collection_by_handle(&self, tenant: &TenantId, handle: &str) -> CoreResult<Collection> {
        self.read(tenant, |tx| {
            let id: CollectionId =
                tx.get(&["colh", handle])?.ok_or_else(|| CoreError::not_found("collection", handle))?;
            tx.must("collection", id.as_str())
        })
    }

    pub fn list_collections(&self, tenant: &TenantId) -> CoreResult<Vec<Collection>> {
        self.read(tenant, |tx| Ok(tx.scan::<Collection>(&["col"])?.into_iter().map(|(_, c)| c).collect()))
    }

    /// A page of collections in id order, after `after`.
    pub fn list_collections_page(
        &self,
        tenant: &TenantId,
        after: Option<&CollectionId>,
        limit: usize,
    ) -> CoreResult<Vec<Collection>> {
        self.page(tenant, "col", after.map(CollectionId::as_str), limit)
    }

    /// Create a product with its variants, atomically.
    pub fn create_product(&self, tenant: &TenantId, new: NewProduct, now_ms: i64) -> CoreResult<ProductDetail> {
        let handle = validate::handle("product handle", &new.handle)?;
        let title = validate::text("product title", &new.title, 300)?;
        let description = validate::long_text("product description", &new.description, 64 * 1024)?;
        let brand = validate::opt_text("brand", new.brand.as_deref(), 200)?;
        let tags = validate::tags("tag", &new.tags)?;
        let images = check_images(tenant, &new.images)?;
        let mut skus: Vec<&str> = new.variants.iter().map(|v| v.sku.trim()).collect();
        skus.sort();
        if skus.windows(2).any(|w| w[0] == w[1]) {
            return Err(CoreError::invalid("two variants of the product share a SKU"));
        }
        self.write(tenant, now_ms, |tx| {
            let currency = tx.currency();
            let variants =
                new.variants.iter().map(|v| validate_variant(v, &currency)).collect::<CoreResult<Vec<_>>>()?;
            if tx.exists(&["handle", &handle])? {
                return Err(CoreError::conflict(format!("product handle `{handle}` is taken; pick another")));
            }
            let collections = check_collections(tx, &new.collections)?;
            let id = ProductId::new(tx.new_id(ProductId::PREFIX)?);
            let product = Product {
                id: id.clone(),
                handle: handle.clone(),
                title: title.clone(),
                description: description.clone(),
                brand: brand.clone(),
                tags: tags.clone(),
                collections,
                images: images.clone(),
                status: new.status,
                created_ms: now_ms,
                updated_ms: now_ms,
            };
            tx.put(&["prd", id.as_str()], &product)?;
            tx.put(&["handle", &handle], &id)?;
            for c in &product.collections {
                tx.put(&["colprd", c.as_str(), id.as_str()], &())?;
            }
            let mut created = Vec::new();
            for v in variants {
                created.push(insert_variant(tx, &id, v)?);
            }
            emit_product_changed(tx, &product)?;
            Ok(ProductDetail { product, variants: created })
        })
    }

    pub fn get_product(&self, tenant: &TenantId, id: &ProductId) -> CoreResult<ProductDetail> {
        self.read(tenant, |tx| {
            let product = load_product(tx, id)?;
            let variants = product_variants_tx(tx, id)?;
            Ok(ProductDetail { product, variants })
        })
    }

    pub fn product_by_handle(&self, tenant: &TenantId, handle: &str) -> CoreResult<ProductDetail> {
        let id = self.read(tenant, |tx| {
            tx.get::<ProductId>(&["handle", handle.trim()])?.ok_or_else(|| CoreError::not_found("product", handle))
        })?;
        self.get_product(tenant, &id)
    }

    pub fn get_variant(&self, tenant: &TenantId, id: &VariantId) -> CoreResult<Variant> {
        self.read(tenant, |tx| load_variant(tx, id))
    }

    pub fn variant_by_sku(&self, tenant: &TenantId, sku: &str) -> CoreResult<Variant> {
        self.read(tenant, |tx| variant_by_sku_tx(tx, sku))
    }

    /// A page of products in id (creation) order.
    pub fn list_products(&self, tenant: &TenantId, query: &ProductQuery) -> CoreResult<Vec<Product>> {
        let limit = page_limit(query.limit);
        self.read(tenant, |tx| {
            let mut out = Vec::new();
            let mut after = query.after.as_ref().map(|a| a.as_str().to_owned());
            // Filters are applied after the scan, so keep paging until the
            // page is full or the table ends.
            loop {
                let ids: Vec<String> = match &query.collection {
                    Some(c) => {
                        let start = after.as_deref().map_or(Bound::Unbounded, Bound::Excluded);
                        tx.scan_range::<()>(&["colprd", c.as_str()], start, Bound::Unbounded, limit)?
                            .into_iter()
                            .map(|(id, ())| id)
                            .collect()
                    }
                    None => {
                        let start = after.as_deref().map_or(Bound::Unbounded, Bound::Excluded);
                        tx.scan_range::<Product>(&["prd"], start, Bound::Unbounded, limit)?
                            .into_iter()
                            .map(|(id, _)| id)
                            .collect()
                    }
                };
                let exhausted = ids.len() < limit;
                for id in &ids {
                    let p = load_product(tx, &ProductId::new(id.clone()))?;
                    if query.status.is_none_or(|s| s == p.status) && out.len() < limit {
                        out.push(p);
                    }
                }
                after = ids.last().cloned();
                if exhausted || out.len() >= limit {
                    return Ok(out);
                }
            }
        })
    }

    pub fn update_product(
        &self,
        tenant: &TenantId,
        id: &ProductId,
        patch: ProductPatch,
        now_ms: i64,
    ) -> CoreResult<Product> {
        let handle = patch.handle.as_deref().map(|h| validate::handle("product handle", h)).transpose()?;
        let title = patch.title.as_deref().map(|t| validate::text("product title", t, 300)).transpose()?;
        let description = patch
            .description
            .as_deref()
            .map(|d| validate::long_text("product description", d, 64 * 1024))
            .transpose()?;
        let brand = match &patch.brand {
            Some(b) => Some(validate::opt_text("brand", b.as_deref(), 200)?),
            None => None,
        };
        let tags = patch.tags.as_deref().map(|t| validate::tags("tag", t)).transpose()?;
        let images = patch.images.as_deref().map(|i| check_images(tenant, i)).transpose()?;
        self.write(tenant, now_ms, |tx| {
            let mut product = load_product(tx, id)?;
            if let Some(h) = &handle
                && *h != product.handle
            {
                if tx.exists(&["handle", h])? {
                    return Err(CoreError::conflict(format!("product handle `{h}` is taken; pick another")));
                }
                tx.del(&["handle", &product.handle])?;
                tx.put(&["handle", h], id)?;
                product.handle = h.clone();
            }
            if let Some(v) = &title {
                product.title = v.clone();
            }
            if let Some(v) = &description {
                product.description = v.clone();
            }
            if let Some(v) = &brand {
                product.brand = v.clone();
            }
            if let Some(v) = &tags {
                product.tags = v.clone();
            }
            if let Some(v) = &images {
                product.images = v.clone();
            }
            if let Some(v) = patch.status {
                product.status = v;
            }
            if let Some(cols) = &patch.collections {
                let cols = check_collections(tx, cols)?;
                for c in &product.collections {
                    tx.del(&["colprd", c.as_str(), id.as_str()])?;
                }
                for c in &cols {
                    tx.put(&["colprd", c.as_str(), id.as_str()], &())?;
                }
                product.collections = cols;
            }
            product.updated_ms = now_ms;
            tx.put(&["prd", id.as_str()], &product)?;
            emit_product_changed(tx, &product)?;
            Ok(product)
        })
    }

    pub fn add_variant(
        &self,
        tenant: &TenantId,
        product: &ProductId,
        new: NewVariant,
        now_ms: i64,
    ) -> CoreResult<Variant> {
        self.write(tenant, now_ms, |tx| {
            let currency = tx.currency();
            let new = validate_variant(&new, &currency)?;
            let p = load_product(tx, product)?;
            let v = insert_variant(tx, product, new)?;
            emit_product_changed(tx, &p)?;
            Ok(v)
        })
    }

    pub fn update_variant(
        &self,
        tenant: &TenantId,
        id: &VariantId,
        patch: VariantPatch,
        now_ms: i64,
    ) -> CoreResult<Variant> {
        let sku = patch.sku.as_deref().map(check_sku).transpose()?;
        let title = patch.title.as_deref().map(|t| validate::text("variant title", t, 200)).transpose()?;
        let options = patch.options.as_ref().map(check_options).transpose()?;
        let gtin = match &patch.gtin {
            Some(g) => Some(g.as_deref().map(check_gtin).transpose()?),
            None => None,
        };
        if let Some(Some(w)) = patch.weight_grams
            && w < 0
        {
            return Err(CoreError::invalid("weight must not be negative"));
        }
        self.write(tenant, now_ms, |tx| {
            let currency = tx.currency();
            let mut v = load_variant(tx, id)?;
            if let Some(s) = &sku
                && *s != v.sku
            {
                if tx.exists(&["sku", s])? {
                    return Err(CoreError::conflict(format!("SKU `{s}` is already used by another variant")));
                }
                tx.del(&["sku", &v.sku])?;
                tx.put(&["sku", s], id)?;
                v.sku = s.clone();
            }
            if let Some(t) = &title {
                v.title = t.clone();
            }
            if let Some(o) = &options {
                v.options = o.clone();
            }
            if let Some(g) = &gtin {
                v.gtin = g.clone();
            }
            if let Some(w) = patch.weight_grams {
                v.weight_grams = w;
            }
            if let Some(p) = &patch.price {
                check_price("price", p, &currency)?;
                v.price = p.clone();
            }
            if let Some(c) = &patch.compare_at {
                if let Some(c) = c {
                    check_price("compare-at price", c, &currency)?;
                }
                v.compare_at = c.clone();
            }
            if let Some(b) = patch.backorderable {
                v.backorderable = b;
            }
            v.updated_ms = now_ms;
            tx.put(&["var", id.as_str()], &v)?;
            let p = load_product(tx, &v.product_id)?;
            emit_product_changed(tx, &p)?;
            Ok(v)
        })
    }

    pub fn product_variants(&self, tenant: &TenantId, product: &ProductId) -> CoreResult<Vec<Variant>> {
        self.read(tenant, |tx| {
            load_product(tx, product)?;
            product_variants_tx(tx, product)
        })
    }

    /// Show a product on a channel. Idempotent.
    pub fn publish_product(
        &self,
        tenant: &TenantId,
        product: &ProductId,
        channel: &ChannelId,
        now_ms: i64,
    ) -> CoreResult<Publication> {
        self.write(tenant, now_ms, |tx| {
            let p = load_product(tx, product)?;
            load_channel(tx, channel)?;
            if let Some(existing) = tx.get::<Publication>(&["pub", product.as_str(), channel.as_str()])? {
                return Ok(existing);
            }
            let publication = Publication {
                product_id: product.clone(),
                channel_id: channel.clone(),
                published_ms: now_ms,
                sync: None,
            };
            tx.put(&["pub", product.as_str(), channel.as_str()], &publication)?;
            tx.put(&["pubc", channel.as_str(), product.as_str()], &())?;
            emit_product_changed(tx, &p)?;
            Ok(publication)
        })
    }

    /// Publish every active product on a channel (used when a channel is
    /// switched on). Returns how many were newly published.
    pub fn publish_all_active(&self, tenant: &TenantId, channel: &ChannelId, now_ms: i64) -> CoreResult<usize> {
        let products = self.read(tenant, |tx| {
            load_channel(tx, channel)?;
            Ok(tx
                .scan::<Product>(&["prd"])?
                .into_iter()
                .filter(|(_, p)| p.status == ProductStatus::Active)
                .map(|(_, p)| p.id)
                .collect::<Vec<_>>())
        })?;
        let mut count = 0;
        for p in products {
            let before = self.read(tenant, |tx| is_published_tx(tx, &p, channel))?;
            if !before {
                self.publish_product(tenant, &p, channel, now_ms)?;
                count += 1;
            }
        }
        Ok(count)
    }

    /// How many products the channel shows.
    pub fn channel_publication_count(&self, tenant: &TenantId, channel: &ChannelId) -> CoreResult<usize> {
        self.read(tenant, |tx| {
            load_channel(tx, channel)?;
            Ok(tx.scan::<()>(&["pubc", channel.as_str()])?.len())
        })
    }

    pub fn unpublish_product(
        &self,
        tenant: &TenantId,
        product: &ProductId,
        channel: &ChannelId,
        now_ms: i64,
    ) -> CoreResult<()> {
        self.write(tenant, now_ms, |tx| {
            let p = load_product(tx, product)?;
            load_channel(tx, channel)?;
            tx.del(&["pub", product.as_str(), channel.as_str()])?;
            tx.del(&["pubc", channel.as_str(), product.as_str()])?;
            emit_product_changed(tx, &p)?;
            Ok(())
        })
    }

    pub fn product_publications(&self, tenant: &TenantId, product: &ProductId) -> CoreResult<Vec<Publication>> {
        self.read(tenant, |tx| {
            load_product(tx, product)?;
            Ok(tx.scan::<Publication>(&["pub", product.as_str()])?.into_iter().map(|(_, p)| p).collect())
        })
    }

    pub fn is_published(&self, tenant: &TenantId, product: &ProductId, channel: &ChannelId) -> CoreResult<bool> {
        self.read(tenant, |tx| is_published_tx(tx, product, channel))
    }

    /// Record what a channel reported after pushing a product to its platform.
    pub fn set_sync_state(
        &self,
        tenant: &TenantId,
        product: &ProductId,
        channel: &ChannelId,
        state: SyncState,
        now_ms: i64,
    ) -> CoreResult<Publication> {
        self.write(tenant, now_ms, |tx| {
            let mut publication: Publication = tx
                .get(&["pub", product.as_str(), channel.as_str()])?
                .ok_or_else(|| CoreError::not_found("publication", format!("{product} on {channel}")))?;
            publication.sync = Some(state.clone());
            tx.put(&["pub", product.as_str(), channel.as_str()], &publication)?;
            Ok(publication)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gtin_check_digit() {
        assert!(check_gtin("4006381333931").is_ok());
        assert!(check_gtin("4006381333932").is_err());
        assert!(check_gtin("96385074").is_ok());
        assert!(check_gtin("12345").is_err());
        assert!(check_gtin("40063813339x1").is_err());
    }
}
