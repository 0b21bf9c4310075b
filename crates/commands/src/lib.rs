//! Commands: the command table, the pre-execution pipeline ([`exec`]), and one file per
//! command family under [`family`]. Handlers run against the keyspace under the server's
//! command lock and write RESP replies into a buffer; they never do I/O.

pub mod blocking;
pub mod cluster;
pub mod config;
pub mod ctx;
pub mod error;
pub mod exec;
pub mod family;
pub mod table;
pub mod util;

pub use ctx::{Action, Client, ClientInfo, Ctx, Shared, State};
pub use error::{CmdError, CmdResult};
