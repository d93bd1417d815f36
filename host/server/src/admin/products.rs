//! Products, their variants, and per-channel publication.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use omnistore_core::{
    ChannelId, CollectionId, Image, Money, NewProduct, NewVariant, Product, ProductDetail, ProductId, ProductPatch,
    ProductQuery, ProductStatus, Publication, Variant, VariantId, VariantPatch,
};
use serde::Deserialize;
use serde_json::Value;

use super::extract::{JsonBody, P, Q, Scope, cursor, double_option, list, page_limit};
use super::{Access, AdminError, AdminState, Routes, doc, param};

pub(crate) fn routes(r: &mut Routes) {
    r.section(Access::Tenant, "Catalog")
        .get(
            "/tenants/{tenant}/products",
            list_products,
            doc("listProducts", "List products in creation order, filtered by status or collection")
                .query(
                    const {
                        &[
                            param("status", "string", "draft, active or archived"),
                            param("collection_id", "string", "only products in this collection"),
                            param("after", "string", "cursor: the last product id of the previous page"),
                            param("limit", "integer", "page size, 1-1000 (default 100)"),
                        ]
                    },
                )
                .ok("[Product]"),
        )
        .post(
            "/tenants/{tenant}/products",
            create_product,
            doc("createProduct", "Create a product with its variants").body("NewProduct").created("ProductDetail"),
        )
        .get(
            "/tenants/{tenant}/products/{product}",
            get_product,
            doc("getProduct", "Get a product with its variants").ok("ProductDetail"),
        )
        .patch(
            "/tenants/{tenant}/products/{product}",
            update_product,
            doc("updateProduct", "Change a product's fields; absent fields stay, null clears")
                .body("ProductPatch")
                .ok("Product"),
        )
        .delete(
            "/tenants/{tenant}/products/{product}",
            delete_product,
            doc(
                "deleteProduct",
                "Delete a product and its variants (refused while stock is reserved; archive instead)",
            )
            .no_content(),
        )
        .get(
            "/tenants/{tenant}/products/{product}/variants",
            list_variants,
            doc("listVariants", "List a product's variants").ok("[Variant]"),
        )
        .post(
            "/tenants/{tenant}/products/{product}/variants",
            add_variant,
            doc("addVariant", "Add a variant (one SKU) to a product").body("NewVariant").created("Variant"),
        )
        .get(
            "/tenants/{tenant}/products/{product}/publications",
            list_publications,
            doc("listPublications", "Channels the product is published on, with their sync state").ok("[Publication]"),
        )
        .put(
            "/tenants/{tenant}/products/{product}/publications/{channel}",
            publish,
            doc("publishProduct", "Show the product on a channel (idempotent)").ok("Publication"),
        )
        .delete(
            "/tenants/{tenant}/products/{product}/publications/{channel}",
            unpublish,
            doc("unpublishProduct", "Stop showing the product on a channel").no_content(),
        )
        .get("/tenants/{tenant}/variants/{variant}", get_variant, doc("getVariant", "Get a variant").ok("Variant"))
        .patch(
            "/tenants/{tenant}/variants/{variant}",
            update_variant,
            doc("updateVariant", "Change a variant's fields; absent fields stay, null clears")
                .body("VariantPatch")
                .ok("Variant"),
        );
}

#[derive(Debug, Deserialize)]
struct ProductPath {
    product: ProductId,
}

#[derive(Debug, Deserialize)]
struct PublicationPath {
    product: ProductId,
    channel: ChannelId,
}

#[derive(Debug, Deserialize)]
struct VariantPath {
    variant: VariantId,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    status: Option<ProductStatus>,
    collection_id: Option<CollectionId>,
    after: Option<ProductId>,
    limit: Option<usize>,
}

/// The wire shape of a product change: like the core's, plus the difference
/// between an absent field and `null` for the clearable ones.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProductPatchBody {
    handle: Option<String>,
    title: Option<String>,
    description: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    brand: Option<Option<String>>,
    tags: Option<Vec<String>>,
    collections: Option<Vec<CollectionId>>,
    images: Option<Vec<Image>>,
    status: Option<ProductStatus>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct VariantPatchBody {
    sku: Option<String>,
    title: Option<String>,
    options: Option<BTreeMap<String, String>>,
    #[serde(default, deserialize_with = "double_option")]
    gtin: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    weight_grams: Option<Option<i64>>,
    price: Option<Money>,
    #[serde(default, deserialize_with = "double_option")]
    compare_at: Option<Option<Money>>,
    backorderable: Option<bool>,
}

async fn list_products(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    Q(q): Q<ListQuery>,
) -> Result<Json<Value>, AdminError> {
    let limit = page_limit(q.limit)?;
    let query = ProductQuery { after: q.after, limit, status: q.status, collection: q.collection_id };
    let items: Vec<Product> = state.call(move |core, _| core.list_products(&tenant, &query)).await?;
    let next = cursor(&items, limit, |p| p.id.to_string());
    Ok(Json(list(items, next)))
}

async fn create_product(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    JsonBody(body): JsonBody<NewProduct>,
) -> Result<(StatusCode, Json<ProductDetail>), AdminError> {
    let detail = state.call(move |core, now| core.create_product(&tenant, body, now)).await?;
    Ok((StatusCode::CREATED, Json(detail)))
}

async fn get_product(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<ProductPath>,
) -> Result<Json<ProductDetail>, AdminError> {
    Ok(Json(state.call(move |core, _| core.get_product(&tenant, &path.product)).await?))
}

async fn update_product(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<ProductPath>,
    JsonBody(b): JsonBody<ProductPatchBody>,
) -> Result<Json<Product>, AdminError> {
    let patch = ProductPatch {
        handle: b.handle,
        title: b.title,
        description: b.description,
        brand: b.brand,
        tags: b.tags,
        collections: b.collections,
        images: b.images,
        status: b.status,
    };
    Ok(Json(state.call(move |core, now| core.update_product(&tenant, &path.product, patch, now)).await?))
}

async fn delete_product(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<ProductPath>,
) -> Result<StatusCode, AdminError> {
    state.call(move |core, now| core.delete_product(&tenant, &path.product, now)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_variants(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<ProductPath>,
) -> Result<Json<Value>, AdminError> {
    let items: Vec<Variant> = state.call(move |core, _| core.product_variants(&tenant, &path.product)).await?;
    Ok(Json(list(items, None)))
}

async fn add_variant(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<ProductPath>,
    JsonBody(body): JsonBody<NewVariant>,
) -> Result<(StatusCode, Json<Variant>), AdminError> {
    let v = state.call(move |core, now| core.add_variant(&tenant, &path.product, body, now)).await?;
    Ok((StatusCode::CREATED, Json(v)))
}

async fn list_publications(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<ProductPath>,
) -> Result<Json<Value>, AdminError> {
    let items: Vec<Publication> = state.call(move |core, _| core.product_publications(&tenant, &path.product)).await?;
    Ok(Json(list(items, None)))
}

async fn publish(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<PublicationPath>,
) -> Result<Json<Publication>, AdminError> {
    Ok(Json(state.call(move |core, now| core.publish_product(&tenant, &path.product, &path.channel, now)).await?))
}

async fn unpublish(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<PublicationPath>,
) -> Result<StatusCode, AdminError> {
    state.call(move |core, now| core.unpublish_product(&tenant, &path.product, &path.channel, now)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn get_variant(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<VariantPath>,
) -> Result<Json<Variant>, AdminError> {
    Ok(Json(state.call(move |core, _| core.get_variant(&tenant, &path.variant)).await?))
}

async fn update_variant(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<VariantPath>,
    JsonBody(b): JsonBody<VariantPatchBody>,
) -> Result<Json<Variant>, AdminError> {
    let patch = VariantPatch {
        sku: b.sku,
        title: b.title,
        options: b.options,
        gtin: b.gtin,
        weight_grams: b.weight_grams,
        price: b.price,
        compare_at: b.compare_at,
        backorderable: b.backorderable,
    };
    Ok(Json(state.call(move |core, now| core.update_variant(&tenant, &path.variant, patch, now)).await?))
}
