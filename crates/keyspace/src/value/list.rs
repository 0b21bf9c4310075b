//! List values, as Redis 7.0's quicklist (`quicklist.c`, `t_list.c`).
//!
//! Redis 7.0 stores every list as a quicklist: a doubly linked list of listpack nodes,
//! each node bounded by `list-max-listpack-size` (negative: 4/8/16/32/64 KiB per node;
//! positive: that many entries, and at most 8 KiB). OBJECT ENCODING therefore always
//! answers "quicklist" in 7.0 (the separate "listpack" list encoding arrived in 7.2).
//!
//! Layout here:
//! - a [`Node`] is one exact-size byte buffer of entries, each entry a LEB128 length,
//!   the bytes, and a back-length (the entry's header+data size, LEB128 written
//!   backwards) so the node can be walked from either end, as a Redis listpack;
//!   3 bytes of overhead per short element (Redis: 2, plus 7 per listpack);
//! - a list of one node (every small list) keeps that node inline in the value: one
//!   allocation for the entries and nothing else;
//! - a longer list keeps a `Vec` of nodes plus the total length. A node that would grow
//!   past the limit starts a new node; a node that grows past it in the middle (LINSERT,
//!   LSET) is split in halves; emptied nodes are dropped, and when a single node is
//!   left the list goes back to the inline form (invisible to clients).

use std::ops::ControlFlow;

/// Redis's `optimization_level`: node byte limits for fill -1..-5.
const OPTIMIZATION_LEVEL: [usize; 5] = [4096, 8192, 16384, 32768, 65536];
/// Redis's `SIZE_SAFETY_LIMIT`: the byte limit of a node with a positive (count) fill.
const SIZE_SAFETY_LIMIT: usize = 8192;
/// Redis's `FILL_MAX`.
const FILL_MAX: i64 = (1 << 15) - 1;

/// Node limits derived from `list-max-listpack-size` (Redis's quicklist `fill`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListFill {
    max_bytes: usize,
    max_count: usize,
}

impl ListFill {
    /// Limits for a `list-max-listpack-size` value (clamped like `quicklistSetFill`).
    pub fn new(fill: i64) -> ListFill {
        let fill = fill.clamp(-5, FILL_MAX);
        if fill < 0 {
            ListFill { max_bytes: OPTIMIZATION_LEVEL[(-fill - 1) as usize], max_count: usize::MAX }
        } else {
            ListFill { max_bytes: SIZE_SAFETY_LIMIT, max_count: (fill as usize).max(1) }
        }
    }
    #[inline]
    fn fits(&self, bytes: usize, count: usize) -> bool {
        bytes <= self.max_bytes && count <= self.max_count
    }
}

impl Default for ListFill {
    fn default() -> Self {
        ListFill::new(-2)
    }
}

// ----------------------------------------------------------------------------------
// Entry encoding

#[inline]
fn varint_len(n: usize) -> usize {
    let mut l = 1;
    let mut v = n >> 7;
    while v != 0 {
        l += 1;
        v >>= 7;
    }
    l
}

/// Bytes an element of `n` bytes takes in a node.
#[inline]
fn entry_size(n: usize) -> usize {
    let h = varint_len(n) + n;
    h + varint_len(h)
}

/// Writes the whole entry for `v` into `out` (which is exactly `entry_size(v.len())` long).
#[inline]
fn write_entry(out: &mut [u8], v: &[u8]) {
    let mut i = 0;
    let mut n = v.len();
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out[i] = b;
            i += 1;
            break;
        }
        out[i] = b | 0x80;
        i += 1;
    }
    out[i..i + v.len()].copy_from_slice(v);
    i += v.len();
    // back-length: LEB128 of (header + data), bytes in reverse order
    let mut tmp = [0u8; 10];
    let mut b = i;
    let mut bl = 0;
    loop {
        let byte = (b & 0x7f) as u8;
        b >>= 7;
        if b == 0 {
            tmp[bl] = byte;
            bl += 1;
            break;
        }
        tmp[bl] = byte | 0x80;
        bl += 1;
    }
    for j in 0..bl {
        out[i + bl - 1 - j] = tmp[j];
    }
}

/// Reads the forward header at `pos`: (data start, data end).
#[inline]
fn read_fwd(buf: &[u8], pos: usize) -> (usize, usize) {
    let b = buf[pos];
    if b < 0x80 {
        return (pos + 1, pos + 1 + b as usize);
    }
    let mut n = 0usize;
    let mut shift = 0;
    let mut i = pos;
    loop {
        let b = buf[i];
        n |= ((b & 0x7f) as usize) << shift;
        i += 1;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    (i, i + n)
}

/// The start of the entry that ends at `end` (> 0).
#[inline]
fn entry_start_before(buf: &[u8], end: usize) -> usize {
    let mut i = end - 1;
    let b = buf[i];
    if b < 0x80 {
        return i - b as usize;
    }
    let mut v = (b & 0x7f) as usize;
    let mut shift = 7;
    loop {
        i -= 1;
        let b = buf[i];
        v |= ((b & 0x7f) as usize) << shift;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    i - v
}

// ----------------------------------------------------------------------------------
// Node

/// One packed node: entries back to back in an exact-size buffer.
#[derive(Clone, Default, Debug, PartialEq, Eq)]
struct Node {
    buf: Vec<u8>,
    count: u32,
}

impl Node {
    #[inline]
    fn len(&self) -> usize {
        self.count as usize
    }
    /// The element at byte offset `pos` and the offset of the next entry.
    #[inline]
    fn at(&self, pos: usize) -> (&[u8], usize) {
        let (s, e) = read_fwd(&self.buf, pos);
        (&self.buf[s..e], e + varint_len(e - pos))
    }
    /// Byte offset of the `idx`-th entry (`idx == len` gives the end), walking from the
    /// nearer end.
    fn pos_of(&self, idx: usize) -> usize {
        let n = self.len();
        if idx <= n / 2 {
            let mut pos = 0;
            for _ in 0..idx {
                pos = self.at(pos).1;
            }
            pos
        } else {
            let mut pos = self.buf.len();
            for _ in idx..n {
                pos = entry_start_before(&self.buf, pos);
            }
            pos
        }
    }
    /// Inserts `v` before the entry at byte offset `pos` (`pos == buf.len()` appends).
    fn insert_at(&mut self, pos: usize, v: &[u8]) {
        let sz = entry_size(v.len());
        let old = self.buf.len();
        self.buf.reserve_exact(sz);
        self.buf.resize(old + sz, 0);
        if pos < old {
            self.buf.copy_within(pos..old, pos + sz);
        }
        write_entry(&mut self.buf[pos..pos + sz], v);
        self.count += 1;
    }
    #[inline]
    fn push_back(&mut self, v: &[u8]) {
        self.insert_at(self.buf.len(), v);
    }
    #[inline]
    fn push_front(&mut self, v: &[u8]) {
        self.insert_at(0, v);
    }
    fn maybe_shrink(&mut self) {
        if self.buf.capacity() > self.buf.len() * 2 + 64 {
            self.buf.shrink_to_fit();
        }
    }
    /// Removes `n` entries occupying bytes `from..to`.
    fn remove_bytes(&mut self, from: usize, to: usize, n: usize) {
        self.buf.drain(from..to);
        self.count -= n as u32;
        self.maybe_shrink();
    }
    /// Removes entries `idx..idx + n`.
    fn remove_idx_range(&mut self, idx: usize, n: usize) {
        if n == 0 {
            return;
        }
        if idx == 0 && n == self.len() {
            self.buf = Vec::new();
            self.count = 0;
            return;
        }
        let from = self.pos_of(idx);
        let to = if idx + n == self.len() {
            self.buf.len()
        } else {
            let mut p = from;
            for _ in 0..n {
                p = self.at(p).1;
            }
            p
        };
        self.remove_bytes(from, to, n);
    }
    /// Replaces the entry at byte offset `pos` with `v`.
    fn replace_at(&mut self, pos: usize, v: &[u8]) {
        let next = self.at(pos).1;
        let old_sz = next - pos;
        let sz = entry_size(v.len());
        if sz > old_sz {
            let grow = sz - old_sz;
            let old = self.buf.len();
            self.buf.reserve_exact(grow);
            self.buf.resize(old + grow, 0);
            self.buf.copy_within(next..old, next + grow);
        } else if sz < old_sz {
            self.buf.drain(pos + sz..next);
            self.maybe_shrink();
        }
        write_entry(&mut self.buf[pos..pos + sz], v);
    }
    /// Removes the given byte ranges (sorted, disjoint; one entry each).
    fn remove_ranges(&mut self, ranges: &[(usize, usize)]) {
        if ranges.is_empty() {
            return;
        }
        let mut write = ranges[0].0;
        for (k, &(_, end)) in ranges.iter().enumerate() {
            let keep_end = ranges.get(k + 1).map_or(self.buf.len(), |r| r.0);
            self.buf.copy_within(end..keep_end, write);
            write += keep_end - end;
        }
        self.buf.truncate(write);
        self.count -= ranges.len() as u32;
        self.maybe_shrink();
    }
    /// Splits off entries `idx..` into a new node.
    fn split_off(&mut self, idx: usize) -> Node {
        let pos = self.pos_of(idx);
        let mut tail = Vec::with_capacity(self.buf.len() - pos);
        tail.extend_from_slice(&self.buf[pos..]);
        let moved = self.count - idx as u32;
        self.buf.truncate(pos);
        self.buf.shrink_to_fit();
        self.count = idx as u32;
        Node { buf: tail, count: moved }
    }
    fn fits(&self, fill: &ListFill) -> bool {
        fill.fits(self.buf.len(), self.len())
    }
    fn allows_insert(&self, v: &[u8], fill: &ListFill) -> bool {
        fill.fits(self.buf.len() + entry_size(v.len()), self.len() + 1)
    }
}

// ----------------------------------------------------------------------------------
// ListValue

struct Many {
    nodes: Vec<Node>,
    len: usize,
}

enum Repr {
    /// The whole list in one node (every small list).
    One(Node),
    /// Two or more non-empty nodes.
    Many(Box<Many>),
}

/// A list value.
pub struct ListValue {
    repr: Repr,
}

const _: () = assert!(std::mem::size_of::<ListValue>() <= 32);

impl Default for ListValue {
    fn default() -> Self {
        ListValue { repr: Repr::One(Node::default()) }
    }
}

impl Clone for ListValue {
    fn clone(&self) -> Self {
        match &self.repr {
            Repr::One(n) => ListValue { repr: Repr::One(n.clone()) },
            Repr::Many(m) => ListValue { repr: Repr::Many(Box::new(Many { nodes: m.nodes.clone(), len: m.len })) },
        }
    }
}

impl std::fmt::Debug for ListValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter().map(String::from_utf8_lossy)).finish()
    }
}

/// Splits node `i` in halves until every part fits the limits (or holds one entry).
fn split_to_fit(nodes: &mut Vec<Node>, i: usize, fill: &ListFill) {
    if nodes[i].fits(fill) || nodes[i].len() < 2 {
        return;
    }
    let half = nodes[i].len() / 2;
    let tail = nodes[i].split_off(half);
    nodes.insert(i + 1, tail);
    split_to_fit(nodes, i + 1, fill);
    split_to_fit(nodes, i, fill);
}

impl ListValue {
    pub fn new() -> Self {
        ListValue::default()
    }

    /// A list of the given elements, in order.
    pub fn from_elements<'a>(items: impl IntoIterator<Item = &'a [u8]>, fill: &ListFill) -> Self {
        let mut l = ListValue::new();
        for v in items {
            l.push(v, false, fill);
        }
        l
    }

    /// The name OBJECT ENCODING replies with: Redis 7.0 lists are always quicklists.
    pub fn encoding(&self) -> &'static str {
        "quicklist"
    }

    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::One(n) => n.len(),
            Repr::Many(m) => m.len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Approximate bytes owned (MEMORY USAGE).
    pub fn mem_usage(&self) -> usize {
        std::mem::size_of::<ListValue>()
            + match &self.repr {
                Repr::One(n) => n.buf.capacity(),
                Repr::Many(m) => {
                    std::mem::size_of::<Many>()
                        + m.nodes.capacity() * std::mem::size_of::<Node>()
                        + m.nodes.iter().map(|n| n.buf.capacity()).sum::<usize>()
                }
            }
    }

    /// Number of internal nodes (quicklist nodes).
    pub fn node_count(&self) -> usize {
        match &self.repr {
            Repr::One(n) => usize::from(n.count > 0),
            Repr::Many(m) => m.nodes.len(),
        }
    }

    #[inline]
    fn nodes(&self) -> &[Node] {
        match &self.repr {
            Repr::One(n) => std::slice::from_ref(n),
            Repr::Many(m) => &m.nodes,
        }
    }

    /// Switches to the node-vector form (for structural changes).
    fn many(&mut self) -> &mut Many {
        if let Repr::One(n) = &mut self.repr {
            let n = std::mem::take(n);
            let len = n.len();
            let nodes = if len == 0 { Vec::new() } else { vec![n] };
            self.repr = Repr::Many(Box::new(Many { nodes, len }));
        }
        match &mut self.repr {
            Repr::Many(m) => m,
            Repr::One(_) => unreachable!("converted above"),
        }
    }

    /// After structural changes: drops empty nodes, recomputes the length and goes back
    /// to the inline form when one node (or none) is left.
    fn normalize(&mut self) {
        if let Repr::Many(m) = &mut self.repr {
            m.nodes.retain(|n| n.count > 0);
            m.len = m.nodes.iter().map(Node::len).sum();
            if m.nodes.len() <= 1 {
                let n = m.nodes.pop().unwrap_or_default();
                self.repr = Repr::One(n);
            }
        }
    }

    /// Pushes `v` at the head (`left`) or the tail.
    pub fn push(&mut self, v: &[u8], left: bool, fill: &ListFill) {
        match &mut self.repr {
            Repr::One(n) => {
                if n.count == 0 || n.allows_insert(v, fill) {
                    if left {
                        n.push_front(v)
                    } else {
                        n.push_back(v)
                    }
                    return;
                }
            }
            Repr::Many(m) => {
                let node = if left { m.nodes.first_mut() } else { m.nodes.last_mut() };
                if let Some(node) = node {
                    if node.allows_insert(v, fill) {
                        if left {
                            node.push_front(v)
                        } else {
                            node.push_back(v)
                        }
                        m.len += 1;
                        return;
                    }
                }
            }
        }
        let m = self.many();
        let mut node = Node::default();
        node.push_back(v);
        if left {
            m.nodes.insert(0, node);
        } else {
            m.nodes.push(node);
        }
        m.len += 1;
    }

    /// Pops the head (`left`) or tail element, handing it to `f`.
    pub fn pop_with<R>(&mut self, left: bool, f: impl FnOnce(&[u8]) -> R) -> Option<R> {
        let (node, many) = match &mut self.repr {
            Repr::One(n) => (n, false),
            Repr::Many(m) => {
                let n = if left { m.nodes.first_mut() } else { m.nodes.last_mut() };
                (n?, true)
            }
        };
        if node.count == 0 {
            return None;
        }
        let r;
        if left {
            let (v, next) = node.at(0);
            r = f(v);
            node.remove_bytes(0, next, 1);
        } else {
            let end = node.buf.len();
            let start = entry_start_before(&node.buf, end);
            r = f(node.at(start).0);
            node.remove_bytes(start, end, 1);
        }
        if many {
            let emptied = node.count == 0;
            if let Repr::Many(m) = &mut self.repr {
                m.len -= 1;
            }
            if emptied {
                self.normalize();
            }
        } else if node.count == 0 {
            node.buf = Vec::new();
        }
        Some(r)
    }

    /// Pops the head (`left`) or tail element.
    pub fn pop(&mut self, left: bool) -> Option<Vec<u8>> {
        self.pop_with(left, |v| v.to_vec())
    }

    /// (node index, entry index in node) of element `idx` (< len), walking from the nearer end.
    fn locate(&self, idx: usize) -> (usize, usize) {
        let nodes = self.nodes();
        let len = self.len();
        if idx < len / 2 {
            let mut rest = idx;
            for (i, n) in nodes.iter().enumerate() {
                if rest < n.len() {
                    return (i, rest);
                }
                rest -= n.len();
            }
        } else {
            let mut from_end = len - idx; // >= 1
            for (i, n) in nodes.iter().enumerate().rev() {
                if from_end <= n.len() {
                    return (i, n.len() - from_end);
                }
                from_end -= n.len();
            }
        }
        (0, 0)
    }

    /// Redis's index convention: negative counts from the tail. None when out of range.
    fn resolve(&self, index: i64) -> Option<usize> {
        let len = self.len() as i64;
        let i = if index < 0 { len.checked_add(index)? } else { index };
        (0..len).contains(&i).then_some(i as usize)
    }

    /// The element at `index` (negative: from the tail), as LINDEX.
    pub fn get(&self, index: i64) -> Option<&[u8]> {
        let i = self.resolve(index)?;
        let (ni, ei) = self.locate(i);
        let node = &self.nodes()[ni];
        Some(node.at(node.pos_of(ei)).0)
    }

    /// Replaces the element at `index` (negative: from the tail), as LSET. False when out
    /// of range.
    pub fn set(&mut self, index: i64, v: &[u8], fill: &ListFill) -> bool {
        let Some(i) = self.resolve(index) else {
            return false;
        };
        let (ni, ei) = self.locate(i);
        match &mut self.repr {
            Repr::One(n) => {
                let pos = n.pos_of(ei);
                n.replace_at(pos, v);
                if !n.fits(fill) && n.len() > 1 {
                    let m = self.many();
                    split_to_fit(&mut m.nodes, 0, fill);
                }
            }
            Repr::Many(m) => {
                let n = &mut m.nodes[ni];
                let pos = n.pos_of(ei);
                n.replace_at(pos, v);
                split_to_fit(&mut m.nodes, ni, fill);
            }
        }
        true
    }

    /// Inserts `v` before (or after) the first element equal to `pivot`, as LINSERT.
    /// False when the pivot is not found.
    pub fn insert_by_pivot(&mut self, pivot: &[u8], v: &[u8], after: bool, fill: &ListFill) -> bool {
        let mut found = None;
        'outer: for (ni, n) in self.nodes().iter().enumerate() {
            let mut pos = 0;
            while pos < n.buf.len() {
                let (e, next) = n.at(pos);
                if e == pivot {
                    found = Some((ni, if after { next } else { pos }));
                    break 'outer;
                }
                pos = next;
            }
        }
        let Some((ni, pos)) = found else {
            return false;
        };
        match &mut self.repr {
            Repr::One(n) => {
                n.insert_at(pos, v);
                if !n.fits(fill) && n.len() > 1 {
                    let m = self.many();
                    split_to_fit(&mut m.nodes, 0, fill);
                }
            }
            Repr::Many(m) => {
                m.nodes[ni].insert_at(pos, v);
                m.len += 1;
                split_to_fit(&mut m.nodes, ni, fill);
            }
        }
        true
    }

    /// Removes `n` elements starting at index `start` (both already in range).
    pub fn remove_range(&mut self, start: usize, n: usize) {
        let n = n.min(self.len().saturating_sub(start));
        if n == 0 {
            return;
        }
        if let Repr::One(node) = &mut self.repr {
            node.remove_idx_range(start, n);
            return;
        }
        let (mut ni, mut off) = self.locate(start);
        let m = self.many();
        let mut left = n;
        let mut emptied = false;
        while left > 0 {
            let node = &mut m.nodes[ni];
            let take = left.min(node.len() - off);
            node.remove_idx_range(off, take);
            emptied |= node.count == 0;
            left -= take;
            off = 0;
            ni += 1;
        }
        m.len -= n;
        if emptied {
            self.normalize();
        }
    }

    /// Removes `ltrim` elements from the head and `rtrim` from the tail (LTRIM).
    pub fn trim(&mut self, ltrim: usize, rtrim: usize) {
        let len = self.len();
        if ltrim + rtrim >= len {
            *self = ListValue::new();
            return;
        }
        self.remove_range(len - rtrim, rtrim);
        self.remove_range(0, ltrim);
    }

    /// Removes elements equal to `v`: from the head when `from_tail` is false, else from
    /// the tail; at most `limit` of them (0 = all). Returns how many were removed (LREM).
    pub fn remove_matching(&mut self, v: &[u8], limit: u64, from_tail: bool) -> u64 {
        let mut removed = 0u64;
        let mut ranges: Vec<(usize, usize)> = Vec::new();
        let node_count = self.nodes().len();
        let mut touched = false;
        for k in 0..node_count {
            let ni = if from_tail { node_count - 1 - k } else { k };
            let node = match &mut self.repr {
                Repr::One(n) => n,
                Repr::Many(m) => &mut m.nodes[ni],
            };
            ranges.clear();
            let mut done = false;
            if from_tail {
                let mut end = node.buf.len();
                while end > 0 {
                    let start = entry_start_before(&node.buf, end);
                    if node.at(start).0 == v {
                        ranges.push((start, end));
                        removed += 1;
                        if removed == limit {
                            done = true;
                            break;
                        }
                    }
                    end = start;
                }
                ranges.reverse();
            } else {
                let mut pos = 0;
                while pos < node.buf.len() {
                    let (e, next) = node.at(pos);
                    if e == v {
                        ranges.push((pos, next));
                        removed += 1;
                        if removed == limit {
                            done = true;
                            break;
                        }
                    }
                    pos = next;
                }
            }
            if !ranges.is_empty() {
                node.remove_ranges(&ranges);
                touched = true;
            }
            if done {
                break;
            }
        }
        if touched {
            match &mut self.repr {
                Repr::One(n) => {
                    if n.count == 0 {
                        n.buf = Vec::new();
                    }
                }
                Repr::Many(_) => self.normalize(),
            }
        }
        removed
    }

    /// Iterates the elements head to tail.
    pub fn iter(&self) -> Iter<'_> {
        Iter { nodes: self.nodes(), ni: 0, pos: 0, left: self.len() }
    }

    /// Iterates the elements from index `start` (< len) towards the tail.
    pub fn iter_from(&self, start: usize) -> Iter<'_> {
        if start >= self.len() {
            return Iter { nodes: &[], ni: 0, pos: 0, left: 0 };
        }
        let (ni, ei) = self.locate(start);
        let nodes = self.nodes();
        Iter { nodes, ni, pos: nodes[ni].pos_of(ei), left: self.len() - start }
    }

    /// Iterates the elements tail to head.
    pub fn iter_rev(&self) -> RevIter<'_> {
        let nodes = self.nodes();
        match nodes.last() {
            Some(last) => RevIter { nodes, ni: nodes.len() - 1, end: last.buf.len(), left: self.len() },
            None => RevIter { nodes, ni: 0, end: 0, left: 0 },
        }
    }

    /// Iterates the elements from index `start` (< len) towards the head.
    pub fn iter_rev_from(&self, start: usize) -> RevIter<'_> {
        if start >= self.len() {
            return RevIter { nodes: &[], ni: 0, end: 0, left: 0 };
        }
        let (ni, ei) = self.locate(start);
        let nodes = self.nodes();
        let pos = nodes[ni].pos_of(ei);
        let end = nodes[ni].at(pos).1;
        RevIter { nodes, ni, end, left: start + 1 }
    }

    /// Visits elements head to tail (or tail to head) until `f` breaks.
    pub fn for_each_until<B>(&self, rev: bool, mut f: impl FnMut(&[u8]) -> ControlFlow<B>) -> Option<B> {
        if rev {
            for v in self.iter_rev() {
                if let ControlFlow::Break(b) = f(v) {
                    return Some(b);
                }
            }
        } else {
            for v in self.iter() {
                if let ControlFlow::Break(b) = f(v) {
                    return Some(b);
                }
            }
        }
        None
    }
}

/// Head-to-tail iterator.
pub struct Iter<'a> {
    nodes: &'a [Node],
    ni: usize,
    pos: usize,
    left: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a [u8];
    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        if self.left == 0 {
            return None;
        }
        loop {
            let n = &self.nodes[self.ni];
            if self.pos < n.buf.len() {
                let (v, next) = n.at(self.pos);
                self.pos = next;
                self.left -= 1;
                return Some(v);
            }
            self.ni += 1;
            self.pos = 0;
        }
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for Iter<'_> {}

/// Tail-to-head iterator: `end` is the end offset of the next entry to yield in node
/// `ni` (0 = continue with the previous node).
pub struct RevIter<'a> {
    nodes: &'a [Node],
    ni: usize,
    end: usize,
    left: usize,
}

impl<'a> Iterator for RevIter<'a> {
    type Item = &'a [u8];
    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        if self.left == 0 {
            return None;
        }
        while self.end == 0 {
            self.ni -= 1;
            self.end = self.nodes[self.ni].buf.len();
        }
        let n = &self.nodes[self.ni];
        let start = entry_start_before(&n.buf, self.end);
        self.end = start;
        self.left -= 1;
        Some(n.at(start).0)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for RevIter<'_> {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;

    fn items(l: &ListValue) -> Vec<Vec<u8>> {
        l.iter().map(|v| v.to_vec()).collect()
    }

    fn check(l: &ListValue, model: &VecDeque<Vec<u8>>) {
        assert_eq!(l.len(), model.len());
        let fwd = items(l);
        assert_eq!(fwd, model.iter().cloned().collect::<Vec<_>>());
        let rev: Vec<Vec<u8>> = l.iter_rev().map(|v| v.to_vec()).collect();
        assert_eq!(rev, model.iter().rev().cloned().collect::<Vec<_>>());
        for (i, m) in model.iter().enumerate() {
            assert_eq!(l.get(i as i64), Some(&m[..]));
            assert_eq!(l.get(i as i64 - model.len() as i64), Some(&m[..]));
        }
        assert_eq!(l.get(model.len() as i64), None);
        assert_eq!(l.get(-(model.len() as i64) - 1), None);
        if let Repr::Many(m) = &l.repr {
            assert!(m.nodes.len() >= 2);
            assert!(m.nodes.iter().all(|n| n.count > 0));
        }
    }

    #[test]
    fn entry_encoding_round_trips() {
        for n in [0usize, 1, 100, 124, 125, 126, 127, 128, 200, 16000, 16383, 16384, 70000] {
            let v: Vec<u8> = (0..n).map(|i| i as u8).collect();
            let mut node = Node::default();
            node.push_back(b"a");
            node.push_back(&v);
            node.push_back(b"z");
            assert_eq!(node.buf.len(), entry_size(1) * 2 + entry_size(n));
            let (x, next) = node.at(0);
            assert_eq!(x, b"a");
            let (y, next2) = node.at(next);
            assert_eq!(y, &v[..]);
            assert_eq!(entry_start_before(&node.buf, next2), next);
            assert_eq!(entry_start_before(&node.buf, node.buf.len()), next2);
            assert_eq!(entry_start_before(&node.buf, next), 0);
        }
    }

    #[test]
    fn push_pop_both_ends() {
        let fill = ListFill::default();
        let mut l = ListValue::new();
        l.push(b"b", false, &fill);
        l.push(b"a", true, &fill);
        l.push(b"c", false, &fill);
        assert_eq!(items(&l), vec![b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]);
        assert_eq!(l.encoding(), "quicklist");
        assert_eq!(l.pop(false), Some(b"c".to_vec()));
        assert_eq!(l.pop(true), Some(b"a".to_vec()));
        assert_eq!(l.pop(true), Some(b"b".to_vec()));
        assert_eq!(l.pop(true), None);
        assert!(l.is_empty());
    }

    #[test]
    fn grows_into_nodes_and_back() {
        let fill = ListFill::new(4);
        let mut l = ListValue::new();
        for i in 0..10 {
            l.push(format!("{i}").as_bytes(), false, &fill);
        }
        assert_eq!(l.node_count(), 3);
        for _ in 0..7 {
            l.pop(true);
        }
        assert_eq!(l.node_count(), 2);
        l.pop(true);
        assert!(matches!(l.repr, Repr::One(_)));
        assert_eq!(items(&l), vec![b"8".to_vec(), b"9".to_vec()]);
        // a big element gets its own node under a byte limit
        let fill = ListFill::new(-1);
        let mut l = ListValue::new();
        l.push(b"x", false, &fill);
        l.push(&[b'y'; 5000], false, &fill);
        l.push(b"z", false, &fill);
        assert_eq!(l.node_count(), 3);
    }

    #[test]
    fn model_based_random_ops() {
        let mut seed = 0x9e3779b97f4a7c15u64;
        let mut rnd = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n.max(1)
        };
        for fill in [ListFill::new(1), ListFill::new(3), ListFill::new(-1), ListFill::new(-5), ListFill { max_bytes: 40, max_count: 1000 }]
        {
            let mut l = ListValue::new();
            let mut model: VecDeque<Vec<u8>> = VecDeque::new();
            for step in 0..4000 {
                let val: Vec<u8> = {
                    let len = if rnd(20) == 0 { 100 + rnd(300) } else { rnd(4) };
                    (0..len).map(|_| b'a' + rnd(3) as u8).collect()
                };
                let len = model.len() as u64;
                match rnd(10) {
                    0 | 1 => {
                        l.push(&val, true, &fill);
                        model.push_front(val);
                    }
                    2 | 3 => {
                        l.push(&val, false, &fill);
                        model.push_back(val);
                    }
                    4 => {
                        let left = rnd(2) == 0;
                        let got = l.pop(left);
                        let want = if left { model.pop_front() } else { model.pop_back() };
                        assert_eq!(got, want);
                    }
                    5 => {
                        if len > 0 {
                            let i = rnd(len) as usize;
                            assert!(l.set(i as i64, &val, &fill));
                            model[i] = val;
                        } else {
                            assert!(!l.set(0, &val, &fill));
                        }
                    }
                    6 => {
                        let pivot: Vec<u8> = (0..rnd(3)).map(|_| b'a' + rnd(3) as u8).collect();
                        let after = rnd(2) == 0;
                        let found = model.iter().position(|x| *x == pivot);
                        assert_eq!(l.insert_by_pivot(&pivot, &val, after, &fill), found.is_some());
                        if let Some(p) = found {
                            model.insert(if after { p + 1 } else { p }, val);
                        }
                    }
                    7 => {
                        let target: Vec<u8> = (0..rnd(3)).map(|_| b'a' + rnd(3) as u8).collect();
                        let limit = rnd(3);
                        let from_tail = rnd(2) == 0;
                        let removed = l.remove_matching(&target, limit, from_tail);
                        let mut idx: Vec<usize> = model.iter().enumerate().filter(|(_, x)| **x == target).map(|(i, _)| i).collect();
                        if from_tail {
                            idx.reverse();
                        }
                        if limit > 0 {
                            idx.truncate(limit as usize);
                        }
                        idx.sort_unstable();
                        for &i in idx.iter().rev() {
                            model.remove(i);
                        }
                        assert_eq!(removed, idx.len() as u64);
                    }
                    8 => {
                        if len > 0 && rnd(4) == 0 {
                            let a = rnd(len) as usize;
                            let b = rnd(len - a as u64 + 1) as usize;
                            l.remove_range(a, b);
                            model.drain(a..a + b);
                        } else if len > 0 && rnd(3) == 0 {
                            let lt = rnd(len / 4 + 1) as usize;
                            let rt = rnd(len / 4 + 1) as usize;
                            l.trim(lt, rt);
                            if lt + rt >= model.len() {
                                model.clear();
                            } else {
                                model.drain(model.len() - rt..);
                                model.drain(..lt);
                            }
                        }
                    }
                    _ => {
                        if len > 0 {
                            let s = rnd(len) as usize;
                            let f: Vec<Vec<u8>> = l.iter_from(s).map(|v| v.to_vec()).collect();
                            assert_eq!(f, model.iter().skip(s).cloned().collect::<Vec<_>>());
                            let r: Vec<Vec<u8>> = l.iter_rev_from(s).map(|v| v.to_vec()).collect();
                            assert_eq!(r, model.iter().take(s + 1).rev().cloned().collect::<Vec<_>>());
                        }
                    }
                }
                if step % 50 == 0 {
                    check(&l, &model);
                }
                if let Repr::Many(m) = &l.repr {
                    assert_eq!(m.len, m.nodes.iter().map(Node::len).sum::<usize>());
                    for n in &m.nodes {
                        assert!(n.len() == 1 || n.fits(&fill) || n.len() > 0);
                    }
                }
            }
            check(&l, &model);
            let c = l.clone();
            check(&c, &model);
        }
    }
}
