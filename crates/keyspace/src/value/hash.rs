//! Hash values, with Redis's two encodings (`t_hash.c`):
//!
//! - **listpack**: while the hash has at most `hash-max-listpack-entries` fields and
//!   every field and value is at most `hash-max-listpack-value` bytes, its pairs live in
//!   one exact-size byte buffer, field then value, each entry a LEB128 length followed
//!   by its bytes (2 bytes of overhead per pair for short strings; Redis's listpack
//!   spends 4). Insertion order is kept, as Redis's listpack keeps it: HGETALL on a
//!   small hash answers in the same order on both servers.
//! - **hashtable**: above the thresholds, a chained hash table with power-of-two bucket
//!   counts, so that HSCAN can use Redis's reverse-binary cursor and keep its guarantee
//!   (an element present for the whole scan is returned at least once, however the
//!   table grows or shrinks between calls). One 64-byte node per field holds the field,
//!   the value (both [`Sso`], inline up to 23 bytes) and the cached hash.
//!
//! Conversion is one way (listpack to hashtable), as in Redis.

use crate::sso::Sso;
use std::hash::BuildHasher;

/// Thresholds for the compact encoding (config `hash-max-listpack-*`).
#[derive(Clone, Copy, Debug)]
pub struct HashLimits {
    pub max_listpack_entries: usize,
    pub max_listpack_value: usize,
}

impl Default for HashLimits {
    fn default() -> Self {
        HashLimits { max_listpack_entries: 512, max_listpack_value: 64 }
    }
}

/// Redis refuses to grow a listpack past 1 GiB (`lpSafeToAdd`) and converts instead.
const LISTPACK_MAX_SAFETY_SIZE: usize = 1 << 30;

/// A hash value in one of its two encodings.
pub enum HashValue {
    /// Alternating field/value entries (see the module documentation).
    Listpack(Box<[u8]>),
    Table(Box<Table>),
}

const _: () = assert!(std::mem::size_of::<HashValue>() == 16);

impl Clone for HashValue {
    /// A deep copy in the same encoding (COPY).
    fn clone(&self) -> HashValue {
        match self {
            HashValue::Listpack(lp) => HashValue::Listpack(lp.clone()),
            HashValue::Table(t) => HashValue::Table(t.clone()),
        }
    }
}

impl Default for HashValue {
    fn default() -> Self {
        HashValue::Listpack(Box::default())
    }
}

// ----------------------------------------------------------------------------------
// Listpack entries

use super::listpack::{put_entry, read_at, varint_len};

/// Position of `field` in a listpack: (field offset, value offset, value end).
fn lp_find(buf: &[u8], field: &[u8]) -> Option<(usize, usize, usize)> {
    let mut pos = 0;
    while pos < buf.len() {
        let (fs, fe) = read_at(buf, pos);
        let (_, ve) = read_at(buf, fe);
        if &buf[fs..fe] == field {
            return Some((pos, fe, ve));
        }
        pos = ve;
    }
    None
}

fn lp_count(buf: &[u8]) -> usize {
    let mut pos = 0;
    let mut n = 0;
    while pos < buf.len() {
        let (_, fe) = read_at(buf, pos);
        let (_, ve) = read_at(buf, fe);
        pos = ve;
        n += 1;
    }
    n
}

/// Iterates the (field, value) pairs of a listpack.
#[derive(Clone)]
pub struct LpIter<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for LpIter<'a> {
    type Item = (&'a [u8], &'a [u8]);
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.pos >= self.buf.len() {
            return None;
        }
        let (fs, fe) = read_at(self.buf, self.pos);
        let (vs, ve) = read_at(self.buf, fe);
        self.pos = ve;
        Some((&self.buf[fs..fe], &self.buf[vs..ve]))
    }
}

// ----------------------------------------------------------------------------------
// Hash table encoding

struct Node {
    next: Option<Box<Node>>,
    hash: u64,
    field: Sso,
    value: Sso,
}

const _: () = assert!(std::mem::size_of::<Node>() == 64);

/// Redis's `DICT_HT_INITIAL_SIZE`.
const TABLE_MIN_BUCKETS: usize = 4;
/// Redis's `HASHTABLE_MIN_FILL` (percent): below it the table shrinks after a delete.
const TABLE_MIN_FILL: usize = 10;

/// A chained hash table with a power-of-two number of buckets, resized all at once
/// (so a scan cursor only ever faces one table). Growth happens when an insert finds
/// `len >= buckets` (Redis's `_dictExpandIfNeeded`), shrinking when a delete leaves it
/// under 10% full (Redis's `htNeedsResize`).
pub struct Table {
    buckets: Vec<Option<Box<Node>>>,
    len: usize,
    hasher: foldhash::fast::RandomState,
}

impl Default for Table {
    fn default() -> Self {
        Table::with_capacity(0)
    }
}

impl Clone for Table {
    /// A deep copy with the same hasher, so no field is hashed again.
    fn clone(&self) -> Table {
        let mut t = Table { buckets: Vec::new(), len: 0, hasher: self.hasher };
        t.buckets.resize_with(self.buckets.len(), || None);
        for b in &self.buckets {
            let mut cur = b.as_deref();
            while let Some(n) = cur {
                t.insert_new(n.hash, n.field.clone(), n.value.clone());
                cur = n.next.as_deref();
            }
        }
        t
    }
}

impl Drop for Table {
    fn drop(&mut self) {
        // Unlink chains iteratively so a long chain cannot overflow the stack.
        for b in self.buckets.iter_mut() {
            let mut cur = b.take();
            while let Some(mut n) = cur {
                cur = n.next.take();
            }
        }
    }
}

impl Table {
    /// A table sized for `n` elements (Redis's `dictExpand`).
    pub fn with_capacity(n: usize) -> Table {
        let size = if n == 0 { 0 } else { n.max(TABLE_MIN_BUCKETS).next_power_of_two() };
        let mut buckets = Vec::new();
        buckets.resize_with(size, || None);
        Table { buckets, len: 0, hasher: foldhash::fast::RandomState::default() }
    }

    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// Number of buckets (a power of two, or 0 for a table that never held anything).
    pub fn buckets(&self) -> usize {
        self.buckets.len()
    }

    #[inline]
    fn hash(&self, field: &[u8]) -> u64 {
        self.hasher.hash_one(field)
    }

    fn find(&self, field: &[u8]) -> Option<&Node> {
        if self.len == 0 {
            return None;
        }
        let h = self.hash(field);
        let mut cur = self.buckets[h as usize & (self.buckets.len() - 1)].as_deref();
        while let Some(n) = cur {
            if n.hash == h && n.field.as_bytes() == field {
                return Some(n);
            }
            cur = n.next.as_deref();
        }
        None
    }

    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        self.find(field).map(|n| n.value.as_bytes())
    }

    /// Moves every node to a table of `size` buckets (a power of two).
    fn resize(&mut self, size: usize) {
        let mut nb: Vec<Option<Box<Node>>> = Vec::new();
        nb.resize_with(size, || None);
        let mask = size - 1;
        for b in self.buckets.iter_mut() {
            let mut cur = b.take();
            while let Some(mut n) = cur {
                cur = n.next.take();
                let i = n.hash as usize & mask;
                n.next = nb[i].take();
                nb[i] = Some(n);
            }
        }
        self.buckets = nb;
    }

    /// Sets `field` to `value`; true when the field is new.
    pub fn insert(&mut self, field: &[u8], value: &[u8]) -> bool {
        let h = self.hash(field);
        if !self.buckets.is_empty() {
            let i = h as usize & (self.buckets.len() - 1);
            let mut cur = self.buckets[i].as_deref_mut();
            while let Some(n) = cur {
                if n.hash == h && n.field.as_bytes() == field {
                    n.value = Sso::new(value);
                    return false;
                }
                cur = n.next.as_deref_mut();
            }
        }
        self.insert_new(h, Sso::new(field), Sso::new(value));
        true
    }

    /// Inserts a field known to be absent.
    fn insert_new(&mut self, h: u64, field: Sso, value: Sso) {
        if self.buckets.is_empty() {
            self.resize(TABLE_MIN_BUCKETS);
        } else if self.len >= self.buckets.len() {
            self.resize((self.len + 1).next_power_of_two());
        }
        let i = h as usize & (self.buckets.len() - 1);
        let next = self.buckets[i].take();
        self.buckets[i] = Some(Box::new(Node { next, hash: h, field, value }));
        self.len += 1;
    }

    /// Removes `field`; true when it existed.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        if self.len == 0 {
            return false;
        }
        let h = self.hash(field);
        let i = h as usize & (self.buckets.len() - 1);
        let mut link = &mut self.buckets[i];
        while link.as_ref().is_some_and(|n| !(n.hash == h && n.field.as_bytes() == field)) {
            match link {
                Some(n) => link = &mut n.next,
                None => return false,
            }
        }
        match link.take() {
            None => false,
            Some(mut n) => {
                *link = n.next.take();
                self.len -= 1;
                let size = self.buckets.len();
                if size > TABLE_MIN_BUCKETS && self.len * 100 / size < TABLE_MIN_FILL {
                    self.resize(self.len.max(TABLE_MIN_BUCKETS).next_power_of_two());
                }
                true
            }
        }
    }

    pub fn iter(&self) -> TableIter<'_> {
        TableIter { buckets: &self.buckets, idx: 0, cur: None }
    }

    /// One step of a SCAN with Redis's reverse-binary cursor (`dictScan` on one table):
    /// calls `f` for every element of the bucket `cursor` designates and returns the
    /// next cursor (0 when the scan is complete).
    pub fn scan<'a>(&'a self, cursor: u64, mut f: impl FnMut(&'a [u8], &'a [u8])) -> u64 {
        if self.len == 0 {
            return 0;
        }
        let m0 = (self.buckets.len() - 1) as u64;
        let mut cur = self.buckets[(cursor & m0) as usize].as_deref();
        while let Some(n) = cur {
            f(n.field.as_bytes(), n.value.as_bytes());
            cur = n.next.as_deref();
        }
        // Increment the reversed cursor: set the unmasked bits so the increment carries
        // through them, then reverse back.
        let v = cursor | !m0;
        v.reverse_bits().wrapping_add(1).reverse_bits()
    }

    /// A random element (Redis's `dictGetRandomKey`: a random non-empty bucket, then a
    /// random element of its chain).
    pub fn random<R: rand::Rng + ?Sized>(&self, rng: &mut R) -> Option<(&[u8], &[u8])> {
        if self.len == 0 {
            return None;
        }
        let mask = self.buckets.len() - 1;
        loop {
            let head = self.buckets[rng.gen::<usize>() & mask].as_deref();
            if let Some(head) = head {
                let mut chain = 0;
                let mut cur = Some(head);
                while let Some(n) = cur {
                    chain += 1;
                    cur = n.next.as_deref();
                }
                let mut n = head;
                for _ in 0..rng.gen_range(0..chain) {
                    n = n.next.as_deref().expect("within chain length");
                }
                return Some((n.field.as_bytes(), n.value.as_bytes()));
            }
        }
    }

    /// Buckets and nodes, plus the heap parts of long fields and values estimated from a
    /// sample of up to 16 elements (as Redis's MEMORY USAGE samples).
    fn mem_usage(&self) -> usize {
        const SAMPLE: usize = 16;
        let heap = |b: &[u8]| if b.len() > 23 { b.len() } else { 0 };
        let (n, sampled) = self.iter().take(SAMPLE).fold((0usize, 0usize), |(n, sum), (f, v)| (n + 1, sum + heap(f) + heap(v)));
        let extra = (sampled * self.len).checked_div(n).unwrap_or(0);
        self.buckets.capacity() * 8 + self.len * std::mem::size_of::<Node>() + extra
    }
}

/// Iterates a [`Table`] in bucket order.
#[derive(Clone)]
pub struct TableIter<'a> {
    buckets: &'a [Option<Box<Node>>],
    idx: usize,
    cur: Option<&'a Node>,
}

impl<'a> Iterator for TableIter<'a> {
    type Item = (&'a [u8], &'a [u8]);
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(n) = self.cur {
                self.cur = n.next.as_deref();
                return Some((n.field.as_bytes(), n.value.as_bytes()));
            }
            if self.idx >= self.buckets.len() {
                return None;
            }
            self.cur = self.buckets[self.idx].as_deref();
            self.idx += 1;
        }
    }
}

/// Iterates the (field, value) pairs of a hash in either encoding.
#[derive(Clone)]
pub enum Iter<'a> {
    Listpack(LpIter<'a>),
    Table(TableIter<'a>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], &'a [u8]);
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Iter::Listpack(i) => i.next(),
            Iter::Table(i) => i.next(),
        }
    }
}

// ----------------------------------------------------------------------------------

impl HashValue {
    pub fn new() -> HashValue {
        HashValue::default()
    }

    pub fn encoding(&self) -> &'static str {
        match self {
            HashValue::Listpack(_) => "listpack",
            HashValue::Table(_) => "hashtable",
        }
    }

    /// Number of fields (linear in a listpack, which holds few).
    pub fn len(&self) -> usize {
        match self {
            HashValue::Listpack(lp) => lp_count(lp),
            HashValue::Table(t) => t.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        match self {
            HashValue::Listpack(lp) => lp.is_empty(),
            HashValue::Table(t) => t.is_empty(),
        }
    }

    /// Approximate bytes owned (MEMORY USAGE, eviction).
    pub fn mem_usage(&self) -> usize {
        16 + match self {
            HashValue::Listpack(lp) => lp.len(),
            HashValue::Table(t) => std::mem::size_of::<Table>() + t.mem_usage(),
        }
    }

    /// The value of `field`.
    #[inline]
    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        match self {
            HashValue::Listpack(lp) => lp_find(lp, field).map(|(_, vp, ve)| {
                let (vs, ve2) = read_at(lp, vp);
                debug_assert_eq!(ve, ve2);
                &lp[vs..ve2]
            }),
            HashValue::Table(t) => t.get(field),
        }
    }

    pub fn contains(&self, field: &[u8]) -> bool {
        match self {
            HashValue::Listpack(lp) => lp_find(lp, field).is_some(),
            HashValue::Table(t) => t.find(field).is_some(),
        }
    }

    /// Sets `field` to `value` (converting to a table first when the pair or the new
    /// field count exceeds the listpack limits, as Redis's `hashTypeSet`); returns true
    /// when the field is new.
    pub fn set(&mut self, field: &[u8], value: &[u8], limits: &HashLimits) -> bool {
        if let HashValue::Listpack(lp) = self {
            if field.len() > limits.max_listpack_value || value.len() > limits.max_listpack_value {
                self.convert_to_table();
            } else {
                let enc_v = varint_len(value.len()) + value.len();
                match lp_find(lp, field) {
                    Some((_, vp, ve)) => {
                        if ve - vp == enc_v {
                            // Same encoded size: overwrite in place.
                            let off = enc_v - value.len();
                            lp[vp + off..ve].copy_from_slice(value);
                        } else {
                            let mut nb = Vec::with_capacity(lp.len() - (ve - vp) + enc_v);
                            nb.extend_from_slice(&lp[..vp]);
                            put_entry(&mut nb, value);
                            nb.extend_from_slice(&lp[ve..]);
                            *lp = nb.into_boxed_slice();
                        }
                        return false;
                    }
                    None => {
                        let add = varint_len(field.len()) + field.len() + enc_v;
                        if lp.len() + add > LISTPACK_MAX_SAFETY_SIZE {
                            self.convert_to_table();
                        } else {
                            let mut v = Vec::from(std::mem::take(lp));
                            v.reserve_exact(add);
                            put_entry(&mut v, field);
                            put_entry(&mut v, value);
                            *lp = v.into_boxed_slice();
                            if limits.max_listpack_entries < 65536 {
                                // Cheap bound check first: each pair takes at least 2 bytes.
                                if lp.len() / 2 > limits.max_listpack_entries && lp_count(lp) > limits.max_listpack_entries {
                                    self.convert_to_table();
                                }
                            } else if lp_count(lp) > limits.max_listpack_entries {
                                self.convert_to_table();
                            }
                            return true;
                        }
                    }
                }
            }
        }
        match self {
            HashValue::Table(t) => t.insert(field, value),
            HashValue::Listpack(_) => unreachable!("converted above"),
        }
    }

    /// Removes `field`; returns true when it existed.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match self {
            HashValue::Listpack(lp) => match lp_find(lp, field) {
                Some((fp, _, ve)) => {
                    let mut nb = Vec::with_capacity(lp.len() - (ve - fp));
                    nb.extend_from_slice(&lp[..fp]);
                    nb.extend_from_slice(&lp[ve..]);
                    *lp = nb.into_boxed_slice();
                    true
                }
                None => false,
            },
            HashValue::Table(t) => t.remove(field),
        }
    }

    /// Iterates (field, value) pairs: insertion order for a listpack, bucket order for
    /// a table.
    pub fn iter(&self) -> Iter<'_> {
        match self {
            HashValue::Listpack(lp) => Iter::Listpack(LpIter { buf: lp, pos: 0 }),
            HashValue::Table(t) => Iter::Table(t.iter()),
        }
    }

    /// One step of HSCAN. A listpack is visited whole and the returned cursor is 0, as
    /// Redis; a table visits one bucket (see [`Table::scan`]).
    pub fn scan<'a>(&'a self, cursor: u64, mut f: impl FnMut(&'a [u8], &'a [u8])) -> u64 {
        match self {
            HashValue::Listpack(_) => {
                for (k, v) in self.iter() {
                    f(k, v);
                }
                0
            }
            HashValue::Table(t) => t.scan(cursor, f),
        }
    }

    /// A random (field, value) pair, None when empty.
    pub fn random<R: rand::Rng + ?Sized>(&self, rng: &mut R) -> Option<(&[u8], &[u8])> {
        match self {
            HashValue::Listpack(lp) => {
                let n = lp_count(lp);
                if n == 0 {
                    return None;
                }
                self.iter().nth(rng.gen_range(0..n))
            }
            HashValue::Table(t) => t.random(rng),
        }
    }

    /// The table encoding, when the hash has it.
    pub fn as_table(&self) -> Option<&Table> {
        match self {
            HashValue::Table(t) => Some(t),
            HashValue::Listpack(_) => None,
        }
    }

    /// A hash in the listpack encoding holding `pairs` in order, whatever their sizes
    /// (RDB loading keeps a listpack as it came, as Redis does). The caller makes sure
    /// the fields are distinct.
    pub fn from_listpack_pairs<'a>(pairs: impl IntoIterator<Item = (&'a [u8], &'a [u8])>) -> HashValue {
        let mut v = Vec::new();
        for (f, val) in pairs {
            put_entry(&mut v, f);
            put_entry(&mut v, val);
        }
        HashValue::Listpack(v.into_boxed_slice())
    }

    /// Converts to the hashtable encoding (a no-op when already converted).
    pub fn convert_to_table(&mut self) {
        if let HashValue::Listpack(lp) = self {
            let mut t = Table::with_capacity(lp_count(lp));
            for (f, v) in (LpIter { buf: lp, pos: 0 }) {
                let h = t.hash(f);
                t.insert_new(h, Sso::new(f), Sso::new(v));
            }
            *self = HashValue::Table(Box::new(t));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use std::collections::HashSet;

    fn lim() -> HashLimits {
        HashLimits::default()
    }

    #[test]
    fn listpack_set_get_remove_order() {
        let mut h = HashValue::new();
        assert!(h.set(b"a", b"1", &lim()));
        assert!(h.set(b"b", b"2", &lim()));
        assert!(h.set(b"c", b"3", &lim()));
        assert!(!h.set(b"b", b"22222", &lim()));
        assert!(!h.set(b"a", b"9", &lim()));
        assert_eq!(h.encoding(), "listpack");
        assert_eq!(h.len(), 3);
        let v: Vec<(&[u8], &[u8])> = h.iter().collect();
        assert_eq!(v, vec![(&b"a"[..], &b"9"[..]), (b"b", b"22222"), (b"c", b"3")]);
        assert!(h.remove(b"b"));
        assert!(!h.remove(b"b"));
        assert_eq!(h.get(b"c"), Some(&b"3"[..]));
        assert_eq!(h.get(b"b"), None);
        let long = vec![b'x'; 300];
        // a 300-byte value exceeds the default limit
        assert!(h.set(b"d", &long, &lim()));
        assert_eq!(h.encoding(), "hashtable");
        assert_eq!(h.get(b"d"), Some(&long[..]));
        assert_eq!(h.len(), 3);
        // long varints inside a listpack
        let big = HashLimits { max_listpack_entries: 128, max_listpack_value: 100_000 };
        let mut h = HashValue::new();
        h.set(b"k", &long, &big);
        h.set(&long, b"v", &big);
        h.set(b"k", b"short", &big);
        assert_eq!(h.get(&long), Some(&b"v"[..]));
        assert_eq!(h.get(b"k"), Some(&b"short"[..]));
        assert_eq!(h.encoding(), "listpack");
    }

    #[test]
    fn converts_past_entry_limit() {
        let l = HashLimits { max_listpack_entries: 4, max_listpack_value: 64 };
        let mut h = HashValue::new();
        for i in 0..4 {
            h.set(format!("f{i}").as_bytes(), b"v", &l);
        }
        assert_eq!(h.encoding(), "listpack");
        h.set(b"f4", b"v", &l);
        assert_eq!(h.encoding(), "hashtable");
        assert_eq!(h.len(), 5);
        for i in 0..5 {
            assert_eq!(h.get(format!("f{i}").as_bytes()), Some(&b"v"[..]));
        }
    }

    #[test]
    fn table_grow_shrink() {
        let mut t = Table::default();
        for i in 0..1000 {
            assert!(t.insert(format!("field:{i}").as_bytes(), format!("{i}").as_bytes()));
        }
        assert!(!t.insert(b"field:5", b"x"));
        assert_eq!(t.len(), 1000);
        assert_eq!(t.buckets(), 1024);
        assert_eq!(t.get(b"field:5"), Some(&b"x"[..]));
        for i in 0..995 {
            assert!(t.remove(format!("field:{i}").as_bytes()));
        }
        assert!(!t.remove(b"field:0"));
        assert_eq!(t.len(), 5);
        assert!(t.buckets() <= 64);
        assert_eq!(t.iter().count(), 5);
        assert_eq!(t.get(b"field:999"), Some(&b"999"[..]));
    }

    /// Scans `t` from `cursor` for `steps` calls, collecting fields; returns the cursor.
    fn scan_steps(t: &Table, mut cursor: u64, steps: usize, seen: &mut HashSet<Vec<u8>>) -> u64 {
        for _ in 0..steps {
            cursor = t.scan(cursor, |f, _| {
                seen.insert(f.to_vec());
            });
            if cursor == 0 {
                break;
            }
        }
        cursor
    }

    #[test]
    fn scan_guarantee_across_growth_and_shrink() {
        for seed in 0..12u64 {
            let mut rng = rand::rngs::SmallRng::seed_from_u64(seed);
            let mut t = Table::default();
            let base: Vec<Vec<u8>> = (0..200).map(|i| format!("keep:{i}").into_bytes()).collect();
            for f in &base {
                t.insert(f, b"v");
            }
            let mut seen = HashSet::new();
            let mut temps: Vec<Vec<u8>> = Vec::new();
            let mut cursor = 0u64;
            let mut round = 0;
            let mut extra = 0;
            loop {
                cursor = scan_steps(&t, cursor, 1 + rand::Rng::gen_range(&mut rng, 0..20), &mut seen);
                if cursor == 0 {
                    break;
                }
                // Between calls: grow a lot (several doublings), or shrink back (removing
                // only "temp" fields, which may drop the table below its first size).
                if round % 3 != 2 {
                    for _ in 0..rand::Rng::gen_range(&mut rng, 0..3000) {
                        let f = format!("temp:{extra}").into_bytes();
                        t.insert(&f, b"v");
                        temps.push(f);
                        extra += 1;
                    }
                } else {
                    for f in temps.drain(..) {
                        t.remove(&f);
                    }
                }
                round += 1;
            }
            for f in &base {
                assert!(seen.contains(f), "seed {seed}: {:?} never returned", String::from_utf8_lossy(f));
            }
        }
    }

    /// Shrinking below the element count the scan started with: remove base elements
    /// that were already returned, keep the rest, and check the rest are all returned.
    #[test]
    fn scan_guarantee_with_deletes() {
        let mut t = Table::default();
        for i in 0..5000 {
            t.insert(format!("{i}").as_bytes(), b"v");
        }
        let mut seen = HashSet::new();
        let mut cursor = scan_steps(&t, 0, 7800, &mut seen);
        for i in 0..4900 {
            let f = format!("{i}").into_bytes();
            if seen.contains(&f) {
                t.remove(&f);
            }
        }
        let remaining: Vec<Vec<u8>> = t.iter().map(|(f, _)| f.to_vec()).collect();
        assert!(t.buckets() <= 1024, "{}", t.buckets());
        loop {
            cursor = t.scan(cursor, |f, _| {
                seen.insert(f.to_vec());
            });
            if cursor == 0 {
                break;
            }
        }
        for f in remaining {
            assert!(seen.contains(&f));
        }
    }

    #[test]
    fn scan_full_cycle_returns_each_once_when_stable() {
        let mut t = Table::default();
        for i in 0..777 {
            t.insert(format!("{i}").as_bytes(), b"v");
        }
        let mut n = 0;
        let mut cursor = 0;
        loop {
            cursor = t.scan(cursor, |_, _| n += 1);
            if cursor == 0 {
                break;
            }
        }
        assert_eq!(n, 777);
    }

    #[test]
    fn clone_keeps_encoding_and_contents() {
        let mut h = HashValue::new();
        h.set(b"a", b"1", &lim());
        let c = h.clone();
        assert_eq!(c.encoding(), "listpack");
        assert_eq!(c.get(b"a"), Some(&b"1"[..]));
        for i in 0..600 {
            h.set(format!("f{i}").as_bytes(), b"v", &lim());
        }
        let c = h.clone();
        assert_eq!(c.encoding(), "hashtable");
        assert_eq!(c.len(), 601);
        assert_eq!(c.get(b"f599"), Some(&b"v"[..]));
        h.remove(b"a");
        assert_eq!(c.get(b"a"), Some(&b"1"[..]));
    }

    #[test]
    fn random_pairs() {
        let mut rng = rand::rngs::SmallRng::seed_from_u64(1);
        let mut h = HashValue::new();
        assert!(h.random(&mut rng).is_none());
        for i in 0..10 {
            h.set(format!("{i}").as_bytes(), b"v", &lim());
        }
        let mut seen = HashSet::new();
        for _ in 0..500 {
            seen.insert(h.random(&mut rng).map(|(f, _)| f.to_vec()));
        }
        assert_eq!(seen.len(), 10);
        h.convert_to_table();
        let mut seen = HashSet::new();
        for _ in 0..500 {
            seen.insert(h.random(&mut rng).map(|(f, _)| f.to_vec()));
        }
        assert_eq!(seen.len(), 10);
    }
}
