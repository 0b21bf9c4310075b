//! Set values, with Redis 7.0's two encodings (`t_set.c`) as OBJECT ENCODING reports them:
//!
//! - **intset**: while every member is an integer (Redis's `string2ll` rules) and the set
//!   has at most `set-max-intset-entries` members: a sorted array of integers of the
//!   smallest width that holds them all (i16, i32 or i64, widened on demand and never
//!   narrowed, as Redis's `intset`). Members come out in ascending order.
//! - **hashtable**: everything else. Redis 7.0 has no listpack sets, so a small set of
//!   strings is a "hashtable" too; to keep such sets compact it is stored here as a
//!   packed byte buffer ([`SetValue::Packed`]: a count byte, then each member as a LEB128
//!   length and its bytes) until it has more than [`PACKED_MAX_ENTRIES`] members or a
//!   member longer than [`PACKED_MAX_VALUE`] bytes, and as a chained hash table
//!   ([`Table`]) beyond. Both report "hashtable", and both scan with Redis's
//!   reverse-binary cursor over one process-wide hash function: the packed form behaves
//!   as a table of `max(4, next_power_of_two(len))` buckets (the size Redis's dict has
//!   for that many members), so a SSCAN keeps Redis's guarantee (every member present
//!   for the whole scan is returned) across growth and conversion.
//!
//! Conversions are one way (intset to hashtable, packed to table), as in Redis.

use crate::sso::Sso;
use std::hash::BuildHasher;
use std::sync::OnceLock;

/// Most members the packed form of a "hashtable" set holds.
pub const PACKED_MAX_ENTRIES: usize = 128;
/// Longest member the packed form holds.
pub const PACKED_MAX_VALUE: usize = 64;
/// Redis caps `set-max-intset-entries` at 1G entries (intset internals).
const INTSET_MAX_CAP: usize = 1 << 30;
/// Redis's `DICT_HT_INITIAL_SIZE`.
const TABLE_MIN_BUCKETS: usize = 4;
/// Redis's `HASHTABLE_MIN_FILL` (percent): below it the table shrinks after a delete.
const TABLE_MIN_FILL: usize = 10;

/// The hash of a member: one randomly seeded function for the whole process, so the
/// packed form and the table agree on bucket positions (SSCAN across a conversion).
#[inline]
fn hash(m: &[u8]) -> u64 {
    static H: OnceLock<foldhash::fast::RandomState> = OnceLock::new();
    H.get_or_init(foldhash::fast::RandomState::default).hash_one(m)
}

/// Decimal digits of `v` in `buf`.
#[inline]
pub fn fmt_i64(buf: &mut [u8; 20], v: i64) -> &[u8] {
    let mut i = buf.len();
    let mut n = v.unsigned_abs();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if v < 0 {
        i -= 1;
        buf[i] = b'-';
    }
    &buf[i..]
}

/// A member as a set yields it: an integer from an intset, bytes otherwise.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Member<'a> {
    Int(i64),
    Str(&'a [u8]),
}

impl Member<'_> {
    /// Calls `f` with the member's bytes (an integer formatted in decimal).
    #[inline]
    pub fn with_bytes<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
        match *self {
            Member::Str(b) => f(b),
            Member::Int(v) => {
                let mut buf = [0u8; 20];
                f(fmt_i64(&mut buf, v))
            }
        }
    }

    pub fn to_vec(&self) -> Vec<u8> {
        self.with_bytes(|b| b.to_vec())
    }
}

/// A member taken out of a set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OwnedMember {
    Int(i64),
    Str(Sso),
}

impl OwnedMember {
    pub fn as_member(&self) -> Member<'_> {
        match self {
            OwnedMember::Int(v) => Member::Int(*v),
            OwnedMember::Str(s) => Member::Str(s.as_bytes()),
        }
    }
}

// ----------------------------------------------------------------------------------
// Intset

trait IntWidth: Copy + Ord + Into<i64> + TryFrom<i64> {}
impl IntWidth for i16 {}
impl IntWidth for i32 {}
impl IntWidth for i64 {}

/// Inserts `v` in sorted order; false when present.
fn is_insert<T: IntWidth>(b: &mut Box<[T]>, v: T) -> bool {
    match b.binary_search(&v) {
        Ok(_) => false,
        Err(pos) => {
            let mut vec = Vec::from(std::mem::take(b));
            vec.reserve_exact(1);
            vec.insert(pos, v);
            *b = vec.into_boxed_slice();
            true
        }
    }
}

fn is_remove<T: IntWidth>(b: &mut Box<[T]>, v: i64) -> bool {
    let Ok(v) = T::try_from(v) else { return false };
    match b.binary_search(&v) {
        Ok(pos) => {
            let mut vec = Vec::from(std::mem::take(b));
            vec.remove(pos);
            *b = vec.into_boxed_slice();
            true
        }
        Err(_) => false,
    }
}

fn is_contains<T: IntWidth>(b: &[T], v: i64) -> bool {
    T::try_from(v).is_ok_and(|v| b.binary_search(&v).is_ok())
}

fn widen<T: IntWidth, U: IntWidth>(b: &[T]) -> Box<[U]> {
    b.iter().map(|&x| U::try_from(x.into()).unwrap_or_else(|_| unreachable!("widening always fits"))).collect::<Vec<U>>().into_boxed_slice()
}

// ----------------------------------------------------------------------------------
// Packed form: [count] ([LEB128 len][bytes])*

use super::listpack::{put_entry, read_at, varint_len};

/// Byte range (entry start, entry end) of `m` in a packed buffer.
fn pk_find(buf: &[u8], m: &[u8]) -> Option<(usize, usize)> {
    let mut pos = 1;
    while pos < buf.len() {
        let (s, e) = read_at(buf, pos);
        if &buf[s..e] == m {
            return Some((pos, e));
        }
        pos = e;
    }
    None
}

fn pk_new() -> Box<[u8]> {
    Box::new([0u8])
}

/// Iterates the members of a packed buffer.
#[derive(Clone)]
pub struct PackedIter<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for PackedIter<'a> {
    type Item = &'a [u8];
    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        if self.pos >= self.buf.len() {
            return None;
        }
        let (s, e) = read_at(self.buf, self.pos);
        self.pos = e;
        Some(&self.buf[s..e])
    }
}

/// Bucket count of a Redis dict grown to `n` entries.
#[inline]
fn virtual_buckets(n: usize) -> usize {
    n.max(TABLE_MIN_BUCKETS).next_power_of_two()
}

/// Next reverse-binary cursor after visiting bucket `cursor` of a table with mask `m0`
/// (Redis's `dictScan` increment): 0 when the scan is complete.
#[inline]
fn next_cursor(cursor: u64, m0: u64) -> u64 {
    let v = cursor | !m0;
    v.reverse_bits().wrapping_add(1).reverse_bits()
}

// ----------------------------------------------------------------------------------
// Hash table encoding

struct Node {
    next: Option<Box<Node>>,
    member: Sso,
}

const _: () = assert!(std::mem::size_of::<Node>() == 32);

/// A chained hash table with a power-of-two number of buckets, resized all at once (so
/// a scan cursor only ever faces one table). It grows when an insert finds
/// `len >= buckets` (Redis's `_dictExpandIfNeeded`) and shrinks when a delete leaves it
/// under 10% full (`htNeedsResize` after `setTypeRemove`).
#[derive(Default)]
pub struct Table {
    buckets: Vec<Option<Box<Node>>>,
    len: usize,
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

impl Clone for Table {
    fn clone(&self) -> Table {
        let mut t = Table::with_capacity(self.len);
        for m in self.iter() {
            t.insert_new(hash(m), Sso::new(m));
        }
        t
    }
}

impl Table {
    /// A table sized for `n` members (Redis's `dictExpand`).
    pub fn with_capacity(n: usize) -> Table {
        let size = if n == 0 { 0 } else { virtual_buckets(n) };
        let mut buckets = Vec::new();
        buckets.resize_with(size, || None);
        Table { buckets, len: 0 }
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

    pub fn contains(&self, m: &[u8]) -> bool {
        if self.len == 0 {
            return false;
        }
        let mut cur = self.buckets[hash(m) as usize & (self.buckets.len() - 1)].as_deref();
        while let Some(n) = cur {
            if n.member.as_bytes() == m {
                return true;
            }
            cur = n.next.as_deref();
        }
        false
    }

    fn resize(&mut self, size: usize) {
        let mut nb: Vec<Option<Box<Node>>> = Vec::new();
        nb.resize_with(size, || None);
        let mask = size - 1;
        for b in self.buckets.iter_mut() {
            let mut cur = b.take();
            while let Some(mut n) = cur {
                cur = n.next.take();
                let i = hash(n.member.as_bytes()) as usize & mask;
                n.next = nb[i].take();
                nb[i] = Some(n);
            }
        }
        self.buckets = nb;
    }

    /// Adds `m`; true when it is new.
    pub fn insert(&mut self, m: &[u8]) -> bool {
        let h = hash(m);
        if !self.buckets.is_empty() {
            let mut cur = self.buckets[h as usize & (self.buckets.len() - 1)].as_deref();
            while let Some(n) = cur {
                if n.member.as_bytes() == m {
                    return false;
                }
                cur = n.next.as_deref();
            }
        }
        self.insert_new(h, Sso::new(m));
        true
    }

    /// Inserts a member known to be absent.
    fn insert_new(&mut self, h: u64, member: Sso) {
        if self.buckets.is_empty() {
            self.resize(TABLE_MIN_BUCKETS);
        } else if self.len >= self.buckets.len() {
            self.resize((self.len + 1).next_power_of_two());
        }
        let i = h as usize & (self.buckets.len() - 1);
        let next = self.buckets[i].take();
        self.buckets[i] = Some(Box::new(Node { next, member }));
        self.len += 1;
    }

    /// Removes `m`, returning it.
    pub fn take(&mut self, m: &[u8]) -> Option<Sso> {
        if self.len == 0 {
            return None;
        }
        let i = hash(m) as usize & (self.buckets.len() - 1);
        let mut link = &mut self.buckets[i];
        while link.as_ref().is_some_and(|n| n.member.as_bytes() != m) {
            match link {
                Some(n) => link = &mut n.next,
                None => return None,
            }
        }
        let mut n = link.take()?;
        *link = n.next.take();
        self.len -= 1;
        let size = self.buckets.len();
        if size > TABLE_MIN_BUCKETS && self.len * 100 / size < TABLE_MIN_FILL {
            self.resize(virtual_buckets(self.len));
        }
        let Node { member, .. } = *n;
        Some(member)
    }

    pub fn remove(&mut self, m: &[u8]) -> bool {
        self.take(m).is_some()
    }

    pub fn iter(&self) -> TableIter<'_> {
        TableIter { buckets: &self.buckets, idx: 0, cur: None }
    }

    /// One step of a SCAN (`dictScan` on one table): calls `f` for every member of the
    /// bucket `cursor` designates and returns the next cursor (0 when complete).
    pub fn scan<'a>(&'a self, cursor: u64, mut f: impl FnMut(&'a [u8])) -> u64 {
        if self.len == 0 {
            return 0;
        }
        let m0 = (self.buckets.len() - 1) as u64;
        let mut cur = self.buckets[(cursor & m0) as usize].as_deref();
        while let Some(n) = cur {
            f(n.member.as_bytes());
            cur = n.next.as_deref();
        }
        next_cursor(cursor, m0)
    }

    /// A random member: a random non-empty bucket, then a random member of its chain.
    pub fn random<R: rand::Rng + ?Sized>(&self, rng: &mut R) -> Option<&[u8]> {
        if self.len == 0 {
            return None;
        }
        let mask = self.buckets.len() - 1;
        loop {
            if let Some(head) = self.buckets[rng.gen::<usize>() & mask].as_deref() {
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
                return Some(n.member.as_bytes());
            }
        }
    }

    fn mem_usage(&self) -> usize {
        self.buckets.capacity() * 8
            + self.len * std::mem::size_of::<Node>()
            + self.iter().map(|m| if m.len() > 23 { m.len() } else { 0 }).sum::<usize>()
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
    type Item = &'a [u8];
    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        loop {
            if let Some(n) = self.cur {
                self.cur = n.next.as_deref();
                return Some(n.member.as_bytes());
            }
            if self.idx >= self.buckets.len() {
                return None;
            }
            self.cur = self.buckets[self.idx].as_deref();
            self.idx += 1;
        }
    }
}

// ----------------------------------------------------------------------------------

/// Most members of an intset held inline ([`SetValue::Small`]).
pub const SMALL_MAX: usize = 11;

/// A set value in one of its representations (see the module documentation).
#[derive(Clone)]
pub enum SetValue {
    /// intset of at most [`SMALL_MAX`] 16-bit integers, held inline (no allocation)
    Small { len: u8, data: [i16; SMALL_MAX] },
    /// intset of 16-bit integers
    I16(Box<[i16]>),
    /// intset of 32-bit integers
    I32(Box<[i32]>),
    /// intset of 64-bit integers
    I64(Box<[i64]>),
    /// small "hashtable" set: count byte, then length-prefixed members
    Packed(Box<[u8]>),
    /// "hashtable" set
    Table(Box<Table>),
}

const _: () = assert!(std::mem::size_of::<SetValue>() == 24);

impl Default for SetValue {
    fn default() -> Self {
        SetValue::new_intset()
    }
}

/// Iterates the members of a set: ascending integers for an intset, insertion order for
/// the packed form, bucket order for a table.
#[derive(Clone)]
pub enum Iter<'a> {
    I16(std::slice::Iter<'a, i16>),
    I32(std::slice::Iter<'a, i32>),
    I64(std::slice::Iter<'a, i64>),
    Packed(PackedIter<'a>),
    Table(TableIter<'a>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = Member<'a>;
    #[inline]
    fn next(&mut self) -> Option<Member<'a>> {
        match self {
            Iter::I16(i) => i.next().map(|&v| Member::Int(v as i64)),
            Iter::I32(i) => i.next().map(|&v| Member::Int(v as i64)),
            Iter::I64(i) => i.next().map(|&v| Member::Int(v)),
            Iter::Packed(i) => i.next().map(Member::Str),
            Iter::Table(i) => i.next().map(Member::Str),
        }
    }
}

impl SetValue {
    /// An empty intset.
    pub fn new_intset() -> SetValue {
        SetValue::Small { len: 0, data: [0; SMALL_MAX] }
    }

    /// An empty set that can hold `first` (Redis's `setTypeCreate`): an intset when it
    /// is an integer, a hashtable otherwise.
    pub fn new_for(first: &[u8]) -> SetValue {
        if crate::value::shoal_parse_i64(first).is_some() {
            SetValue::new_intset()
        } else {
            SetValue::Packed(pk_new())
        }
    }

    /// The name OBJECT ENCODING replies with.
    pub fn encoding(&self) -> &'static str {
        match self {
            SetValue::Small { .. } | SetValue::I16(_) | SetValue::I32(_) | SetValue::I64(_) => "intset",
            SetValue::Packed(_) | SetValue::Table(_) => "hashtable",
        }
    }

    pub fn is_intset(&self) -> bool {
        matches!(self, SetValue::Small { .. } | SetValue::I16(_) | SetValue::I32(_) | SetValue::I64(_))
    }

    pub fn len(&self) -> usize {
        match self {
            SetValue::Small { len, .. } => *len as usize,
            SetValue::I16(b) => b.len(),
            SetValue::I32(b) => b.len(),
            SetValue::I64(b) => b.len(),
            SetValue::Packed(p) => p[0] as usize,
            SetValue::Table(t) => t.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Approximate bytes owned (MEMORY USAGE, eviction).
    pub fn mem_usage(&self) -> usize {
        std::mem::size_of::<SetValue>()
            + match self {
                SetValue::Small { .. } => 0,
                SetValue::I16(b) => b.len() * 2,
                SetValue::I32(b) => b.len() * 4,
                SetValue::I64(b) => b.len() * 8,
                SetValue::Packed(p) => p.len(),
                SetValue::Table(t) => std::mem::size_of::<Table>() + t.mem_usage(),
            }
    }

    pub fn iter(&self) -> Iter<'_> {
        match self {
            SetValue::Small { len, data } => Iter::I16(data[..*len as usize].iter()),
            SetValue::I16(b) => Iter::I16(b.iter()),
            SetValue::I32(b) => Iter::I32(b.iter()),
            SetValue::I64(b) => Iter::I64(b.iter()),
            SetValue::Packed(p) => Iter::Packed(PackedIter { buf: p, pos: 1 }),
            SetValue::Table(t) => Iter::Table(t.iter()),
        }
    }

    fn int_contains(&self, v: i64) -> bool {
        match self {
            SetValue::Small { len, data } => is_contains(&data[..*len as usize], v),
            SetValue::I16(b) => is_contains(b, v),
            SetValue::I32(b) => is_contains(b, v),
            SetValue::I64(b) => is_contains(b, v),
            _ => false,
        }
    }

    fn str_contains(&self, m: &[u8]) -> bool {
        match self {
            SetValue::Packed(p) => pk_find(p, m).is_some(),
            SetValue::Table(t) => t.contains(m),
            _ => crate::value::shoal_parse_i64(m).is_some_and(|v| self.int_contains(v)),
        }
    }

    /// SISMEMBER.
    #[inline]
    pub fn contains(&self, m: &[u8]) -> bool {
        self.str_contains(m)
    }

    /// Membership of a member yielded by another set.
    #[inline]
    pub fn contains_member(&self, m: Member<'_>) -> bool {
        match m {
            Member::Int(v) if self.is_intset() => self.int_contains(v),
            Member::Int(_) => m.with_bytes(|b| self.str_contains(b)),
            Member::Str(b) => self.str_contains(b),
        }
    }

    /// Inserts `v` into an intset (widening it when needed); false when present.
    fn int_insert(&mut self, v: i64) -> bool {
        match self {
            SetValue::Small { len, data } => {
                let n = *len as usize;
                if let Ok(x) = i16::try_from(v) {
                    match data[..n].binary_search(&x) {
                        Ok(_) => return false,
                        Err(pos) if n < SMALL_MAX => {
                            data.copy_within(pos..n, pos + 1);
                            data[pos] = x;
                            *len += 1;
                            return true;
                        }
                        Err(_) => {}
                    }
                }
                *self = SetValue::I16(data[..n].into());
                self.int_insert(v)
            }
            SetValue::I16(b) => match i16::try_from(v) {
                Ok(x) => is_insert(b, x),
                Err(_) => {
                    *self = if i32::try_from(v).is_ok() { SetValue::I32(widen(b)) } else { SetValue::I64(widen(b)) };
                    self.int_insert(v)
                }
            },
            SetValue::I32(b) => match i32::try_from(v) {
                Ok(x) => is_insert(b, x),
                Err(_) => {
                    *self = SetValue::I64(widen(b));
                    self.int_insert(v)
                }
            },
            SetValue::I64(b) => is_insert(b, v),
            _ => unreachable!("int_insert on a non-intset"),
        }
    }

    /// Converts an intset to the hashtable encoding (presized, as `setTypeConvert`).
    fn convert_from_intset(&mut self) {
        if !self.is_intset() {
            return;
        }
        let n = self.len();
        let new = if n <= PACKED_MAX_ENTRIES {
            let mut v = Vec::with_capacity(1 + n * 4);
            v.push(n as u8);
            for m in self.iter() {
                m.with_bytes(|b| put_entry(&mut v, b));
            }
            SetValue::Packed(v.into_boxed_slice())
        } else {
            let mut t = Table::with_capacity(n);
            for m in self.iter() {
                m.with_bytes(|b| t.insert_new(hash(b), Sso::new(b)));
            }
            SetValue::Table(Box::new(t))
        };
        *self = new;
    }

    /// Converts the packed form to a table (a no-op otherwise).
    fn convert_to_table(&mut self) {
        if let SetValue::Packed(p) = self {
            let mut t = Table::with_capacity(p[0] as usize);
            for m in (PackedIter { buf: p, pos: 1 }) {
                t.insert_new(hash(m), Sso::new(m));
            }
            *self = SetValue::Table(Box::new(t));
        }
    }

    /// Adds `m` (Redis's `setTypeAdd`), converting the encoding as Redis does; true when
    /// it is new. `max_intset` is `set-max-intset-entries`.
    pub fn add(&mut self, m: &[u8], max_intset: usize) -> bool {
        if self.is_intset() {
            match crate::value::shoal_parse_i64(m) {
                Some(v) => return self.add_int(v, max_intset),
                None => self.convert_from_intset(),
            }
        }
        self.add_str(m)
    }

    /// Adds a member yielded by another set.
    pub fn add_member(&mut self, m: Member<'_>, max_intset: usize) -> bool {
        match m {
            Member::Int(v) if self.is_intset() => self.add_int(v, max_intset),
            Member::Int(_) => m.with_bytes(|b| self.add_str(b)),
            Member::Str(b) => self.add(b, max_intset),
        }
    }

    fn add_int(&mut self, v: i64, max_intset: usize) -> bool {
        if !self.int_insert(v) {
            return false;
        }
        if self.len() > max_intset.min(INTSET_MAX_CAP) {
            self.convert_from_intset();
        }
        true
    }

    /// Adds to a set in the hashtable encoding.
    fn add_str(&mut self, m: &[u8]) -> bool {
        if let SetValue::Packed(p) = self {
            if m.len() <= PACKED_MAX_VALUE {
                if pk_find(p, m).is_some() {
                    return false;
                }
                if (p[0] as usize) < PACKED_MAX_ENTRIES {
                    let mut v = Vec::from(std::mem::take(p));
                    v.reserve_exact(varint_len(m.len()) + m.len());
                    v[0] += 1;
                    put_entry(&mut v, m);
                    *p = v.into_boxed_slice();
                    return true;
                }
            }
            self.convert_to_table();
        }
        match self {
            SetValue::Table(t) => t.insert(m),
            _ => unreachable!("add_str on an intset"),
        }
    }

    /// Removes `m`; true when it was a member.
    pub fn remove(&mut self, m: &[u8]) -> bool {
        match self {
            SetValue::Packed(p) => match pk_find(p, m) {
                Some((s, e)) => {
                    let mut nb = Vec::with_capacity(p.len() - (e - s));
                    nb.extend_from_slice(&p[..s]);
                    nb.extend_from_slice(&p[e..]);
                    nb[0] -= 1;
                    *p = nb.into_boxed_slice();
                    true
                }
                None => false,
            },
            SetValue::Table(t) => t.remove(m),
            _ => match crate::value::shoal_parse_i64(m) {
                Some(v) => self.remove_int(v),
                None => false,
            },
        }
    }

    /// Removes a member yielded by another set.
    pub fn remove_member(&mut self, m: Member<'_>) -> bool {
        match m {
            Member::Int(v) if self.is_intset() => self.remove_int(v),
            _ => m.with_bytes(|b| self.remove(b)),
        }
    }

    fn remove_int(&mut self, v: i64) -> bool {
        match self {
            SetValue::Small { len, data } => {
                let n = *len as usize;
                match i16::try_from(v).map(|x| data[..n].binary_search(&x)) {
                    Ok(Ok(pos)) => {
                        data.copy_within(pos + 1..n, pos);
                        *len -= 1;
                        true
                    }
                    _ => false,
                }
            }
            SetValue::I16(b) => is_remove(b, v),
            SetValue::I32(b) => is_remove(b, v),
            SetValue::I64(b) => is_remove(b, v),
            _ => false,
        }
    }

    /// A uniformly chosen member position's member (None when empty).
    pub fn random<R: rand::Rng + ?Sized>(&self, rng: &mut R) -> Option<Member<'_>> {
        let n = self.len();
        if n == 0 {
            return None;
        }
        Some(match self {
            SetValue::Small { data, .. } => Member::Int(data[rng.gen_range(0..n)] as i64),
            SetValue::I16(b) => Member::Int(b[rng.gen_range(0..n)] as i64),
            SetValue::I32(b) => Member::Int(b[rng.gen_range(0..n)] as i64),
            SetValue::I64(b) => Member::Int(b[rng.gen_range(0..n)]),
            SetValue::Packed(p) => Member::Str((PackedIter { buf: p, pos: 1 }).nth(rng.gen_range(0..n))?),
            SetValue::Table(t) => Member::Str(t.random(rng)?),
        })
    }

    /// Removes and returns a random member (None when empty).
    pub fn pop_random<R: rand::Rng + ?Sized>(&mut self, rng: &mut R) -> Option<OwnedMember> {
        let n = self.len();
        if n == 0 {
            return None;
        }
        match self {
            SetValue::Small { .. } | SetValue::I16(_) | SetValue::I32(_) | SetValue::I64(_) => {
                let Some(Member::Int(v)) = self.random(rng) else { return None };
                self.remove_int(v);
                Some(OwnedMember::Int(v))
            }
            SetValue::Packed(_) => {
                let m = match self.random(rng)? {
                    Member::Str(b) => Sso::new(b),
                    Member::Int(_) => return None,
                };
                self.remove(m.as_bytes());
                Some(OwnedMember::Str(m))
            }
            SetValue::Table(t) => {
                let m = t.random(rng)?.to_vec();
                t.take(&m).map(OwnedMember::Str)
            }
        }
    }

    /// One SSCAN call (Redis's `scanGenericCommand` on a set): an intset is returned
    /// whole with cursor 0; a hashtable visits buckets from `cursor` until `count`
    /// members were emitted, `count * 10` further buckets were visited, or the scan is
    /// complete. Returns the next cursor.
    pub fn scan<'a>(&'a self, cursor: u64, count: usize, mut f: impl FnMut(Member<'a>)) -> u64 {
        let budget = count.saturating_mul(10);
        match self {
            SetValue::Small { .. } | SetValue::I16(_) | SetValue::I32(_) | SetValue::I64(_) => {
                self.iter().for_each(f);
                0
            }
            SetValue::Table(t) => {
                let mut c = cursor;
                let mut emitted = 0usize;
                let mut left = budget;
                loop {
                    c = t.scan(c, |m| {
                        emitted += 1;
                        f(Member::Str(m))
                    });
                    if c == 0 || left == 0 || emitted >= count {
                        break;
                    }
                    left -= 1;
                }
                c
            }
            SetValue::Packed(p) => {
                let n = p[0] as usize;
                if n == 0 {
                    return 0;
                }
                let m0 = (virtual_buckets(n) - 1) as u64;
                let members: Vec<(u64, &'a [u8])> = PackedIter { buf: p, pos: 1 }.map(|m| (hash(m) & m0, m)).collect();
                let mut c = cursor;
                let mut emitted = 0usize;
                let mut left = budget;
                loop {
                    let b = c & m0;
                    for &(h, m) in &members {
                        if h == b {
                            emitted += 1;
                            f(Member::Str(m));
                        }
                    }
                    c = next_cursor(c, m0);
                    if c == 0 || left == 0 || emitted >= count {
                        break;
                    }
                    left -= 1;
                }
                c
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use std::collections::HashSet;

    fn members(s: &SetValue) -> Vec<Vec<u8>> {
        s.iter().map(|m| m.to_vec()).collect()
    }

    #[test]
    fn intset_sorted_and_widened() {
        let mut s = SetValue::new_for(b"5");
        assert!(s.add(b"5", 512));
        assert!(s.add(b"-3", 512));
        assert!(!s.add(b"5", 512));
        assert!(matches!(s, SetValue::Small { .. }));
        assert!(s.add(b"100000", 512));
        assert!(matches!(s, SetValue::I32(_)));
        assert!(s.add(b"-9223372036854775808", 512));
        assert!(matches!(s, SetValue::I64(_)));
        assert_eq!(s.encoding(), "intset");
        assert_eq!(members(&s), vec![b"-9223372036854775808".to_vec(), b"-3".to_vec(), b"5".to_vec(), b"100000".to_vec()]);
        assert!(s.contains(b"100000"));
        assert!(!s.contains(b"05"));
        assert!(!s.contains(b"abc"));
        assert!(s.remove(b"-3"));
        assert!(!s.remove(b"-3"));
        assert!(!s.remove(b"x"));
        assert_eq!(s.len(), 3);
        // non-canonical integers are strings
        assert!(s.add(b"007", 512));
        assert_eq!(s.encoding(), "hashtable");
        assert!(s.contains(b"007") && s.contains(b"5") && !s.contains(b"7"));
        assert_eq!(s.len(), 4);
    }

    #[test]
    fn small_inline_intset() {
        let mut s = SetValue::new_intset();
        for v in [5, -1, 3, 11, 0, 7, 9, 2, 4, 6, 8] {
            assert!(s.add(format!("{v}").as_bytes(), 512));
        }
        assert!(matches!(s, SetValue::Small { len: 11, .. }));
        assert!(!s.add(b"7", 512));
        assert_eq!(members(&s), [-1, 0, 2, 3, 4, 5, 6, 7, 8, 9, 11].iter().map(|v| format!("{v}").into_bytes()).collect::<Vec<_>>());
        assert!(s.remove(b"-1") && s.remove(b"11") && s.remove(b"5"));
        assert!(!s.remove(b"5") && !s.remove(b"40000"));
        assert_eq!(members(&s), [0, 2, 3, 4, 6, 7, 8, 9].iter().map(|v| format!("{v}").into_bytes()).collect::<Vec<_>>());
        for v in [1, 5, 10, 12] {
            s.add(format!("{v}").as_bytes(), 512);
        }
        assert!(matches!(s, SetValue::I16(_)));
        assert_eq!(s.len(), 12);
        assert!(s.contains(b"12") && s.contains(b"0") && !s.contains(b"11"));
        let mut s = SetValue::new_intset();
        s.add(b"1", 512);
        s.add(b"70000", 512);
        assert!(matches!(s, SetValue::I32(_)));
        assert_eq!(members(&s), vec![b"1".to_vec(), b"70000".to_vec()]);
        let mut s = SetValue::new_intset();
        for v in 0..3 {
            s.add(format!("{v}").as_bytes(), 2);
        }
        assert_eq!(s.encoding(), "hashtable");
        assert_eq!(s.len(), 3);
    }

    #[test]
    fn intset_entry_limit() {
        let mut s = SetValue::new_intset();
        for i in 0..4 {
            s.add(format!("{i}").as_bytes(), 4);
        }
        assert_eq!(s.encoding(), "intset");
        s.add(b"4", 4);
        assert_eq!(s.encoding(), "hashtable");
        assert_eq!(s.len(), 5);
        let mut s = SetValue::new_intset();
        s.add(b"1", 0);
        assert_eq!(s.encoding(), "hashtable");
        // a large intset converts straight to a table
        let mut s = SetValue::new_intset();
        for i in 0..600 {
            s.add(format!("{i}").as_bytes(), 512);
        }
        assert!(matches!(s, SetValue::Table(_)));
        assert_eq!(s.len(), 600);
        assert!(s.contains(b"599") && s.contains_member(Member::Int(0)));
    }

    #[test]
    fn packed_to_table() {
        let mut s = SetValue::new_for(b"a");
        for i in 0..PACKED_MAX_ENTRIES {
            assert!(s.add(format!("m{i}").as_bytes(), 512));
        }
        assert!(matches!(s, SetValue::Packed(_)));
        assert_eq!(s.len(), PACKED_MAX_ENTRIES);
        assert!(!s.add(b"m7", 512));
        assert!(s.remove(b"m7"));
        assert!(!s.contains(b"m7"));
        assert_eq!(s.len(), PACKED_MAX_ENTRIES - 1);
        assert!(s.add(b"m7", 512));
        assert!(s.add(b"extra", 512));
        assert!(matches!(s, SetValue::Table(_)));
        assert_eq!(s.len(), PACKED_MAX_ENTRIES + 1);
        for i in 0..PACKED_MAX_ENTRIES {
            assert!(s.contains(format!("m{i}").as_bytes()));
        }
        let mut s = SetValue::new_for(b"a");
        s.add(b"a", 512);
        s.add(&[b'x'; 65], 512);
        assert!(matches!(s, SetValue::Table(_)));
        assert!(s.contains(&[b'x'; 65]) && s.contains(b"a"));
        // long members with multi-byte lengths in the packed form
        let mut s = SetValue::new_for(b"a");
        s.add(&[b'y'; 64], 512);
        s.add(b"b", 512);
        assert!(matches!(s, SetValue::Packed(_)));
        assert!(s.remove(&[b'y'; 64]));
        assert_eq!(members(&s), vec![b"b".to_vec()]);
    }

    #[test]
    fn member_membership_across_encodings() {
        let mut a = SetValue::new_intset();
        a.add(b"1", 512);
        a.add(b"2", 512);
        let mut b = SetValue::new_for(b"x");
        b.add(b"x", 512);
        b.add(b"2", 512);
        assert!(b.contains_member(Member::Int(2)));
        assert!(!b.contains_member(Member::Int(1)));
        assert!(a.contains_member(Member::Str(b"2")));
        assert!(!a.contains_member(Member::Str(b"x")));
        let mut u = SetValue::new_intset();
        for m in a.iter().chain(b.iter()) {
            u.add_member(m, 512);
        }
        assert_eq!(u.len(), 3);
        assert_eq!(u.encoding(), "hashtable");
    }

    #[test]
    fn table_grow_shrink() {
        let mut t = Table::default();
        for i in 0..1000 {
            assert!(t.insert(format!("member:{i}").as_bytes()));
        }
        assert!(!t.insert(b"member:5"));
        assert_eq!(t.len(), 1000);
        assert_eq!(t.buckets(), 1024);
        for i in 0..995 {
            assert!(t.remove(format!("member:{i}").as_bytes()));
        }
        assert!(!t.remove(b"member:0"));
        assert_eq!(t.len(), 5);
        assert!(t.buckets() <= 64);
        assert_eq!(t.iter().count(), 5);
        assert!(t.contains(b"member:999"));
        let c = t.clone();
        assert_eq!(c.len(), 5);
        assert!(c.contains(b"member:997"));
    }

    #[test]
    fn pop_and_random() {
        let mut rng = rand::rngs::SmallRng::seed_from_u64(7);
        for kind in 0..3 {
            let mut s = SetValue::new_intset();
            for i in 0..200 {
                let m = match kind {
                    0 => format!("{i}"),
                    _ => format!("m{i}"),
                };
                s.add(m.as_bytes(), 512);
            }
            if kind == 2 {
                // shrink the table back under the packed size: stays a table
                for i in 0..150 {
                    s.remove(format!("m{i}").as_bytes());
                }
            }
            let n = s.len();
            let mut seen = HashSet::new();
            for _ in 0..20000 {
                seen.insert(s.random(&mut rng).map(|m| m.to_vec()));
            }
            assert_eq!(seen.len(), n);
            let mut popped = HashSet::new();
            while let Some(m) = s.pop_random(&mut rng) {
                assert!(popped.insert(m.as_member().to_vec()));
            }
            assert_eq!(popped.len(), n);
            assert!(s.is_empty());
        }
    }

    /// Scans `s` from `cursor` for `steps` calls with COUNT `count`; returns the cursor.
    fn scan_steps(s: &SetValue, mut cursor: u64, steps: usize, count: usize, seen: &mut HashSet<Vec<u8>>) -> u64 {
        for _ in 0..steps {
            cursor = s.scan(cursor, count, |m| {
                seen.insert(m.to_vec());
            });
            if cursor == 0 {
                break;
            }
        }
        cursor
    }

    #[test]
    fn scan_guarantee_across_growth_conversion_and_shrink() {
        for seed in 0..30u64 {
            let mut rng = rand::rngs::SmallRng::seed_from_u64(seed);
            let mut s = SetValue::new_for(b"keep:0");
            let nbase = 5 + (seed as usize * 7) % 60;
            let base: Vec<Vec<u8>> = (0..nbase).map(|i| format!("keep:{i}").into_bytes()).collect();
            for m in &base {
                s.add(m, 512);
            }
            let mut seen = HashSet::new();
            let mut cursor = 0u64;
            let mut round = 0;
            let mut extra = 0;
            loop {
                let count = 1 + rand::Rng::gen_range(&mut rng, 0..4);
                cursor = scan_steps(&s, cursor, 1 + rand::Rng::gen_range(&mut rng, 0..3), count, &mut seen);
                if cursor == 0 {
                    break;
                }
                // Between calls: grow (through the packed-to-table conversion), or
                // shrink (removing only "temp" members).
                if round % 3 != 2 {
                    for _ in 0..rand::Rng::gen_range(&mut rng, 0..100) {
                        s.add(format!("temp:{extra}").as_bytes(), 512);
                        extra += 1;
                    }
                } else {
                    for i in 0..extra {
                        s.remove(format!("temp:{i}").as_bytes());
                    }
                }
                round += 1;
            }
            for m in &base {
                assert!(seen.contains(m), "seed {seed}: {:?} never returned", String::from_utf8_lossy(m));
            }
        }
    }

    #[test]
    fn scan_full_cycle_returns_each_once_when_stable() {
        for n in [3usize, 50, 128, 777] {
            let mut s = SetValue::new_for(b"x");
            for i in 0..n {
                s.add(format!("x{i}").as_bytes(), 512);
            }
            let mut got = Vec::new();
            let mut cursor = 0;
            loop {
                cursor = s.scan(cursor, 3, |m| got.push(m.to_vec()));
                if cursor == 0 {
                    break;
                }
            }
            assert_eq!(got.len(), n);
            assert_eq!(got.iter().collect::<HashSet<_>>().len(), n);
        }
        // a small hashtable set with the default COUNT comes back whole in one call
        let mut s = SetValue::new_for(b"a");
        for m in [&b"a"[..], b"b", b"c"] {
            s.add(m, 512);
        }
        let mut got = 0;
        assert_eq!(s.scan(0, 10, |_| got += 1), 0);
        assert_eq!(got, 3);
        // an intset is returned whole whatever the COUNT
        let mut s = SetValue::new_intset();
        for i in 0..100 {
            s.add(format!("{i}").as_bytes(), 512);
        }
        let mut got = 0;
        assert_eq!(s.scan(0, 1, |_| got += 1), 0);
        assert_eq!(got, 100);
    }

    #[test]
    fn packed_and_table_scan_agree_on_buckets() {
        // The same members in the packed form and in a table of the same size are
        // visited bucket by bucket in the same groups.
        let mut p = SetValue::new_for(b"a");
        for i in 0..20 {
            p.add(format!("v{i}").as_bytes(), 512);
        }
        let mut t = p.clone();
        t.convert_to_table();
        assert!(matches!(p, SetValue::Packed(_)) && matches!(t, SetValue::Table(_)));
        let (mut cp, mut ct) = (0u64, 0u64);
        loop {
            let mut a = Vec::new();
            let mut b = Vec::new();
            cp = p.scan(cp, 1, |m| a.push(m.to_vec()));
            ct = t.scan(ct, 1, |m| b.push(m.to_vec()));
            a.sort();
            b.sort();
            assert_eq!((cp, &a), (ct, &b));
            if cp == 0 {
                break;
            }
        }
    }
}
