//! `Sso`: an immutable byte string in 24 bytes, stored inline up to 23 bytes and in one
//! exact-size heap block beyond. Keys and small string values use it, so a typical key
//! with its value fits in one 48-byte allocation (see `db.rs`).
//!
//! Layout: bytes 0..23 hold the data inline, byte 23 is the tag: the inline length
//! (0..=23) or `HEAP`. On the heap, bytes 0..8 hold the pointer and 8..16 the length.
//! The tag is an enum with 25 values, which leaves a niche the compiler uses to fold
//! `Value`'s discriminant into the same 24 bytes.

use std::fmt;

#[allow(dead_code)] // variants are created by transmute from a checked length
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Tag {
    L0 = 0,
    L1 = 1,
    L2 = 2,
    L3 = 3,
    L4 = 4,
    L5 = 5,
    L6 = 6,
    L7 = 7,
    L8 = 8,
    L9 = 9,
    L10 = 10,
    L11 = 11,
    L12 = 12,
    L13 = 13,
    L14 = 14,
    L15 = 15,
    L16 = 16,
    L17 = 17,
    L18 = 18,
    L19 = 19,
    L20 = 20,
    L21 = 21,
    L22 = 22,
    L23 = 23,
    Heap = 255,
}

const INLINE_MAX: usize = 23;

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
            &self.data[..self.tag as usize]
        }
    }

    #[inline]
    pub fn len(&self) -> usize {
        if self.tag == Tag::Heap {
            self.heap_parts().1
        } else {
            self.tag as usize
        }
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes, writable in place (the length cannot change): SETBIT, SETRANGE and
    /// BITFIELD update a string without reallocating it.
    #[inline]
    pub fn as_bytes_mut(&mut self) -> &mut [u8] {
        if self.tag == Tag::Heap {
            let (p, l) = self.heap_parts();
            // SAFETY: a heap Sso exclusively owns a live Box<[u8]> of this pointer and length,
            // and `&mut self` guarantees no other borrow of it exists.
            unsafe { std::slice::from_raw_parts_mut(p, l) }
        } else {
            let n = self.tag as usize;
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
        Sso::new(self.as_bytes())
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
