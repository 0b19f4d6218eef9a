//! Cursor paging shared by every list: a page request, a page, and the one place a cursor is
//! resolved (through the list's own scoped query). A leaf: it imports no other query module.

use atrium_core::{Error, Result};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select};
use uuid::Uuid;

use crate::db::db_err;

/// A page of results, newest first, with the cursor for the next page.
#[derive(Clone, Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// Paging input: at most `limit` items strictly after `cursor` (an item id).
#[derive(Clone, Copy, Debug)]
pub struct PageRequest {
    pub limit: u64,
    pub cursor: Option<Uuid>,
}

impl PageRequest {
    /// The largest page the API serves.
    pub const MAX: u64 = 200;

    /// Everything (internal use: pages render full lists of one project).
    pub fn all() -> Self {
        PageRequest { limit: 10_000, cursor: None }
    }
}

/// The one answer to a cursor that is not an item of the list it is used with: a random id,
/// another client's item, a note or staff-only item the caller cannot see, an item of another
/// list, or one that has since left this list (all alike, so a cursor confirms nothing).
pub fn bad_cursor() -> Error {
    Error::invalid("cursor", "is not a cursor from this API")
}

/// The rows of one page of a list: `q` is the list's own query (its scope and filters already
/// applied), newest first by `key`, at most `req.limit + 1` rows (for [`page`] to tell whether
/// there is more). The cursor is resolved *through `q` itself* — its `key` is read from the row
/// `q` returns for `id = cursor` — so a cursor that is not an item of this very list is
/// [`bad_cursor`]. Every cursor-paged list reads its rows here.
pub(crate) async fn page_rows<E: EntityTrait>(
    db: &impl sea_orm::ConnectionTrait,
    q: Select<E>,
    req: PageRequest,
    id: E::Column,
    key: E::Column,
) -> Result<Vec<E::Model>> {
    let q = match req.cursor {
        None => q,
        Some(c) => {
            let at = q.clone().filter(id.eq(c)).one(db).await.map_err(db_err)?.ok_or_else(bad_cursor)?;
            q.filter(key.lt(sea_orm::ModelTrait::get(&at, key)))
        }
    };
    q.order_by_desc(key).limit(req.limit + 1).all(db).await.map_err(db_err)
}

pub(crate) fn page<T>(mut items: Vec<T>, req: PageRequest, id: impl Fn(&T) -> Uuid) -> Page<T> {
    let more = items.len() as u64 > req.limit;
    if more {
        items.truncate(usize::try_from(req.limit).unwrap_or(usize::MAX));
    }
    let next_cursor = if more { items.last().map(|i| id(i).to_string()) } else { None };
    Page { items, next_cursor }
}

#[cfg(test)]
mod tests {
    /// Every cursor-paged list resolves its cursor in [`super::page_rows`]: no other code of the
    /// store reads a page request's cursor, so a new list cannot position itself after an id it
    /// has not checked against its own scope (a foreign id would then confirm it exists).
    #[test]
    fn only_page_rows_reads_a_cursor() {
        let mut stack = vec![std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src")];
        let mut readers = Vec::new();
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d).expect("src dir") {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).expect("source");
                    // Code only: up to the file's tests, without comments.
                    let code = text.split("#[cfg(test)]").next().unwrap_or_default();
                    for line in code.lines().map(|l| l.split("//").next().unwrap_or_default()) {
                        if line.contains(".cursor") {
                            readers.push((path.file_name().unwrap_or_default().to_owned(), line.trim().to_owned()));
                        }
                    }
                }
            }
        }
        assert_eq!(readers, [("paging.rs".into(), "let q = match req.cursor {".to_owned())]);
    }
}
