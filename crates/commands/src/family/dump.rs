//! Family: dump (being written).

use crate::table::CommandDef;

pub static COMMANDS: &[CommandDef] = &[];
