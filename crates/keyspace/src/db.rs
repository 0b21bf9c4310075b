//! One logical database: 16384 slot tables plus the WATCH registry.
//!
//! Each slot has its own key table and its own expire table, so a slot can be counted,
//! listed, flushed, and later migrated or snapshotted on its own. An entry (key and value)
//! is one boxed 48-byte block: the table holds only thin pointers, which keeps a small
//! string key near 60 bytes in all (Redis 7.0: ~88).
//!
//! Behaviour: expired keys are removed lazily when a lookup finds them (and reported in
//! `expired` so the caller can emit events and propagate a DEL), and actively by
//! [`Db::active_expire_cycle`]. Every mutation through this API signals WATCHers.

use crate::slot::{key_slot, SLOT_COUNT};
use crate::sso::Sso;
use crate::value::Value;
use hashbrown::{HashMap, HashSet, HashTable};
use std::hash::BuildHasher;

/// A key with its value: one allocation.
pub struct Entry {
    pub key: Sso,
    pub value: Value,
}
const _: () = assert!(std::mem::size_of::<Entry>() == 48);

#[derive(Default)]
struct Slot {
    keys: HashTable<Box<Entry>>,
    /// (key, unix-ms deadline) for keys of this slot that have a TTL.
    expires: HashTable<(Sso, u64)>,
}

/// The data of a database (what SWAPDB exchanges).
#[derive(Default)]
pub struct Tables {
    /// Empty until the first write, so 16 unused databases cost nothing.
    slots: Vec<Slot>,
    keys: usize,
    expires: usize,
    /// Next slot the active expire cycle looks at.
    expire_cursor: usize,
}

/// Opaque SCAN position: the next slot to visit (0 = start, and again at the end).
pub type ScanCursor = u64;

/// A database: its tables and the clients watching its keys.
pub struct Db {
    t: Tables,
    hasher: foldhash::fast::RandomState,
    /// WATCHed key -> ids of the clients watching it.
    watched: HashMap<Vec<u8>, Vec<u64>>,
    /// Clients whose watched keys (in this db) were modified since they WATCHed.
    pub watch_dirty: HashSet<u64>,
    /// Keys removed because they expired, since the caller last drained this list.
    pub expired: Vec<Vec<u8>>,
    /// While clients are blocked on this database: keys that received a list or sorted-set
    /// value through [`Db::set`] (Redis's `signalKeyAsReady` in `dbAdd`), drained by the
    /// blocking registry after each command.
    pub track_ready: bool,
    pub ready: Vec<Vec<u8>>,
    /// While `notify-keyspace-events` has the `n` class: [`Db::set`] records the keys it
    /// creates in `created` (Redis's "new" event in `dbAdd`), drained by the command
    /// pipeline, which emits the events.
    pub track_new: bool,
    pub created: Vec<Vec<u8>>,
}

impl Default for Db {
    fn default() -> Self {
        Db::new()
    }
}

impl Db {
    pub fn new() -> Db {
        Db {
            t: Tables::default(),
            hasher: foldhash::fast::RandomState::default(),
            watched: HashMap::new(),
            watch_dirty: HashSet::new(),
            expired: Vec::new(),
            track_ready: false,
            ready: Vec::new(),
            track_new: false,
            created: Vec::new(),
        }
    }

    #[inline]
    fn hash(&self, key: &[u8]) -> u64 {
        self.hasher.hash_one(key)
    }

    fn slots_mut(&mut self) -> &mut Vec<Slot> {
        if self.t.slots.is_empty() {
            self.t.slots.resize_with(SLOT_COUNT, Slot::default);
        }
        &mut self.t.slots
    }

    /// Number of keys (expired ones not yet reclaimed included, as Redis's DBSIZE).
    pub fn len(&self) -> usize {
        self.t.keys
    }
    pub fn is_empty(&self) -> bool {
        self.t.keys == 0
    }
    /// Number of keys with a TTL.
    pub fn expires_len(&self) -> usize {
        self.t.expires
    }
    /// Number of keys in `slot`.
    pub fn slot_len(&self, slot: u16) -> usize {
        self.t.slots.get(slot as usize).map_or(0, |s| s.keys.len())
    }

    fn find_expire(&self, slot: usize, h: u64, key: &[u8]) -> Option<u64> {
        let s = self.t.slots.get(slot)?;
        if s.expires.is_empty() {
            return None;
        }
        s.expires.find(h, |(k, _)| k.as_bytes() == key).map(|(_, w)| *w)
    }

    /// The TTL deadline of `key` in unix milliseconds, if it has one.
    pub fn expire_at(&self, key: &[u8]) -> Option<u64> {
        self.find_expire(key_slot(key) as usize, self.hash(key), key)
    }

    /// Removes `key` if its deadline has passed; true when it did.
    fn expire_if_needed(&mut self, slot: usize, h: u64, key: &[u8], now: u64) -> bool {
        match self.find_expire(slot, h, key) {
            Some(when) if when <= now => {
                self.remove_hashed(slot, h, key);
                self.expired.push(key.to_vec());
                true
            }
            _ => false,
        }
    }

    /// Read access. Lazily deletes the key when it has expired.
    #[inline]
    pub fn get(&mut self, key: &[u8], now: u64) -> Option<&Value> {
        let slot = key_slot(key) as usize;
        let h = self.hash(key);
        if self.t.slots.is_empty() {
            return None;
        }
        self.expire_if_needed(slot, h, key, now);
        self.t.slots[slot].keys.find(h, |e| e.key.as_bytes() == key).map(|e| &e.value)
    }

    /// Read access without lazy expiry (for callers holding `&self`, like KEYS): returns
    /// None for a key that is logically expired.
    pub fn peek(&self, key: &[u8], now: u64) -> Option<&Value> {
        let slot = key_slot(key) as usize;
        let h = self.hash(key);
        if self.t.slots.is_empty() || self.find_expire(slot, h, key).is_some_and(|w| w <= now) {
            return None;
        }
        self.t.slots[slot].keys.find(h, |e| e.key.as_bytes() == key).map(|e| &e.value)
    }

    /// Write access to an existing value; signals WATCHers of the key.
    #[inline]
    pub fn get_mut(&mut self, key: &[u8], now: u64) -> Option<&mut Value> {
        let slot = key_slot(key) as usize;
        let h = self.hash(key);
        if self.t.slots.is_empty() {
            return None;
        }
        self.expire_if_needed(slot, h, key, now);
        let found = self.t.slots[slot].keys.find(h, |e| e.key.as_bytes() == key).is_some();
        if !found {
            return None;
        }
        self.touch(key);
        self.t.slots[slot].keys.find_mut(h, |e| e.key.as_bytes() == key).map(|e| &mut e.value)
    }

    /// Read-modify-write access in one lookup (INCR and friends): lazily expires the key
    /// like [`Db::get`], but does NOT signal WATCHers; the caller calls [`Db::touch`]
    /// once it has actually changed the value.
    #[inline]
    pub fn get_mut_untracked(&mut self, key: &[u8], now: u64) -> Option<&mut Value> {
        let slot = key_slot(key) as usize;
        let h = self.hash(key);
        if self.t.slots.is_empty() {
            return None;
        }
        self.expire_if_needed(slot, h, key, now);
        self.t.slots[slot].keys.find_mut(h, |e| e.key.as_bytes() == key).map(|e| &mut e.value)
    }

    /// True when `key` exists (and is not expired).
    pub fn contains(&mut self, key: &[u8], now: u64) -> bool {
        self.get(key, now).is_some()
    }

    /// Stores `value` under `key`, replacing any value. The TTL is removed unless
    /// `keep_ttl`. Returns true when the key was new.
    pub fn set(&mut self, key: &[u8], value: Value, keep_ttl: bool) -> bool {
        let slot = key_slot(key) as usize;
        let h = self.hash(key);
        self.touch(key);
        if self.track_ready && matches!(value, Value::List(_) | Value::ZSet(_) | Value::Stream(_)) {
            self.ready.push(key.to_vec());
        }
        self.slots_mut();
        let hasher = &self.hasher;
        let s = &mut self.t.slots[slot];
        let new = match s.keys.entry(h, |e| e.key.as_bytes() == key, |e| hasher.hash_one(e.key.as_bytes())) {
            hashbrown::hash_table::Entry::Occupied(mut o) => {
                o.get_mut().value = value;
                false
            }
            hashbrown::hash_table::Entry::Vacant(v) => {
                v.insert(Box::new(Entry { key: Sso::new(key), value }));
                true
            }
        };
        if new {
            self.t.keys += 1;
            if self.track_new {
                self.created.push(key.to_vec());
            }
        }
        if !keep_ttl && !new {
            self.remove_expire_hashed(slot, h, key);
        }
        new
    }

    /// Removes `key`, returning its value. Signals WATCHers.
    pub fn remove(&mut self, key: &[u8]) -> Option<Value> {
        let slot = key_slot(key) as usize;
        let h = self.hash(key);
        if self.t.slots.is_empty() {
            return None;
        }
        let v = self.remove_hashed(slot, h, key);
        if v.is_some() {
            self.touch(key);
        }
        if self.track_ready && matches!(v, Some(Value::Stream(_))) {
            // XREADGROUP waiters learn that the key is gone (Redis's signalDeletedKeyAsReady).
            self.ready.push(key.to_vec());
        }
        v
    }

    fn remove_hashed(&mut self, slot: usize, h: u64, key: &[u8]) -> Option<Value> {
        let s = &mut self.t.slots[slot];
        let e = s.keys.find_entry(h, |e| e.key.as_bytes() == key).ok()?.remove().0;
        self.t.keys -= 1;
        self.remove_expire_hashed(slot, h, key);
        let s = &mut self.t.slots[slot];
        if s.keys.capacity() > 64 && s.keys.len() * 8 < s.keys.capacity() {
            let hasher = &self.hasher;
            s.keys.shrink_to_fit(|e| hasher.hash_one(e.key.as_bytes()));
        }
        Some(e.value)
    }

    fn remove_expire_hashed(&mut self, slot: usize, h: u64, key: &[u8]) -> bool {
        let s = &mut self.t.slots[slot];
        if s.expires.is_empty() {
            return false;
        }
        match s.expires.find_entry(h, |(k, _)| k.as_bytes() == key) {
            Ok(o) => {
                o.remove();
                self.t.expires -= 1;
                true
            }
            Err(_) => false,
        }
    }

    /// Sets the TTL deadline of an existing key. Returns false when the key is absent.
    pub fn set_expire(&mut self, key: &[u8], when_ms: u64) -> bool {
        let slot = key_slot(key) as usize;
        let h = self.hash(key);
        if self.t.slots.is_empty() || self.t.slots[slot].keys.find(h, |e| e.key.as_bytes() == key).is_none() {
            return false;
        }
        self.touch(key);
        let hasher = &self.hasher;
        let s = &mut self.t.slots[slot];
        match s.expires.entry(h, |(k, _)| k.as_bytes() == key, |(k, _)| hasher.hash_one(k.as_bytes())) {
            hashbrown::hash_table::Entry::Occupied(mut o) => o.get_mut().1 = when_ms,
            hashbrown::hash_table::Entry::Vacant(v) => {
                v.insert((Sso::new(key), when_ms));
                self.t.expires += 1;
            }
        }
        true
    }

    /// Removes the TTL of `key`; true when it had one.
    pub fn persist(&mut self, key: &[u8]) -> bool {
        let slot = key_slot(key) as usize;
        let h = self.hash(key);
        if self.t.slots.is_empty() {
            return false;
        }
        let had = self.remove_expire_hashed(slot, h, key);
        if had {
            self.touch(key);
        }
        had
    }

    /// Removes every key (FLUSHDB); returns how many there were. Signals every WATCHer
    /// of this database whose key existed.
    pub fn clear(&mut self) -> usize {
        let n = self.t.keys;
        self.touch_watched_existing();
        self.t = Tables::default();
        n
    }

    /// Exchanges the data of two databases (SWAPDB). WATCH registries stay with their
    /// database index; the caller signals both.
    pub fn swap_data(a: &mut Db, b: &mut Db) {
        std::mem::swap(&mut a.t, &mut b.t);
        std::mem::swap(&mut a.hasher, &mut b.hasher);
    }

    /// Takes the data out (FLUSHALL ASYNC frees it on another thread).
    pub fn take_data(&mut self) -> Tables {
        self.touch_watched_existing();
        std::mem::take(&mut self.t)
    }

    /// Iterates every (key, value), expired-but-unreclaimed keys included; callers use
    /// [`Db::peek`] semantics via `now` to filter.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &Value)> + '_ {
        self.t.slots.iter().flat_map(|s| s.keys.iter().map(|e| (e.key.as_bytes(), &e.value)))
    }

    /// True when `key` (known to exist) has a passed deadline.
    pub fn is_expired(&self, key: &[u8], now: u64) -> bool {
        self.expire_at(key).is_some_and(|w| w <= now)
    }

    /// Keys of one slot, at most `count` (CLUSTER GETKEYSINSLOT).
    pub fn keys_in_slot(&self, slot: u16, count: usize) -> Vec<Vec<u8>> {
        match self.t.slots.get(slot as usize) {
            Some(s) => s.keys.iter().take(count).map(|e| e.key.as_bytes().to_vec()).collect(),
            None => Vec::new(),
        }
    }

    /// One SCAN step: visits whole slots starting at `cursor` until at least `count` keys
    /// were visited, calling `f` for each. Returns the next cursor (0 when done).
    ///
    /// Guarantee (as Redis's SCAN): a key present for the whole iteration is returned,
    /// whatever the tables do meanwhile, because slots never move. A slot is returned
    /// whole, so one call may return more than `count` keys when a slot is large.
    pub fn scan(&self, cursor: ScanCursor, count: usize, mut f: impl FnMut(&[u8], &Value)) -> ScanCursor {
        if self.t.slots.is_empty() {
            return 0;
        }
        let mut slot = cursor as usize;
        let mut seen = 0usize;
        // bound the number of empty slots looked at per call, like Redis's empty-bucket limit
        let mut empty_visits = 0usize;
        while slot < SLOT_COUNT {
            let s = &self.t.slots[slot];
            if s.keys.is_empty() {
                empty_visits += 1;
            }
            for e in s.keys.iter() {
                f(e.key.as_bytes(), &e.value);
                seen += 1;
            }
            slot += 1;
            if seen >= count || empty_visits >= count.saturating_mul(10).max(100) {
                break;
            }
        }
        if slot >= SLOT_COUNT {
            0
        } else {
            slot as u64
        }
    }

    /// A random key (RANDOMKEY), picked uniformly: first a key index, then its slot.
    pub fn random_key<R: rand::Rng>(&self, rng: &mut R) -> Option<&[u8]> {
        if self.t.keys == 0 {
            return None;
        }
        let mut n = rng.gen_range(0..self.t.keys);
        for s in &self.t.slots {
            if n < s.keys.len() {
                return s.keys.iter().nth(n).map(|e| e.key.as_bytes());
            }
            n -= s.keys.len();
        }
        None
    }

    /// One pass of active expiry, Redis-style adaptive sampling: looks at up to
    /// `keys_max` keys with a TTL, slot by slot from where the last pass stopped, and
    /// removes those past their deadline (recorded in `expired`). Returns
    /// (sampled, expired); the caller repeats while the expired share stays high.
    pub fn active_expire_cycle(&mut self, now: u64, keys_max: usize) -> (usize, usize) {
        if self.t.expires == 0 || self.t.slots.is_empty() {
            return (0, 0);
        }
        let mut sampled = 0;
        let mut doomed: Vec<Vec<u8>> = Vec::new();
        let mut slots_visited = 0;
        while sampled < keys_max && slots_visited < SLOT_COUNT {
            let slot = self.t.expire_cursor;
            self.t.expire_cursor = (slot + 1) % SLOT_COUNT;
            slots_visited += 1;
            let s = &self.t.slots[slot];
            for (k, w) in s.expires.iter() {
                sampled += 1;
                if *w <= now {
                    doomed.push(k.as_bytes().to_vec());
                }
            }
        }
        let n = doomed.len();
        for k in doomed {
            let slot = key_slot(&k) as usize;
            let h = self.hash(&k);
            self.remove_hashed(slot, h, &k);
            self.touch(&k);
            self.expired.push(k);
        }
        (sampled, n)
    }

    // ---- WATCH registry ----

    /// Registers `client` as watching `key`.
    pub fn watch(&mut self, key: &[u8], client: u64) {
        let v = self.watched.entry(key.to_vec()).or_default();
        if !v.contains(&client) {
            v.push(client);
        }
    }

    /// Removes `client` from the watchers of `key`.
    pub fn unwatch(&mut self, key: &[u8], client: u64) {
        if let Some(v) = self.watched.get_mut(key) {
            v.retain(|&c| c != client);
            if v.is_empty() {
                self.watched.remove(key);
            }
        }
        self.watch_dirty.remove(&client);
    }

    /// Marks the watchers of `key` dirty (their EXEC will fail).
    #[inline]
    pub fn touch(&mut self, key: &[u8]) {
        if self.watched.is_empty() {
            return;
        }
        if let Some(v) = self.watched.get(key) {
            self.watch_dirty.extend(v.iter().copied());
        }
    }

    /// Marks dirty every watcher of a key that currently exists (FLUSHDB, SWAPDB).
    pub fn touch_watched_existing(&mut self) {
        if self.watched.is_empty() {
            return;
        }
        let mut dirty = Vec::new();
        for (k, ids) in &self.watched {
            let slot = key_slot(k) as usize;
            let h = self.hash(k);
            if self.t.slots.get(slot).is_some_and(|s| s.keys.find(h, |e| e.key.as_bytes() == k.as_slice()).is_some()) {
                dirty.extend(ids.iter().copied());
            }
        }
        self.watch_dirty.extend(dirty);
    }

    /// Marks dirty every watcher of any key (SWAPDB: a key may appear or vanish).
    pub fn touch_all_watched(&mut self) {
        let ids: Vec<u64> = self.watched.values().flatten().copied().collect();
        self.watch_dirty.extend(ids);
    }

    /// Removes `key` if it exists and has not expired (DEL, UNLINK): a key past its
    /// deadline is reclaimed as expired instead (recorded in `expired`) and None is
    /// returned, as Redis's expireIfNeeded before the delete. Signals WATCHers.
    pub fn remove_live(&mut self, key: &[u8], now: u64) -> Option<Value> {
        if self.t.slots.is_empty() {
            return None;
        }
        let slot = key_slot(key) as usize;
        let h = self.hash(key);
        if self.expire_if_needed(slot, h, key, now) {
            return None;
        }
        let v = self.remove_hashed(slot, h, key);
        if v.is_some() {
            self.touch(key);
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_get_remove_counts() {
        let mut db = Db::new();
        assert!(db.set(b"a", Value::str(b"1"), false));
        assert!(!db.set(b"a", Value::str(b"2"), false));
        assert!(db.set(b"{a}b", Value::str(b"3"), false));
        assert_eq!(db.len(), 2);
        assert_eq!(db.slot_len(key_slot(b"a")), 2);
        assert_eq!(db.get(b"a", 0).unwrap().as_str(), Some(&b"2"[..]));
        assert!(db.remove(b"a").is_some());
        assert_eq!(db.len(), 1);
        assert!(db.get(b"a", 0).is_none());
    }

    #[test]
    fn expiry_lazy_and_active() {
        let mut db = Db::new();
        db.set(b"k", Value::str(b"v"), false);
        assert!(db.set_expire(b"k", 100));
        assert_eq!(db.expires_len(), 1);
        assert!(db.get(b"k", 99).is_some());
        assert!(db.get(b"k", 100).is_none());
        assert_eq!(db.expired, vec![b"k".to_vec()]);
        assert_eq!(db.len(), 0);
        assert_eq!(db.expires_len(), 0);
        for i in 0..100 {
            let k = format!("k{i}");
            db.set(k.as_bytes(), Value::str(b"v"), false);
            db.set_expire(k.as_bytes(), 5);
        }
        let (_, n) = db.active_expire_cycle(10, 1000);
        assert_eq!(n, 100);
        assert_eq!(db.len(), 0);
        // set without keep_ttl clears the TTL
        db.set(b"x", Value::str(b"v"), false);
        db.set_expire(b"x", 5);
        db.set(b"x", Value::str(b"w"), false);
        assert_eq!(db.expire_at(b"x"), None);
    }

    #[test]
    fn scan_visits_every_key_once() {
        let mut db = Db::new();
        for i in 0..5000 {
            db.set(format!("key:{i}").as_bytes(), Value::str(b"v"), false);
        }
        let mut seen = std::collections::HashSet::new();
        let mut cur = 0;
        loop {
            cur = db.scan(cur, 10, |k, _| {
                assert!(seen.insert(k.to_vec()));
            });
            if cur == 0 {
                break;
            }
        }
        assert_eq!(seen.len(), 5000);
    }

    #[test]
    fn watch_signals() {
        let mut db = Db::new();
        db.watch(b"k", 7);
        db.set(b"k", Value::str(b"v"), false);
        assert!(db.watch_dirty.contains(&7));
        db.unwatch(b"k", 7);
        assert!(!db.watch_dirty.contains(&7));
    }
}
