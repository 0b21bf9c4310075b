//! Family: pub/sub (SUBSCRIBE ... PUBSUB, sharded channels) and keyspace notifications delivery.

use crate::table::CommandDef;

pub static COMMANDS: &[CommandDef] = &[];
