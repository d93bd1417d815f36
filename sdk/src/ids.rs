//! Typed ids: the contract passes every id as a string, so a cart id can be
//! handed where a variant id belongs and nothing complains until the host
//! answers `not-found`. These newtypes make that a compile error.
//!
//! ```compile_fail
//! use omnistore_sdk::ids::{CartId, VariantId};
//! fn set_line(cart: &CartId, variant: &VariantId) {}
//! let cart = CartId::new("crt-1");
//! let variant = VariantId::new("var-1");
//! set_line(&variant, &cart); // swapped: does not compile
//! ```
//!
//! Read them from the contract types with the accessors (`product.product_id()`,
//! `cart.customer_id()`, …) and pass them to the typed functions
//! ([`catalog::product`](crate::catalog::product),
//! [`carts::set_line_quantity`](crate::carts::set_line_quantity), …). They
//! serialize as the plain string, so stored JSON does not change when a
//! `String` field becomes an id.
//!
//! ```
//! use omnistore_sdk::ids::ProductId;
//! let id = ProductId::new("prd-0001");
//! assert_eq!(id.as_str(), "prd-0001");
//! assert_eq!(id.to_string(), "prd-0001");
//! assert_eq!(serde_json::to_string(&id).unwrap(), r#""prd-0001""#);
//! let back: ProductId = serde_json::from_str(r#""prd-0001""#).unwrap();
//! assert_eq!(back, id);
//! assert_eq!(String::from(back), "prd-0001");
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{
    CampaignMessage, Cart, CartLine, Collection, Customer, Event, Fulfillment, Location, Order, OrderLine, Product,
    StockChange, Touchpoint, Variant,
};

macro_rules! ids {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// The id the host issued, as this type.
            pub fn new(id: impl Into<String>) -> $name {
                $name(id.into())
            }

            /// The id as the host issued it.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The id as a plain string.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> $name {
                $name(id)
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> $name {
                $name(id.to_string())
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    )*};
}

ids! {
    /// The id of a [`Product`].
    ProductId;
    /// The id of a [`Variant`] (what a cart line and an order line hold).
    VariantId;
    /// The id of a [`Collection`].
    CollectionId;
    /// The id of a [`Cart`].
    CartId;
    /// The id of an [`Order`].
    OrderId;
    /// The id of a [`Customer`].
    CustomerId;
    /// The id of a location (a shop or warehouse), as in [`Fulfillment::Pickup`].
    LocationId;
    /// The id of a channel installation, as in [`Order::channel`].
    ChannelId;
    /// The id of a marketing campaign.
    CampaignId;
    /// The id of an [`Event`]: the same event redelivered has the same id.
    EventId;
}

impl Product {
    /// The product's id.
    ///
    /// ```
    /// # let product = omnistore_sdk::Product { id: "prd-1".into(), handle: "cannolo".into(), title: "Cannolo".into(),
    /// #     description: String::new(), brand: None, tags: vec![], collections: vec!["col-1".into()], images: vec![],
    /// #     variants: vec![], updated_at: 0, created_at: 0 };
    /// use omnistore_sdk::ids::{CollectionId, ProductId};
    /// assert_eq!(product.product_id(), ProductId::new("prd-1"));
    /// assert_eq!(product.collection_ids(), [CollectionId::new("col-1")]);
    /// ```
    pub fn product_id(&self) -> ProductId {
        ProductId::new(&*self.id)
    }

    /// The ids of the collections the product belongs to.
    pub fn collection_ids(&self) -> Vec<CollectionId> {
        self.collections.iter().map(|id| CollectionId::new(&**id)).collect()
    }
}

impl Variant {
    /// The variant's id.
    pub fn variant_id(&self) -> VariantId {
        VariantId::new(&*self.id)
    }
}

impl Collection {
    /// The collection's id.
    pub fn collection_id(&self) -> CollectionId {
        CollectionId::new(&*self.id)
    }
}

impl Cart {
    /// The cart's id.
    pub fn cart_id(&self) -> CartId {
        CartId::new(&*self.id)
    }

    /// The customer the cart belongs to, when known.
    pub fn customer_id(&self) -> Option<CustomerId> {
        self.customer_id.as_deref().map(CustomerId::new)
    }
}

impl CartLine {
    /// The id of the line's variant.
    pub fn variant_id(&self) -> VariantId {
        VariantId::new(&*self.variant_id)
    }

    /// The id of the product the line's variant belongs to.
    pub fn product_id(&self) -> ProductId {
        ProductId::new(&*self.product_id)
    }
}

impl Location {
    /// The location's id, as [`Fulfillment::pickup_at`] takes it.
    pub fn location_id(&self) -> LocationId {
        LocationId::new(&*self.id)
    }
}

impl Order {
    /// The order's id.
    pub fn order_id(&self) -> OrderId {
        OrderId::new(&*self.id)
    }

    /// The channel installation the order arrived through.
    pub fn channel_id(&self) -> ChannelId {
        ChannelId::new(&*self.channel)
    }

    /// The customer who placed the order, when known.
    pub fn customer_id(&self) -> Option<CustomerId> {
        self.customer_id.as_deref().map(CustomerId::new)
    }
}

impl OrderLine {
    /// The id of the line's variant.
    pub fn variant_id(&self) -> VariantId {
        VariantId::new(&*self.variant_id)
    }
}

impl Customer {
    /// The customer's id.
    pub fn customer_id(&self) -> CustomerId {
        CustomerId::new(&*self.id)
    }
}

impl StockChange {
    /// The id of the product whose stock changed.
    pub fn product_id(&self) -> ProductId {
        ProductId::new(&*self.product_id)
    }

    /// The id of the variant whose stock changed.
    pub fn variant_id(&self) -> VariantId {
        VariantId::new(&*self.variant_id)
    }
}

impl CampaignMessage {
    /// The campaign the message belongs to.
    pub fn campaign_id(&self) -> CampaignId {
        CampaignId::new(&*self.campaign_id)
    }

    /// The customer to deliver the message to.
    pub fn customer_id(&self) -> CustomerId {
        CustomerId::new(&*self.customer_id)
    }
}

impl Event {
    /// The event's id, the same for every delivery of the same event.
    pub fn event_id(&self) -> EventId {
        EventId::new(&*self.id)
    }
}

impl Fulfillment {
    /// Collected by the customer at `location`.
    pub fn pickup_at(location: &LocationId) -> Fulfillment {
        Fulfillment::Pickup(location.as_str().to_string())
    }

    /// Shipped to `location` and collected there.
    pub fn ship_to_store_at(location: &LocationId) -> Fulfillment {
        Fulfillment::ShipToStore(location.as_str().to_string())
    }

    /// The location a pickup or ship-to-store order is collected at.
    ///
    /// ```
    /// use omnistore_sdk::Fulfillment;
    /// use omnistore_sdk::ids::LocationId;
    /// let at = LocationId::new("loc-1");
    /// assert_eq!(Fulfillment::pickup_at(&at).location_id(), Some(at.clone()));
    /// assert_eq!(Fulfillment::ship_to_store_at(&at).location_id(), Some(at));
    /// ```
    pub fn location_id(&self) -> Option<LocationId> {
        match self {
            Fulfillment::Ship(_) => None,
            Fulfillment::Pickup(id) | Fulfillment::ShipToStore(id) => Some(LocationId::new(&**id)),
        }
    }
}

impl Touchpoint {
    /// This touchpoint, for `customer`.
    ///
    /// ```
    /// use omnistore_sdk::Touchpoint;
    /// use omnistore_sdk::ids::{CustomerId, ProductId};
    /// let t = Touchpoint::new("view").for_customer(&CustomerId::new("cus-1")).for_product(&ProductId::new("prd-1"));
    /// assert_eq!((t.customer_id.as_deref(), t.product_id.as_deref()), (Some("cus-1"), Some("prd-1")));
    /// ```
    pub fn for_customer(mut self, customer: &CustomerId) -> Touchpoint {
        self.customer_id = Some(customer.as_str().to_string());
        self
    }

    /// This touchpoint, about `product`.
    pub fn for_product(mut self, product: &ProductId) -> Touchpoint {
        self.product_id = Some(product.as_str().to_string());
        self
    }

    /// This touchpoint, about `variant`.
    pub fn for_variant(mut self, variant: &VariantId) -> Touchpoint {
        self.variant_id = Some(variant.as_str().to_string());
        self
    }

    /// This touchpoint, attributed to `campaign`.
    pub fn for_campaign(mut self, campaign: &CampaignId) -> Touchpoint {
        self.campaign_id = Some(campaign.as_str().to_string());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Money;

    fn money() -> Money {
        Money { amount_minor: 100, currency: "EUR".into() }
    }

    #[test]
    fn accessors_read_the_right_field() {
        let cart = Cart {
            id: "crt-1".into(),
            customer_id: Some("cus-1".into()),
            lines: vec![CartLine {
                variant_id: "var-1".into(),
                product_id: "prd-1".into(),
                product_handle: "cannolo".into(),
                image: None,
                sku: "S".into(),
                title: "T".into(),
                quantity: 1,
                unit_price: money(),
                discount: money(),
                total: money(),
            }],
            codes: vec![],
            promotions: vec![],
            subtotal: money(),
            discount: money(),
            total: money(),
            expires_at: 0,
        };
        assert_eq!(cart.cart_id(), CartId::new("crt-1"));
        assert_eq!(cart.customer_id(), Some(CustomerId::new("cus-1")));
        assert_eq!(cart.lines[0].variant_id(), VariantId::new("var-1"));
        assert_eq!(cart.lines[0].product_id(), ProductId::new("prd-1"));
        let change = StockChange { product_id: "p".into(), variant_id: "v".into(), sku: "s".into(), available: 1 };
        assert_eq!((change.product_id(), change.variant_id()), (ProductId::new("p"), VariantId::new("v")));
        assert_eq!(Fulfillment::Pickup("loc".into()).location_id(), Some(LocationId::new("loc")));
    }

    #[test]
    fn ids_show_their_kind_in_debug_only() {
        let id = OrderId::from("ord-1");
        assert_eq!(format!("{id:?} {id}"), r#"OrderId("ord-1") ord-1"#);
        assert_eq!(id.clone().into_string(), "ord-1");
        assert_eq!(AsRef::<str>::as_ref(&id), "ord-1");
        assert_eq!(OrderId::from(String::from("ord-1")), id);
    }
}
