//! zset values (placeholder layout; the zset family owner replaces the internals but keeps
//! `encoding()`, `len()` and `mem_usage()`).

/// A zset value.
#[derive(Default)]
pub struct ZSetValue {
    _items: Vec<crate::sso::Sso>,
}

impl ZSetValue {
    /// The name OBJECT ENCODING replies with.
    pub fn encoding(&self) -> &'static str {
        "listpack"
    }
    pub fn len(&self) -> usize {
        self._items.len()
    }
    pub fn is_empty(&self) -> bool {
        self._items.is_empty()
    }
    /// Approximate bytes owned (MEMORY USAGE).
    pub fn mem_usage(&self) -> usize {
        self._items.capacity() * 24
    }
}
