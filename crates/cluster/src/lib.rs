//! Shoal's cluster logic: the Redis 7.0 cluster bus wire format, the node state machine
//! (messages and clock ticks in, messages and state changes out; no I/O, no wall clock,
//! no thread randomness), nodes.conf, and a deterministic simulator.
