//! One-pass deserialization that knows when it may be trusted.
//!
//! The loader's full path parses a spec three times: into the span tree,
//! into a plain YAML value (which refuses duplicate keys), and into
//! [`Spec`](crate::Spec). On the happy path only the last is needed, as long
//! as nothing the plain value would have refused slips through: serde's
//! derived structs refuse a repeated field, but a `BTreeMap` or a JSON value
//! quietly keeps the last of two equal keys.
//!
//! [`from_str`] deserializes through a transparent adapter that watches the
//! key of every mapping at every depth, whatever type it becomes, and raises
//! a flag at a key seen twice in one mapping, or at one whose text could be
//! a YAML number, boolean or null (two such keys can be equal as YAML values
//! though written differently, `1` and `0x1`). A raised flag, like any
//! error, sends the loader down the full path, which then reports exactly
//! what it always did. The adapter passes every call and value through
//! unchanged, so a spec it accepts deserializes exactly as without it.

use std::cell::Cell;
use std::collections::HashSet;
use std::fmt;

use serde::de::{
    self, Deserialize, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess,
    VariantAccess, Visitor,
};

/// `source` deserialized as `T` in one pass, or `None` on any error and
/// whenever a mapping key was repeated or might equal another as a YAML
/// value.
pub(crate) fn from_str<T: for<'de> Deserialize<'de>>(source: &str) -> Option<T> {
    let unsure = Cell::new(false);
    let value = T::deserialize(Watched {
        inner: serde_yaml::Deserializer::from_str(source),
        unsure: &unsure,
    })
    .ok()?;
    (!unsure.get()).then_some(value)
}

/// Whether a mapping key with this text, read as a string, might be a
/// different YAML value (a number, a boolean, null): such keys compare by
/// value, not by text. Errs on the side of "might".
pub(super) fn maybe_not_a_string(text: &str) -> bool {
    text.is_empty()
        || text.starts_with(|c: char| c.is_ascii_digit() || matches!(c, '+' | '-' | '.' | '~'))
        || matches!(
            text,
            "null" | "Null" | "NULL" | "true" | "True" | "TRUE" | "false" | "False" | "FALSE"
        )
}

/// A deserializer whose visitors, and theirs, are watched.
struct Watched<'u, D> {
    inner: D,
    unsure: &'u Cell<bool>,
}

/// A visitor whose mappings, sequences and enums are watched.
struct Watch<'u, V> {
    inner: V,
    unsure: &'u Cell<bool>,
}

/// A seed whose deserializer is watched.
struct WatchedSeed<'u, S> {
    inner: S,
    unsure: &'u Cell<bool>,
}

/// A mapping whose keys are checked and whose values are watched.
struct WatchedMap<'u, M> {
    inner: M,
    unsure: &'u Cell<bool>,
    /// The keys seen so far.
    seen: Seen,
}

/// Hashes of the keys of one mapping. A collision only costs the full path.
#[derive(Default)]
pub(super) struct Seen {
    /// The first few, searched in order: most mappings are small.
    few: Vec<u64>,
    /// All of them, once there are many.
    many: HashSet<u64>,
}

impl Seen {
    const FEW: usize = 16;

    /// Records `hash`; false when it was seen before.
    pub(super) fn insert(&mut self, hash: u64) -> bool {
        if self.few.len() < Self::FEW {
            if self.few.contains(&hash) {
                return false;
            }
            self.few.push(hash);
            return true;
        }
        if self.many.is_empty() {
            self.many.extend(self.few.iter().copied());
        }
        self.many.insert(hash)
    }

    /// Forgets every key, keeping the memory for the next mapping.
    pub(super) fn clear(&mut self) {
        self.few.clear();
        self.many.clear();
    }
}

/// FNV-1a: quick on short keys, and good enough here.
pub(super) fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

struct WatchedSeq<'u, A> {
    inner: A,
    unsure: &'u Cell<bool>,
}

struct WatchedEnum<'u, A> {
    inner: A,
    unsure: &'u Cell<bool>,
}

struct WatchedVariant<'u, A> {
    inner: A,
    unsure: &'u Cell<bool>,
}

/// The deserializer of one mapping key, recording what it reads.
struct KeyDeserializer<'u, 'k, D> {
    inner: D,
    key: Key<'u, 'k>,
}

/// The visitor of one mapping key.
struct KeyVisitor<'u, 'k, V> {
    inner: V,
    key: Key<'u, 'k>,
}

struct KeySeed<'u, 'k, S> {
    inner: S,
    key: Key<'u, 'k>,
}

/// Where a key is recorded.
struct Key<'u, 'k> {
    unsure: &'u Cell<bool>,
    seen: &'k mut Seen,
}

impl Key<'_, '_> {
    fn text(self, text: &str) {
        if maybe_not_a_string(text) || !self.seen.insert(fnv1a(text)) {
            self.unsure.set(true);
        }
    }

    fn other(self) {
        self.unsure.set(true);
    }
}

macro_rules! forward_deserializer {
    ($wrap:ident { $field:ident } $(, $method:ident($($arg:ident: $ty:ty),*))* $(,)?) => {
        $(
            fn $method<V: Visitor<'de>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value, Self::Error> {
                self.inner.$method($($arg,)* $wrap { inner: visitor, $field: self.$field })
            }
        )*
    };
}

macro_rules! deserializer_methods {
    ($wrap:ident { $field:ident }) => {
        forward_deserializer! {
            $wrap { $field },
            deserialize_any(),
            deserialize_bool(),
            deserialize_i8(),
            deserialize_i16(),
            deserialize_i32(),
            deserialize_i64(),
            deserialize_i128(),
            deserialize_u8(),
            deserialize_u16(),
            deserialize_u32(),
            deserialize_u64(),
            deserialize_u128(),
            deserialize_f32(),
            deserialize_f64(),
            deserialize_char(),
            deserialize_str(),
            deserialize_string(),
            deserialize_bytes(),
            deserialize_byte_buf(),
            deserialize_option(),
            deserialize_unit(),
            deserialize_unit_struct(name: &'static str),
            deserialize_newtype_struct(name: &'static str),
            deserialize_seq(),
            deserialize_tuple(len: usize),
            deserialize_tuple_struct(name: &'static str, len: usize),
            deserialize_map(),
            deserialize_struct(name: &'static str, fields: &'static [&'static str]),
            deserialize_enum(name: &'static str, variants: &'static [&'static str]),
            deserialize_identifier(),
            deserialize_ignored_any(),
        }

        fn is_human_readable(&self) -> bool {
            self.inner.is_human_readable()
        }
    };
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Watched<'_, D> {
    type Error = D::Error;
    deserializer_methods!(Watch { unsure });
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for KeyDeserializer<'_, '_, D> {
    type Error = D::Error;
    deserializer_methods!(KeyVisitor { key });
}

/// Visitor methods that pass a plain value through, after calling the
/// visitor's own `$note` method.
macro_rules! pass_values {
    ($note:ident; $($method:ident($ty:ty)),* $(,)?) => {
        $(
            fn $method<E: de::Error>(self, v: $ty) -> Result<Self::Value, E> {
                self.$note();
                self.inner.$method(v)
            }
        )*
    };
}

impl<V> Watch<'_, V> {
    /// A plain value: nothing to watch.
    fn value(&self) {}
}

impl<V> KeyVisitor<'_, '_, V> {
    /// A key that is not a string.
    fn not_text(&self) {
        self.key.unsure.set(true);
    }
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Watch<'_, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.expecting(f)
    }

    pass_values! {
        value;
        visit_bool(bool), visit_i8(i8), visit_i16(i16), visit_i32(i32), visit_i64(i64),
        visit_i128(i128), visit_u8(u8), visit_u16(u16), visit_u32(u32), visit_u64(u64),
        visit_u128(u128), visit_f32(f32), visit_f64(f64), visit_char(char),
        visit_str(&str), visit_borrowed_str(&'de str), visit_string(String),
        visit_bytes(&[u8]), visit_borrowed_bytes(&'de [u8]), visit_byte_buf(Vec<u8>),
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        self.inner.visit_none()
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        self.inner.visit_unit()
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        self.inner.visit_some(Watched {
            inner: deserializer,
            unsure: self.unsure,
        })
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        self.inner.visit_newtype_struct(Watched {
            inner: deserializer,
            unsure: self.unsure,
        })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        self.inner.visit_seq(WatchedSeq {
            inner: seq,
            unsure: self.unsure,
        })
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        self.inner.visit_map(WatchedMap {
            inner: map,
            unsure: self.unsure,
            seen: Seen::default(),
        })
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Self::Value, A::Error> {
        self.inner.visit_enum(WatchedEnum {
            inner: data,
            unsure: self.unsure,
        })
    }
}

impl<'de, V: Visitor<'de>> Visitor<'de> for KeyVisitor<'_, '_, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.expecting(f)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        self.key.text(v);
        self.inner.visit_str(v)
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        self.key.text(v);
        self.inner.visit_borrowed_str(v)
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        self.key.text(&v);
        self.inner.visit_string(v)
    }

    // Any other key (a number, a boolean, null, a collection, a tagged
    // value) is left to the full path.
    pass_values! {
        not_text;
        visit_bool(bool), visit_i8(i8), visit_i16(i16), visit_i32(i32), visit_i64(i64),
        visit_i128(i128), visit_u8(u8), visit_u16(u16), visit_u32(u32), visit_u64(u64),
        visit_u128(u128), visit_f32(f32), visit_f64(f64), visit_char(char),
        visit_bytes(&[u8]), visit_borrowed_bytes(&'de [u8]), visit_byte_buf(Vec<u8>),
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        self.key.other();
        self.inner.visit_none()
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        self.key.other();
        self.inner.visit_unit()
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        self.key.other();
        self.inner.visit_some(deserializer)
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        self.key.other();
        self.inner.visit_newtype_struct(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        self.key.other();
        self.inner.visit_seq(seq)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        self.key.other();
        self.inner.visit_map(map)
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Self::Value, A::Error> {
        self.key.other();
        self.inner.visit_enum(data)
    }
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for WatchedSeed<'_, S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        self.inner.deserialize(Watched {
            inner: deserializer,
            unsure: self.unsure,
        })
    }
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for KeySeed<'_, '_, S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        self.inner.deserialize(KeyDeserializer {
            inner: deserializer,
            key: self.key,
        })
    }
}

impl<'de, M: MapAccess<'de>> MapAccess<'de> for WatchedMap<'_, M> {
    type Error = M::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        self.inner.next_key_seed(KeySeed {
            inner: seed,
            key: Key {
                unsure: self.unsure,
                seen: &mut self.seen,
            },
        })
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<S::Value, Self::Error> {
        self.inner.next_value_seed(WatchedSeed {
            inner: seed,
            unsure: self.unsure,
        })
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for WatchedSeq<'_, A> {
    type Error = A::Error;

    fn next_element_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, Self::Error> {
        self.inner.next_element_seed(WatchedSeed {
            inner: seed,
            unsure: self.unsure,
        })
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

impl<'u, 'de, A: EnumAccess<'de>> EnumAccess<'de> for WatchedEnum<'u, A> {
    type Error = A::Error;
    type Variant = WatchedVariant<'u, A::Variant>;

    fn variant_seed<S: DeserializeSeed<'de>>(
        self,
        seed: S,
    ) -> Result<(S::Value, Self::Variant), Self::Error> {
        let (value, variant) = self.inner.variant_seed(WatchedSeed {
            inner: seed,
            unsure: self.unsure,
        })?;
        Ok((
            value,
            WatchedVariant {
                inner: variant,
                unsure: self.unsure,
            },
        ))
    }
}

impl<'de, A: VariantAccess<'de>> VariantAccess<'de> for WatchedVariant<'_, A> {
    type Error = A::Error;

    fn unit_variant(self) -> Result<(), Self::Error> {
        self.inner.unit_variant()
    }

    fn newtype_variant_seed<S: DeserializeSeed<'de>>(
        self,
        seed: S,
    ) -> Result<S::Value, Self::Error> {
        self.inner.newtype_variant_seed(WatchedSeed {
            inner: seed,
            unsure: self.unsure,
        })
    }

    fn tuple_variant<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.inner.tuple_variant(
            len,
            Watch {
                inner: visitor,
                unsure: self.unsure,
            },
        )
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.inner.struct_variant(
            fields,
            Watch {
                inner: visitor,
                unsure: self.unsure,
            },
        )
    }
}
