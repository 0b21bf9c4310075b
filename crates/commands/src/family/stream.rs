//! Family: streams (X* commands, consumer groups).

use crate::table::CommandDef;

pub static COMMANDS: &[CommandDef] = &[];
