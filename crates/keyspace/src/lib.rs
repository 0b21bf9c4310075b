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
