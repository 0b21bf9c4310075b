//! Redis RDB serialization: the object encodings of every value type, DUMP/RESTORE
//! payloads (value + RDB version + CRC64), and RDB files. One implementation shared by
//! DUMP/RESTORE, MIGRATE, persistence and replication. (Being written.)
