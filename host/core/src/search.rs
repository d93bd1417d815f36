//! Finding products on a channel: search by words and sorted collection
//! pages. Sits above `listing` (what a channel shows), so results carry the
//! channel's prices and availability.
//!
//! Search folds case and accents and squeezes doubled letters ("cafe" finds
//! "Caffè"; a run of three or more is kept), needs every word of
//! the query to match the title, tags, description, brand or a SKU, and
//! ranks title matches first. Its cursor is opaque to the caller but checked
//! here: it names the query it was issued for and carries a digest, so a
//! garbled, forged or foreign cursor is refused instead of paging wrongly.

use std::cmp::Reverse;
use std::ops::Bound;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use crate::catalog::{Product, ProductStatus, product_variants_tx};
use crate::error::{CoreError, CoreResult};
use crate::ids::{ChannelId, CollectionId, ProductId, TenantId};
use crate::listing::{ChannelProductView, channel_view};
use crate::store::{Core, Tx};
use crate::tenants::load_channel;

/// The longest search query, in bytes.
pub const MAX_QUERY_BYTES: usize = 256;
/// The most words a query may have.
pub const MAX_QUERY_WORDS: usize = 16;
/// The largest page of a sorted collection.
pub const MAX_BROWSE_LIMIT: usize = 250;
/// The largest page of search results.
pub const MAX_SEARCH_LIMIT: usize = 250;

/// How much a word found in each field counts: title matches rank first.
const TITLE_WEIGHT: u32 = 1000;
const SKU_WEIGHT: u32 = 100;
const TAG_WEIGHT: u32 = 50;
const BRAND_WEIGHT: u32 = 50;
const DESCRIPTION_WEIGHT: u32 = 1;

/// How a collection's products are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProductSort {
    /// The collection's own order.
    Manual,
    TitleAscending,
    TitleDescending,
    /// By the lowest variant price after automatic promotions.
    PriceAscending,
    PriceDescending,
    CreatedAscending,
    CreatedDescending,
}

/// A page of search results.
#[derive(Debug, Clone)]
pub struct SearchPage {
    pub products: Vec<ChannelProductView>,
    /// Cursor of the next page, `None` on the last.
    pub next: Option<String>,
}

/// Which products of a sorted list a page shows: skipping `offset`, at most
/// `limit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub offset: usize,
    pub limit: usize,
}

/// A numbered page of a collection, with how many products it has in all.
#[derive(Debug, Clone)]
pub struct CountedPage {
    pub products: Vec<ChannelProductView>,
    pub total: usize,
}

/// Lower-case without accents: "Caffè" → "caffe".
pub fn fold(text: &str) -> String {
    text.nfkd().filter(|c| !is_combining_mark(*c)).flat_map(char::to_lowercase).collect()
}

/// What search compares: folded, with runs of one letter squeezed to one,
/// so a shopper who types "cafe" or "canoli" finds "Caffè" and "Cannoli".
fn searchable(text: &str) -> String {
    let folded: Vec<char> = fold(text).chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < folded.len() {
        let c = folded[i];
        let run = folded[i..].iter().take_while(|&&d| d == c).count();
        // A doubled letter is a spelling variant ("pistacchio", "pistachio");
        // a longer run is not a word's spelling and is kept, so that
        // "zzzzzz" does not become "z" and match every word with a z.
        let keep = if c.is_alphabetic() && run == 2 { 1 } else { run };
        out.extend(std::iter::repeat_n(c, keep));
        i += run;
    }
    out
}

/// The words of a query, as [`searchable`] makes them.
fn query_words(query: &str) -> CoreResult<Vec<String>> {
    if query.len() > MAX_QUERY_BYTES {
        return Err(CoreError::invalid(format!("a search query is at most {MAX_QUERY_BYTES} bytes")));
    }
    // Words are split at white space only, so a SKU such as `DV-01-MIG` stays
    // one word; punctuation around a word is dropped.
    let folded = searchable(query);
    let mut words: Vec<String> = folded
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()))
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect();
    words.sort();
    words.dedup();
    if words.len() > MAX_QUERY_WORDS {
        return Err(CoreError::invalid(format!("a search query has at most {MAX_QUERY_WORDS} words")));
    }
    Ok(words)
}

/// Where a search result stands: best score first, then by id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Rank {
    score: Reverse<u32>,
    id: String,
}

fn cursor_digest(words: &[String], rank: &Rank) -> String {
    let mut h = Sha256::new();
    for w in words {
        h.update(w.as_bytes());
        h.update([0]);
    }
    h.update(rank.score.0.to_be_bytes());
    h.update(rank.id.as_bytes());
    hex::encode(&h.finalize()[..12])
}

fn encode_cursor(words: &[String], rank: &Rank) -> String {
    let text = format!("s1|{}|{}|{}", rank.score.0, rank.id, cursor_digest(words, rank));
    URL_SAFE_NO_PAD.encode(text)
}

fn decode_cursor(words: &[String], cursor: &str) -> CoreResult<Rank> {
    let refused = || CoreError::invalid("the search cursor is not one this search issued; start from the first page");
    if cursor.len() > 512 {
        return Err(refused());
    }
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| refused())?;
    let text = String::from_utf8(bytes).map_err(|_| refused())?;
    let mut parts = text.splitn(4, '|');
    let (Some("s1"), Some(score), Some(id), Some(digest)) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(refused());
    };
    let score = score.parse::<u32>().map_err(|_| refused())?;
    let rank = Rank { score: Reverse(score), id: id.to_owned() };
    if id.is_empty() || cursor_digest(words, &rank) != digest {
        return Err(refused());
    }
    Ok(rank)
}

/// The score of a product for the query, or `None` when a word is missing.
fn score(words: &[String], p: &Product, skus: &[String]) -> Option<u32> {
    let title = searchable(&p.title);
    let tags: Vec<String> = p.tags.iter().map(|t| searchable(t)).collect();
    let brand = p.brand.as_deref().map(searchable).unwrap_or_default();
    let description = searchable(&p.description);
    let skus: Vec<String> = skus.iter().map(|s| searchable(s)).collect();
    let mut total = 0u32;
    for w in words {
        let mut points = 0;
        if title.contains(w.as_str()) {
            points += TITLE_WEIGHT;
        }
        if skus.iter().any(|s| s.contains(w.as_str())) {
            points += SKU_WEIGHT;
        }
        if tags.iter().any(|t| t.contains(w.as_str())) {
            points += TAG_WEIGHT;
        }
        if brand.contains(w.as_str()) {
            points += BRAND_WEIGHT;
        }
        if description.contains(w.as_str()) {
            points += DESCRIPTION_WEIGHT;
        }
        if points == 0 {
            return None;
        }
        total = total.saturating_add(points);
    }
    Some(total)
}

/// Every product id published to the channel, in id order.
fn published_ids(tx: &mut Tx<'_>, channel: &ChannelId) -> CoreResult<Vec<ProductId>> {
    Ok(tx
        .scan_range::<()>(&["pubc", channel.as_str()], Bound::Unbounded, Bound::Unbounded, usize::MAX)?
        .into_iter()
        .map(|(id, ())| ProductId::new(id))
        .collect())
}

/// The lowest unit price of a shown product; products without variants sort last.
fn lowest_price(view: &ChannelProductView) -> Option<i64> {
    view.variants.iter().map(|v| v.price.amount_minor).min()
}

impl Core {
    /// Products published to `channel` matching every word of `query`, best
    /// first, `limit` (1 to [`MAX_SEARCH_LIMIT`]) at a time. `Invalid` for a
    /// cursor this search did not issue; an empty query finds nothing.
    pub fn search_channel_products(
        &self,
        tenant: &TenantId,
        channel: &ChannelId,
        query: &str,
        cursor: Option<&str>,
        limit: usize,
        now_ms: i64,
    ) -> CoreResult<SearchPage> {
        let words = query_words(query)?;
        let after = cursor.map(|c| decode_cursor(&words, c)).transpose()?;
        let limit = limit.clamp(1, MAX_SEARCH_LIMIT);
        if words.is_empty() {
            return Ok(SearchPage { products: vec![], next: None });
        }
        self.read_at(tenant, now_ms, |tx| {
            let ch = load_channel(tx, channel)?;
            let mut ranked = Vec::new();
            for id in published_ids(tx, channel)? {
                let Some(p) = tx.get::<Product>(&["prd", id.as_str()])? else { continue };
                if p.status != ProductStatus::Active {
                    continue;
                }
                let skus: Vec<String> = product_variants_tx(tx, &id)?.into_iter().map(|v| v.sku).collect();
                if let Some(points) = score(&words, &p, &skus) {
                    ranked.push(Rank { score: Reverse(points), id: id.to_string() });
                }
            }
            ranked.sort();
            let start = after.as_ref().map_or(0, |a| ranked.partition_point(|r| r <= a));
            let page: Vec<Rank> = ranked.iter().skip(start).take(limit + 1).cloned().collect();
            let more = page.len() > limit;
            let mut products = Vec::with_capacity(limit);
            for r in page.iter().take(limit) {
                if let Some(view) = channel_view(tx, &ch, &ProductId::new(r.id.clone()))? {
                    products.push(view);
                }
            }
            let next = if more { page.get(limit - 1).map(|r| encode_cursor(&words, r)) } else { None };
            Ok(SearchPage { products, next })
        })
    }

    /// The products of a collection shown on `channel`, sorted, those of
    /// `window` (at most [`MAX_BROWSE_LIMIT`]), with the total.
    pub fn browse_collection(
        &self,
        tenant: &TenantId,
        channel: &ChannelId,
        collection: &CollectionId,
        sort: ProductSort,
        window: Window,
        now_ms: i64,
    ) -> CoreResult<CountedPage> {
        let Window { offset, limit } = window;
        let limit = limit.clamp(1, MAX_BROWSE_LIMIT);
        self.read_at(tenant, now_ms, |tx| {
            let ch = load_channel(tx, channel)?;
            tx.must::<crate::catalog::Collection>("collection", collection.as_str())?;
            let ids =
                tx.scan_range::<()>(&["colprd", collection.as_str()], Bound::Unbounded, Bound::Unbounded, usize::MAX)?;
            let mut views = Vec::new();
            for (id, ()) in ids {
                if let Some(view) = channel_view(tx, &ch, &ProductId::new(id))? {
                    views.push(view);
                }
            }
            sort_views(&mut views, sort);
            let total = views.len();
            let products = views.into_iter().skip(offset).take(limit).collect();
            Ok(CountedPage { products, total })
        })
    }
}

/// Sort shown products; ties keep the collection's order (the sort is stable).
fn sort_views(views: &mut [ChannelProductView], sort: ProductSort) {
    let title = |v: &ChannelProductView| fold(&v.product.title);
    match sort {
        ProductSort::Manual => {}
        ProductSort::TitleAscending => views.sort_by_cached_key(title),
        ProductSort::TitleDescending => views.sort_by_cached_key(|v| Reverse(title(v))),
        ProductSort::PriceAscending => views.sort_by_key(|v| (lowest_price(v).is_none(), lowest_price(v))),
        ProductSort::PriceDescending => views.sort_by_key(|v| (lowest_price(v).is_none(), Reverse(lowest_price(v)))),
        ProductSort::CreatedAscending => views.sort_by_key(|v| v.product.created_ms),
        ProductSort::CreatedDescending => views.sort_by_key(|v| Reverse(v.product.created_ms)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_drops_case_and_accents() {
        assert_eq!(fold("Caffè Crème"), "caffe creme");
        assert_eq!(fold("ŠKODA Ærø"), "skoda ærø");
    }

    #[test]
    fn search_squeezes_double_letters() {
        assert_eq!(searchable("Caffè"), searchable("cafe"));
        assert_eq!(searchable("Cannoli"), "canoli");
        assert_eq!(searchable("DV-011"), "dv-011", "digits are kept as they are");
        assert_eq!(searchable("Pistacchio"), searchable("pistachio"));
        assert_eq!(searchable("zzzzzz"), "zzzzzz", "a run longer than two is not a doubled letter");
        assert_eq!(searchable("Brrr ok"), "brrr ok");
    }

    #[test]
    fn a_cursor_is_bound_to_its_query() {
        let words = query_words("torta cioccolato").unwrap();
        let rank = Rank { score: Reverse(2000), id: "prd-1".into() };
        let cursor = encode_cursor(&words, &rank);
        assert_eq!(decode_cursor(&words, &cursor).unwrap(), rank);
        let other = query_words("torta").unwrap();
        assert!(matches!(decode_cursor(&other, &cursor), Err(CoreError::Invalid(_))));
        for garbled in ["", "!!", "czE", &cursor[1..], &format!("{cursor}A")] {
            assert!(matches!(decode_cursor(&words, garbled), Err(CoreError::Invalid(_))), "{garbled}");
        }
    }
}
