//! Sorted-set values, with Redis's two encodings (`t_zset.c`):
//!
//! - **listpack**: while the zset has at most `zset-max-listpack-entries` members and
//!   every member is at most `zset-max-listpack-value` bytes, its (member, score) pairs
//!   live in one exact-size byte buffer sorted by (score, member). A member is a LEB128
//!   length and its bytes; a score is either a zigzag integer (LEB128 of
//!   `zigzag(i) << 1 | 1`, one byte for -31..=31) when it is an integral value of at
//!   most 2^53 in magnitude, or a 0 byte followed by the 8 bytes of the f64. A member
//!   "m1" with score 1 takes 4 bytes (Redis's listpack spends 6).
//! - **skiplist**: above the thresholds, Redis's skiplist with spans (so ZRANK, ZCOUNT
//!   and rank ranges are O(log n)) in an arena of nodes, plus a member -> score chained
//!   hash table ([`Table`], shared with hashes) for O(1) lookups; ZSCAN walks that
//!   table with Redis's reverse-binary cursor, so it keeps Redis's guarantee (a member
//!   present for the whole scan is returned at least once, however the table grows or
//!   shrinks between calls).
//!
//! Order: by score (with -0 == 0, as C's `<`/`==`), then by member bytes (memcmp).
//! Scores are never NaN. Conversion to the skiplist happens on insert; conversion
//! back only for the results of ZUNIONSTORE and friends ([`ZSetValue::from_sorted`]),
//! as in Redis.

use crate::sso::Sso;
use crate::value::hash::Table;
use std::cmp::Ordering;

/// Thresholds for the compact encoding (config `zset-max-listpack-*`).
#[derive(Clone, Copy, Debug)]
pub struct ZSetLimits {
    pub max_listpack_entries: usize,
    pub max_listpack_value: usize,
}

impl Default for ZSetLimits {
    fn default() -> Self {
        ZSetLimits { max_listpack_entries: 128, max_listpack_value: 64 }
    }
}

/// A score range (`zrangespec`): `(` makes a bound exclusive.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScoreRange {
    pub min: f64,
    pub max: f64,
    pub minex: bool,
    pub maxex: bool,
}

impl ScoreRange {
    #[inline]
    pub fn gte_min(&self, v: f64) -> bool {
        if self.minex {
            v > self.min
        } else {
            v >= self.min
        }
    }
    #[inline]
    pub fn lte_max(&self, v: f64) -> bool {
        if self.maxex {
            v < self.max
        } else {
            v <= self.max
        }
    }
    /// True when no score can be in the range.
    pub fn is_empty(&self) -> bool {
        self.min > self.max || (self.min == self.max && (self.minex || self.maxex))
    }
}

/// One end of a lex range: `-`, `+`, `[member` or `(member`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LexBound<'a> {
    NegInf,
    PosInf,
    Incl(&'a [u8]),
    Excl(&'a [u8]),
}

/// A lex range (`zlexrangespec`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LexRange<'a> {
    pub min: LexBound<'a>,
    pub max: LexBound<'a>,
}

impl<'a> LexRange<'a> {
    #[inline]
    pub fn gte_min(&self, v: &[u8]) -> bool {
        match self.min {
            LexBound::NegInf => true,
            LexBound::PosInf => false,
            LexBound::Incl(s) => v >= s,
            LexBound::Excl(s) => v > s,
        }
    }
    #[inline]
    pub fn lte_max(&self, v: &[u8]) -> bool {
        match self.max {
            LexBound::PosInf => true,
            LexBound::NegInf => false,
            LexBound::Incl(s) => v <= s,
            LexBound::Excl(s) => v < s,
        }
    }
    /// True when no member can be in the range (Redis's `sdscmplex` test).
    pub fn is_empty(&self) -> bool {
        use LexBound::*;
        let (cmp, ex) = match (self.min, self.max) {
            (NegInf, NegInf) | (PosInf, PosInf) => (Ordering::Equal, true),
            (NegInf, _) | (_, PosInf) => (Ordering::Less, false),
            (PosInf, _) | (_, NegInf) => (Ordering::Greater, false),
            (Incl(a) | Excl(a), Incl(b) | Excl(b)) => (a.cmp(b), matches!(self.min, Excl(_)) || matches!(self.max, Excl(_))),
        };
        cmp == Ordering::Greater || (cmp == Ordering::Equal && ex)
    }
}

/// ZADD's input flags.
#[derive(Clone, Copy, Debug, Default)]
pub struct AddFlags {
    pub nx: bool,
    pub xx: bool,
    pub gt: bool,
    pub lt: bool,
    pub incr: bool,
}

/// What [`ZSetValue::add`] did (Redis's `ZADD_OUT_*`), with the resulting score.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum AddOutcome {
    /// The score (or the increment's result) is NaN; nothing changed.
    Nan,
    Added(f64),
    Updated(f64),
    /// Processed, score unchanged (e.g. INCR by 0).
    Same(f64),
    /// Not processed (NX on an existing member, XX on a missing one, GT/LT refused).
    Nop,
}

/// Compares (s1, m1) with (s2, m2) in zset order.
#[inline]
fn cmp_elem(s1: f64, m1: &[u8], s2: f64, m2: &[u8]) -> Ordering {
    if s1 < s2 {
        Ordering::Less
    } else if s1 > s2 {
        Ordering::Greater
    } else {
        m1.cmp(m2)
    }
}

// ----------------------------------------------------------------------------------
// Listpack entries

#[inline]
fn varint_len(mut n: u64) -> usize {
    let mut l = 1;
    while n >= 0x80 {
        l += 1;
        n >>= 7;
    }
    l
}

#[inline]
fn put_varint(out: &mut Vec<u8>, mut n: u64) {
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

/// Reads a LEB128 number at `pos`: (value, end).
#[inline]
fn get_varint(buf: &[u8], pos: usize) -> (u64, usize) {
    let b = buf[pos];
    if b < 0x80 {
        return (b as u64, pos + 1);
    }
    let mut n = 0u64;
    let mut shift = 0;
    let mut i = pos;
    loop {
        let b = buf[i];
        n |= ((b & 0x7f) as u64) << shift;
        i += 1;
        if b & 0x80 == 0 {
            return (n, i);
        }
        shift += 7;
    }
}

const INT_SCORE_MAX: f64 = 9007199254740992.0; // 2^53

/// The score as a small integer when it is one. -0 is stored as 0, as Redis's
/// listpack does (its `d2string` prints integral doubles through `ll2string`); the
/// skiplist keeps -0.
#[inline]
fn score_int(s: f64) -> Option<i64> {
    if s.fract() == 0.0 && s.abs() <= INT_SCORE_MAX {
        Some(s as i64)
    } else {
        None
    }
}

#[inline]
fn score_code(i: i64) -> u64 {
    ((((i << 1) ^ (i >> 63)) as u64) << 1) | 1
}

#[inline]
fn score_len(s: f64) -> usize {
    match score_int(s) {
        Some(i) => varint_len(score_code(i)),
        None => 9,
    }
}

#[inline]
fn put_score(out: &mut Vec<u8>, s: f64) {
    match score_int(s) {
        Some(i) => put_varint(out, score_code(i)),
        None => {
            out.push(0);
            out.extend_from_slice(&s.to_bits().to_le_bytes());
        }
    }
}

/// Reads a score at `pos`: (score, end).
#[inline]
fn get_score(buf: &[u8], pos: usize) -> (f64, usize) {
    if buf[pos] & 1 == 1 {
        let (c, end) = get_varint(buf, pos);
        let z = c >> 1;
        let i = ((z >> 1) as i64) ^ -((z & 1) as i64);
        (i as f64, end)
    } else {
        let mut b = [0u8; 8];
        b.copy_from_slice(&buf[pos + 1..pos + 9]);
        (f64::from_bits(u64::from_le_bytes(b)), pos + 9)
    }
}

/// The entry at `pos`: (member, score, end).
#[inline]
fn lp_entry(buf: &[u8], pos: usize) -> (&[u8], f64, usize) {
    let (n, ms) = get_varint(buf, pos);
    let me = ms + n as usize;
    let (s, end) = get_score(buf, me);
    (&buf[ms..me], s, end)
}

#[inline]
fn entry_len(member: &[u8], score: f64) -> usize {
    varint_len(member.len() as u64) + member.len() + score_len(score)
}

fn lp_count(buf: &[u8]) -> usize {
    let mut pos = 0;
    let mut n = 0;
    while pos < buf.len() {
        pos = lp_entry(buf, pos).2;
        n += 1;
    }
    n
}

/// Finds `member`: Ok((pos, end, score)) or Err(number of entries).
fn lp_find(buf: &[u8], member: &[u8]) -> Result<(usize, usize, f64), usize> {
    let mut pos = 0;
    let mut n = 0;
    while pos < buf.len() {
        let (m, s, end) = lp_entry(buf, pos);
        if m == member {
            return Ok((pos, end, s));
        }
        pos = end;
        n += 1;
    }
    Err(n)
}

/// Byte offset of the entry of rank `r` (or the end).
fn lp_seek(buf: &[u8], r: usize) -> usize {
    let mut pos = 0;
    for _ in 0..r {
        if pos >= buf.len() {
            break;
        }
        pos = lp_entry(buf, pos).2;
    }
    pos
}

/// Inserts (member, score) at its place in order.
fn lp_insert(lp: &mut Box<[u8]>, member: &[u8], score: f64) {
    let mut pos = 0;
    while pos < lp.len() {
        let (m, s, end) = lp_entry(lp, pos);
        if cmp_elem(s, m, score, member) == Ordering::Greater {
            break;
        }
        pos = end;
    }
    let mut nb = Vec::with_capacity(lp.len() + entry_len(member, score));
    nb.extend_from_slice(&lp[..pos]);
    put_varint(&mut nb, member.len() as u64);
    nb.extend_from_slice(member);
    put_score(&mut nb, score);
    nb.extend_from_slice(&lp[pos..]);
    *lp = nb.into_boxed_slice();
}

/// Removes the bytes `[from, to)`.
fn lp_cut(lp: &mut Box<[u8]>, from: usize, to: usize) {
    if from == to {
        return;
    }
    let mut nb = Vec::with_capacity(lp.len() - (to - from));
    nb.extend_from_slice(&lp[..from]);
    nb.extend_from_slice(&lp[to..]);
    *lp = nb.into_boxed_slice();
}

/// Iterates (member, score) of a listpack in order.
#[derive(Clone)]
pub struct LpIter<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for LpIter<'a> {
    type Item = (&'a [u8], f64);
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.pos >= self.buf.len() {
            return None;
        }
        let (m, s, end) = lp_entry(self.buf, self.pos);
        self.pos = end;
        Some((m, s))
    }
}

// ----------------------------------------------------------------------------------
// Skiplist

const NIL: u32 = u32::MAX;
const EMPTY_LEVEL: Level = Level { fwd: NIL, span: 0 };
const MAX_LEVEL: usize = 32;

#[derive(Clone, Copy)]
struct Level {
    fwd: u32,
    span: u32,
}

/// Levels kept inside the node; the rest (nodes of level > 3: one in 64) live in
/// `SkipList::upper`.
const INLINE: usize = 3;

/// One cache line: a search step reads the next node's score and then that node's own
/// forward links from the same line (Redis's nodes carry their level array inline too;
/// a node with a separately allocated level array costs two cache misses per step).
#[repr(align(64))]
struct Node {
    score: f64,
    lv: [Level; INLINE],
    member: Sso,
    back: u32,
}
const _: () = assert!(std::mem::size_of::<Node>() == 64);

/// Redis's zset: a skiplist ordered by (score, member) whose nodes live in an arena
/// (node 0 is the header), plus the member -> score table.
pub struct SkipList {
    nodes: Vec<Node>,
    /// Levels `INLINE..` of the nodes that have them (node 0, the header, has all).
    upper: std::collections::HashMap<u32, Box<[Level]>, foldhash::fast::FixedState>,
    free: Vec<u32>,
    level: usize,
    len: usize,
    tail: u32,
    dict: Table,
    seed: u64,
}

impl Default for SkipList {
    fn default() -> Self {
        SkipList::with_capacity(0)
    }
}

#[inline]
fn dict_score(v: &[u8]) -> f64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&v[..8]);
    f64::from_bits(u64::from_le_bytes(b))
}

impl SkipList {
    pub fn with_capacity(n: usize) -> SkipList {
        let mut nodes = Vec::with_capacity(n + 1);
        nodes.push(Node { member: Sso::new(b""), score: 0.0, back: NIL, lv: [EMPTY_LEVEL; INLINE] });
        let mut upper = std::collections::HashMap::default();
        upper.insert(0, vec![EMPTY_LEVEL; MAX_LEVEL - INLINE].into_boxed_slice());
        SkipList {
            nodes,
            upper,
            free: Vec::new(),
            level: 1,
            len: 0,
            tail: NIL,
            dict: Table::with_capacity(n),
            seed: 0x9E37_79B9_7F4A_7C15 ^ n as u64,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn random_level(&mut self) -> usize {
        let mut level = 1;
        loop {
            // xorshift64*
            self.seed ^= self.seed >> 12;
            self.seed ^= self.seed << 25;
            self.seed ^= self.seed >> 27;
            let r = self.seed.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 32;
            if (r & 0xFFFF) < 0x4000 && level < MAX_LEVEL {
                level += 1;
            } else {
                return level;
            }
        }
    }

    #[inline]
    fn lvl(&self, x: u32, i: usize) -> Level {
        if i < INLINE {
            self.nodes[x as usize].lv[i]
        } else {
            self.upper.get(&x).map(|u| u[i - INLINE]).unwrap_or(EMPTY_LEVEL)
        }
    }
    #[inline]
    fn lvl_mut(&mut self, x: u32, i: usize) -> &mut Level {
        if i < INLINE {
            &mut self.nodes[x as usize].lv[i]
        } else {
            &mut self.upper.get_mut(&x).expect("node has upper levels")[i - INLINE]
        }
    }
    #[inline]
    fn fwd(&self, x: u32, i: usize) -> u32 {
        self.lvl(x, i).fwd
    }
    #[inline]
    fn span(&self, x: u32, i: usize) -> usize {
        self.lvl(x, i).span as usize
    }
    /// The forward node of `x` at level `i` when it sorts before (score, member).
    #[inline]
    fn fwd_less(&self, x: u32, i: usize, score: f64, member: &[u8]) -> Option<u32> {
        let f = self.fwd(x, i);
        if f == NIL {
            return None;
        }
        let n = &self.nodes[f as usize];
        let before = if n.score < score {
            true
        } else if n.score > score {
            false
        } else {
            n.member.as_bytes() < member
        };
        before.then_some(f)
    }

    /// The (member, score) of node `x`.
    #[inline]
    fn get(&self, x: u32) -> (&[u8], f64) {
        let n = &self.nodes[x as usize];
        (n.member.as_bytes(), n.score)
    }
    #[inline]
    fn first(&self) -> u32 {
        self.fwd(0, 0)
    }
    #[inline]
    fn next(&self, x: u32) -> u32 {
        self.fwd(x, 0)
    }
    #[inline]
    fn prev(&self, x: u32) -> u32 {
        self.nodes[x as usize].back
    }

    pub fn score(&self, member: &[u8]) -> Option<f64> {
        self.dict.get(member).map(dict_score)
    }

    fn zsl_insert(&mut self, score: f64, member: Sso) -> u32 {
        let mut update = [0u32; MAX_LEVEL];
        let mut rank = [0usize; MAX_LEVEL];
        let mut x = 0u32;
        for i in (0..self.level).rev() {
            rank[i] = if i == self.level - 1 { 0 } else { rank[i + 1] };
            while let Some(f) = self.fwd_less(x, i, score, member.as_bytes()) {
                rank[i] += self.span(x, i);
                x = f;
            }
            update[i] = x;
        }
        let level = self.random_level();
        if level > self.level {
            for i in self.level..level {
                rank[i] = 0;
                update[i] = 0;
                self.lvl_mut(0, i).span = self.len as u32;
            }
            self.level = level;
        }
        let node = Node { member, score, back: NIL, lv: [EMPTY_LEVEL; INLINE] };
        let idx = match self.free.pop() {
            Some(i) => {
                self.nodes[i as usize] = node;
                i
            }
            None => {
                self.nodes.push(node);
                (self.nodes.len() - 1) as u32
            }
        };
        if level > INLINE {
            self.upper.insert(idx, vec![EMPTY_LEVEL; level - INLINE].into_boxed_slice());
        }
        for i in 0..level {
            let u = update[i];
            let ul = self.lvl(u, i);
            let l = self.lvl_mut(idx, i);
            l.fwd = ul.fwd;
            l.span = ul.span - (rank[0] - rank[i]) as u32;
            let ulm = self.lvl_mut(u, i);
            ulm.fwd = idx;
            ulm.span = (rank[0] - rank[i]) as u32 + 1;
        }
        for (i, &u) in update.iter().enumerate().take(self.level).skip(level) {
            self.lvl_mut(u, i).span += 1;
        }
        self.nodes[idx as usize].back = if update[0] == 0 { NIL } else { update[0] };
        let f0 = self.fwd(idx, 0);
        if f0 != NIL {
            self.nodes[f0 as usize].back = idx;
        } else {
            self.tail = idx;
        }
        self.len += 1;
        idx
    }

    /// Unlinks node `x` (with its predecessors per level in `update`), frees its slot
    /// and returns its member.
    fn delete_node(&mut self, x: u32, update: &[u32; MAX_LEVEL]) -> Sso {
        for (i, &u) in update.iter().enumerate().take(self.level) {
            if self.fwd(u, i) == x {
                let xl = self.lvl(x, i);
                let ul = self.lvl_mut(u, i);
                ul.span = ul.span + xl.span - 1;
                ul.fwd = xl.fwd;
            } else {
                self.lvl_mut(u, i).span -= 1;
            }
        }
        let f0 = self.fwd(x, 0);
        let back = self.nodes[x as usize].back;
        if f0 != NIL {
            self.nodes[f0 as usize].back = back;
        } else {
            self.tail = back;
        }
        while self.level > 1 && self.fwd(0, self.level - 1) == NIL {
            self.level -= 1;
        }
        self.len -= 1;
        self.upper.remove(&x);
        let n = &mut self.nodes[x as usize];
        n.lv = [EMPTY_LEVEL; INLINE];
        self.free.push(x);
        std::mem::replace(&mut n.member, Sso::new(b""))
    }

    /// Removes the node (score, member) from the skiplist only; returns its member.
    fn zsl_delete(&mut self, score: f64, member: &[u8]) -> Option<Sso> {
        let mut update = [0u32; MAX_LEVEL];
        let mut x = 0u32;
        for i in (0..self.level).rev() {
            while let Some(f) = self.fwd_less(x, i, score, member) {
                x = f;
            }
            update[i] = x;
        }
        let x = self.fwd(x, 0);
        if x != NIL && self.nodes[x as usize].score == score && self.nodes[x as usize].member.as_bytes() == member {
            Some(self.delete_node(x, &update))
        } else {
            None
        }
    }

    /// Inserts a member known to be absent.
    pub fn insert(&mut self, score: f64, member: &[u8]) {
        self.dict.insert(member, &score.to_bits().to_le_bytes());
        self.zsl_insert(score, Sso::new(member));
    }

    /// Changes the score of an existing member.
    fn update(&mut self, member: &[u8], cur: f64, score: f64) {
        let m = self.zsl_delete(cur, member).unwrap_or_else(|| Sso::new(member));
        self.zsl_insert(score, m);
        self.dict.insert(member, &score.to_bits().to_le_bytes());
    }

    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        let s = self.score(member)?;
        self.dict.remove(member);
        self.zsl_delete(s, member);
        Some(s)
    }

    /// Number of leading elements (in order) for which `pred` holds; `pred` must be
    /// true on a prefix of the order and false after it.
    fn count_while(&self, mut pred: impl FnMut(&[u8], f64) -> bool) -> usize {
        let mut x = 0u32;
        let mut rank = 0;
        for i in (0..self.level).rev() {
            loop {
                let f = self.fwd(x, i);
                if f != NIL {
                    let (m, s) = self.get(f);
                    if pred(m, s) {
                        rank += self.span(x, i);
                        x = f;
                        continue;
                    }
                }
                break;
            }
        }
        rank
    }

    /// The node of 1-based rank `r`, NIL when out of range.
    fn by_rank(&self, r: usize) -> u32 {
        if r == 0 || r > self.len {
            return NIL;
        }
        let mut x = 0u32;
        let mut t = 0;
        for i in (0..self.level).rev() {
            while self.fwd(x, i) != NIL && t + self.span(x, i) <= r {
                t += self.span(x, i);
                x = self.fwd(x, i);
            }
            if t == r {
                return x;
            }
        }
        NIL
    }

    /// Deletes the elements of 1-based ranks `start..=end` (Redis's
    /// `zslDeleteRangeByRank`).
    fn delete_rank_range(&mut self, start: usize, end: usize) -> usize {
        let mut update = [0u32; MAX_LEVEL];
        let mut x = 0u32;
        let mut traversed = 0;
        for i in (0..self.level).rev() {
            while self.fwd(x, i) != NIL && traversed + self.span(x, i) < start {
                traversed += self.span(x, i);
                x = self.fwd(x, i);
            }
            update[i] = x;
        }
        traversed += 1;
        let mut x = self.fwd(x, 0);
        let mut removed = 0;
        while x != NIL && traversed <= end {
            let next = self.fwd(x, 0);
            let m = self.delete_node(x, &update);
            self.dict.remove(m.as_bytes());
            removed += 1;
            traversed += 1;
            x = next;
        }
        removed
    }

    fn mem_usage(&self) -> usize {
        let mut n = std::mem::size_of::<SkipList>() + self.nodes.capacity() * std::mem::size_of::<Node>() + self.free.capacity() * 4;
        n += self.dict.buckets() * 8 + self.len * 64;
        n += self.upper.capacity() * 24 + self.upper.values().map(|u| u.len() * 8).sum::<usize>();
        let mut x = self.first();
        while x != NIL {
            n += 2 * self.nodes[x as usize].member.heap_size();
            x = self.next(x);
        }
        n
    }

    /// Checks the structure (tests).
    #[cfg(test)]
    fn check(&self) {
        let mut x = self.first();
        let mut prev = NIL;
        let mut n = 0;
        while x != NIL {
            assert_eq!(self.nodes[x as usize].back, prev);
            if prev != NIL {
                let (pm, ps) = self.get(prev);
                let (m, s) = self.get(x);
                assert_eq!(cmp_elem(ps, pm, s, m), Ordering::Less);
            }
            n += 1;
            assert_eq!(self.by_rank(n), x);
            prev = x;
            x = self.next(x);
        }
        assert_eq!(self.tail, prev);
        assert_eq!(n, self.len);
        assert_eq!(self.dict.len(), self.len);
        // every link at every level points forward in order, and spans add up
        for i in 0..self.level {
            let (mut x, mut rank) = (0u32, 0usize);
            loop {
                let l = self.lvl(x, i);
                if l.fwd == NIL {
                    break;
                }
                rank += l.span as usize;
                assert_eq!(self.by_rank(rank), l.fwd);
                x = l.fwd;
            }
        }
    }
}

// ----------------------------------------------------------------------------------

/// A sorted-set value in one of its two encodings.
pub enum ZSetValue {
    /// Entries sorted by (score, member) (see the module documentation).
    Listpack(Box<[u8]>),
    Skiplist(Box<SkipList>),
}

const _: () = assert!(std::mem::size_of::<ZSetValue>() == 16);

impl Default for ZSetValue {
    fn default() -> Self {
        ZSetValue::Listpack(Box::default())
    }
}

/// Iterates (member, score) in order.
pub enum Iter<'a> {
    Listpack(LpIter<'a>),
    Skiplist(&'a SkipList, u32),
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], f64);
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Iter::Listpack(i) => i.next(),
            Iter::Skiplist(z, x) => {
                if *x == NIL {
                    return None;
                }
                let r = z.get(*x);
                *x = z.next(*x);
                Some(r)
            }
        }
    }
}

impl ZSetValue {
    /// An empty zset in the encoding Redis would create for a first member of
    /// `first_len` bytes (`zsetTypeCreate` / ZADD).
    pub fn new_for(first_len: usize, lim: &ZSetLimits) -> ZSetValue {
        if lim.max_listpack_entries == 0 || first_len > lim.max_listpack_value {
            ZSetValue::Skiplist(Box::default())
        } else {
            ZSetValue::default()
        }
    }

    /// A zset from members sorted by (score, member) without duplicates, in the
    /// listpack encoding when `listpack` (ZUNIONSTORE and friends decide, as Redis's
    /// `zsetConvertToListpackIfNeeded`).
    pub fn from_sorted<M: AsRef<[u8]>>(items: &[(M, f64)], listpack: bool) -> ZSetValue {
        if listpack {
            let size: usize = items.iter().map(|(m, s)| entry_len(m.as_ref(), *s)).sum();
            let mut v = Vec::with_capacity(size);
            for (m, s) in items {
                let m = m.as_ref();
                put_varint(&mut v, m.len() as u64);
                v.extend_from_slice(m);
                put_score(&mut v, *s);
            }
            ZSetValue::Listpack(v.into_boxed_slice())
        } else {
            let mut z = SkipList::with_capacity(items.len());
            for (m, s) in items {
                z.insert(*s, m.as_ref());
            }
            ZSetValue::Skiplist(Box::new(z))
        }
    }

    /// The name OBJECT ENCODING replies with.
    pub fn encoding(&self) -> &'static str {
        match self {
            ZSetValue::Listpack(_) => "listpack",
            ZSetValue::Skiplist(_) => "skiplist",
        }
    }

    /// Number of members (linear in a listpack, which holds few).
    pub fn len(&self) -> usize {
        match self {
            ZSetValue::Listpack(lp) => lp_count(lp),
            ZSetValue::Skiplist(z) => z.len,
        }
    }

    pub fn is_empty(&self) -> bool {
        match self {
            ZSetValue::Listpack(lp) => lp.is_empty(),
            ZSetValue::Skiplist(z) => z.len == 0,
        }
    }

    /// Approximate bytes owned (MEMORY USAGE, eviction).
    pub fn mem_usage(&self) -> usize {
        16 + match self {
            ZSetValue::Listpack(lp) => lp.len(),
            ZSetValue::Skiplist(z) => z.mem_usage(),
        }
    }

    /// Iterates (member, score) in (score, member) order.
    pub fn iter(&self) -> Iter<'_> {
        match self {
            ZSetValue::Listpack(lp) => Iter::Listpack(LpIter { buf: lp, pos: 0 }),
            ZSetValue::Skiplist(z) => Iter::Skiplist(z, z.first()),
        }
    }

    /// The score of `member`.
    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match self {
            ZSetValue::Listpack(lp) => lp_find(lp, member).ok().map(|(_, _, s)| s),
            ZSetValue::Skiplist(z) => z.score(member),
        }
    }

    /// Converts to the skiplist encoding (a no-op when already converted).
    pub fn convert_to_skiplist(&mut self) {
        if let ZSetValue::Listpack(lp) = self {
            let mut z = SkipList::with_capacity(lp_count(lp));
            for (m, s) in (LpIter { buf: lp, pos: 0 }) {
                z.insert(s, m);
            }
            *self = ZSetValue::Skiplist(Box::new(z));
        }
    }

    /// Redis's `zsetAdd`: adds or updates `member` under ZADD's flags, converting to
    /// a skiplist when a new member would break the listpack limits.
    pub fn add(&mut self, score: f64, member: &[u8], f: AddFlags, lim: &ZSetLimits) -> AddOutcome {
        if score.is_nan() {
            return AddOutcome::Nan;
        }
        let existing = match self {
            ZSetValue::Listpack(lp) => match lp_find(lp, member) {
                Ok((_, _, cur)) => Some(cur),
                Err(n) => {
                    if f.xx {
                        return AddOutcome::Nop;
                    }
                    if n + 1 > lim.max_listpack_entries || member.len() > lim.max_listpack_value {
                        self.convert_to_skiplist();
                    } else {
                        lp_insert(lp, member, score);
                        return AddOutcome::Added(score);
                    }
                    None
                }
            },
            ZSetValue::Skiplist(z) => z.score(member),
        };
        let Some(cur) = existing else {
            if f.xx {
                return AddOutcome::Nop;
            }
            if let ZSetValue::Skiplist(z) = self {
                z.insert(score, member);
            }
            return AddOutcome::Added(score);
        };
        if f.nx {
            return AddOutcome::Nop;
        }
        let mut score = score;
        if f.incr {
            score += cur;
            if score.is_nan() {
                return AddOutcome::Nan;
            }
        }
        if (f.lt && score >= cur) || (f.gt && score <= cur) {
            return AddOutcome::Nop;
        }
        if score == cur {
            return AddOutcome::Same(score);
        }
        match self {
            ZSetValue::Listpack(lp) => {
                if let Ok((pos, end, _)) = lp_find(lp, member) {
                    lp_cut(lp, pos, end);
                }
                lp_insert(lp, member, score);
            }
            ZSetValue::Skiplist(z) => z.update(member, cur, score),
        }
        AddOutcome::Updated(score)
    }

    /// Removes `member`; true when it was there.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match self {
            ZSetValue::Listpack(lp) => match lp_find(lp, member) {
                Ok((pos, end, _)) => {
                    lp_cut(lp, pos, end);
                    true
                }
                Err(_) => false,
            },
            ZSetValue::Skiplist(z) => z.remove(member).is_some(),
        }
    }

    /// The 0-based rank of `member` (from the highest score when `rev`).
    pub fn rank(&self, member: &[u8], rev: bool) -> Option<usize> {
        let (r, len) = match self {
            ZSetValue::Listpack(lp) => {
                let mut pos = 0;
                let mut i = 0;
                let mut found = None;
                while pos < lp.len() {
                    let (m, _, end) = lp_entry(lp, pos);
                    if found.is_none() && m == member {
                        found = Some(i);
                        if !rev {
                            break;
                        }
                    }
                    pos = end;
                    i += 1;
                }
                (found?, i)
            }
            ZSetValue::Skiplist(z) => {
                let s = z.score(member)?;
                (z.count_while(|m, sc| cmp_elem(sc, m, s, member) == Ordering::Less), z.len)
            }
        };
        Some(if rev { len - 1 - r } else { r })
    }

    /// The ranks `[lo, hi)` of the members whose scores are in `r`.
    pub fn score_bounds(&self, r: &ScoreRange) -> (usize, usize) {
        if r.is_empty() {
            return (0, 0);
        }
        match self {
            ZSetValue::Listpack(lp) => {
                let (mut lo, mut hi) = (0, 0);
                for (_, s) in (LpIter { buf: lp, pos: 0 }) {
                    if !r.gte_min(s) {
                        lo += 1;
                    }
                    if r.lte_max(s) {
                        hi += 1;
                    } else {
                        break;
                    }
                }
                (lo, hi.max(lo))
            }
            ZSetValue::Skiplist(z) => {
                let lo = z.count_while(|_, s| !r.gte_min(s));
                let hi = z.count_while(|_, s| r.lte_max(s));
                (lo, hi.max(lo))
            }
        }
    }

    /// The ranks `[lo, hi)` of the members in the lex range `r`. For a listpack this
    /// follows Redis's linear scans exactly (from the head, or from the tail when
    /// `rev`), so that zsets whose scores differ answer as Redis does too.
    pub fn lex_bounds(&self, r: &LexRange<'_>, rev: bool) -> (usize, usize) {
        if r.is_empty() {
            return (0, 0);
        }
        match self {
            ZSetValue::Listpack(lp) => {
                let ms: Vec<&[u8]> = LpIter { buf: lp, pos: 0 }.map(|(m, _)| m).collect();
                let n = ms.len();
                if n == 0 || !r.gte_min(ms[n - 1]) || !r.lte_max(ms[0]) {
                    return (0, 0);
                }
                if !rev {
                    let Some(s) = ms.iter().position(|m| r.gte_min(m)) else { return (0, 0) };
                    if !r.lte_max(ms[s]) {
                        return (0, 0);
                    }
                    let e = ms[s..].iter().position(|m| !r.lte_max(m)).map_or(n, |p| s + p);
                    (s, e)
                } else {
                    let Some(t) = ms.iter().rposition(|m| r.lte_max(m)) else { return (0, 0) };
                    if !r.gte_min(ms[t]) {
                        return (0, 0);
                    }
                    let b = ms[..t].iter().rposition(|m| !r.gte_min(m)).map_or(0, |p| p + 1);
                    (b, t + 1)
                }
            }
            ZSetValue::Skiplist(z) => {
                if z.len == 0 || !r.gte_min(z.get(z.tail).0) || !r.lte_max(z.get(z.first()).0) {
                    return (0, 0);
                }
                let lo = z.count_while(|m, _| !r.gte_min(m));
                let hi = z.count_while(|m, _| r.lte_max(m));
                (lo, hi.max(lo))
            }
        }
    }

    /// The ranks a lex range *walk* covers, as Redis's ZRANGE BYLEX and ZREMRANGEBYLEX
    /// walk a skiplist: forward from the first member >= min while members are <= max,
    /// or (rev) backward from the last member <= max while members are >= min. Equal to
    /// [`ZSetValue::lex_bounds`] when all scores are equal (the documented use); when
    /// they are not, Redis's result is defined by that walk, and so is this one.
    pub fn lex_walk_bounds(&self, r: &LexRange<'_>, rev: bool) -> (usize, usize) {
        let ZSetValue::Skiplist(z) = self else { return self.lex_bounds(r, rev) };
        if r.is_empty() || z.len == 0 || !r.gte_min(z.get(z.tail).0) || !r.lte_max(z.get(z.first()).0) {
            // Redis's zslIsInLexRange looks at the two ends only.
            return (0, 0);
        }
        if !rev {
            let lo = z.count_while(|m, _| !r.gte_min(m));
            let mut x = z.by_rank(lo + 1);
            let mut hi = lo;
            while x != NIL && r.lte_max(z.get(x).0) {
                hi += 1;
                x = z.next(x);
            }
            (lo, hi)
        } else {
            let hi = z.count_while(|m, _| r.lte_max(m));
            let mut x = z.by_rank(hi);
            let mut lo = hi;
            while x != NIL && lo > 0 && r.gte_min(z.get(x).0) {
                lo -= 1;
                x = z.prev(x);
            }
            (lo, hi)
        }
    }

    /// Calls `f` on the members of ranks `[lo, hi)`, in order or (when `rev`) from
    /// `hi - 1` down to `lo`.
    pub fn walk<'a>(&'a self, lo: usize, hi: usize, rev: bool, mut f: impl FnMut(&'a [u8], f64)) {
        if lo >= hi {
            return;
        }
        match self {
            ZSetValue::Listpack(lp) => {
                let it = LpIter { buf: lp, pos: lp_seek(lp, lo) }.take(hi - lo);
                if rev {
                    let v: Vec<(&[u8], f64)> = it.collect();
                    for &(m, s) in v.iter().rev() {
                        f(m, s);
                    }
                } else {
                    for (m, s) in it {
                        f(m, s);
                    }
                }
            }
            ZSetValue::Skiplist(z) => {
                let mut x = z.by_rank(if rev { hi } else { lo + 1 });
                for _ in lo..hi {
                    if x == NIL {
                        break;
                    }
                    let (m, s) = z.get(x);
                    f(m, s);
                    x = if rev { z.prev(x) } else { z.next(x) };
                }
            }
        }
    }

    /// Removes the members of ranks `[lo, hi)`; returns how many.
    pub fn remove_ranks(&mut self, lo: usize, hi: usize) -> usize {
        if lo >= hi {
            return 0;
        }
        match self {
            ZSetValue::Listpack(lp) => {
                let from = lp_seek(lp, lo);
                let mut to = from;
                let mut n = 0;
                while n < hi - lo && to < lp.len() {
                    to = lp_entry(lp, to).2;
                    n += 1;
                }
                lp_cut(lp, from, to);
                n
            }
            ZSetValue::Skiplist(z) => z.delete_rank_range(lo + 1, hi),
        }
    }

    /// Removes and returns the member with the lowest (or, when `max`, highest) score.
    pub fn pop(&mut self, max: bool) -> Option<(Sso, f64)> {
        match self {
            ZSetValue::Listpack(lp) => {
                if lp.is_empty() {
                    return None;
                }
                let mut pos = 0;
                if max {
                    loop {
                        let end = lp_entry(lp, pos).2;
                        if end >= lp.len() {
                            break;
                        }
                        pos = end;
                    }
                }
                let (m, s, end) = lp_entry(lp, pos);
                let m = Sso::new(m);
                lp_cut(lp, pos, end);
                Some((m, s))
            }
            ZSetValue::Skiplist(z) => {
                let x = if max { z.tail } else { z.first() };
                if x == NIL {
                    return None;
                }
                let s = z.nodes[x as usize].score;
                let m = z.nodes[x as usize].member.clone();
                z.remove(m.as_bytes());
                Some((m, s))
            }
        }
    }

    /// A random member with its score (`dictGetFairRandomKey` on a skiplist).
    pub fn random<R: rand::Rng + ?Sized>(&self, rng: &mut R) -> Option<(&[u8], f64)> {
        match self {
            ZSetValue::Listpack(lp) => {
                let n = lp_count(lp);
                if n == 0 {
                    return None;
                }
                LpIter { buf: lp, pos: 0 }.nth(rng.gen_range(0..n))
            }
            ZSetValue::Skiplist(z) => z.dict.random(rng).map(|(m, v)| (m, dict_score(v))),
        }
    }

    /// True when this is the skiplist encoding.
    pub fn is_skiplist(&self) -> bool {
        matches!(self, ZSetValue::Skiplist(_))
    }

    /// One step of ZSCAN. A listpack is visited whole and the returned cursor is 0, as
    /// Redis; a skiplist visits one bucket of its member table with Redis's
    /// reverse-binary cursor (see [`Table::scan`]).
    pub fn scan<'a>(&'a self, cursor: u64, mut f: impl FnMut(&'a [u8], f64)) -> u64 {
        match self {
            ZSetValue::Listpack(lp) => {
                for (m, s) in (LpIter { buf: lp, pos: 0 }) {
                    f(m, s);
                }
                0
            }
            ZSetValue::Skiplist(z) => z.dict.scan(cursor, |m, v| f(m, dict_score(v))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use std::collections::{BTreeSet, HashSet};

    fn lim() -> ZSetLimits {
        ZSetLimits::default()
    }
    fn add(z: &mut ZSetValue, s: f64, m: &str) -> AddOutcome {
        z.add(s, m.as_bytes(), AddFlags::default(), &lim())
    }
    fn members(z: &ZSetValue) -> Vec<(Vec<u8>, f64)> {
        z.iter().map(|(m, s)| (m.to_vec(), s)).collect()
    }

    #[test]
    fn score_encoding_round_trips() {
        for s in [
            0.0,
            -0.0,
            1.0,
            -1.0,
            31.0,
            -31.0,
            32.0,
            1.5,
            -2.5e-300,
            1e300,
            f64::INFINITY,
            f64::NEG_INFINITY,
            9007199254740992.0,
            -9007199254740992.0,
            9007199254740994.0,
            0.1,
        ] {
            let mut v = Vec::new();
            put_score(&mut v, s);
            assert_eq!(v.len(), score_len(s));
            let (d, end) = get_score(&v, 0);
            assert_eq!(end, v.len());
            if s == 0.0 {
                assert_eq!(d.to_bits(), 0);
            } else {
                assert_eq!(d.to_bits(), s.to_bits(), "{s}");
            }
        }
        let mut v = Vec::new();
        put_score(&mut v, 1.0);
        assert_eq!(v.len(), 1);
    }

    #[test]
    fn listpack_order_and_updates() {
        let mut z = ZSetValue::default();
        assert_eq!(add(&mut z, 2.0, "b"), AddOutcome::Added(2.0));
        assert_eq!(add(&mut z, 1.0, "c"), AddOutcome::Added(1.0));
        assert_eq!(add(&mut z, 1.0, "a"), AddOutcome::Added(1.0));
        assert_eq!(add(&mut z, 1.0, "a"), AddOutcome::Same(1.0));
        assert_eq!(add(&mut z, 5.0, "a"), AddOutcome::Updated(5.0));
        let v = members(&z);
        assert_eq!(v, vec![(b"c".to_vec(), 1.0), (b"b".to_vec(), 2.0), (b"a".to_vec(), 5.0)]);
        let incr = AddFlags { incr: true, ..Default::default() };
        assert_eq!(z.add(f64::NEG_INFINITY, b"a", incr, &lim()), AddOutcome::Updated(f64::NEG_INFINITY));
        assert_eq!(z.add(f64::INFINITY, b"a", incr, &lim()), AddOutcome::Nan);
        let gt = AddFlags { gt: true, ..Default::default() };
        assert_eq!(z.add(0.0, b"b", gt, &lim()), AddOutcome::Nop);
        assert_eq!(z.add(3.0, b"b", gt, &lim()), AddOutcome::Updated(3.0));
        let xx = AddFlags { xx: true, ..Default::default() };
        assert_eq!(z.add(3.0, b"zz", xx, &lim()), AddOutcome::Nop);
        assert_eq!(z.rank(b"a", false), Some(0));
        assert_eq!(z.rank(b"b", true), Some(0));
        assert!(z.remove(b"c"));
        assert!(!z.remove(b"c"));
        assert_eq!(z.len(), 2);
        assert_eq!(z.encoding(), "listpack");
    }

    #[test]
    fn converts_past_limits() {
        let l = ZSetLimits { max_listpack_entries: 3, max_listpack_value: 8 };
        let mut z = ZSetValue::default();
        for i in 0..3 {
            z.add(i as f64, format!("m{i}").as_bytes(), AddFlags::default(), &l);
        }
        assert_eq!(z.encoding(), "listpack");
        z.add(9.0, b"m9", AddFlags::default(), &l);
        assert_eq!(z.encoding(), "skiplist");
        assert_eq!(z.len(), 4);
        let mut z = ZSetValue::default();
        z.add(1.0, b"123456789", AddFlags::default(), &l);
        assert_eq!(z.encoding(), "skiplist");
    }

    /// Model check of both encodings against a BTreeSet over random operations.
    #[test]
    fn matches_model() {
        for enc in 0..2 {
            let mut rng = rand::rngs::SmallRng::seed_from_u64(7 + enc);
            let mut z = ZSetValue::default();
            if enc == 1 {
                z.convert_to_skiplist();
            }
            let big = ZSetLimits { max_listpack_entries: 100_000, max_listpack_value: 100 };
            let mut model: BTreeSet<(u64, Vec<u8>)> = BTreeSet::new();
            let key = |s: f64| -> u64 {
                // order-preserving map of f64 to u64 (no NaN, -0 folded to 0)
                let s = if s == 0.0 { 0.0 } else { s };
                let b = s.to_bits();
                if b >> 63 == 1 {
                    !b
                } else {
                    b | (1 << 63)
                }
            };
            let unkey = |k: u64| -> f64 {
                if k >> 63 == 1 {
                    f64::from_bits(k & !(1 << 63))
                } else {
                    f64::from_bits(!k)
                }
            };
            for step in 0..2500 {
                let m = format!("m{}", rng.gen_range(0..300)).into_bytes();
                let s = rng.gen_range(-20..20) as f64 / 2.0;
                match rng.gen_range(0..10) {
                    0..=5 => {
                        let old = model.iter().find(|(_, mm)| *mm == m).cloned();
                        if let Some(o) = &old {
                            model.remove(o);
                        }
                        model.insert((key(s), m.clone()));
                        let r = z.add(s, &m, AddFlags::default(), &big);
                        assert!(matches!(r, AddOutcome::Added(_) | AddOutcome::Updated(_) | AddOutcome::Same(_)));
                    }
                    6 | 7 => {
                        let old = model.iter().find(|(_, mm)| *mm == m).cloned();
                        if let Some(o) = &old {
                            model.remove(o);
                        }
                        assert_eq!(z.remove(&m), old.is_some());
                    }
                    8 => {
                        let a = rng.gen_range(0..=model.len());
                        let b = rng.gen_range(a..=model.len());
                        let doomed: Vec<_> = model.iter().skip(a).take(b - a).cloned().collect();
                        for d in &doomed {
                            model.remove(d);
                        }
                        assert_eq!(z.remove_ranks(a, b), b - a);
                    }
                    _ => {
                        if let Some((mm, ss)) = z.pop(rng.gen()) {
                            let k = (key(ss), mm.as_bytes().to_vec());
                            assert!(model.remove(&k));
                        } else {
                            assert!(model.is_empty());
                        }
                    }
                }
                if let ZSetValue::Skiplist(sl) = &z {
                    if step % 50 == 0 {
                        sl.check();
                    }
                }
                assert_eq!(z.len(), model.len());
                if step % 25 == 0 {
                    let got: Vec<(u64, Vec<u8>)> = z.iter().map(|(m, s)| (key(s), m.to_vec())).collect();
                    let want: Vec<(u64, Vec<u8>)> = model.iter().cloned().collect();
                    assert_eq!(got, want);
                    for (i, (k, m)) in want.iter().enumerate() {
                        assert_eq!(z.rank(m, false), Some(i));
                        assert_eq!(z.rank(m, true), Some(want.len() - 1 - i));
                        assert_eq!(z.score(m).map(key), Some(*k));
                    }
                    let r = ScoreRange { min: -3.0, max: 4.5, minex: step % 2 == 0, maxex: step % 3 == 0 };
                    let (lo, hi) = z.score_bounds(&r);
                    let exp: Vec<_> = want
                        .iter()
                        .enumerate()
                        .filter(|(_, (k, _))| r.gte_min(unkey(*k)) && r.lte_max(unkey(*k)))
                        .map(|(i, _)| i)
                        .collect();
                    assert_eq!(hi - lo, exp.len());
                    if !exp.is_empty() {
                        assert_eq!(lo, exp[0]);
                    }
                    let mut seen = Vec::new();
                    z.walk(lo, hi, true, |m, _| seen.push(m.to_vec()));
                    let exp_m: Vec<_> = exp.iter().rev().map(|&i| want[i].1.clone()).collect();
                    assert_eq!(seen, exp_m);
                }
            }
        }
    }

    #[test]
    fn lex_bounds_both_encodings() {
        let mut z = ZSetValue::default();
        for m in ["a", "b", "c", "d", "e"] {
            add(&mut z, 0.0, m);
        }
        for enc in 0..2 {
            if enc == 1 {
                z.convert_to_skiplist();
            }
            let r = LexRange { min: LexBound::Excl(b"a"), max: LexBound::Incl(b"d") };
            assert_eq!(z.lex_bounds(&r, false), (1, 4));
            assert_eq!(z.lex_bounds(&r, true), (1, 4));
            let r = LexRange { min: LexBound::NegInf, max: LexBound::PosInf };
            assert_eq!(z.lex_bounds(&r, false), (0, 5));
            let r = LexRange { min: LexBound::PosInf, max: LexBound::PosInf };
            assert_eq!(z.lex_bounds(&r, false), (0, 0));
            let r = LexRange { min: LexBound::Incl(b"bb"), max: LexBound::Excl(b"bc") };
            let (lo, hi) = z.lex_bounds(&r, false);
            assert_eq!(hi - lo, 0);
        }
    }

    /// ZSCAN's guarantee on the skiplist encoding: members present for the whole scan
    /// are returned, whatever happens to the table between calls.
    #[test]
    fn scan_guarantee_across_growth() {
        for seed in 0..10u64 {
            let mut rng = rand::rngs::SmallRng::seed_from_u64(seed);
            let mut z = ZSetValue::default();
            z.convert_to_skiplist();
            for i in 0..300 {
                add(&mut z, i as f64, &format!("keep:{i}"));
            }
            let mut seen = HashSet::new();
            let mut cursor = 0u64;
            let mut extra = 0;
            let mut round = 0;
            loop {
                for _ in 0..rng.gen_range(1..10) {
                    cursor = z.scan(cursor, |m, _| {
                        seen.insert(m.to_vec());
                    });
                    if cursor == 0 {
                        break;
                    }
                }
                if cursor == 0 {
                    break;
                }
                if round % 3 != 2 {
                    for _ in 0..rng.gen_range(0..2000) {
                        add(&mut z, -1.0, &format!("temp:{extra}"));
                        extra += 1;
                    }
                } else {
                    for i in 0..extra {
                        z.remove(format!("temp:{i}").as_bytes());
                    }
                }
                round += 1;
            }
            for i in 0..300 {
                assert!(seen.contains(format!("keep:{i}").as_bytes()), "seed {seed}: keep:{i} missed");
            }
        }
    }

    #[test]
    fn from_sorted_and_random() {
        let items = vec![(b"a".to_vec(), 1.0), (b"b".to_vec(), 2.5)];
        let z = ZSetValue::from_sorted(&items, true);
        assert_eq!(z.encoding(), "listpack");
        assert_eq!(members(&z), items);
        let z2 = ZSetValue::from_sorted(&items, false);
        assert_eq!(z2.encoding(), "skiplist");
        assert_eq!(members(&z2), items);
        let mut rng = rand::rngs::SmallRng::seed_from_u64(3);
        let mut seen = HashSet::new();
        for _ in 0..100 {
            seen.insert(z2.random(&mut rng).map(|(m, _)| m.to_vec()));
            seen.insert(z.random(&mut rng).map(|(m, _)| m.to_vec()));
        }
        assert_eq!(seen.len(), 2);
    }
}
