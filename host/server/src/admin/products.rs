//! Products, their variants, and per-channel publication.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use omnistore_core::{ChannelId, CollectionId, ProductId, ProductQuery, VariantId};
use serde::Deserialize;

use super::extract::{JsonBody, P, Q, Scope, cursor, page_limit};
use super::wire::{self, Page};
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
                .ok::<wire::Page<wire::Product>>(),
        )
        .post(
            "/tenants/{tenant}/products",
            create_product,
            doc("createProduct", "Create a product with its variants")
                .body::<wire::NewProduct>()
                .created::<wire::ProductDetail>(),
        )
        .get(
            "/tenants/{tenant}/products/{product}",
            get_product,
            doc("getProduct", "Get a product with its variants").ok::<wire::ProductDetail>(),
        )
        .patch(
            "/tenants/{tenant}/products/{product}",
            update_product,
            doc("updateProduct", "Change a product's fields; absent fields stay, null clears")
                .body::<wire::ProductPatch>()
                .ok::<wire::Product>(),
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
            doc("listVariants", "List a product's variants").ok::<wire::Page<wire::Variant>>(),
        )
        .post(
            "/tenants/{tenant}/products/{product}/variants",
            add_variant,
            doc("addVariant", "Add a variant (one SKU) to a product")
                .body::<wire::NewVariant>()
                .created::<wire::Variant>(),
        )
        .get(
            "/tenants/{tenant}/products/{product}/publications",
            list_publications,
            doc("listPublications", "Channels the product is published on, with their sync state")
                .ok::<wire::Page<wire::Publication>>(),
        )
        .put(
            "/tenants/{tenant}/products/{product}/publications/{channel}",
            publish,
            doc("publishProduct", "Show the product on a channel (idempotent)").ok::<wire::Publication>(),
        )
        .delete(
            "/tenants/{tenant}/products/{product}/publications/{channel}",
            unpublish,
            doc("unpublishProduct", "Stop showing the product on a channel").no_content(),
        )
        .get(
            "/tenants/{tenant}/variants/{variant}",
            get_variant,
            doc("getVariant", "Get a variant").ok::<wire::Variant>(),
        )
        .patch(
            "/tenants/{tenant}/variants/{variant}",
            update_variant,
            doc("updateVariant", "Change a variant's fields; absent fields stay, null clears")
                .body::<wire::VariantPatch>()
                .ok::<wire::Variant>(),
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
    status: Option<wire::ProductStatus>,
    collection_id: Option<CollectionId>,
    after: Option<ProductId>,
    limit: Option<usize>,
}

async fn list_products(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    Q(q): Q<ListQuery>,
) -> Result<Json<Page<wire::Product>>, AdminError> {
    let limit = page_limit(q.limit)?;
    let query = ProductQuery { after: q.after, limit, status: q.status.map(Into::into), collection: q.collection_id };
    let items = state.call(move |core, _| core.list_products(&tenant, &query)).await?;
    let next = cursor(&items, limit, |p| p.id.to_string());
    Ok(Json(Page::of(items, next)))
}

async fn create_product(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    JsonBody(body): JsonBody<wire::NewProduct>,
) -> Result<(StatusCode, Json<wire::ProductDetail>), AdminError> {
    let detail = state.call(move |core, now| core.create_product(&tenant, body.into(), now)).await?;
    Ok((StatusCode::CREATED, Json(detail.into())))
}

async fn get_product(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<ProductPath>,
) -> Result<Json<wire::ProductDetail>, AdminError> {
    Ok(Json(state.call(move |core, _| core.get_product(&tenant, &path.product)).await?.into()))
}

async fn update_product(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<ProductPath>,
    JsonBody(patch): JsonBody<wire::ProductPatch>,
) -> Result<Json<wire::Product>, AdminError> {
    let patch = patch.into();
    Ok(Json(state.call(move |core, now| core.update_product(&tenant, &path.product, patch, now)).await?.into()))
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
) -> Result<Json<Page<wire::Variant>>, AdminError> {
    let items = state.call(move |core, _| core.product_variants(&tenant, &path.product)).await?;
    Ok(Json(Page::of(items, None)))
}

async fn add_variant(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<ProductPath>,
    JsonBody(body): JsonBody<wire::NewVariant>,
) -> Result<(StatusCode, Json<wire::Variant>), AdminError> {
    let v = state.call(move |core, now| core.add_variant(&tenant, &path.product, body.into(), now)).await?;
    Ok((StatusCode::CREATED, Json(v.into())))
}

async fn list_publications(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<ProductPath>,
) -> Result<Json<Page<wire::Publication>>, AdminError> {
    let items = state.call(move |core, _| core.product_publications(&tenant, &path.product)).await?;
    Ok(Json(Page::of(items, None)))
}

async fn publish(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<PublicationPath>,
) -> Result<Json<wire::Publication>, AdminError> {
    Ok(Json(
        state.call(move |core, now| core.publish_product(&tenant, &path.product, &path.channel, now)).await?.into(),
    ))
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
) -> Result<Json<wire::Variant>, AdminError> {
    Ok(Json(state.call(move |core, _| core.get_variant(&tenant, &path.variant)).await?.into()))
}

async fn update_variant(
    State(state): State<AdminState>,
    Scope(tenant): Scope,
    P(path): P<VariantPath>,
    JsonBody(patch): JsonBody<wire::VariantPatch>,
) -> Result<Json<wire::Variant>, AdminError> {
    let patch = patch.into();
    Ok(Json(state.call(move |core, now| core.update_variant(&tenant, &path.variant, patch, now)).await?.into()))
}
