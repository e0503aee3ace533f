//! Ordered maps and sets for small collections (a node's links, rooms, sessions), kept as sorted
//! vectors.
//!
//! Why not `BTreeMap`: each key/value type a `BTreeMap` is used with brings its own copy of the
//! tree's insert, remove and rebalancing code, several kilobytes each, and the browser package
//! has a size budget. A sorted vector's code is a binary search and a shift. Inserting and removing
//! are O(n), which is cheap for the tens to thousands of items these collections hold; large
//! indexes (a festival's events, grants, requests) stay in `BTreeMap`s.

use std::borrow::Borrow;
use std::fmt;

/// A map ordered by key, stored as a sorted vector of pairs.
#[derive(Clone, PartialEq, Eq)]
pub struct SmallMap<K, V> {
    items: Vec<(K, V)>,
}

impl<K, V> SmallMap<K, V> {
    pub const fn new() -> Self {
        SmallMap { items: Vec::new() }
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Pairs in key order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&K, &V)> + ExactSizeIterator {
        self.items.iter().map(|(k, v)| (k, v))
    }

    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &K> + ExactSizeIterator {
        self.items.iter().map(|(k, _)| k)
    }

    pub fn values(&self) -> impl DoubleEndedIterator<Item = &V> + ExactSizeIterator {
        self.items.iter().map(|(_, v)| v)
    }

    pub fn values_mut(&mut self) -> impl DoubleEndedIterator<Item = &mut V> + ExactSizeIterator {
        self.items.iter_mut().map(|(_, v)| v)
    }

    pub fn clear(&mut self) {
        self.items.clear();
    }

    pub fn into_values(self) -> impl DoubleEndedIterator<Item = V> + ExactSizeIterator {
        self.items.into_iter().map(|(_, v)| v)
    }

    /// Keep only the pairs for which `keep` returns true.
    pub fn retain(&mut self, mut keep: impl FnMut(&K, &mut V) -> bool) {
        self.items.retain_mut(|(k, v)| keep(k, v));
    }
}

impl<K: Ord, V> SmallMap<K, V> {
    fn find<Q: Ord + ?Sized>(&self, key: &Q) -> Result<usize, usize>
    where
        K: Borrow<Q>,
    {
        self.items.binary_search_by(|(k, _)| k.borrow().cmp(key))
    }

    pub fn get<Q: Ord + ?Sized>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        self.find(key).ok().map(|i| &self.items[i].1)
    }

    pub fn get_mut<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
    {
        self.find(key).ok().map(|i| &mut self.items[i].1)
    }

    pub fn contains_key<Q: Ord + ?Sized>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        self.find(key).is_ok()
    }

    /// Insert or replace; returns the value replaced.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        match self.find(&key) {
            Ok(i) => Some(std::mem::replace(&mut self.items[i].1, value)),
            Err(i) => {
                self.items.insert(i, (key, value));
                None
            }
        }
    }

    pub fn remove<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
    {
        self.find(key).ok().map(|i| self.items.remove(i).1)
    }

    /// The value at `key`, inserted with `make` first when missing.
    pub fn get_or_insert_with(&mut self, key: K, make: impl FnOnce() -> V) -> &mut V {
        let i = match self.find(&key) {
            Ok(i) => i,
            Err(i) => {
                self.items.insert(i, (key, make()));
                i
            }
        };
        &mut self.items[i].1
    }
}

/// A set ordered by value, stored as a sorted vector.
#[derive(Clone, PartialEq, Eq)]
pub struct SmallSet<T>(SmallMap<T, ()>);

impl<T> SmallSet<T> {
    pub const fn new() -> Self {
        SmallSet(SmallMap::new())
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Values in order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &T> + ExactSizeIterator {
        self.0.keys()
    }

    pub fn clear(&mut self) {
        self.0.clear();
    }
}

impl<T: Ord> SmallSet<T> {
    /// Add `value`; returns whether it was new.
    pub fn insert(&mut self, value: T) -> bool {
        self.0.insert(value, ()).is_none()
    }

    /// Returns whether `value` was there.
    pub fn remove<Q: Ord + ?Sized>(&mut self, value: &Q) -> bool
    where
        T: Borrow<Q>,
    {
        self.0.remove(value).is_some()
    }

    pub fn contains<Q: Ord + ?Sized>(&self, value: &Q) -> bool
    where
        T: Borrow<Q>,
    {
        self.0.contains_key(value)
    }

    /// The values in `self` that are not in `other`, in order.
    pub fn difference<'a>(&'a self, other: &'a SmallSet<T>) -> impl Iterator<Item = &'a T> + 'a {
        self.iter().filter(move |value| !other.contains(*value))
    }
}

impl<T> Default for SmallSet<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Ord> FromIterator<T> for SmallSet<T> {
    fn from_iter<I: IntoIterator<Item = T>>(values: I) -> Self {
        SmallSet(values.into_iter().map(|v| (v, ())).collect())
    }
}

impl<T: Ord> Extend<T> for SmallSet<T> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, values: I) {
        for value in values {
            self.insert(value);
        }
    }
}

impl<T> IntoIterator for SmallSet<T> {
    type Item = T;
    type IntoIter = std::iter::Map<std::vec::IntoIter<(T, ())>, fn((T, ())) -> T>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter().map(|(value, ())| value)
    }
}

impl<T: fmt::Debug> fmt::Debug for SmallSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl<K, V> Default for SmallMap<K, V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: Ord, V> FromIterator<(K, V)> for SmallMap<K, V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(pairs: I) -> Self {
        let mut map = SmallMap::new();
        for (k, v) in pairs {
            map.insert(k, v);
        }
        map
    }
}

impl<K: Ord, V> std::ops::Index<&K> for SmallMap<K, V> {
    type Output = V;

    /// The value at `key`. Panics when it is missing, as `BTreeMap`'s index does.
    fn index(&self, key: &K) -> &V {
        self.get(key).expect("no entry for this key")
    }
}

impl<K: Ord, V> Extend<(K, V)> for SmallMap<K, V> {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, pairs: I) {
        for (k, v) in pairs {
            self.insert(k, v);
        }
    }
}

impl<K, V> IntoIterator for SmallMap<K, V> {
    type Item = (K, V);
    type IntoIter = std::vec::IntoIter<(K, V)>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

impl<K: fmt::Debug, V: fmt::Debug> fmt::Debug for SmallMap<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;

    #[derive(Debug, Clone)]
    enum Change {
        Insert(u8, u16),
        Remove(u8),
        Upsert(u8),
        Retain(u8),
    }

    fn change() -> impl Strategy<Value = Change> {
        prop_oneof![
            (any::<u8>(), any::<u16>()).prop_map(|(k, v)| Change::Insert(k, v)),
            any::<u8>().prop_map(Change::Remove),
            any::<u8>().prop_map(Change::Upsert),
            any::<u8>().prop_map(Change::Retain),
        ]
    }

    proptest! {
        /// Any sequence of changes leaves it equal to a BTreeMap given the same changes.
        #[test]
        fn behaves_like_a_btree_map(changes in prop::collection::vec(change(), 0..200)) {
            let mut small = SmallMap::new();
            let mut btree = BTreeMap::new();
            for change in changes {
                match change {
                    Change::Insert(k, v) => prop_assert_eq!(small.insert(k, v), btree.insert(k, v)),
                    Change::Remove(k) => prop_assert_eq!(small.remove(&k), btree.remove(&k)),
                    Change::Upsert(k) => {
                        *small.get_or_insert_with(k, || 7) += 1;
                        *btree.entry(k).or_insert(7) += 1;
                    }
                    Change::Retain(m) => {
                        small.retain(|k, _| k % (m | 1) != 0);
                        btree.retain(|k, _| k % (m | 1) != 0);
                    }
                }
                prop_assert!(small.iter().eq(btree.iter()));
                prop_assert_eq!(small.len(), btree.len());
            }
            for k in 0..=u8::MAX {
                prop_assert_eq!(small.get(&k), btree.get(&k));
                prop_assert_eq!(small.contains_key(&k), btree.contains_key(&k));
            }
        }
    }

    #[test]
    fn sets_add_once_and_take_differences_in_order() {
        let mut a: SmallSet<u32> = [5, 1, 3].into_iter().collect();
        assert!(!a.insert(3));
        assert!(a.insert(2));
        assert!(a.remove(&2) && !a.remove(&2));
        assert!(a.insert(2));
        let b: SmallSet<u32> = [3, 9].into_iter().collect();
        assert_eq!(a.difference(&b).copied().collect::<Vec<_>>(), [1, 2, 5]);
        assert!(a.contains(&5) && !a.contains(&9));
    }
}
