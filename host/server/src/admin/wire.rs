//! The admin API's wire format: every JSON body it reads or writes, as types
//! of this crate, converted to and from the core's domain types by explicit
//! `From` impls. A domain field can be renamed without moving the API (the
//! conversion changes, the JSON does not), and the OpenAPI schemas are
//! derived from these types (`schemars`), so the description is the code.
//!
//! Ids travel as strings; request types convert them into the core's id
//! types. Answers are `#[schemars(deny_unknown_fields)]` so the schema says
//! exactly which fields an answer has (a test validates real answers
//! against it); requests keep whatever leniency they always had.

mod calls;
mod campaigns;
mod channels;
mod collections;
mod customers;
mod events;
mod files;
mod inventory;
mod locations;
mod mail;
mod meta;
mod orders;
mod products;
mod promotions;
mod returns;
mod satisfaction;
mod segments;
mod shop;
mod sync;
mod tenants;
mod users;
mod variants;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Serialize};

pub(crate) use calls::*;
pub(crate) use campaigns::*;
pub(crate) use channels::*;
pub use channels::{InstallRequest, PackageUpload};
pub(crate) use collections::*;
pub(crate) use customers::*;
pub(crate) use events::*;
pub(crate) use files::*;
pub(crate) use inventory::*;
pub(crate) use locations::*;
pub(crate) use mail::*;
pub(crate) use meta::*;
pub(crate) use orders::*;
pub(crate) use products::*;
pub(crate) use promotions::*;
pub(crate) use returns::*;
pub(crate) use satisfaction::*;
pub(crate) use segments::*;
pub(crate) use shop::*;
pub(crate) use sync::*;
pub(crate) use tenants::*;
pub(crate) use users::*;
pub(crate) use variants::*;

/// How a route's body or answer is described: the schema of one wire type,
/// added to the generator's components (a `$ref` comes back).
pub type SchemaFn = fn(&mut SchemaGenerator) -> Schema;

pub(crate) fn schema_of<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<T>()
}

/// One page of a list: `{"items": […], "next_after": …}`; `next_after` is the
/// cursor of the next page when this one came back full.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "{T}Page", deny_unknown_fields)]
pub(crate) struct Page<T> {
    pub items: Vec<T>,
    /// Cursor for the next page (`?after=`), when this one is full.
    pub next_after: Option<String>,
}

impl<T> Page<T> {
    /// A page of wire values converted from domain values.
    pub(crate) fn of<D>(items: Vec<D>, next_after: Option<String>) -> Page<T>
    where
        T: From<D>,
    {
        Page { items: items.into_iter().map(T::from).collect(), next_after }
    }
}

/// An amount in minor units (cents) of a currency.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub(crate) struct Money {
    /// Minor units (cents).
    pub amount_minor: i64,
    /// ISO 4217, the tenant's currency.
    pub currency: String,
}

impl From<omnistore_core::Money> for Money {
    fn from(m: omnistore_core::Money) -> Money {
        Money { amount_minor: m.amount_minor, currency: m.currency }
    }
}

impl From<Money> for omnistore_core::Money {
    fn from(m: Money) -> omnistore_core::Money {
        omnistore_core::Money { amount_minor: m.amount_minor, currency: m.currency }
    }
}

/// Ids (or any displayable values) as the strings they travel as.
pub(crate) fn strings<I: std::fmt::Display>(ids: Vec<I>) -> Vec<String> {
    ids.into_iter().map(|id| id.to_string()).collect()
}

/// Strings from the wire as ids of the core.
pub(crate) fn ids<I: From<String>>(values: Vec<String>) -> Vec<I> {
    values.into_iter().map(I::from).collect()
}

/// A closed set of names on the wire mirroring one of the core's, with the
/// conversions both ways (a variant added to the core's enum
/// `omnistore_core::<Domain>` fails to compile here until the wire says how
/// it is spelled).
macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident <=> $domain:ident { $($variant:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
        #[serde(rename_all = "snake_case")]
        pub(crate) enum $name {
            $($variant),+
        }

        impl From<omnistore_core::$domain> for $name {
            fn from(value: omnistore_core::$domain) -> $name {
                match value {
                    $(omnistore_core::$domain::$variant => $name::$variant),+
                }
            }
        }

        impl From<$name> for omnistore_core::$domain {
            fn from(value: $name) -> omnistore_core::$domain {
                match value {
                    $($name::$variant => omnistore_core::$domain::$variant),+
                }
            }
        }
    };
}
pub(crate) use wire_enum;
