//! The ordered multiset the lookup structures are built on.
//!
//! HAProxy's elastic binary trees keep equal keys in insertion order; a
//! `BTreeMap` keyed by `(key, insertion sequence)` gives the same walk order
//! with O(log n) insert, delete and first-element lookups.

use std::collections::BTreeMap;

/// Insertion sequence number, unique per structure.
pub(crate) type Seq = u64;

/// Keys in ascending order, equal keys in insertion order, each mapping to a
/// server index.
pub(crate) type Tree = BTreeMap<(u32, Seq), usize>;
