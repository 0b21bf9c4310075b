//! The keyspace: values and their encodings, the 16384 per-slot key tables of each
//! database, expiry, and slot hashing.
//!
//! Invariants:
//! - every key lives in the table of the slot `key_slot(key)`; per-slot key counts are
//!   therefore exact without a scan (CLUSTER COUNTKEYSINSLOT, migration, stats);
//! - a key with a TTL has exactly one record in its slot's expire table, and a key
//!   without one has none;
//! - nothing here reads the clock: callers pass `now` (milliseconds since the epoch).

pub mod db;
pub mod glob;
pub mod slot;
pub mod sso;
pub mod value;

pub use db::{Db, ScanCursor};
pub use slot::{key_slot, SLOT_COUNT};
pub use sso::Sso;
pub use value::Value;

/// All databases of a node plus the per-command clock. The server holds it behind one
/// lock per batch of commands (see ARCHITECTURE.md, "Threads").
pub struct Keyspace {
    pub dbs: Vec<Db>,
    /// The time commands see, in unix milliseconds, set before each command (Redis's
    /// cached `mstime`), so a command or a MULTI block sees one consistent instant.
    pub now_ms: u64,
    /// Writes since the last save (Redis's `server.dirty`).
    pub dirty: u64,
    pub rng: rand::rngs::SmallRng,
}

impl Keyspace {
    pub fn new(databases: usize) -> Keyspace {
        use rand::SeedableRng;
        Keyspace { dbs: (0..databases.max(1)).map(|_| Db::new()).collect(), now_ms: 0, dirty: 0, rng: rand::rngs::SmallRng::from_entropy() }
    }
}
