//! Hash values: a listpack of alternating field/value entries while small (at most
//! `hash-max-listpack-entries` fields, each field and value at most
//! `hash-max-listpack-value` bytes), a hash table above, as Redis's `t_hash.c`.
//! Conversion is one way (listpack to table), as in Redis.

use super::listpack::Listpack;
use crate::sso::Sso;
use hashbrown::HashMap;

/// Thresholds for the compact encoding (config `hash-max-listpack-*`).
#[derive(Clone, Copy, Debug)]
pub struct HashLimits {
    pub max_listpack_entries: usize,
    pub max_listpack_value: usize,
}

impl Default for HashLimits {
    fn default() -> Self {
        HashLimits { max_listpack_entries: 128, max_listpack_value: 64 }
    }
}

/// A hash value in one of its two encodings.
pub enum HashValue {
    Listpack(Listpack),
    Table(HashMap<Sso, Sso, foldhash::fast::RandomState>),
}

impl Default for HashValue {
    fn default() -> Self {
        HashValue::Listpack(Listpack::new())
    }
}

impl HashValue {
    pub fn encoding(&self) -> &'static str {
        match self {
            HashValue::Listpack(_) => "listpack",
            HashValue::Table(_) => "hashtable",
        }
    }
    pub fn len(&self) -> usize {
        match self {
            HashValue::Listpack(lp) => lp.len() / 2,
            HashValue::Table(t) => t.len(),
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn mem_usage(&self) -> usize {
        match self {
            HashValue::Listpack(lp) => lp.bytes() + 16,
            HashValue::Table(t) => t.capacity() * (48 + 1) + t.iter().map(|(k, v)| k.heap_size() + v.heap_size()).sum::<usize>(),
        }
    }
    /// The value of `field`.
    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        match self {
            HashValue::Listpack(lp) => {
                let mut it = lp.iter();
                while let Some(f) = it.next() {
                    let v = it.next().expect("listpack hash has pairs");
                    if f == field {
                        return Some(v);
                    }
                }
                None
            }
            HashValue::Table(t) => t.get(field).map(|v| v.as_bytes()),
        }
    }
    /// Sets `field` to `value`; returns true when the field is new.
    pub fn set(&mut self, field: &[u8], value: &[u8], limits: &HashLimits) -> bool {
        if let HashValue::Listpack(lp) = self {
            if field.len() > limits.max_listpack_value || value.len() > limits.max_listpack_value {
                self.convert_to_table();
            } else {
                let mut pos = 0;
                while pos < lp.byte_len() {
                    let (f, next) = lp.get_at(pos);
                    if f == field {
                        lp.replace_at(next, value);
                        return false;
                    }
                    let (_, after) = lp.get_at(next);
                    pos = after;
                }
                lp.push_back(field);
                lp.push_back(value);
                if lp.len() / 2 > limits.max_listpack_entries {
                    self.convert_to_table();
                }
                return true;
            }
        }
        match self {
            HashValue::Table(t) => t.insert(Sso::new(field), Sso::new(value)).is_none(),
            HashValue::Listpack(_) => unreachable!("converted above"),
        }
    }
    /// Removes `field`; returns true when it existed.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match self {
            HashValue::Listpack(lp) => {
                let mut pos = 0;
                while pos < lp.byte_len() {
                    let (f, next) = lp.get_at(pos);
                    if f == field {
                        lp.remove_at(pos);
                        lp.remove_at(pos);
                        return true;
                    }
                    let (_, after) = lp.get_at(next);
                    pos = after;
                }
                false
            }
            HashValue::Table(t) => t.remove(field).is_some(),
        }
    }
    /// Iterates (field, value) pairs.
    pub fn iter(&self) -> Box<dyn Iterator<Item = (&[u8], &[u8])> + '_> {
        match self {
            HashValue::Listpack(lp) => {
                let mut it = lp.iter();
                Box::new(std::iter::from_fn(move || {
                    let f = it.next()?;
                    let v = it.next().expect("pairs");
                    Some((f, v))
                }))
            }
            HashValue::Table(t) => Box::new(t.iter().map(|(k, v)| (k.as_bytes(), v.as_bytes()))),
        }
    }
    fn convert_to_table(&mut self) {
        if let HashValue::Listpack(lp) = self {
            let mut t = HashMap::with_capacity_and_hasher(lp.len() / 2 + 1, foldhash::fast::RandomState::default());
            {
                let mut it = lp.iter();
                while let Some(f) = it.next() {
                    let v = it.next().expect("pairs");
                    t.insert(Sso::new(f), Sso::new(v));
                }
            }
            *self = HashValue::Table(t);
        }
    }
}
