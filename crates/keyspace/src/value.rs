//! Values stored under keys. One enum, 24 bytes: a string is an [`Sso`] held inline,
//! every other type is boxed, so the key table's entries stay one 48-byte allocation.
//!
//! Each collection type keeps Redis's two-encoding scheme (a compact [`Listpack`] below
//! the `*-max-listpack-*` thresholds, a hash table above), reported by OBJECT ENCODING
//! with Redis's names.

use crate::sso::Sso;

pub mod hash;
pub mod list;
pub mod listpack;
pub mod set;
pub mod stream;
pub mod zset;

pub use hash::HashValue;
pub use list::ListValue;
pub use listpack::Listpack;
pub use set::SetValue;
pub use stream::StreamValue;
pub use zset::ZSetValue;

/// A value stored under a key.
pub enum Value {
    /// A string. Redis's three string encodings (int, embstr, raw) are a property of
    /// how the bytes look; see [`Value::encoding`].
    Str(Sso),
    /// A hash (listpack or hashtable encoding).
    Hash(Box<HashValue>),
    /// A list (listpack or quicklist encoding).
    List(Box<ListValue>),
    /// A set (intset, listpack or hashtable encoding).
    Set(Box<SetValue>),
    /// A sorted set (listpack or skiplist encoding).
    ZSet(Box<ZSetValue>),
    /// A stream.
    Stream(Box<StreamValue>),
}

const _: () = assert!(std::mem::size_of::<Value>() == 24, "Value must fold its tag into Sso's niche");

impl Value {
    pub fn str(b: &[u8]) -> Value {
        Value::Str(Sso::new(b))
    }

    /// The name TYPE replies with.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::Hash(_) => "hash",
            Value::List(_) => "list",
            Value::Set(_) => "set",
            Value::ZSet(_) => "zset",
            Value::Stream(_) => "stream",
        }
    }

    /// The name OBJECT ENCODING replies with.
    pub fn encoding(&self) -> &'static str {
        match self {
            Value::Str(s) => {
                let b = s.as_bytes();
                if s.is_raw() {
                    "raw"
                } else if b.len() <= 20 && !s.is_noint() && shoal_parse_i64(b).is_some() {
                    "int"
                } else if b.len() <= 44 {
                    "embstr"
                } else {
                    "raw"
                }
            }
            Value::Hash(h) => h.encoding(),
            Value::List(l) => l.encoding(),
            Value::Set(x) => x.encoding(),
            Value::ZSet(z) => z.encoding(),
            Value::Stream(x) => x.encoding(),
        }
    }

    /// Approximate bytes of memory owned by this value (MEMORY USAGE, eviction).
    pub fn mem_usage(&self) -> usize {
        match self {
            Value::Str(s) => s.heap_size(),
            Value::Hash(h) => h.mem_usage(),
            Value::List(l) => l.mem_usage(),
            Value::Set(x) => x.mem_usage(),
            Value::ZSet(z) => z.mem_usage(),
            Value::Stream(x) => x.mem_usage(),
        }
    }

    pub fn as_str(&self) -> Option<&[u8]> {
        match self {
            Value::Str(s) => Some(s.as_bytes()),
            _ => None,
        }
    }
}

/// Integer parsing with Redis's `string2ll` rules (no '+', no leading zeros, no spaces).
pub fn shoal_parse_i64(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (neg, d) = if s[0] == b'-' { (true, &s[1..]) } else { (false, s) };
    if d.is_empty() || d[0] == b'0' {
        return None;
    }
    let mut v: u64 = 0;
    for &c in d {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    if neg {
        if v > i64::MAX as u64 + 1 {
            None
        } else {
            Some((v as i64).wrapping_neg())
        }
    } else {
        i64::try_from(v).ok()
    }
}
