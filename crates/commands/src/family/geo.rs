//! Family: geo commands (GEOADD ... GEOSEARCHSTORE) on sorted sets.

use crate::table::CommandDef;

pub static COMMANDS: &[CommandDef] = &[];
