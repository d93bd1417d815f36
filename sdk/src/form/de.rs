//! A serde deserializer over decoded name-value pairs: a flat map whose
//! values are text, one or several per name.

use std::fmt;

use serde::de::value::BorrowedStrDeserializer;
use serde::de::{self, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, SeqAccess, Visitor};

#[derive(Debug)]
pub(crate) struct Error(String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error(msg.to_string())
    }
}

pub(crate) fn from_pairs<'a, T: de::Deserialize<'a>>(pairs: &'a [(String, String)]) -> Result<T, Error> {
    // Grouped by name in order of first appearance, so a Vec field sees all
    // its values and a scalar field can tell it was given twice.
    let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
    for (k, v) in pairs {
        match groups.iter_mut().find(|(name, _)| name == k) {
            Some((_, values)) => values.push(v),
            None => groups.push((k, vec![v])),
        }
    }
    T::deserialize(Pairs { groups })
}

struct Pairs<'a> {
    groups: Vec<(&'a str, Vec<&'a str>)>,
}

impl<'de> Deserializer<'de> for Pairs<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_map(Groups { groups: self.groups.into_iter(), current: None })
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit
        unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier ignored_any
    }
}

struct Groups<'a> {
    groups: std::vec::IntoIter<(&'a str, Vec<&'a str>)>,
    current: Option<(&'a str, Vec<&'a str>)>,
}

impl<'de> MapAccess<'de> for Groups<'de> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Error> {
        let Some((name, values)) = self.groups.next() else { return Ok(None) };
        self.current = Some((name, values));
        seed.deserialize(BorrowedStrDeserializer::new(name)).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let (name, values) = self.current.take().ok_or_else(|| Error("a value without a name".into()))?;
        seed.deserialize(Values { values }).map_err(|e| Error(format!("`{name}`: {e}")))
    }
}

/// The values given for one name.
struct Values<'a> {
    values: Vec<&'a str>,
}

impl<'a> Values<'a> {
    fn one(&self) -> Result<&'a str, Error> {
        match self.values.as_slice() {
            [one] => Ok(one),
            many => Err(Error(format!("given {} times, expected once", many.len()))),
        }
    }

    fn parse<T: std::str::FromStr>(&self, what: &str) -> Result<T, Error> {
        let text = self.one()?;
        text.parse().map_err(|_| Error(format!("expected {what}, got {text:?}")))
    }
}

macro_rules! parse_with {
    ($($method:ident => $visit:ident, $what:literal;)*) => {
        $(fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            visitor.$visit(self.parse($what)?)
        })*
    };
}

impl<'de> Deserializer<'de> for Values<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.values.len() == 1 { visitor.visit_borrowed_str(self.values[0]) } else { self.deserialize_seq(visitor) }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.one()? {
            "true" | "on" | "1" => visitor.visit_bool(true),
            "false" | "off" | "0" => visitor.visit_bool(false),
            other => Err(Error(format!("expected true, on, 1, false, off or 0, got {other:?}"))),
        }
    }

    parse_with! {
        deserialize_i8 => visit_i8, "an integer";
        deserialize_i16 => visit_i16, "an integer";
        deserialize_i32 => visit_i32, "an integer";
        deserialize_i64 => visit_i64, "an integer";
        deserialize_i128 => visit_i128, "an integer";
        deserialize_u8 => visit_u8, "a non-negative integer";
        deserialize_u16 => visit_u16, "a non-negative integer";
        deserialize_u32 => visit_u32, "a non-negative integer";
        deserialize_u64 => visit_u64, "a non-negative integer";
        deserialize_u128 => visit_u128, "a non-negative integer";
        deserialize_f32 => visit_f32, "a number";
        deserialize_f64 => visit_f64, "a number";
        deserialize_char => visit_char, "one character";
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_borrowed_str(self.one()?)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_borrowed_bytes(self.one()?.as_bytes())
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        // A blank input is sent as an empty value: for an optional field it
        // means "not given", not "given as nothing".
        if self.values.iter().all(|v| v.is_empty()) { visitor.visit_none() } else { visitor.visit_some(self) }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(self, _name: &'static str, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _name: &'static str, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_seq(Each { values: self.values.into_iter() })
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Error> {
        Err(Error("nested maps are not supported in a form or query".into()))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_map(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_enum(self.one()?.into_deserializer())
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }
}

struct Each<'a> {
    values: std::vec::IntoIter<&'a str>,
}

impl<'de> SeqAccess<'de> for Each<'de> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, Error> {
        match self.values.next() {
            Some(value) => seed.deserialize(Values { values: vec![value] }).map(Some),
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.values.len())
    }
}
