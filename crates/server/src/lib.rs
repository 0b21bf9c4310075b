//! The server: the one crate that owns sockets, threads and timers. It loads the
//! configuration, listens, runs connections on I/O threads, and runs the periodic jobs
//! (active expiry, idle timeouts). Everything it executes goes through
//! `shoal_commands::exec`.

pub mod cluster_bus;
pub mod conn;
pub mod log;
pub mod server;

pub use server::run;
