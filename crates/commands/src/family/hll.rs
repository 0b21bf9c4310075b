//! Family: HyperLogLog (PFADD PFCOUNT PFMERGE PFDEBUG PFSELFTEST), Redis's sparse/dense encodings byte for byte.

use crate::table::CommandDef;

pub static COMMANDS: &[CommandDef] = &[];
