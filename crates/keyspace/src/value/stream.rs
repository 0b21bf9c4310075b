//! Streams (XADD, XRANGE, consumer groups).
//!
//! Entries live in nodes keyed by their master ID (the ID of the node's first entry),
//! exactly where redis-server starts a new listpack node: a node takes new entries
//! until it holds `stream-node-max-entries` entries (tombstones included) or its
//! listpack would reach `stream-node-max-bytes`. The listpack byte size is simulated
//! with listpack's own element encodings, so approximate (`~`) trimming, which only
//! drops whole nodes, removes exactly what Redis removes. Deleted entries stay in
//! their node as tombstones, as in Redis, until the whole node goes.

use std::collections::{BTreeMap, BTreeSet};

/// A stream entry ID.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug, Default, Hash)]
pub struct StreamId {
    pub ms: u64,
    pub seq: u64,
}

impl StreamId {
    pub const MIN: StreamId = StreamId { ms: 0, seq: 0 };
    pub const MAX: StreamId = StreamId { ms: u64::MAX, seq: u64::MAX };

    pub const fn new(ms: u64, seq: u64) -> StreamId {
        StreamId { ms, seq }
    }
    pub fn is_zero(&self) -> bool {
        self.ms == 0 && self.seq == 0
    }
    /// The successor ID (Redis's streamIncrID); None (and 0-0) past the maximum.
    pub fn incr(&self) -> Option<StreamId> {
        if self.seq == u64::MAX {
            if self.ms == u64::MAX {
                None
            } else {
                Some(StreamId::new(self.ms + 1, 0))
            }
        } else {
            Some(StreamId::new(self.ms, self.seq + 1))
        }
    }
    /// The predecessor ID (streamDecrID); None below 0-0.
    pub fn decr(&self) -> Option<StreamId> {
        if self.seq == 0 {
            if self.ms == 0 {
                None
            } else {
                Some(StreamId::new(self.ms - 1, u64::MAX))
            }
        } else {
            Some(StreamId::new(self.ms, self.seq - 1))
        }
    }
    /// "<ms>-<seq>" into `buf` (cleared first).
    pub fn write(&self, buf: &mut Vec<u8>) {
        buf.clear();
        let mut t = itoa_buf(self.ms);
        buf.extend_from_slice(t.as_slice());
        buf.push(b'-');
        t = itoa_buf(self.seq);
        buf.extend_from_slice(t.as_slice());
    }
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(24);
        self.write(&mut v);
        v
    }
    fn key(&self) -> [u8; 16] {
        let mut k = [0u8; 16];
        k[..8].copy_from_slice(&self.ms.to_be_bytes());
        k[8..].copy_from_slice(&self.seq.to_be_bytes());
        k
    }
}

struct Itoa {
    b: [u8; 20],
    start: usize,
}
impl Itoa {
    fn as_slice(&self) -> &[u8] {
        &self.b[self.start..]
    }
}
fn itoa_buf(mut v: u64) -> Itoa {
    let mut b = [0u8; 20];
    let mut i = 20;
    loop {
        i -= 1;
        b[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    Itoa { b, start: i }
}

// ---- listpack size simulation -------------------------------------------------------

fn lp_backlen(l: usize) -> usize {
    if l <= 127 {
        1
    } else if l < 16383 {
        2
    } else if l < 2097151 {
        3
    } else if l < 268435455 {
        4
    } else {
        5
    }
}

fn lp_int_enc(v: i64) -> usize {
    if (0..=127).contains(&v) {
        1
    } else if (-4096..=4095).contains(&v) {
        2
    } else if (-32768..=32767).contains(&v) {
        3
    } else if (-8388608..=8388607).contains(&v) {
        4
    } else if (-2147483648..=2147483647).contains(&v) {
        5
    } else {
        9
    }
}

/// Bytes one integer element takes in a listpack.
pub fn lp_int_size(v: i64) -> usize {
    let l = lp_int_enc(v);
    l + lp_backlen(l)
}

/// Bytes one string element takes in a listpack (integers-looking strings are stored
/// as integers).
pub fn lp_str_size(s: &[u8]) -> usize {
    if let Some(v) = crate::value::shoal_parse_i64(s) {
        return lp_int_size(v);
    }
    let n = s.len();
    let l = if n < 64 {
        1 + n
    } else if n < 4096 {
        2 + n
    } else {
        5 + n
    };
    l + lp_backlen(l)
}

// ---- entry data encoding -------------------------------------------------------------

fn put_str(buf: &mut Vec<u8>, s: &[u8]) {
    let mut n = s.len();
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            buf.push(b);
            break;
        }
        buf.push(b | 0x80);
    }
    buf.extend_from_slice(s);
}

fn get_str<'a>(data: &'a [u8], pos: &mut usize) -> &'a [u8] {
    let mut n = 0usize;
    let mut shift = 0;
    loop {
        let b = data[*pos];
        *pos += 1;
        n |= ((b & 0x7f) as usize) << shift;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    let s = &data[*pos..*pos + n];
    *pos += n;
    s
}

const F_DELETED: u8 = 1;
const F_SAME: u8 = 2;

#[derive(Clone)]
struct NEntry {
    id: StreamId,
    flags: u8,
    nf: u32,
    /// Values only (same fields as the master entry) or field, value pairs.
    data: Box<[u8]>,
}

#[derive(Clone)]
struct Node {
    master: Vec<Box<[u8]>>,
    entries: Vec<NEntry>,
    live: u64,
    deleted: u64,
    /// Simulated listpack size in bytes.
    bytes: usize,
}

impl Node {
    fn set_live(&mut self, v: u64) {
        self.bytes = self.bytes + lp_int_size(v as i64) - lp_int_size(self.live as i64);
        self.live = v;
    }
    fn set_deleted(&mut self, v: u64) {
        self.bytes = self.bytes + lp_int_size(v as i64) - lp_int_size(self.deleted as i64);
        self.deleted = v;
    }
    fn last_id(&self) -> StreamId {
        self.entries.last().map(|e| e.id).unwrap_or_default()
    }
}

/// A view of one entry, valid while the stream is not modified.
#[derive(Clone, Copy)]
pub struct EntryRef<'a> {
    pub id: StreamId,
    master: &'a [Box<[u8]>],
    same: bool,
    nf: usize,
    data: &'a [u8],
}

impl<'a> EntryRef<'a> {
    pub fn numfields(&self) -> usize {
        self.nf
    }
    /// Calls `f(field, value)` for each pair, in order.
    pub fn for_each(&self, mut f: impl FnMut(&'a [u8], &'a [u8])) {
        let mut pos = 0;
        for i in 0..self.nf {
            let field: &'a [u8] = if self.same { &self.master[i] } else { get_str(self.data, &mut pos) };
            let value = get_str(self.data, &mut pos);
            f(field, value);
        }
    }
}

impl<'a> EntryRef<'a> {
    fn of(node: &'a Node, e: &'a NEntry) -> EntryRef<'a> {
        EntryRef { id: e.id, master: &node.master, same: e.flags & F_SAME != 0, nf: e.nf as usize, data: &e.data }
    }
}

/// A pending (delivered, not acknowledged) entry of a consumer group.
#[derive(Clone, Debug)]
pub struct Nack {
    /// Unix ms of the last delivery.
    pub delivery_time: u64,
    pub delivery_count: u64,
    pub consumer: Box<[u8]>,
}

/// A consumer of a group.
#[derive(Clone, Debug, Default)]
pub struct Consumer {
    pub seen_time: u64,
    pub pel: BTreeSet<StreamId>,
}

/// A consumer group.
#[derive(Clone, Debug, Default)]
pub struct Group {
    pub last_id: StreamId,
    /// -1 when unknown (SCG_INVALID_ENTRIES_READ).
    pub entries_read: i64,
    pub pel: BTreeMap<StreamId, Nack>,
    pub consumers: BTreeMap<Box<[u8]>, Consumer>,
}

/// Trimming strategy of XADD / XTRIM.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trim {
    None,
    MaxLen(u64),
    MinId(StreamId),
}

/// A stream value.
#[derive(Clone, Default)]
pub struct StreamValue {
    nodes: BTreeMap<StreamId, Node>,
    pub length: u64,
    pub last_id: StreamId,
    pub first_id: StreamId,
    pub max_deleted: StreamId,
    pub entries_added: u64,
    pub groups: BTreeMap<Box<[u8]>, Group>,
}

impl StreamValue {
    pub fn new() -> StreamValue {
        StreamValue::default()
    }
    /// OBJECT ENCODING name.
    pub fn encoding(&self) -> &'static str {
        "stream"
    }
    /// Approximate heap bytes owned.
    pub fn mem_usage(&self) -> usize {
        let mut n = std::mem::size_of::<StreamValue>();
        for node in self.nodes.values() {
            n += 64 + node.bytes;
        }
        for (name, g) in &self.groups {
            n += 64 + name.len() + g.pel.len() * 48;
            for (cn, c) in &g.consumers {
                n += 48 + cn.len() + c.pel.len() * 24;
            }
        }
        n
    }

    /// Number of listpack nodes (XINFO radix-tree-keys).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Number of nodes of Redis's radix tree holding the listpacks (XINFO radix-tree-nodes).
    pub fn rax_nodes(&self) -> usize {
        let keys: Vec<[u8; 16]> = self.nodes.keys().map(|k| k.key()).collect();
        if keys.is_empty() {
            return 1;
        }
        rax_count(&keys, 0)
    }

    /// The ID XADD `*` would use now.
    pub fn next_id(&self, now_ms: u64) -> Option<StreamId> {
        if now_ms > self.last_id.ms {
            Some(StreamId::new(now_ms, 0))
        } else {
            self.last_id.incr()
        }
    }

    /// Appends an entry (`fv` = field, value, field, value, ...) with `id`, which must be
    /// greater than `last_id`.
    pub fn append(&mut self, id: StreamId, fv: &[&[u8]], max_bytes: i64, max_entries: i64) {
        let numfields = fv.len() / 2;
        let totelelen: usize = fv.iter().map(|s| s.len()).sum();
        let mut new_node = true;
        if let Some((_, node)) = self.nodes.iter().next_back() {
            let node_max = if max_bytes <= 0 || max_bytes > (1 << 30) { 1usize << 30 } else { max_bytes as usize };
            new_node = if node.bytes + totelelen >= node_max {
                true
            } else {
                max_entries != 0 && (node.live + node.deleted) as i64 >= max_entries
            };
        }
        let mut flags = 0u8;
        let master_id;
        if new_node {
            let mut bytes = 7 + lp_int_size(1) + lp_int_size(0) + lp_int_size(numfields as i64) + lp_int_size(0);
            let mut master = Vec::with_capacity(numfields);
            for i in 0..numfields {
                bytes += lp_str_size(fv[i * 2]);
                master.push(fv[i * 2].into());
            }
            self.nodes.insert(id, Node { master, entries: Vec::new(), live: 1, deleted: 0, bytes });
            flags |= F_SAME;
            master_id = id;
        } else {
            let (&mid, node) = self.nodes.iter_mut().next_back().expect("tail node");
            master_id = mid;
            node.set_live(node.live + 1);
            if node.master.len() == numfields && (0..numfields).all(|i| &*node.master[i] == fv[i * 2]) {
                flags |= F_SAME;
            }
        }
        let node = self.nodes.get_mut(&master_id).expect("node");
        let same = flags & F_SAME != 0;
        let mut data = Vec::new();
        let mut bytes = lp_int_size(flags as i64)
            + lp_int_size(id.ms.wrapping_sub(master_id.ms) as i64)
            + lp_int_size(id.seq.wrapping_sub(master_id.seq) as i64);
        if !same {
            bytes += lp_int_size(numfields as i64);
        }
        for i in 0..numfields {
            if !same {
                put_str(&mut data, fv[i * 2]);
                bytes += lp_str_size(fv[i * 2]);
            }
            put_str(&mut data, fv[i * 2 + 1]);
            bytes += lp_str_size(fv[i * 2 + 1]);
        }
        let lp_count = numfields as i64 + 3 + if same { 0 } else { numfields as i64 + 1 };
        bytes += lp_int_size(lp_count);
        node.bytes += bytes;
        node.entries.push(NEntry { id, flags, nf: numfields as u32, data: data.into_boxed_slice() });
        self.length += 1;
        self.entries_added += 1;
        self.last_id = id;
        if self.length == 1 {
            self.first_id = id;
        }
    }

    /// Trims as Redis's streamTrim; returns the number of entries removed. `limit` 0 =
    /// unlimited.
    pub fn trim(&mut self, strategy: Trim, approx: bool, limit: u64) -> u64 {
        if strategy == Trim::None {
            return 0;
        }
        let mut deleted = 0u64;
        loop {
            if let Trim::MaxLen(maxlen) = strategy {
                if self.length <= maxlen {
                    break;
                }
            }
            let Some((&mid, node)) = self.nodes.iter_mut().next() else { break };
            let entries = node.live;
            if limit != 0 && deleted + entries > limit {
                break;
            }
            let remove_node = match strategy {
                Trim::MaxLen(maxlen) => self.length - entries >= maxlen,
                Trim::MinId(min) => node.last_id() < min,
                Trim::None => false,
            };
            if remove_node {
                self.nodes.remove(&mid);
                self.length -= entries;
                deleted += entries;
                continue;
            }
            if approx {
                break;
            }
            let mut from_lp = 0u64;
            for e in node.entries.iter_mut() {
                let stop = match strategy {
                    Trim::MaxLen(maxlen) => self.length <= maxlen,
                    Trim::MinId(min) => e.id >= min,
                    Trim::None => true,
                };
                if stop {
                    break;
                }
                if e.flags & F_DELETED == 0 {
                    e.flags |= F_DELETED;
                    from_lp += 1;
                    self.length -= 1;
                }
            }
            deleted += from_lp;
            node.set_live(entries - from_lp);
            let d = node.deleted + from_lp;
            node.set_deleted(d);
            break;
        }
        if self.length == 0 {
            self.first_id = StreamId::MIN;
        } else if deleted > 0 {
            self.first_id = self.first_valid_id().unwrap_or(StreamId::MAX);
        }
        deleted
    }

    fn node_for(&self, id: StreamId) -> Option<(StreamId, &Node)> {
        self.nodes.range(..=id).next_back().map(|(k, n)| (*k, n))
    }

    /// Deletes one entry (XDEL); true when it existed. Does not touch first_id or
    /// max_deleted (the command does).
    pub fn delete(&mut self, id: StreamId) -> bool {
        let Some((mid, _)) = self.node_for(id) else { return false };
        let node = self.nodes.get_mut(&mid).expect("node");
        let Ok(i) = node.entries.binary_search_by(|e| e.id.cmp(&id)) else { return false };
        if node.entries[i].flags & F_DELETED != 0 {
            return false;
        }
        if node.live == 1 {
            self.nodes.remove(&mid);
        } else {
            node.entries[i].flags |= F_DELETED;
            node.set_live(node.live - 1);
            let d = node.deleted + 1;
            node.set_deleted(d);
        }
        self.length -= 1;
        true
    }

    /// True when a live entry with `id` exists.
    pub fn exists(&self, id: StreamId) -> bool {
        self.get(id).is_some()
    }

    /// The live entry with `id`.
    pub fn get(&self, id: StreamId) -> Option<EntryRef<'_>> {
        let (_, node) = self.node_for(id)?;
        let i = node.entries.binary_search_by(|e| e.id.cmp(&id)).ok()?;
        let e = &node.entries[i];
        if e.flags & F_DELETED != 0 {
            return None;
        }
        Some(EntryRef::of(node, e))
    }

    /// Visits live entries with start <= id <= end, ascending (or descending with
    /// `rev`), until `f` returns false.
    pub fn range<'a>(&'a self, start: StreamId, end: StreamId, rev: bool, mut f: impl FnMut(EntryRef<'a>) -> bool) {
        if start > end {
            return;
        }
        if !rev {
            let first = self.node_for(start).map(|(k, _)| k).unwrap_or(StreamId::MIN);
            for node in self.nodes.range(first..).map(|(_, n)| n) {
                let i = node.entries.partition_point(|e| e.id < start);
                for e in &node.entries[i..] {
                    if e.id > end {
                        return;
                    }
                    if e.flags & F_DELETED == 0 && !f(EntryRef::of(node, e)) {
                        return;
                    }
                }
            }
        } else {
            for node in self.nodes.range(..=end).rev().map(|(_, n)| n) {
                let i = node.entries.partition_point(|e| e.id <= end);
                for e in node.entries[..i].iter().rev() {
                    if e.id < start {
                        return;
                    }
                    if e.flags & F_DELETED == 0 && !f(EntryRef::of(node, e)) {
                        return;
                    }
                }
            }
        }
    }

    /// The last live entry's ID.
    pub fn last_valid_id(&self) -> Option<StreamId> {
        let mut r = None;
        self.range(StreamId::MIN, StreamId::MAX, true, |e| {
            r = Some(e.id);
            false
        });
        r
    }

    /// The first live entry's ID.
    pub fn first_valid_id(&self) -> Option<StreamId> {
        let mut r = None;
        self.range(StreamId::MIN, StreamId::MAX, false, |e| {
            r = Some(e.id);
            false
        });
        r
    }

    /// The first entry's ID, tombstones included (streamGetEdgeID(first, no skip)).
    pub fn first_id_with_tombstones(&self) -> Option<StreamId> {
        self.nodes.values().next().and_then(|n| n.entries.first().map(|e| e.id))
    }

    /// streamRangeHasTombstones (Redis 7.0).
    pub fn range_has_tombstones(&self, start: Option<StreamId>, end: Option<StreamId>) -> bool {
        if self.length == 0 || self.max_deleted.is_zero() {
            return false;
        }
        if self.first_id > self.max_deleted {
            return false;
        }
        let s = start.unwrap_or(StreamId::MIN);
        let e = end.unwrap_or(StreamId::MAX);
        s <= self.max_deleted && self.max_deleted <= e
    }

    /// streamEstimateDistanceFromFirstEverEntry (Redis 7.0); -1 when unknown.
    pub fn estimate_distance(&self, id: StreamId) -> i64 {
        if self.entries_added == 0 {
            return 0;
        }
        if self.length == 0 && id <= self.last_id {
            return self.entries_added as i64;
        }
        if id == self.last_id {
            return self.entries_added as i64;
        } else if id > self.last_id {
            return -1;
        }
        if self.max_deleted.is_zero() || self.max_deleted < self.first_id {
            if id < self.first_id {
                return (self.entries_added - self.length) as i64;
            } else if id == self.first_id {
                return (self.entries_added - self.length + 1) as i64;
            }
        }
        -1
    }

    /// A group's lag (streamReplyWithCGLag); None when it cannot be known.
    pub fn group_lag(&self, g: &Group) -> Option<i64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        if g.entries_read != -1 && !self.range_has_tombstones(Some(g.last_id), None) {
            return Some(self.entries_added as i64 - g.entries_read);
        }
        let er = self.estimate_distance(g.last_id);
        if er != -1 {
            Some(self.entries_added as i64 - er)
        } else {
            None
        }
    }
}

/// Redis's `STREAM_ITEM_FLAG_DELETED`: the entry is a tombstone.
pub const ITEM_FLAG_DELETED: u8 = F_DELETED;
/// Redis's `STREAM_ITEM_FLAG_SAMEFIELDS`: the entry has the master entry's fields.
pub const ITEM_FLAG_SAMEFIELDS: u8 = F_SAME;

/// One listpack node as the RDB format sees it (serialization).
pub struct NodeView<'a> {
    pub master_id: StreamId,
    /// The master entry's field names.
    pub master_fields: &'a [Box<[u8]>],
    /// Live entries.
    pub live: u64,
    /// Tombstones.
    pub deleted: u64,
    node: &'a Node,
}

impl<'a> NodeView<'a> {
    /// Every entry of the node in order, tombstones included: (flags, entry).
    pub fn entries(&self) -> impl Iterator<Item = (u8, EntryRef<'a>)> + 'a {
        let node = self.node;
        node.entries.iter().map(move |e| (e.flags, EntryRef::of(node, e)))
    }
}

impl StreamValue {
    /// The listpack nodes in ID order (RDB serialization).
    pub fn node_views(&self) -> impl Iterator<Item = NodeView<'_>> + '_ {
        self.nodes.iter().map(|(id, n)| NodeView { master_id: *id, master_fields: &n.master, live: n.live, deleted: n.deleted, node: n })
    }

    /// Appends a node read from an RDB payload (after every existing node): its master
    /// ID, master fields, live and deleted counts and listpack size in bytes. Entries
    /// follow with [`StreamValue::load_entry`]. The stream's metadata (length, IDs,
    /// groups) is set by the caller.
    pub fn load_node(&mut self, master_id: StreamId, master_fields: Vec<Box<[u8]>>, live: u64, deleted: u64, bytes: usize) {
        self.nodes.insert(master_id, Node { master: master_fields, entries: Vec::new(), live, deleted, bytes });
    }

    /// Appends an entry to the last loaded node: `fields` is empty when `flags` has
    /// [`ITEM_FLAG_SAMEFIELDS`] (the master fields apply), else one per value.
    /// False when there is no node or the shape is inconsistent.
    pub fn load_entry(&mut self, id: StreamId, flags: u8, fields: &[&[u8]], values: &[&[u8]]) -> bool {
        let Some((_, node)) = self.nodes.iter_mut().next_back() else { return false };
        let same = flags & F_SAME != 0;
        if (same && (!fields.is_empty() || values.len() != node.master.len())) || (!same && fields.len() != values.len()) {
            return false;
        }
        if node.entries.last().is_some_and(|e| e.id >= id) {
            return false;
        }
        let mut data = Vec::new();
        for (i, v) in values.iter().enumerate() {
            if !same {
                put_str(&mut data, fields[i]);
            }
            put_str(&mut data, v);
        }
        node.entries.push(NEntry { id, flags: flags & (F_DELETED | F_SAME), nf: values.len() as u32, data: data.into_boxed_slice() });
        true
    }
}

fn rax_count(keys: &[[u8; 16]], depth: usize) -> usize {
    if keys.len() == 1 {
        return if depth < 16 { 2 } else { 1 };
    }
    let a = &keys[0];
    let b = &keys[keys.len() - 1];
    let mut lcp = 0;
    while depth + lcp < 16 && a[depth + lcp] == b[depth + lcp] {
        lcp += 1;
    }
    let d = depth + lcp;
    let mut n = if lcp > 0 { 2 } else { 1 };
    let mut i = 0;
    while i < keys.len() {
        let c = keys[i][d];
        let mut j = i + 1;
        while j < keys.len() && keys[j][d] == c {
            j += 1;
        }
        n += rax_count(&keys[i..j], d + 1);
        i = j;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    fn add(s: &mut StreamValue, ms: u64, seq: u64, fv: &[&[u8]]) {
        s.append(StreamId::new(ms, seq), fv, 4096, 100);
    }

    #[test]
    fn lp_sizes() {
        assert_eq!(lp_int_size(0), 2);
        assert_eq!(lp_int_size(127), 2);
        assert_eq!(lp_int_size(128), 3);
        assert_eq!(lp_int_size(-4096), 3);
        assert_eq!(lp_int_size(40000), 5);
        assert_eq!(lp_str_size(b"abc"), 5);
        assert_eq!(lp_str_size(b"100"), 2);
        assert_eq!(lp_str_size(&[b'x'; 100]), 102 + 1);
    }

    #[test]
    fn nodes_split_by_entries() {
        let mut s = StreamValue::new();
        for i in 1..=250 {
            add(&mut s, i, 0, &[b"f", b"v"]);
        }
        assert_eq!(s.node_count(), 3);
        assert_eq!(s.length, 250);
        // approx trimming removes whole nodes only
        assert_eq!(s.trim(Trim::MaxLen(120), true, 10000), 100);
        assert_eq!(s.length, 150);
        assert_eq!(s.trim(Trim::MaxLen(120), false, 0), 30);
        assert_eq!(s.length, 120);
        assert_eq!(s.first_id, StreamId::new(131, 0));
    }

    #[test]
    fn delete_and_range() {
        let mut s = StreamValue::new();
        for i in 1..=5 {
            add(&mut s, 1, i, &[b"a", b"1"]);
        }
        assert!(s.delete(StreamId::new(1, 3)));
        assert!(!s.delete(StreamId::new(1, 3)));
        let mut ids = vec![];
        s.range(StreamId::MIN, StreamId::MAX, true, |e| {
            ids.push(e.id.seq);
            true
        });
        assert_eq!(ids, vec![5, 4, 2, 1]);
        assert_eq!(s.last_valid_id(), Some(StreamId::new(1, 5)));
    }

    #[test]
    fn id_incr_decr() {
        assert_eq!(StreamId::new(1, u64::MAX).incr(), Some(StreamId::new(2, 0)));
        assert_eq!(StreamId::MAX.incr(), None);
        assert_eq!(StreamId::new(2, 0).decr(), Some(StreamId::new(1, u64::MAX)));
        assert_eq!(StreamId::MIN.decr(), None);
        assert_eq!(StreamId::new(12, 3).to_bytes(), b"12-3".to_vec());
    }

    #[test]
    fn rax_nodes() {
        let mut s = StreamValue::new();
        assert_eq!(s.rax_nodes(), 1);
        add(&mut s, 1, 1, &[b"a", b"1"]);
        assert_eq!(s.rax_nodes(), 2);
    }
}
