//! Command errors, rendered to redis-server's exact texts in one place.
//!
//! A command either succeeds (and wrote its reply) or returns a [`CmdError`] without
//! having written anything; the dispatcher writes the error and counts it in
//! `errorstats` under its prefix (`ERR`, `WRONGTYPE`, ...).

use std::fmt;

/// A command error. `Display` gives the full reply text after the `-`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CmdError {
    Syntax,
    WrongType,
    NotInteger,
    NotFloat,
    Overflow,
    NoSuchKey,
    IndexOutOfRange,
    OffsetOutOfRange,
    BitOutOfRange,
    InvalidExpire(&'static str),
    InvalidDbIndex,
    DbIndexOutOfRange,
    SameObject,
    /// `ERR wrong number of arguments for '<cmd>' command`
    WrongArity(String),
    /// `ERR unknown subcommand '<sub>'. Try <CMD> HELP.`
    UnknownSubcommand {
        sub: String,
        cmd: String,
    },
    NoAuth,
    /// Any other text, given whole including its prefix (e.g. `ERR ...`, `BUSYKEY ...`).
    Raw(String),
}

pub type CmdResult = Result<(), CmdError>;

impl CmdError {
    /// Shortcut for `ERR <msg>`.
    pub fn err(msg: impl Into<String>) -> CmdError {
        CmdError::Raw(format!("ERR {}", msg.into()))
    }
    pub fn raw(msg: impl Into<String>) -> CmdError {
        CmdError::Raw(msg.into())
    }
}

impl fmt::Display for CmdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CmdError::Syntax => f.write_str("ERR syntax error"),
            CmdError::WrongType => f.write_str("WRONGTYPE Operation against a key holding the wrong kind of value"),
            CmdError::NotInteger => f.write_str("ERR value is not an integer or out of range"),
            CmdError::NotFloat => f.write_str("ERR value is not a valid float"),
            CmdError::Overflow => f.write_str("ERR increment or decrement would overflow"),
            CmdError::NoSuchKey => f.write_str("ERR no such key"),
            CmdError::IndexOutOfRange => f.write_str("ERR index out of range"),
            CmdError::OffsetOutOfRange => f.write_str("ERR offset is out of range"),
            CmdError::BitOutOfRange => f.write_str("ERR bit offset is not an integer or out of range"),
            CmdError::InvalidExpire(cmd) => write!(f, "ERR invalid expire time in '{cmd}' command"),
            CmdError::InvalidDbIndex => f.write_str("ERR invalid DB index"),
            CmdError::DbIndexOutOfRange => f.write_str("ERR DB index is out of range"),
            CmdError::SameObject => f.write_str("ERR source and destination objects are the same"),
            CmdError::WrongArity(c) => write!(f, "ERR wrong number of arguments for '{c}' command"),
            CmdError::UnknownSubcommand { sub, cmd } => write!(f, "ERR unknown subcommand '{sub}'. Try {cmd} HELP."),
            CmdError::NoAuth => f.write_str("NOAUTH Authentication required."),
            CmdError::Raw(s) => f.write_str(s),
        }
    }
}
