//! set values (placeholder layout; the set family owner replaces the internals but keeps
//! `encoding()`, `len()` and `mem_usage()`).

/// A set value.
#[derive(Default)]
pub struct SetValue {
    _items: Vec<crate::sso::Sso>,
}

impl SetValue {
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
