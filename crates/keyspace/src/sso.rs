//! `Sso`: an immutable byte string in 24 bytes, stored inline up to 23 bytes and in one
//! exact-size heap block beyond. Keys and small string values use it, so a typical key
//! with its value fits in one 48-byte allocation (see `db.rs`).
//!
//! Layout: bytes 0..23 hold the data inline, byte 23 is the tag: the inline length
//! (0..=23) or `HEAP`. On the heap, bytes 0..8 hold the pointer and 8..16 the length.
//! The tag is an enum with 25 values, which leaves a niche the compiler uses to fold
//! `Value`'s discriminant into the same 24 bytes.
//!
//! The "raw" mark (Redis's OBJ_ENCODING_RAW for a string that was modified in place or
//! built by SETRANGE/SETBIT/APPEND/BITOP/PFADD, which OBJECT ENCODING reports) is bit 5
//! of an inline tag or bit 0 of byte 16 of a heap string; the "noint" mark (a string
//! Redis stores as embstr even if it looks like an integer: INCRBYFLOAT's result) is
//! bit 6 of an inline tag or bit 1 of byte 16.

use std::fmt;

#[allow(dead_code)] // variants are created by transmute from a checked length
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Tag {
    // inline length (low 5 bits, 0..=23) | RAW_BIT (32) | NOINT_BIT (64)
    T0 = 0,
    T1 = 1,
    T2 = 2,
    T3 = 3,
    T4 = 4,
    T5 = 5,
    T6 = 6,
    T7 = 7,
    T8 = 8,
    T9 = 9,
    T10 = 10,
    T11 = 11,
    T12 = 12,
    T13 = 13,
    T14 = 14,
    T15 = 15,
    T16 = 16,
    T17 = 17,
    T18 = 18,
    T19 = 19,
    T20 = 20,
    T21 = 21,
    T22 = 22,
    T23 = 23,
    T24 = 24,
    T25 = 25,
    T26 = 26,
    T27 = 27,
    T28 = 28,
    T29 = 29,
    T30 = 30,
    T31 = 31,
    T32 = 32,
    T33 = 33,
    T34 = 34,
    T35 = 35,
    T36 = 36,
    T37 = 37,
    T38 = 38,
    T39 = 39,
    T40 = 40,
    T41 = 41,
    T42 = 42,
    T43 = 43,
    T44 = 44,
    T45 = 45,
    T46 = 46,
    T47 = 47,
    T48 = 48,
    T49 = 49,
    T50 = 50,
    T51 = 51,
    T52 = 52,
    T53 = 53,
    T54 = 54,
    T55 = 55,
    T56 = 56,
    T57 = 57,
    T58 = 58,
    T59 = 59,
    T60 = 60,
    T61 = 61,
    T62 = 62,
    T63 = 63,
    T64 = 64,
    T65 = 65,
    T66 = 66,
    T67 = 67,
    T68 = 68,
    T69 = 69,
    T70 = 70,
    T71 = 71,
    T72 = 72,
    T73 = 73,
    T74 = 74,
    T75 = 75,
    T76 = 76,
    T77 = 77,
    T78 = 78,
    T79 = 79,
    T80 = 80,
    T81 = 81,
    T82 = 82,
    T83 = 83,
    T84 = 84,
    T85 = 85,
    T86 = 86,
    T87 = 87,
    T88 = 88,
    T89 = 89,
    T90 = 90,
    T91 = 91,
    T92 = 92,
    T93 = 93,
    T94 = 94,
    T95 = 95,
    T96 = 96,
    T97 = 97,
    T98 = 98,
    T99 = 99,
    T100 = 100,
    T101 = 101,
    T102 = 102,
    T103 = 103,
    T104 = 104,
    T105 = 105,
    T106 = 106,
    T107 = 107,
    T108 = 108,
    T109 = 109,
    T110 = 110,
    T111 = 111,
    T112 = 112,
    T113 = 113,
    T114 = 114,
    T115 = 115,
    T116 = 116,
    T117 = 117,
    T118 = 118,
    T119 = 119,
    Heap = 255,
}

const INLINE_MAX: usize = 23;
/// Bit of an inline tag that marks the string raw; the length is the low 5 bits.
const RAW_BIT: u8 = 32;
/// Bit of an inline tag that marks a string that is never "int" encoded (Redis creates
/// INCRBYFLOAT's result without trying the integer encoding).
const NOINT_BIT: u8 = 64;
const LEN_MASK: u8 = 31;

/// An immutable byte string with inline storage for up to 23 bytes.
#[repr(C)]
pub struct Sso {
    data: [u8; 23],
    tag: Tag,
}

const _: () = assert!(std::mem::size_of::<Sso>() == 24);
const _: () = assert!(cfg!(target_pointer_width = "64"));

impl Sso {
    pub fn new(b: &[u8]) -> Sso {
        let mut data = [0u8; 23];
        if b.len() <= INLINE_MAX {
            data[..b.len()].copy_from_slice(b);
            // SAFETY: b.len() <= 23 and every value 0..=23 is a Tag variant.
            let tag = unsafe { std::mem::transmute::<u8, Tag>(b.len() as u8) };
            Sso { data, tag }
        } else {
            let boxed: Box<[u8]> = b.into();
            let len = boxed.len();
            let ptr = Box::into_raw(boxed) as *mut u8;
            data[..8].copy_from_slice(&(ptr as usize).to_ne_bytes());
            data[8..16].copy_from_slice(&len.to_ne_bytes());
            Sso { data, tag: Tag::Heap }
        }
    }

    pub fn from_vec(v: Vec<u8>) -> Sso {
        if v.len() <= INLINE_MAX {
            return Sso::new(&v);
        }
        let boxed = v.into_boxed_slice();
        let len = boxed.len();
        let ptr = Box::into_raw(boxed) as *mut u8;
        let mut data = [0u8; 23];
        data[..8].copy_from_slice(&(ptr as usize).to_ne_bytes());
        data[8..16].copy_from_slice(&len.to_ne_bytes());
        Sso { data, tag: Tag::Heap }
    }

    #[inline]
    fn heap_parts(&self) -> (*mut u8, usize) {
        let p = usize::from_ne_bytes(self.data[..8].try_into().expect("8 bytes"));
        let l = usize::from_ne_bytes(self.data[8..16].try_into().expect("8 bytes"));
        (p as *mut u8, l)
    }

    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        if self.tag == Tag::Heap {
            let (p, l) = self.heap_parts();
            // SAFETY: a heap Sso owns a live Box<[u8]> of exactly this pointer and length.
            unsafe { std::slice::from_raw_parts(p, l) }
        } else {
            &self.data[..(self.tag as u8 & LEN_MASK) as usize]
        }
    }

    #[inline]
    pub fn len(&self) -> usize {
        if self.tag == Tag::Heap {
            self.heap_parts().1
        } else {
            (self.tag as u8 & LEN_MASK) as usize
        }
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes, writable in place (the length cannot change): SETBIT, SETRANGE and
    /// BITFIELD update a string without reallocating it.
    /// Marks the string raw (see the module documentation).
    pub fn set_raw(&mut self) {
        self.set_mark(RAW_BIT, 1);
    }

    /// True when marked raw.
    pub fn is_raw(&self) -> bool {
        self.has_mark(RAW_BIT, 1)
    }

    /// Marks the string as never int-encoded (see the module documentation).
    pub fn set_noint(&mut self) {
        self.set_mark(NOINT_BIT, 2);
    }

    /// True when marked never int-encoded.
    pub fn is_noint(&self) -> bool {
        self.has_mark(NOINT_BIT, 2)
    }

    fn set_mark(&mut self, tag_bit: u8, heap_bit: u8) {
        if self.tag == Tag::Heap {
            self.data[16] |= heap_bit;
        } else {
            let t = self.tag as u8 | tag_bit;
            // SAFETY: t is at most 23 | 32 | 64 = 119, and every value 0..=119 is a Tag variant.
            self.tag = unsafe { std::mem::transmute::<u8, Tag>(t) };
        }
    }

    fn has_mark(&self, tag_bit: u8, heap_bit: u8) -> bool {
        if self.tag == Tag::Heap {
            self.data[16] & heap_bit != 0
        } else {
            self.tag as u8 & tag_bit != 0
        }
    }

    /// [`Sso::from_vec`], marked raw.
    pub fn from_vec_raw(v: Vec<u8>) -> Sso {
        let mut s = Sso::from_vec(v);
        s.set_raw();
        s
    }

    /// The bytes, writable in place; marks the string raw, as Redis's
    /// `dbUnshareStringValue` does.
    #[inline]
    pub fn as_bytes_mut(&mut self) -> &mut [u8] {
        self.set_raw();
        if self.tag == Tag::Heap {
            let (p, l) = self.heap_parts();
            // SAFETY: a heap Sso exclusively owns a live Box<[u8]> of this pointer and length,
            // and `&mut self` guarantees no other borrow of it exists.
            unsafe { std::slice::from_raw_parts_mut(p, l) }
        } else {
            let n = (self.tag as u8 & LEN_MASK) as usize;
            &mut self.data[..n]
        }
    }

    /// True when the bytes live in a separate heap block.
    pub fn is_heap(&self) -> bool {
        self.tag == Tag::Heap
    }

    /// Bytes of heap memory owned besides the 24 inline bytes.
    pub fn heap_size(&self) -> usize {
        if self.is_heap() {
            self.len()
        } else {
            0
        }
    }
}

impl Drop for Sso {
    fn drop(&mut self) {
        if self.tag == Tag::Heap {
            let (p, l) = self.heap_parts();
            // SAFETY: created by Box::into_raw of a Box<[u8]> with this length, dropped once.
            unsafe { drop(Box::from_raw(std::ptr::slice_from_raw_parts_mut(p, l))) };
        }
    }
}

impl Clone for Sso {
    fn clone(&self) -> Sso {
        let mut c = Sso::new(self.as_bytes());
        if self.is_raw() {
            c.set_raw();
        }
        if self.is_noint() {
            c.set_noint();
        }
        c
    }
}

// SAFETY: Sso owns its heap block exclusively, like Box<[u8]>.
unsafe impl Send for Sso {}
// SAFETY: no interior mutability.
unsafe impl Sync for Sso {}

impl PartialEq for Sso {
    fn eq(&self, o: &Sso) -> bool {
        self.as_bytes() == o.as_bytes()
    }
}
impl Eq for Sso {}

impl std::hash::Hash for Sso {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.as_bytes().hash(h)
    }
}

impl std::borrow::Borrow<[u8]> for Sso {
    fn borrow(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl AsRef<[u8]> for Sso {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl fmt::Debug for Sso {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.as_bytes()))
    }
}

impl From<&[u8]> for Sso {
    fn from(b: &[u8]) -> Sso {
        Sso::new(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_and_heap() {
        for n in [0usize, 1, 22, 23, 24, 100, 5000] {
            let v: Vec<u8> = (0..n).map(|i| i as u8).collect();
            let s = Sso::new(&v);
            assert_eq!(s.as_bytes(), &v[..]);
            assert_eq!(s.len(), n);
            assert_eq!(s.is_heap(), n > 23);
            let c = s.clone();
            assert_eq!(c, s);
            let f = Sso::from_vec(v.clone());
            assert_eq!(f.as_bytes(), &v[..]);
        }
    }
}
