//! The demo store: "Pasticceria Dolce Vita", a pastry shop with a kitchen
//! (Laboratorio, the warehouse) and a shop (Negozio, pickup enabled); its
//! regulars, their segment and a draft campaign are in `seed/campaign.rs`.

mod campaign;

use serde::{Deserialize, Serialize};

use crate::catalog::{Image, NewCollection, NewProduct, NewVariant, ProductStatus};
use crate::error::{CoreError, CoreResult};
use crate::ids::{CollectionId, LocationId, PromotionId, TenantId};
use crate::money::Money;
use crate::pricing::{DiscountValue, NewPromotion, PromotionConditions, PromotionScope};
use crate::store::Core;
use crate::tenants::{LocationKind, NewLocation};

pub use campaign::{
    DEMO_CAMPAIGN_NAME, DEMO_CUSTOMER_TAG, DEMO_SEGMENT_NAME, DemoCampaign, DemoCustomer, seed_demo_campaign,
};

pub const DEMO_TENANT: &str = "dolce-vita";
pub const DEMO_CODE: &str = "DOLCE10";

/// What [`seed_demo`] found or created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeedReport {
    pub tenant: TenantId,
    pub warehouse: LocationId,
    pub shop: LocationId,
    pub collections: Vec<CollectionId>,
    pub products_created: usize,
    pub products_total: usize,
    pub promotions: Vec<PromotionId>,
}

struct Pastry {
    handle: &'static str,
    title: &'static str,
    description: &'static str,
    collection: &'static str,
    tags: &'static [&'static str],
    /// (variant title, SKU suffix, price in cents)
    sizes: &'static [(&'static str, &'static str, i64)],
}

const CANNOLO: &[(&str, &str, i64)] = &[("Mignon", "MIG", 180), ("Grande", "GRA", 350)];
const SFOGLIA: &[(&str, &str, i64)] = &[("Singola", "1", 220), ("Confezione da 6", "6", 1200)];
const BISCOTTI_250: &[(&str, &str, i64)] = &[("250 g", "250G", 650), ("500 g", "500G", 1200)];

const PASTRIES: &[Pastry] = &[
    Pastry {
        handle: "cannolo-siciliano-classico",
        title: "Cannolo siciliano classico",
        description: "Cialda croccante fritta al momento, ricotta di pecora zuccherata e gocce di cioccolato.",
        collection: "cannoli",
        tags: &["ricotta", "sicilia"],
        sizes: CANNOLO,
    },
    Pastry {
        handle: "cannolo-al-pistacchio",
        title: "Cannolo al pistacchio",
        description: "Crema di ricotta e pistacchio di Bronte, granella sulle punte.",
        collection: "cannoli",
        tags: &["pistacchio", "sicilia"],
        sizes: &[("Mignon", "MIG", 220), ("Grande", "GRA", 400)],
    },
    Pastry {
        handle: "cannolo-al-cioccolato",
        title: "Cannolo al cioccolato",
        description: "Cialda al cacao e ricotta al cioccolato fondente.",
        collection: "cannoli",
        tags: &["cioccolato"],
        sizes: &[("Mignon", "MIG", 200), ("Grande", "GRA", 380)],
    },
    Pastry {
        handle: "cannolo-ricotta-e-canditi",
        title: "Cannolo ricotta e canditi",
        description: "La ricetta palermitana con scorza d'arancia candita.",
        collection: "cannoli",
        tags: &["ricotta", "canditi"],
        sizes: &[("Mignon", "MIG", 200), ("Grande", "GRA", 380)],
    },
    Pastry {
        handle: "cannolo-alla-nocciola",
        title: "Cannolo alla nocciola",
        description: "Ricotta e crema di nocciole del Piemonte.",
        collection: "cannoli",
        tags: &["nocciola"],
        sizes: &[("Mignon", "MIG", 220), ("Grande", "GRA", 400)],
    },
    Pastry {
        handle: "cannolo-al-limone",
        title: "Cannolo al limone di Sicilia",
        description: "Ricotta profumata alla scorza di limone e granella di pistacchio.",
        collection: "cannoli",
        tags: &["limone", "sicilia"],
        sizes: &[("Mignon", "MIG", 200), ("Grande", "GRA", 380)],
    },
    Pastry {
        handle: "cannolo-scomposto",
        title: "Cannolo scomposto in vasetto",
        description: "Crema di ricotta e frammenti di cialda, da gustare al cucchiaio.",
        collection: "cannoli",
        tags: &["ricotta"],
        sizes: &[("Piccolo", "S", 450), ("Grande", "L", 750)],
    },
    Pastry {
        handle: "vassoio-cannoli-mignon",
        title: "Vassoio di cannoli mignon",
        description: "Cannoli mignon assortiti per le feste.",
        collection: "cannoli",
        tags: &["vassoio", "feste"],
        sizes: &[("12 pezzi", "12", 2200), ("24 pezzi", "24", 4200)],
    },
    Pastry {
        handle: "sfogliatella-riccia",
        title: "Sfogliatella riccia",
        description: "Sfoglia croccante a ventaglio, ripiena di semola, ricotta e canditi.",
        collection: "sfogliatelle",
        tags: &["napoli", "ricotta"],
        sizes: SFOGLIA,
    },
    Pastry {
        handle: "sfogliatella-frolla",
        title: "Sfogliatella frolla",
        description: "Guscio di pasta frolla morbida con il ripieno classico.",
        collection: "sfogliatelle",
        tags: &["napoli"],
        sizes: &[("Singola", "1", 200), ("Confezione da 6", "6", 1100)],
    },
    Pastry {
        handle: "santa-rosa",
        title: "Santa Rosa",
        description: "Sfogliatella con crema pasticcera e amarene sciroppate.",
        collection: "sfogliatelle",
        tags: &["napoli", "amarena"],
        sizes: &[("Singola", "1", 280), ("Confezione da 6", "6", 1550)],
    },
    Pastry {
        handle: "sfogliatella-al-cioccolato",
        title: "Sfogliatella al cioccolato",
        description: "Ripieno di ricotta e cioccolato fondente.",
        collection: "sfogliatelle",
        tags: &["cioccolato"],
        sizes: &[("Singola", "1", 240), ("Confezione da 6", "6", 1300)],
    },
    Pastry {
        handle: "coda-di-aragosta",
        title: "Coda di aragosta",
        description: "Sfoglia allungata ripiena di crema chantilly.",
        collection: "sfogliatelle",
        tags: &["crema"],
        sizes: &[("Singola", "1", 350), ("Confezione da 6", "6", 1900)],
    },
    Pastry {
        handle: "sfogliatella-al-pistacchio",
        title: "Sfogliatella al pistacchio",
        description: "Ripieno di ricotta e crema di pistacchio.",
        collection: "sfogliatelle",
        tags: &["pistacchio"],
        sizes: &[("Singola", "1", 260), ("Confezione da 6", "6", 1450)],
    },
    Pastry {
        handle: "sfogliatelle-mignon",
        title: "Sfogliatelle mignon",
        description: "Piccole ricce e frolle assortite.",
        collection: "sfogliatelle",
        tags: &["vassoio"],
        sizes: &[("12 pezzi", "12", 1800), ("24 pezzi", "24", 3400)],
    },
    Pastry {
        handle: "cassata-siciliana",
        title: "Cassata siciliana",
        description: "Pan di Spagna, ricotta, pasta reale e frutta candita.",
        collection: "torte",
        tags: &["sicilia", "ricotta"],
        sizes: &[("6 porzioni", "6P", 2800), ("10 porzioni", "10P", 4200)],
    },
    Pastry {
        handle: "torta-caprese",
        title: "Torta caprese",
        description: "Mandorle e cioccolato fondente, senza farina.",
        collection: "torte",
        tags: &["cioccolato", "senza-glutine"],
        sizes: &[("6 porzioni", "6P", 2200), ("10 porzioni", "10P", 3400)],
    },
    Pastry {
        handle: "pastiera-napoletana",
        title: "Pastiera napoletana",
        description: "Grano cotto, ricotta, fiori d'arancio.",
        collection: "torte",
        tags: &["napoli", "ricotta"],
        sizes: &[("6 porzioni", "6P", 2400), ("10 porzioni", "10P", 3600)],
    },
    Pastry {
        handle: "torta-della-nonna",
        title: "Torta della nonna",
        description: "Frolla, crema pasticcera al limone e pinoli.",
        collection: "torte",
        tags: &["crema"],
        sizes: &[("6 porzioni", "6P", 2000), ("10 porzioni", "10P", 3200)],
    },
    Pastry {
        handle: "tiramisu",
        title: "Tiramisù",
        description: "Savoiardi, caffè espresso e crema al mascarpone.",
        collection: "torte",
        tags: &["caffe"],
        sizes: &[("6 porzioni", "6P", 2200), ("10 porzioni", "10P", 3500)],
    },
    Pastry {
        handle: "millefoglie",
        title: "Millefoglie",
        description: "Sfoglia caramellata, crema chantilly e fragole.",
        collection: "torte",
        tags: &["crema", "fragole"],
        sizes: &[("6 porzioni", "6P", 2400), ("10 porzioni", "10P", 3800)],
    },
    Pastry {
        handle: "torta-ricotta-e-pere",
        title: "Torta ricotta e pere",
        description: "Biscotto alla nocciola, crema di ricotta e pere.",
        collection: "torte",
        tags: &["ricotta", "nocciola"],
        sizes: &[("6 porzioni", "6P", 2600), ("10 porzioni", "10P", 4000)],
    },
    Pastry {
        handle: "delizia-al-limone",
        title: "Delizia al limone",
        description: "Cupole di pan di Spagna bagnate al limoncello.",
        collection: "torte",
        tags: &["limone"],
        sizes: &[("6 porzioni", "6P", 2400), ("10 porzioni", "10P", 3700)],
    },
    Pastry {
        handle: "cantucci-alle-mandorle",
        title: "Cantucci alle mandorle",
        description: "Biscotti secchi toscani da inzuppare nel vin santo.",
        collection: "biscotti",
        tags: &["mandorle", "toscana"],
        sizes: BISCOTTI_250,
    },
    Pastry {
        handle: "amaretti-morbidi",
        title: "Amaretti morbidi",
        description: "Mandorle, zucchero e albume: morbidi dentro, croccanti fuori.",
        collection: "biscotti",
        tags: &["mandorle", "senza-glutine"],
        sizes: &[("250 g", "250G", 750), ("500 g", "500G", 1400)],
    },
    Pastry {
        handle: "paste-di-mandorla",
        title: "Paste di mandorla",
        description: "Dolcetti siciliani di pasta di mandorla con ciliegia candita.",
        collection: "biscotti",
        tags: &["mandorle", "sicilia"],
        sizes: &[("250 g", "250G", 900), ("500 g", "500G", 1700)],
    },
    Pastry {
        handle: "baci-di-dama",
        title: "Baci di dama",
        description: "Due biscotti alla nocciola uniti dal cioccolato.",
        collection: "biscotti",
        tags: &["nocciola", "cioccolato"],
        sizes: &[("250 g", "250G", 700), ("500 g", "500G", 1300)],
    },
    Pastry {
        handle: "brutti-ma-buoni",
        title: "Brutti ma buoni",
        description: "Meringa e nocciole tostate.",
        collection: "biscotti",
        tags: &["nocciola", "senza-glutine"],
        sizes: BISCOTTI_250,
    },
    Pastry {
        handle: "ricciarelli",
        title: "Ricciarelli di Siena",
        description: "Pasta di mandorle morbida a forma di losanga.",
        collection: "biscotti",
        tags: &["mandorle", "toscana"],
        sizes: &[("250 g", "250G", 850), ("500 g", "500G", 1600)],
    },
    Pastry {
        handle: "taralli-dolci-al-vino",
        title: "Taralli dolci al vino",
        description: "Taralli al vino rosso e zucchero.",
        collection: "biscotti",
        tags: &["vino"],
        sizes: &[("250 g", "250G", 500), ("500 g", "500G", 900)],
    },
    Pastry {
        handle: "biscotti-regina",
        title: "Biscotti Regina",
        description: "Biscotti palermitani ricoperti di sesamo.",
        collection: "biscotti",
        tags: &["sesamo", "sicilia"],
        sizes: &[("250 g", "250G", 550), ("500 g", "500G", 1000)],
    },
];

const COLLECTIONS: &[(&str, &str, &str)] = &[
    ("cannoli", "Cannoli", "Cannoli siciliani riempiti al momento."),
    ("sfogliatelle", "Sfogliatelle", "La tradizione napoletana, ricce e frolle."),
    ("torte", "Torte", "Torte intere su ordinazione o pronte in negozio."),
    ("biscotti", "Biscotti", "Biscotti da forno, in sacchetti da 250 g e 500 g."),
];

fn found<T>(r: CoreResult<T>) -> CoreResult<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(CoreError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Create the demo tenant `dolce-vita` with its catalog, locations, stock and
/// promotions. Idempotent: whatever exists (matched by id, handle or name)
/// is left alone, so a second run creates nothing and never resets stock.
pub fn seed_demo(core: &Core, now_ms: i64) -> CoreResult<SeedReport> {
    seed_demo_into(core, &TenantId::new(DEMO_TENANT)?, now_ms)
}

/// The demo shop in any tenant (created when missing): what the SDK's test
/// harness and `omnistore plugin run` give a plugin to work on.
pub fn seed_demo_into(core: &Core, tenant: &TenantId, now_ms: i64) -> CoreResult<SeedReport> {
    let tenant = tenant.clone();
    let existing = match found(core.get_tenant(&tenant))? {
        Some(t) => t,
        None => match core.create_tenant(&tenant, "Pasticceria Dolce Vita", "EUR", now_ms) {
            Ok(t) => t,
            Err(CoreError::Conflict(_)) => core.get_tenant(&tenant)?,
            Err(e) => return Err(e),
        },
    };
    // A shop in Naples: Italian first, English for visitors, Italian hours —
    // unless the shop already says so (a tenant made elsewhere gets it too).
    if existing.languages.is_empty() || existing.time_zone.is_none() {
        let shop = crate::ShopPatch {
            languages: existing.languages.is_empty().then(|| vec!["it".into(), "en".into()]),
            contact_email: existing.contact_email.is_none().then(|| Some("ciao@dolcevita.example".into())),
            contact_phone: existing.contact_phone.is_none().then(|| Some("+390811234567".into())),
            time_zone: existing.time_zone.is_none().then(|| "Europe/Rome".into()),
            ..crate::ShopPatch::default()
        };
        core.update_shop(&tenant, shop, now_ms)?;
    }

    let locations = core.list_locations(&tenant)?;
    let location = |name: &str, kind, pickup| -> CoreResult<LocationId> {
        if let Some(l) = locations.iter().find(|l| l.name == name) {
            return Ok(l.id.clone());
        }
        let address = Some(format!("Via dei Dolci 1, Napoli ({name})"));
        Ok(core
            .create_location(&tenant, NewLocation { name: name.into(), kind, pickup_enabled: pickup, address }, now_ms)?
            .id)
    };
    let warehouse = location("Laboratorio", LocationKind::Warehouse, false)?;
    let shop = location("Negozio", LocationKind::Shop, true)?;

    let mut collections = Vec::new();
    for (handle, title, description) in COLLECTIONS {
        let c = match found(core.collection_by_handle(&tenant, handle))? {
            Some(c) => c,
            None => core.create_collection(
                &tenant,
                NewCollection { handle: (*handle).into(), title: (*title).into(), description: (*description).into() },
                now_ms,
            )?,
        };
        collections.push((handle.to_string(), c.id));
    }

    let mut created = 0;
    for (i, p) in PASTRIES.iter().enumerate() {
        if found(core.product_by_handle(&tenant, p.handle))?.is_some() {
            continue;
        }
        let collection = collections.iter().find(|(h, _)| h == p.collection).map(|(_, id)| id.clone());
        let is_cake = p.collection == "torte";
        let variants = p
            .sizes
            .iter()
            .map(|(title, suffix, cents)| {
                Ok(NewVariant {
                    sku: format!("DV-{:02}-{suffix}", i + 1),
                    title: (*title).into(),
                    options: [("Formato".to_string(), (*title).to_string())].into_iter().collect(),
                    gtin: None,
                    weight_grams: None,
                    price: Money::new(*cents, "EUR")?,
                    compare_at: None,
                    // Party trays are made to order.
                    backorderable: p.handle.starts_with("vassoio"),
                })
            })
            .collect::<CoreResult<Vec<_>>>()?;
        let detail = core.create_product(
            &tenant,
            NewProduct {
                handle: p.handle.into(),
                title: p.title.into(),
                description: p.description.into(),
                brand: Some("Dolce Vita".into()),
                tags: p.tags.iter().map(|t| t.to_string()).collect(),
                collections: collection.into_iter().collect(),
                images: vec![Image {
                    url: format!("/demo/images/{}.jpg", p.handle),
                    alt: Some(p.title.into()),
                    media: None,
                }],
                status: ProductStatus::Active,
                variants,
            },
            now_ms,
        )?;
        for v in &detail.variants {
            let (lab, shop_qty) = if is_cake { (6, 2) } else { (24, 12) };
            core.set_stock(&tenant, &v.id, &warehouse, lab, Some("demo seed"), now_ms)?;
            core.set_stock(&tenant, &v.id, &shop, shop_qty, Some("demo seed"), now_ms)?;
        }
        created += 1;
    }

    let cannoli = collections.iter().find(|(h, _)| h == "cannoli").map(|(_, id)| id.clone());
    let existing = core.list_promotions(&tenant)?;
    let mut promotions = Vec::new();
    let wanted = [
        NewPromotion {
            name: "20% off cannoli".into(),
            scope: PromotionScope::Line,
            value: DiscountValue::Percent { bps: 2000 },
            conditions: PromotionConditions { collections: cannoli.into_iter().collect(), ..Default::default() },
            code: None,
            usage_limit: None,
        },
        NewPromotion {
            name: "DOLCE10: 10% off orders from 20 EUR".into(),
            scope: PromotionScope::Order,
            value: DiscountValue::Percent { bps: 1000 },
            conditions: PromotionConditions { min_subtotal_minor: Some(2000), ..Default::default() },
            code: Some(DEMO_CODE.into()),
            usage_limit: None,
        },
    ];
    for new in wanted {
        let id = match existing.iter().find(|p| p.name == new.name || (new.code.is_some() && p.code == new.code)) {
            Some(p) => p.id.clone(),
            None => core.create_promotion(&tenant, new, now_ms)?.id,
        };
        promotions.push(id);
    }

    Ok(SeedReport {
        tenant,
        warehouse,
        shop,
        collections: collections.into_iter().map(|(_, id)| id).collect(),
        products_created: created,
        products_total: PASTRIES.len(),
        promotions,
    })
}
