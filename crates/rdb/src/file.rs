//! RDB files (`REDIS0010` header, AUX fields, databases, CRC64 trailer).
