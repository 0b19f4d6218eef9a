//! A consistent backup of a running installation (SEC-DATA-3): the SQLite database first
//! (`VACUUM INTO`), then every blob that snapshot references, copied from the configured
//! storage and checked against its SHA-256. Blobs are written once and never change, so copying
//! them after the snapshot gives the backup every file version it knows.
//!
//! Layout of a backup directory (the same as a data dir, so restoring is copying it back):
//!
//! ```text
//! DIR/atrium.db                      the database
//! DIR/files/blobs/<aa>/<bb>/<sha256> every referenced file content
//! ```

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use atrium_core::{Error, Result};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DbBackend, EntityTrait, QuerySelect};

use crate::blobs::Blobs;
use crate::db::db_err;
use crate::entity::file_version;
use crate::system::Operator;

/// Name of the database file in a backup (and in a data dir).
pub const DATABASE_FILE: &str = "atrium.db";
/// Name of the blob directory in a backup (and in a data dir).
pub const FILES_DIR: &str = "files";

/// What a backup wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackupReport {
    /// The database copy.
    pub database: PathBuf,
    /// Blobs copied.
    pub blobs: usize,
    /// Their bytes.
    pub bytes: u64,
}

impl Operator<'_> {
    /// Every blob some file version points at, deleted files' (still restorable) included, and
    /// the branding's logo and favicon.
    pub async fn referenced_blobs(self) -> Result<Vec<String>> {
        referenced_blobs(&self.store.db).await
    }
}

async fn referenced_blobs<C: ConnectionTrait>(db: &C) -> Result<Vec<String>> {
    let mut hashes: Vec<String> = file_version::Entity::find()
        .select_only()
        .column(file_version::Column::Sha256)
        .distinct()
        .into_tuple::<String>()
        .all(db)
        .await
        .map_err(db_err)?;
    for h in crate::branding::referenced(db).await? {
        if !hashes.contains(&h) {
            hashes.push(h);
        }
    }
    Ok(hashes)
}

impl Operator<'_> {
    /// Writes a consistent copy of a SQLite database to `path` while the server runs
    /// (`VACUUM INTO`, SEC-DATA-3). PostgreSQL deployments use `pg_dump` instead.
    pub async fn backup_to(self, path: &std::path::Path) -> Result<()> {
        use sea_orm::{ConnectionTrait, Statement};
        if self.store.backend() != DbBackend::Sqlite {
            return Err(Error::invalid("database_url", "backups of PostgreSQL are made with pg_dump (see README)"));
        }
        if path.exists() {
            return Err(Error::invalid("to", "the target file already exists"));
        }
        let target = path.to_str().ok_or_else(|| Error::invalid("to", "must be a UTF-8 path"))?;
        self.store
            .db
            .execute_raw(Statement::from_sql_and_values(DbBackend::Sqlite, "VACUUM INTO ?", [target.into()]))
            .await
            .map_err(|e| Error::internal("backup failed", e))?;
        Ok(())
    }
}

/// Writes a backup of `store` (SQLite) and the blobs it references in `blobs` to `dir`, which
/// must not exist or be empty. PostgreSQL → [`Error::Invalid`] (back it up with `pg_dump`).
/// A referenced blob missing from storage, or whose contents do not match its hash, fails the
/// backup once everything else is copied (the error names them).
pub async fn backup(op: Operator<'_>, blobs: &Blobs, dir: &Path) -> Result<BackupReport> {
    let store = op.store;
    if store.backend() != DbBackend::Sqlite {
        return Err(Error::invalid("database_url", "backups of PostgreSQL are made with pg_dump (see README)"));
    }
    prepare_dir(dir)?;
    let database = dir.join(DATABASE_FILE);
    op.backup_to(&database).await?;

    // The blobs the snapshot references (not the live database: it may have moved on).
    let hashes = snapshot_blobs(&database).await?;
    let referenced: HashSet<&str> = hashes.iter().map(String::as_str).collect();
    let files = dir.join(FILES_DIR);
    let target = Blobs::local(&files)?;
    let (mut copied, mut bytes) = (0usize, 0u64);
    let (mut missing, mut corrupt) = (Vec::new(), Vec::new());
    for sha256 in &hashes {
        let read = match blobs.get(sha256, None).await {
            Ok(read) => read,
            Err(Error::NotFound) => {
                missing.push(sha256);
                continue;
            }
            Err(e) => return Err(e),
        };
        let stored = target.put_stream(read.stream, u64::MAX).await?;
        if stored.sha256 != *sha256 {
            // The copy went in under what its contents hash to: drop it (unless that is another
            // referenced blob, which it then is a true copy of) and report the original.
            if !referenced.contains(stored.sha256.as_str()) {
                target.delete(&stored.sha256).await?;
            }
            corrupt.push(sha256);
            continue;
        }
        copied += 1;
        bytes += stored.size;
    }
    // Uploads leave an empty `tmp/`; a backup has none.
    let _ = std::fs::remove_dir(files.join("tmp"));
    if !missing.is_empty() || !corrupt.is_empty() {
        return Err(Error::internal_msg(format!(
            "backup incomplete: {copied} file contents copied, {} missing from {}{}, {} not matching their SHA-256{}",
            missing.len(),
            blobs.location(),
            first(&missing),
            corrupt.len(),
            first(&corrupt)
        )));
    }
    Ok(BackupReport { database, blobs: copied, bytes })
}

/// ` (first: <hash>)`, or nothing.
fn first(hashes: &[&String]) -> String {
    hashes.first().map(|h| format!(" (first: {h})")).unwrap_or_default()
}

/// Creates `dir`, or accepts it when it is an empty directory.
fn prepare_dir(dir: &Path) -> Result<()> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(Error::invalid("to", format!("{} already exists and is not empty", dir.display())));
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir).map_err(|e| Error::internal(format!("cannot create {}", dir.display()), e))
        }
        Err(_) if dir.exists() => Err(Error::invalid("to", format!("{} exists and is not a directory", dir.display()))),
        Err(e) => Err(Error::internal(format!("cannot read {}", dir.display()), e)),
    }
}

/// Opens the database copy read-only (no pragmas that would write to it) and lists its blobs.
async fn snapshot_blobs(database: &Path) -> Result<Vec<String>> {
    let mut opts = ConnectOptions::new(format!("sqlite://{}?mode=ro", database.display()));
    opts.sqlx_logging(false).max_connections(1);
    let db = Database::connect(opts).await.map_err(|e| Error::internal("cannot open the database copy", e))?;
    let hashes = referenced_blobs(&db).await;
    let _ = db.close().await;
    hashes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Store;
    use crate::files::UploadedBlob;
    use crate::people::NewUser;
    use crate::work::NewProject;
    use atrium_core::ids::ProjectId;
    use atrium_core::model::{ProjectStatus, Role};
    use atrium_core::policy::Actor;
    use bytes::Bytes;

    /// A fresh directory, removed on drop.
    struct Dir(PathBuf);
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn files_under(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() { out.extend(files_under(&path)) } else { out.push(path) }
        }
        out.sort();
        out
    }

    fn blob_file(root: &Path, sha: &str) -> PathBuf {
        root.join(format!("blobs/{}/{}/{sha}", &sha[..2], &sha[2..4]))
    }

    struct Fixture {
        _dir: Dir,
        root: PathBuf,
        store: Store,
        blobs: Blobs,
        actor: Actor,
        project: ProjectId,
    }

    async fn fixture() -> Fixture {
        let root = std::env::temp_dir().join(format!("atrium-full-backup-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&root).unwrap();
        let store = crate::connect(&format!("sqlite://{}?mode=rwc", root.join("atrium.db").display())).await.unwrap();
        store.migrate().await.unwrap();
        let user = store
            .operator()
            .create_user(NewUser {
                email: "owner@agency.test".into(),
                name: "Owner".into(),
                password_hash: None,
                role: Role::Owner,
                client_id: None,
            })
            .await
            .unwrap();
        let actor = Actor::new(user, "Owner".into(), "owner@agency.test".into(), Role::Owner, None).unwrap();
        let client = store.create_client(&actor, "Acme".into(), None).await.unwrap();
        let project = store
            .create_project(
                &actor,
                NewProject {
                    client_id: client.id,
                    name: "Site".into(),
                    description: String::new(),
                    status: ProjectStatus::Planned,
                    start_date: None,
                    due_date: None,
                },
                None,
            )
            .await
            .unwrap()
            .id;
        let blobs = Blobs::local(&root.join("files")).unwrap();
        Fixture { _dir: Dir(root.clone()), root, store, blobs, actor, project }
    }

    impl Fixture {
        /// Stores `content` and records it as (a new version of) file `name`.
        async fn upload(&self, name: &str, content: &'static [u8]) -> (atrium_core::ids::FileId, String) {
            let body = futures_util::stream::iter([Ok::<_, String>(Bytes::from_static(content))]);
            let stored = self.blobs.put_stream(body, u64::MAX).await.unwrap();
            let target = self.store.upload_target(&self.actor, self.project, None, u64::MAX).await.unwrap();
            let blob =
                UploadedBlob { sha256: stored.sha256.clone(), size: stored.size, content_type: "text/plain".into() };
            let file = self.store.add_upload(&self.actor, &target, name, blob, None).await.unwrap();
            (file.id, stored.sha256)
        }
    }

    #[tokio::test]
    async fn backup_holds_the_database_and_every_referenced_blob() {
        // SEC-DATA-3
        let f = fixture().await;
        let (_, a1) = f.upload("brief.txt", b"first draft").await;
        let (_, a2) = f.upload("brief.txt", b"second draft").await;
        let (gone, g) = f.upload("old.txt", b"deleted but restorable").await;
        f.store.delete_file(&f.actor, gone, None).await.unwrap();
        // In storage but referenced by no file version: not part of the backup.
        let body = futures_util::stream::iter([Ok::<_, String>(Bytes::from_static(b"orphan"))]);
        let orphan = f.blobs.put_stream(body, 100).await.unwrap().sha256;

        let mut referenced = f.store.operator().referenced_blobs().await.unwrap();
        referenced.sort();
        let mut expected = vec![a1.clone(), a2.clone(), g.clone()];
        expected.sort();
        assert_eq!(referenced, expected);

        let to = f.root.join("backup");
        let report = backup(f.store.operator(), &f.blobs, &to).await.unwrap();
        assert_eq!(report, BackupReport { database: to.join("atrium.db"), blobs: 3, bytes: 11 + 12 + 22 });
        let mut want: Vec<PathBuf> = expected.iter().map(|h| blob_file(&to.join("files"), h)).collect();
        want.push(to.join("atrium.db"));
        want.sort();
        assert_eq!(files_under(&to), want, "the database and the referenced blobs, nothing else");
        assert!(!blob_file(&to.join("files"), &orphan).exists());
        assert_eq!(std::fs::read(blob_file(&to.join("files"), &g)).unwrap(), b"deleted but restorable");
        assert_eq!(std::fs::read(blob_file(&to.join("files"), &a1)).unwrap(), b"first draft");

        // Restoring is copying it back: the copy opens as a data dir whose files all read back.
        let restored = crate::connect(&format!("sqlite://{}", to.join("atrium.db").display())).await.unwrap();
        let restored_blobs = Blobs::local(&to.join("files")).unwrap();
        for h in restored.operator().referenced_blobs().await.unwrap() {
            assert!(restored_blobs.exists(&h).await.unwrap(), "{h}");
        }
        restored.restore_file(&f.actor, gone, None).await.unwrap();
        restored.close().await;

        // Never into a directory that holds something.
        let again = backup(f.store.operator(), &f.blobs, &to).await.unwrap_err();
        assert!(matches!(&again, Error::Invalid { field, message } if field == "to" && message.contains("not empty")));
        // An empty directory is fine.
        let empty = f.root.join("empty");
        std::fs::create_dir_all(&empty).unwrap();
        assert_eq!(backup(f.store.operator(), &f.blobs, &empty).await.unwrap().blobs, 3);
        f.store.close().await;
    }

    #[tokio::test]
    async fn missing_or_corrupt_blobs_fail_the_backup() {
        let f = fixture().await;
        let (_, kept) = f.upload("a.txt", b"fine").await;
        let (_, lost) = f.upload("b.txt", b"lost").await;
        let (_, rotten) = f.upload("c.txt", b"rotten").await;
        f.blobs.delete(&lost).await.unwrap();
        std::fs::write(blob_file(&f.root.join("files"), &rotten), b"bit rot").unwrap();

        let to = f.root.join("backup");
        let err = backup(f.store.operator(), &f.blobs, &to).await.unwrap_err();
        let Error::Internal(detail) = &err else { panic!("{err:?}") };
        let message = detail.chain();
        assert!(message.contains("1 file contents copied"), "{message}");
        let from = f.blobs.location();
        assert!(message.contains(&format!("1 missing from {from} (first: {lost})")), "{message}");
        assert!(message.contains(&format!("1 not matching their SHA-256 (first: {rotten})")), "{message}");
        // What could be copied is there; the bad copy is not.
        let files = to.join("files");
        assert_eq!(files_under(&files), vec![blob_file(&files, &kept)]);
        f.store.close().await;
    }
}
