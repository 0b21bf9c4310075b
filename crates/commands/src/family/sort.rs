//! Family: SORT and SORT_RO.

use crate::table::CommandDef;

pub static COMMANDS: &[CommandDef] = &[];
