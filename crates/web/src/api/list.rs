//! The shape of every paged list of the API (a leaf: the operation modules use it, it uses none
//! of them).

/// A page of items, newest first unless stated.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct List<T: utoipa::ToSchema> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T: utoipa::ToSchema> From<atrium_store::paging::Page<T>> for List<T> {
    fn from(p: atrium_store::paging::Page<T>) -> Self {
        List { items: p.items, next_cursor: p.next_cursor }
    }
}
