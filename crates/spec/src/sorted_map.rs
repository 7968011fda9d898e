//! A map kept as one vector sorted by key.
//!
//! A case's parameters and body matchers are a handful of entries each, and
//! a spec can hold thousands of cases. A `BTreeMap` allocates a node of
//! room for eleven entries for the first one (632 bytes for a case's
//! `with`, 456 for its body matchers), and at start-up the memory a run
//! first touches costs it page faults. [`SortedMap`] keeps what those fields
//! need of a `BTreeMap` (lookup by key, iteration in key order, one value
//! per key, the last written winning) in as little room as the entries take.

use std::borrow::Borrow;
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};

/// A map whose entries are one vector, sorted by key, each key once.
#[derive(Clone, PartialEq, Eq)]
pub struct SortedMap<K, V> {
    /// Sorted by key, no key twice: every constructor keeps it so.
    entries: Vec<(K, V)>,
}

impl<K, V> Default for SortedMap<K, V> {
    fn default() -> Self {
        Self {
            entries: Vec::new(),
        }
    }
}

impl<K: Ord, V> SortedMap<K, V> {
    /// An empty map.
    pub const fn new() -> Self {
        Self {
            entries: Vec::new(),
        }
    }

    /// How many entries there are.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn position<Q>(&self, key: &Q) -> Result<usize, usize>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.entries.binary_search_by(|(k, _)| k.borrow().cmp(key))
    }

    /// The value of `key`.
    pub fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        let at = self.position(key).ok()?;
        Some(&self.entries[at].1)
    }

    /// The value of `key`, to change.
    pub fn get_mut<Q>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        let at = self.position(key).ok()?;
        Some(&mut self.entries[at].1)
    }

    /// Whether `key` has a value.
    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.position(key).is_ok()
    }

    /// Sets `key` to `value`; the value it had, if any.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        match self.position(&key) {
            Ok(at) => Some(std::mem::replace(&mut self.entries[at].1, value)),
            Err(at) => {
                self.entries.insert(at, (key, value));
                None
            }
        }
    }

    /// Takes `key` out; the value it had, if any.
    pub fn remove<Q>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        let at = self.position(key).ok()?;
        Some(self.entries.remove(at).1)
    }

    /// The entries in key order.
    pub fn iter(&self) -> Iter<'_, K, V> {
        Iter(self.entries.iter())
    }

    /// The keys in order.
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &K> + ExactSizeIterator {
        self.entries.iter().map(|(key, _)| key)
    }

    /// The values in key order.
    pub fn values(&self) -> impl DoubleEndedIterator<Item = &V> + ExactSizeIterator {
        self.entries.iter().map(|(_, value)| value)
    }

    /// Sorts `entries` by key and keeps the last of each key, as inserting
    /// them one by one would.
    fn from_entries(mut entries: Vec<(K, V)>) -> Self {
        // A stable sort keeps equal keys in the order they came; of a run of
        // equal keys, the first entry stays, holding the last value.
        entries.sort_by(|(a, _), (b, _)| a.cmp(b));
        entries.dedup_by(|later, kept| {
            let same = later.0 == kept.0;
            if same {
                std::mem::swap(&mut later.1, &mut kept.1);
            }
            same
        });
        Self { entries }
    }
}

/// The entries of a [`SortedMap`] in key order, as `(&key, &value)`.
#[derive(Clone)]
pub struct Iter<'a, K, V>(std::slice::Iter<'a, (K, V)>);

impl<'a, K, V> Iterator for Iter<'a, K, V> {
    type Item = (&'a K, &'a V);

    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|(key, value)| (key, value))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl<K, V> DoubleEndedIterator for Iter<'_, K, V> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.0.next_back().map(|(key, value)| (key, value))
    }
}

impl<K, V> ExactSizeIterator for Iter<'_, K, V> {}

impl<'a, K: Ord, V> IntoIterator for &'a SortedMap<K, V> {
    type Item = (&'a K, &'a V);
    type IntoIter = Iter<'a, K, V>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<K, V> IntoIterator for SortedMap<K, V> {
    type Item = (K, V);
    type IntoIter = std::vec::IntoIter<(K, V)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl<K: Ord, V> FromIterator<(K, V)> for SortedMap<K, V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(entries: I) -> Self {
        Self::from_entries(entries.into_iter().collect())
    }
}

impl<K: Ord, V> Extend<(K, V)> for SortedMap<K, V> {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, entries: I) {
        for (key, value) in entries {
            self.insert(key, value);
        }
    }
}

impl<K: Ord, V, const N: usize> From<[(K, V); N]> for SortedMap<K, V> {
    fn from(entries: [(K, V); N]) -> Self {
        Self::from_entries(entries.into())
    }
}

impl<K: Ord, V> From<BTreeMap<K, V>> for SortedMap<K, V> {
    fn from(map: BTreeMap<K, V>) -> Self {
        // Already sorted, each key once.
        Self {
            entries: map.into_iter().collect(),
        }
    }
}

impl<K: fmt::Debug, V: fmt::Debug> fmt::Debug for SortedMap<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.entries.iter().map(|(key, value)| (key, value)))
            .finish()
    }
}

impl<'de, K, V> Deserialize<'de> for SortedMap<K, V>
where
    K: Ord + Deserialize<'de>,
    V: Deserialize<'de>,
{
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MapVisitor<K, V>(PhantomData<(K, V)>);

        impl<'de, K, V> Visitor<'de> for MapVisitor<K, V>
        where
            K: Ord + Deserialize<'de>,
            V: Deserialize<'de>,
        {
            type Value = SortedMap<K, V>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                // Capped, as serde caps what a size hint may preallocate.
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0).min(256));
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(SortedMap::from_entries(entries))
            }
        }

        deserializer.deserialize_map(MapVisitor(PhantomData))
    }
}

/// Described to JSON Schema exactly as the `BTreeMap` it stands for.
impl<K, V> schemars::JsonSchema for SortedMap<K, V>
where
    BTreeMap<K, V>: schemars::JsonSchema,
{
    fn inline_schema() -> bool {
        <BTreeMap<K, V>>::inline_schema()
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        <BTreeMap<K, V>>::schema_name()
    }

    fn schema_id() -> std::borrow::Cow<'static, str> {
        <BTreeMap<K, V>>::schema_id()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        <BTreeMap<K, V>>::json_schema(generator)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every operation on a `SortedMap` against the same on a `BTreeMap`.
    #[test]
    fn it_behaves_as_a_btree_map_does() {
        let script: &[(&str, Option<i32>)] = &[
            ("m", Some(1)),
            ("c", Some(2)),
            ("x", Some(3)),
            ("c", Some(4)),
            ("a", None),
            ("m", None),
            ("b", Some(5)),
            ("x", Some(6)),
            ("a", Some(7)),
        ];
        let mut sorted = SortedMap::new();
        let mut btree = BTreeMap::new();
        for &(key, value) in script {
            match value {
                Some(value) => {
                    assert_eq!(sorted.insert(key, value), btree.insert(key, value));
                }
                None => assert_eq!(sorted.remove(key), btree.remove(key)),
            }
            assert!(sorted.iter().eq(btree.iter()), "after {key}: {sorted:?}");
            assert_eq!(sorted.len(), btree.len());
            for probe in ["a", "b", "c", "m", "x", "z"] {
                assert_eq!(sorted.get(probe), btree.get(probe));
                assert_eq!(sorted.contains_key(probe), btree.contains_key(probe));
            }
        }
        assert!(sorted.keys().eq(btree.keys()));
        assert!(sorted.values().eq(btree.values()));
        assert!(sorted.iter().rev().eq(btree.iter().rev()));
        *sorted.get_mut("b").unwrap() += 10;
        assert_eq!(sorted.get("b"), Some(&15));
        assert_eq!(
            format!("{sorted:?}"),
            r#"{"a": 7, "b": 15, "c": 4, "x": 6}"#
        );
    }

    /// Built from entries with a key written twice, the last value stays,
    /// as collecting into a `BTreeMap` keeps it.
    #[test]
    fn the_last_of_a_repeated_key_wins() {
        let entries = [("b", 1), ("a", 2), ("b", 3), ("a", 4), ("c", 5)];
        let sorted: SortedMap<_, _> = entries.into_iter().collect();
        let btree: BTreeMap<_, _> = entries.into_iter().collect();
        assert!(sorted.iter().eq(btree.iter()));
        assert_eq!(SortedMap::from(entries), sorted);
        assert_eq!(SortedMap::from(btree.clone()), sorted);
        let mut extended = SortedMap::from([("c", 0)]);
        extended.extend(entries);
        assert!(extended.into_iter().eq(btree));
    }

    #[test]
    fn it_reads_as_a_btree_map_reads() {
        let json = r#"{"z": 1, "a": 2, "m": 3, "a": 4}"#;
        let sorted: SortedMap<String, i32> = serde_json::from_str(json).unwrap();
        let btree: BTreeMap<String, i32> = serde_json::from_str(json).unwrap();
        assert!(sorted.iter().eq(btree.iter()));
        let refused = serde_json::from_str::<SortedMap<String, i32>>("[1]").unwrap_err();
        assert!(refused.to_string().contains("expected a map"), "{refused}");
    }

    #[test]
    fn its_schema_is_the_btree_maps() {
        let ours = schemars::schema_for!(SortedMap<String, i32>);
        let theirs = schemars::schema_for!(BTreeMap<String, i32>);
        assert_eq!(ours, theirs);
    }
}
