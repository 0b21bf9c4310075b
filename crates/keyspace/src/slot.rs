//! Hash slots: CRC16-XMODEM of the key (or of its hash tag) modulo 16384, exactly as
//! Redis Cluster's `keyHashSlot`.

/// Number of hash slots in a Redis Cluster.
pub const SLOT_COUNT: usize = 16384;
const _: () = assert!(SLOT_COUNT.is_power_of_two());
const _: () = assert!(SLOT_COUNT / 8 == 2048, "the bus slot bitmap is 2048 bytes");

const CRC16: crc::Crc<u16> = crc::Crc::<u16>::new(&crc::CRC_16_XMODEM);

/// The slot of `key`. When the key has a `{` followed later by a `}` with at least one
/// byte between them, only the bytes between the first `{` and the first `}` after it
/// are hashed (`{}` hashes the whole key, `{}{a}` too, `{a}{b}` hashes `a`).
#[inline]
pub fn key_slot(key: &[u8]) -> u16 {
    let hashed = match key.iter().position(|&c| c == b'{') {
        Some(s) => match key[s + 1..].iter().position(|&c| c == b'}') {
            Some(0) | None => key,
            Some(len) => &key[s + 1..s + 1 + len],
        },
        None => key,
    };
    CRC16.checksum(hashed) & (SLOT_COUNT as u16 - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_slots() {
        // Values checked against redis-server's CLUSTER KEYSLOT.
        assert_eq!(key_slot(b"123456789"), 0x31C3 & 0x3FFF);
        assert_eq!(key_slot(b"foo"), 12182);
        assert_eq!(key_slot(b"bar"), 5061);
        assert_eq!(key_slot(b"{user1000}.following"), key_slot(b"user1000"));
        assert_eq!(key_slot(b"{}"), CRC16.checksum(b"{}") & 0x3FFF);
        assert_eq!(key_slot(b"{}{a}"), CRC16.checksum(b"{}{a}") & 0x3FFF);
        assert_eq!(key_slot(b"a{"), CRC16.checksum(b"a{") & 0x3FFF);
        assert_eq!(key_slot(b"{a}{b}"), key_slot(b"a"));
        assert_eq!(key_slot(b"x{a}y{b}"), key_slot(b"a"));
        assert_eq!(key_slot(b""), 0);
    }
}
