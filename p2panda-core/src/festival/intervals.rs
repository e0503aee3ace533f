//! An interval index: time intervals keyed by `(start, id)`, in a balanced search tree where
//! each node also knows the latest end below it. The overlap queries follow only subtrees that
//! hold an overlapping interval, so one long interval (a festival-wide "camp open" event) costs
//! nothing extra, where an index by start alone has to scan back as far as the longest interval
//! reaches.
//!
//! An AVL tree in one vector (children are positions, freed slots are reused): one non-generic
//! piece of code for every index of the view, and about the memory of the `BTreeMap` it replaced.

use std::cmp::Ordering;

use crate::operation::{EventId, Millis};

/// No node.
const NIL: u32 = u32::MAX;

// Copy: the fields a step needs are copied out of the vector, not borrowed from it.
#[derive(Debug, Clone, Copy)]
struct Node {
    start: Millis,
    id: EventId,
    end: Millis,
    /// The latest end in this node's subtree.
    max_end: Millis,
    left: u32,
    right: u32,
    height: u8,
}

impl Node {
    fn key(&self) -> (Millis, &EventId) {
        (self.start, &self.id)
    }
}

/// Intervals `[start, end)` keyed by `(start, id)`, at most one per key.
#[derive(Debug, Clone)]
pub(crate) struct Intervals {
    nodes: Vec<Node>,
    /// Slots of removed nodes, reused first.
    free: Vec<u32>,
    root: u32,
}

impl Default for Intervals {
    fn default() -> Self {
        Intervals {
            nodes: Vec::new(),
            free: Vec::new(),
            root: NIL,
        }
    }
}

/// Counts the tree nodes queries look at, so tests can check what a query costs.
#[cfg(test)]
pub(crate) mod visits {
    use std::cell::Cell;

    thread_local!(static VISITED: Cell<u64> = const { Cell::new(0) });

    pub fn count() {
        VISITED.with(|v| v.set(v.get() + 1));
    }

    /// The nodes visited on this thread since the last call.
    pub fn take() -> u64 {
        VISITED.with(|v| v.replace(0))
    }
}

impl Intervals {
    #[cfg(test)]
    fn len(&self) -> usize {
        self.nodes.len() - self.free.len()
    }

    /// Add `[start, end)` under `(start, event)`, replacing what was there.
    pub fn insert(&mut self, start: Millis, end: Millis, event: EventId) {
        self.root = self.insert_at(self.root, start, end, event, &mut false);
    }

    /// Remove the interval under `(start, event)`; returns its end.
    pub fn remove(&mut self, start: Millis, event: EventId) -> Option<Millis> {
        let mut removed = None;
        self.root = self.remove_at(self.root, (start, &event), &mut removed);
        removed
    }

    /// Intervals overlapping `[from, to)`, by start then id: `(start, end, id)`. Each step costs
    /// O(log n), however many intervals do not overlap.
    pub fn overlapping(&self, from: Millis, to: Millis) -> Overlapping<'_> {
        self.overlapping_after(None, from, to)
    }

    /// As [`Intervals::overlapping`], from the first key after `after` on: the next page of a
    /// paged query.
    pub fn overlapping_after(
        &self,
        after: Option<(Millis, EventId)>,
        from: Millis,
        to: Millis,
    ) -> Overlapping<'_> {
        Overlapping {
            tree: self,
            after,
            from,
            to,
            done: false,
        }
    }

    /// Every interval, by start then id: `(start, end, id)`.
    pub fn iter(&self) -> Overlapping<'_> {
        self.overlapping(Millis::MIN, Millis::MAX)
    }

    fn node(&self, n: u32) -> &Node {
        &self.nodes[n as usize]
    }

    fn node_mut(&mut self, n: u32) -> &mut Node {
        &mut self.nodes[n as usize]
    }

    fn height(&self, n: u32) -> u8 {
        if n == NIL {
            0
        } else {
            self.node(n).height
        }
    }

    fn max_end(&self, n: u32) -> Millis {
        if n == NIL {
            Millis::MIN
        } else {
            self.node(n).max_end
        }
    }

    fn alloc(&mut self, start: Millis, end: Millis, id: EventId) -> u32 {
        let node = Node {
            start,
            id,
            end,
            max_end: end,
            left: NIL,
            right: NIL,
            height: 1,
        };
        match self.free.pop() {
            Some(slot) => {
                self.nodes[slot as usize] = node;
                slot
            }
            None => {
                self.nodes.push(node);
                (self.nodes.len() - 1) as u32
            }
        }
    }

    /// Insert below `n`; returns the subtree's root. Only the nodes whose height changes are
    /// rebalanced (few: the search path's maxima are raised on the way down), so an insert
    /// touches the path, not the path's siblings. `dirty`: a replaced end shrank, so the maxima
    /// above must be recomputed.
    fn insert_at(
        &mut self,
        n: u32,
        start: Millis,
        end: Millis,
        id: EventId,
        dirty: &mut bool,
    ) -> u32 {
        if n == NIL {
            return self.alloc(start, end, id);
        }
        let node = self.node_mut(n);
        node.max_end = node.max_end.max(end);
        let order = (start, &id).cmp(&node.key());
        let child = match order {
            Ordering::Less => node.left,
            Ordering::Greater => node.right,
            Ordering::Equal => {
                *dirty = end < node.end;
                node.end = end;
                return if *dirty { self.rebalance(n) } else { n };
            }
        };
        let height = self.height(child);
        let child = self.insert_at(child, start, end, id, dirty);
        self.set_child(n, order, child);
        if self.height(child) == height && !*dirty {
            return n;
        }
        self.rebalance(n)
    }

    /// Remove below `n`; returns the subtree's root. Nodes whose subtree kept its height and
    /// latest end are left as they are.
    fn remove_at(&mut self, n: u32, key: (Millis, &EventId), removed: &mut Option<Millis>) -> u32 {
        if n == NIL {
            return NIL;
        }
        let node = *self.node(n);
        let order = key.cmp(&node.key());
        let child = match order {
            Ordering::Less => node.left,
            Ordering::Greater => node.right,
            Ordering::Equal => {
                *removed = Some(node.end);
                self.free.push(n);
                if node.left == NIL {
                    return node.right;
                }
                if node.right == NIL {
                    return node.left;
                }
                // The next key takes the removed node's place.
                let (rest, next) = self.take_min(node.right);
                let next_node = self.node_mut(next);
                next_node.left = node.left;
                next_node.right = rest;
                return self.rebalance(next);
            }
        };
        let before = self.summary(child);
        let child = self.remove_at(child, key, removed);
        self.set_child(n, order, child);
        if self.summary(child) == before {
            return n;
        }
        self.rebalance(n)
    }

    fn set_child(&mut self, n: u32, order: Ordering, child: u32) {
        let node = self.node_mut(n);
        if order == Ordering::Less {
            node.left = child;
        } else {
            node.right = child;
        }
    }

    /// A subtree's height and latest end: what its parent's fields depend on.
    fn summary(&self, n: u32) -> (u8, Millis) {
        (self.height(n), self.max_end(n))
    }

    /// Detach the smallest node of the subtree at `n`: (the subtree without it, the node).
    fn take_min(&mut self, n: u32) -> (u32, u32) {
        let left = self.node(n).left;
        if left == NIL {
            return (self.node(n).right, n);
        }
        let (rest, min) = self.take_min(left);
        self.node_mut(n).left = rest;
        (self.rebalance(n), min)
    }

    fn update(&mut self, n: u32) {
        let Node {
            left, right, end, ..
        } = *self.node(n);
        let height = 1 + self.height(left).max(self.height(right));
        let max_end = end.max(self.max_end(left)).max(self.max_end(right));
        let node = self.node_mut(n);
        node.height = height;
        node.max_end = max_end;
    }

    fn rotate_right(&mut self, n: u32) -> u32 {
        let top = self.node(n).left;
        let middle = self.node(top).right;
        self.node_mut(n).left = middle;
        self.node_mut(top).right = n;
        self.update(n);
        self.update(top);
        top
    }

    fn rotate_left(&mut self, n: u32) -> u32 {
        let top = self.node(n).right;
        let middle = self.node(top).left;
        self.node_mut(n).right = middle;
        self.node_mut(top).left = n;
        self.update(n);
        self.update(top);
        top
    }

    /// Restore the AVL balance at `n` (its subtrees are balanced); returns the subtree's root.
    fn rebalance(&mut self, n: u32) -> u32 {
        self.update(n);
        let Node { left, right, .. } = *self.node(n);
        let (hl, hr) = (self.height(left), self.height(right));
        if hl > hr + 1 {
            if self.height(self.node(left).left) < self.height(self.node(left).right) {
                let left = self.rotate_left(left);
                self.node_mut(n).left = left;
            }
            return self.rotate_right(n);
        }
        if hr > hl + 1 {
            if self.height(self.node(right).right) < self.height(self.node(right).left) {
                let right = self.rotate_right(right);
                self.node_mut(n).right = right;
            }
            return self.rotate_left(n);
        }
        n
    }

    /// The first node after `after` (all when `None`) that overlaps `[from, to)`, in the subtree
    /// at `n`. Only subtrees ending after `from` are entered, and the first start at or past `to`
    /// ends the search, so this walks O(log n) nodes.
    fn first_after(
        &self,
        n: u32,
        after: Option<(Millis, &EventId)>,
        from: Millis,
        to: Millis,
    ) -> Option<u32> {
        if n == NIL {
            return None;
        }
        #[cfg(test)]
        visits::count();
        let node = self.node(n);
        if node.max_end <= from {
            return None;
        }
        if after.is_none_or(|after| node.key() > after) {
            if let Some(found) = self.first_after(node.left, after, from, to) {
                return Some(found);
            }
            // Everything from here on starts too late.
            if node.start >= to {
                return None;
            }
            if node.end > from {
                return Some(n);
            }
        }
        self.first_after(node.right, after, from, to)
    }
}

/// An overlap query's results, one tree search per step: `(start, end, id)`.
pub(crate) struct Overlapping<'a> {
    tree: &'a Intervals,
    after: Option<(Millis, EventId)>,
    from: Millis,
    to: Millis,
    done: bool,
}

impl Iterator for Overlapping<'_> {
    type Item = (Millis, Millis, EventId);

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let after = self.after.as_ref().map(|(start, id)| (*start, id));
        match self
            .tree
            .first_after(self.tree.root, after, self.from, self.to)
        {
            Some(n) => {
                let node = self.tree.node(n);
                self.after = Some((node.start, node.id));
                Some((node.start, node.end, node.id))
            }
            None => {
                self.done = true;
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;
    use crate::hash::Hash;

    #[derive(Debug, Clone)]
    enum Change {
        Insert(i64, i64, u8),
        Remove(i64, u8),
    }

    fn change() -> impl Strategy<Value = Change> {
        prop_oneof![
            3 => (0i64..200, 1i64..80, 0u8..6).prop_map(|(s, len, id)| Change::Insert(s, s + len, id)),
            1 => (0i64..200, 0u8..6).prop_map(|(s, id)| Change::Remove(s, id)),
        ]
    }

    fn id(byte: u8) -> EventId {
        Hash::from_array([byte; 64])
    }

    /// The AVL invariants, the subtree maxima and the order of keys; returns the height.
    fn check(tree: &Intervals, n: u32) -> u8 {
        if n == NIL {
            return 0;
        }
        let node = tree.node(n);
        let (hl, hr) = (check(tree, node.left), check(tree, node.right));
        assert!(hl.abs_diff(hr) <= 1, "unbalanced");
        assert_eq!(node.height, 1 + hl.max(hr));
        let max = node
            .end
            .max(tree.max_end(node.left))
            .max(tree.max_end(node.right));
        assert_eq!(node.max_end, max);
        if node.left != NIL {
            assert!(tree.node(node.left).key() < node.key());
        }
        if node.right != NIL {
            assert!(tree.node(node.right).key() > node.key());
        }
        node.height
    }

    proptest! {
        /// The same answers as a map by start with a scan, after any inserts and removals.
        #[test]
        fn answers_like_a_scan(
            changes in prop::collection::vec(change(), 0..200),
            queries in prop::collection::vec((0i64..300, 0i64..120), 1..10),
        ) {
            let mut tree = Intervals::default();
            let mut model = BTreeMap::new();
            for change in changes {
                match change {
                    Change::Insert(s, e, i) => {
                        tree.insert(s, e, id(i));
                        model.insert((s, id(i)), e);
                    }
                    Change::Remove(s, i) => {
                        prop_assert_eq!(tree.remove(s, id(i)), model.remove(&(s, id(i))));
                    }
                }
                check(&tree, tree.root);
                prop_assert_eq!(tree.len(), model.len());
            }
            let all: Vec<_> = model.iter().map(|((s, i), e)| (*s, *e, *i)).collect();
            prop_assert_eq!(tree.iter().collect::<Vec<_>>(), all.clone());
            for (from, len) in queries {
                let to = from + len;
                let expected: Vec<_> =
                    all.iter().copied().filter(|(s, e, _)| *s < to && *e > from).collect();
                prop_assert_eq!(tree.overlapping(from, to).collect::<Vec<_>>(), expected.clone());
                // Resuming after any returned key gives the rest.
                for (k, (s, _, i)) in expected.iter().enumerate() {
                    let rest: Vec<_> = tree.overlapping_after(Some((*s, *i)), from, to).collect();
                    prop_assert_eq!(&rest[..], &expected[k + 1..]);
                }
            }
        }
    }

    /// A long interval does not make queries elsewhere scan what lies under it.
    #[test]
    fn one_long_interval_costs_nothing_extra() {
        let mut tree = Intervals::default();
        for i in 0..10_000i64 {
            let mut bytes = [0; 64];
            bytes[..8].copy_from_slice(&i.to_be_bytes());
            tree.insert(i * 10, i * 10 + 5, Hash::from_array(bytes));
        }
        tree.insert(0, 100_000, id(0xff));
        visits::take();
        let found: Vec<_> = tree.overlapping(90_000, 90_020).collect();
        assert_eq!(found.len(), 3, "the long one and two short ones");
        let visited = visits::take();
        assert!(visited < 3 * 4 * 16, "{visited} nodes visited");
    }
}
