//! Family: set (being written).

use crate::table::CommandDef;

pub static COMMANDS: &[CommandDef] = &[];
