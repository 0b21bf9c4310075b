//! Family: server and client administration (being written).

use crate::error::{CmdError, CmdResult};
use crate::table::CommandDef;

/// CLIENT SETNAME / HELLO SETNAME name rules: no spaces, newlines or special chars.
pub fn validate_client_name(n: &[u8]) -> CmdResult {
    if n.iter().any(|&c| !(b'!'..=b'~').contains(&c)) {
        return Err(CmdError::err("Client names cannot contain spaces, newlines or special characters."));
    }
    Ok(())
}

pub static COMMANDS: &[CommandDef] = &[];
