//! Family: config (being written).

use crate::table::CommandDef;

pub static COMMANDS: &[CommandDef] = &[];
