//! Command families, one file each, each ending with its `COMMANDS` table.

pub mod bitops;
pub mod blocking;
pub mod cluster;
pub mod config;
pub mod connection;
pub mod dump;
pub mod geo;
pub mod hash;
pub mod hll;
pub mod info;
pub mod keys;
pub mod list;
pub mod migrate;
pub mod pubsub;
pub mod server;
pub mod set;
pub mod sort;
pub mod stream;
pub mod string;
pub mod tx;
pub mod zset;
