//! Argument parsing helpers with Redis's rules and error texts.

use crate::error::CmdError;
use shoal_keyspace::value::shoal_parse_i64;

/// Case-insensitive comparison of an argument with an ASCII keyword.
#[inline]
pub fn eq_ic(arg: &[u8], kw: &str) -> bool {
    arg.eq_ignore_ascii_case(kw.as_bytes())
}

/// An integer argument (`ERR value is not an integer or out of range` otherwise).
pub fn parse_i64(arg: &[u8]) -> Result<i64, CmdError> {
    shoal_parse_i64(arg).ok_or(CmdError::NotInteger)
}

/// A non-negative integer argument.
pub fn parse_u64(arg: &[u8]) -> Result<u64, CmdError> {
    match shoal_parse_i64(arg) {
        Some(v) if v >= 0 => Ok(v as u64),
        _ => Err(CmdError::NotInteger),
    }
}

/// An integer with a custom error text (`ERR <msg>`), for arguments like COUNT.
pub fn parse_i64_or(arg: &[u8], msg: &str) -> Result<i64, CmdError> {
    shoal_parse_i64(arg).ok_or_else(|| CmdError::err(msg))
}

/// A float argument (`ERR value is not a valid float` otherwise).
pub fn parse_f64(arg: &[u8]) -> Result<f64, CmdError> {
    shoal_resp::parse_double(arg).ok_or(CmdError::NotFloat)
}

/// Lossy UTF-8 for error messages.
pub fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Formats an i64 as bytes.
pub fn i64_bytes(v: i64) -> Vec<u8> {
    v.to_string().into_bytes()
}
