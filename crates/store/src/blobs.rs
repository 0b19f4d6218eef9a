//! Content-addressed file storage on [`object_store`]: each blob is stored once under its
//! SHA-256, at `blobs/<aa>/<bb>/<sha256>` under the root, and never modified. Uploads are
//! streamed to `tmp/<uuid>` and moved into place only when complete.
//!
//! The root is a local directory ([`Blobs::local`], the default `<data-dir>/files`) or an
//! S3-compatible bucket, optionally under a prefix ([`Blobs::s3`], `s3://bucket[/prefix]`).
//! On S3 an upload is a multipart upload of [`S3_PART_SIZE`] parts to `tmp/<uuid>`, then a
//! server-side copy into place (a conditional copy where the bucket is configured for one,
//! otherwise check-then-copy: racing uploads of the same content write the same bytes).
//!
//! Rendered previews are stored beside the blobs, at `previews/<sha256>/<size>.png`: derived
//! data, shared by every server, deleted with their blob and not part of backups.

use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use atrium_core::{Error, Result};
use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::{Stream, StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::prefix::PrefixStore;
use object_store::{GetOptions, ObjectStore, ObjectStoreExt, WriteMultipart};
use sha2::{Digest, Sha256};

/// Prefix of finished blobs.
const BLOBS: &str = "blobs";
/// Prefix of uploads in progress.
const TMP: &str = "tmp";
/// Prefix of rendered previews: `previews/<sha256>/<size>.png`, derived from a blob (not part
/// of backups; deleted with the blob).
const PREVIEWS: &str = "previews";
/// How many bytes [`Blobs::head_bytes`] returns at most.
const HEAD_LEN: u64 = 8 * 1024;
/// Parts being written concurrently while another fills (bounds upload memory).
const PARTS_IN_FLIGHT: usize = 2;
/// Upload part size in a local directory.
const LOCAL_PART_SIZE: usize = 1024 * 1024;
/// Upload part size on S3, whose parts (all but the last) must be at least 5 MiB.
pub const S3_PART_SIZE: usize = 5 * 1024 * 1024;
/// The largest blob S3 can hold here: a finished upload is moved into place by a single
/// server-side copy, which S3 allows up to 5 GiB.
pub const S3_MAX_BLOB: u64 = 5 * 1024 * 1024 * 1024;

/// Where file contents live: `blobs/<aa>/<bb>/<sha256>` under a root, written once, never modified.
#[derive(Clone)]
pub struct Blobs {
    store: Arc<dyn ObjectStore>,
    /// Size of an upload part: memory per upload stays below `(PARTS_IN_FLIGHT + 1) × part_size`.
    part_size: usize,
    /// The local `tmp` directory, whose half-written staging files a listing does not show.
    local_tmp: Option<PathBuf>,
    /// Where the blobs are, for logs (never a credential).
    location: String,
    /// The largest blob this storage can take, if it has a limit.
    max_blob: Option<u64>,
}

impl std::fmt::Debug for Blobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A store's own Debug may include its credentials: a local one shows its Display
        // (`LocalFileSystem(file:///…/)`, as tests rely on), S3 its location only.
        let store = if self.local_tmp.is_some() { self.store.to_string() } else { self.location.clone() };
        f.debug_struct("Blobs").field("store", &format_args!("{store}")).finish_non_exhaustive()
    }
}

/// A blob just stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredBlob {
    /// SHA-256 of the contents, lowercase hex.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
}

/// A blob (or part of one) being read.
pub struct BlobRead {
    /// Size of the whole blob.
    pub size: u64,
    /// The byte range the stream yields (half-open).
    pub range: Range<u64>,
    /// The bytes of `range`, in chunks.
    pub stream: BoxStream<'static, Result<Bytes>>,
}

impl std::fmt::Debug for BlobRead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobRead").field("size", &self.size).field("range", &self.range).finish_non_exhaustive()
    }
}

impl Blobs {
    /// Blobs in a local directory (created if missing); blobs go to its `blobs/`, uploads in
    /// progress to its `tmp/`. Writes are fsynced.
    pub fn local(dir: &std::path::Path) -> Result<Blobs> {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::internal(format!("cannot create the blob directory {}", dir.display()), e))?;
        let fs = LocalFileSystem::new_with_prefix(dir).map_err(storage)?.with_fsync(true);
        let local_tmp = fs.path_to_filesystem(&Path::from(TMP)).map_err(storage)?;
        let location = dir.display().to_string();
        Ok(Blobs {
            store: Arc::new(fs),
            part_size: LOCAL_PART_SIZE,
            local_tmp: Some(local_tmp),
            location,
            max_blob: None,
        })
    }

    /// The configured storage: `storage_url` (`s3://bucket[/prefix]`, see [`Blobs::s3`]), or
    /// the local directory `default_dir` when there is none. Any other URL → [`Error::Invalid`]
    /// on `storage_url`.
    pub fn open(storage_url: Option<&str>, default_dir: &std::path::Path) -> Result<Blobs> {
        match storage_url {
            None => Blobs::local(default_dir),
            Some(url) => Blobs::s3(url, []),
        }
    }

    /// Blobs in an S3-compatible bucket, `s3://bucket[/prefix]`. Credentials, region and
    /// endpoint come from the standard variables (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
    /// `AWS_SESSION_TOKEN`, `AWS_REGION`, `AWS_ENDPOINT` or `AWS_ENDPOINT_URL` for MinIO-like
    /// servers, `AWS_ALLOW_HTTP=true` for a plain-http one), then `options` (tests); nothing
    /// is contacted until the first operation.
    pub fn s3(url: &str, options: impl IntoIterator<Item = (AmazonS3ConfigKey, String)>) -> Result<Blobs> {
        let S3Url { bucket, prefix } = parse_storage_url(url)?;
        let mut builder = AmazonS3Builder::from_env().with_bucket_name(&bucket);
        for (key, value) in options {
            builder = builder.with_config(key, value);
        }
        let s3 =
            builder.build().map_err(|e| Error::invalid("storage_url", format!("cannot configure S3 storage: {e}")))?;
        let (store, location): (Arc<dyn ObjectStore>, String) = match prefix {
            Some(prefix) => (Arc::new(PrefixStore::new(s3, prefix.clone())), format!("s3://{bucket}/{prefix}")),
            None => (Arc::new(s3), format!("s3://{bucket}")),
        };
        Ok(Blobs { store, part_size: S3_PART_SIZE, local_tmp: None, location, max_blob: Some(S3_MAX_BLOB) })
    }

    /// Where the blobs are (a directory or `s3://bucket/prefix`; no credentials), for logs.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// The largest blob this storage takes, if it has a limit (S3: [`S3_MAX_BLOB`]).
    pub fn max_blob(&self) -> Option<u64> {
        self.max_blob
    }

    /// Streams `body` into storage while hashing it (SHA-256), never holding the whole file in memory.
    ///
    /// More than `max` bytes → [`Error::TooLarge`]; an [`Error`] from the stream is returned as
    /// it is (the caller decided what it means), any other error → "the upload was interrupted";
    /// an empty body → "is empty". On any failure nothing is left behind. A blob
    /// that already exists is not written again (the new copy is discarded).
    pub async fn put_stream<S, E>(&self, body: S, max: u64) -> Result<StoredBlob>
    where
        S: Stream<Item = Result<Bytes, E>> + Send + Unpin,
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let temp = Path::from(format!("{TMP}/{}", uuid::Uuid::now_v7()));
        let upload = self.store.put_multipart(&temp).await.map_err(storage)?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, self.part_size);
        let (sha256, size) = match write_body(&mut writer, body, max).await {
            Ok(done) => done,
            Err(e) => {
                if let Err(abort) = writer.abort().await {
                    tracing::warn!(error = %abort, "could not abort a blob upload");
                }
                self.discard(&temp).await;
                return Err(e);
            }
        };
        let placed = match writer.finish().await {
            Ok(_) => self.place(&temp, &blob_path(&sha256)?).await,
            Err(e) => Err(storage(e)),
        };
        if let Err(e) = placed {
            self.discard(&temp).await;
            return Err(e);
        }
        Ok(StoredBlob { sha256, size })
    }

    /// Reads a blob, all of it or `range` (half-open; the end is clamped to the size, an
    /// empty range or one starting past the end → invalid), as a stream of chunks.
    pub async fn get(&self, sha256: &str, range: Option<Range<u64>>) -> Result<BlobRead> {
        let location = blob_path(sha256)?;
        let options = match range {
            None => GetOptions::new(),
            Some(wanted) => {
                let size = self.store.head(&location).await.map_err(not_found)?.size;
                if wanted.start >= wanted.end || wanted.start >= size {
                    return Err(Error::invalid("range", format!("cannot be satisfied (the file has {size} bytes)")));
                }
                GetOptions::new().with_range(Some(wanted.start..wanted.end.min(size)))
            }
        };
        let result = self.store.get_opts(&location, options).await.map_err(not_found)?;
        let (size, range) = (result.meta.size, result.range.clone());
        Ok(BlobRead { size, range, stream: result.into_stream().map_err(storage).boxed() })
    }

    /// The first up to 8 KiB (content sniffing).
    pub async fn head_bytes(&self, sha256: &str) -> Result<Bytes> {
        let location = blob_path(sha256)?;
        let options = GetOptions::new().with_range(Some(0..HEAD_LEN));
        let result = self.store.get_opts(&location, options).await.map_err(not_found)?;
        result.bytes().await.map_err(storage)
    }

    /// Deletes a blob and the previews rendered from it (purges); a missing blob is not an error.
    pub async fn delete(&self, sha256: &str) -> Result<()> {
        let previews: Vec<Path> = self
            .store
            .list(Some(&preview_dir(sha256)?))
            .map_ok(|meta| meta.location)
            .try_collect()
            .await
            .or_else(|e| if matches!(e, object_store::Error::NotFound { .. }) { Ok(Vec::new()) } else { Err(e) })
            .map_err(storage)?;
        for location in previews.iter().chain(std::iter::once(&blob_path(sha256)?)) {
            match self.store.delete(location).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(storage(e)),
            }
        }
        Ok(())
    }

    /// The stored preview of a blob at `size` pixels, if one was stored ([`Blobs::put_preview`];
    /// its bytes may be empty: "this blob has no preview").
    pub async fn preview(&self, sha256: &str, size: u32) -> Result<Option<Bytes>> {
        match self.store.get(&preview_path(sha256, size)?).await {
            Ok(found) => found.bytes().await.map(Some).map_err(storage),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(storage(e)),
        }
    }

    /// Stores the preview of a blob at `size` pixels (empty: it has none), keyed only by the
    /// blob's SHA-256 and the size, so every server of the instance shares it.
    pub async fn put_preview(&self, sha256: &str, size: u32, bytes: Bytes) -> Result<()> {
        self.store.put(&preview_path(sha256, size)?, bytes.into()).await.map(|_| ()).map_err(storage)
    }

    /// Whether a blob exists.
    pub async fn exists(&self, sha256: &str) -> Result<bool> {
        let location = match blob_path(sha256) {
            Ok(location) => location,
            Err(_) => return Ok(false),
        };
        self.exists_at(&location).await
    }

    /// Removes temporary objects older than `age` (left by a crash mid-upload); returns how many.
    pub async fn sweep_temporary(&self, age: Duration) -> Result<usize> {
        let Ok(delta) = chrono::TimeDelta::from_std(age) else { return Ok(0) };
        let cutoff = chrono::Utc::now() - delta;
        let old: Vec<Path> = self
            .store
            .list(Some(&Path::from(TMP)))
            .try_filter(|meta| std::future::ready(meta.last_modified < cutoff))
            .map_ok(|meta| meta.location)
            .try_collect()
            .await
            .map_err(storage)?;
        let mut removed = 0;
        for location in old {
            match self.store.delete(&location).await {
                Ok(()) => removed += 1,
                Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(storage(e)),
            }
        }
        if let Some(dir) = self.local_tmp.clone() {
            let staged = tokio::task::spawn_blocking(move || sweep_local_staging(&dir, age))
                .await
                .map_err(|e| Error::internal("blob sweep", e))??;
            removed += staged;
        }
        Ok(removed)
    }

    /// Moves a finished upload to `dest`, or drops it when `dest` already exists.
    async fn place(&self, temp: &Path, dest: &Path) -> Result<()> {
        match self.store.rename_if_not_exists(temp, dest).await {
            Ok(()) => Ok(()),
            Err(object_store::Error::AlreadyExists { .. }) => {
                self.discard(temp).await;
                Ok(())
            }
            // Stores without conditional copies: check, then move (same content either way).
            Err(object_store::Error::NotImplemented { .. } | object_store::Error::NotSupported { .. }) => {
                if self.exists_at(dest).await? {
                    self.discard(temp).await;
                    Ok(())
                } else {
                    self.store.rename(temp, dest).await.map_err(storage)
                }
            }
            Err(e) => Err(storage(e)),
        }
    }

    async fn exists_at(&self, location: &Path) -> Result<bool> {
        match self.store.head(location).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(storage(e)),
        }
    }

    /// Deletes a temporary object, best effort (the sweep catches what this misses).
    async fn discard(&self, temp: &Path) {
        match self.store.delete(temp).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => tracing::warn!(error = %e, path = %temp, "could not delete a temporary blob"),
        }
    }
}

/// Copies `body` into `writer`, returning its SHA-256 (hex) and size.
async fn write_body<S, E>(writer: &mut WriteMultipart, mut body: S, max: u64) -> Result<(String, u64)>
where
    S: Stream<Item = Result<Bytes, E>> + Send + Unpin,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| match e.into().downcast::<Error>() {
            Ok(e) => *e,
            Err(e) => {
                tracing::debug!(error = %e, "upload stream failed");
                Error::invalid("file", "the upload was interrupted")
            }
        })?;
        size = size.saturating_add(chunk.len() as u64);
        if size > max {
            return Err(Error::TooLarge);
        }
        hasher.update(&chunk);
        writer.wait_for_capacity(PARTS_IN_FLIGHT).await.map_err(storage)?;
        writer.put(chunk);
    }
    if size == 0 {
        return Err(Error::invalid("file", "is empty"));
    }
    Ok((hex::encode(hasher.finalize()), size))
}

/// Deletes local multipart staging files (`tmp/<uuid>#<n>`, not listed by the store) older than `age`.
fn sweep_local_staging(dir: &std::path::Path, age: Duration) -> Result<usize> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(Error::internal("blob sweep", e)),
    };
    let cutoff = SystemTime::now().checked_sub(age).unwrap_or(SystemTime::UNIX_EPOCH);
    let mut removed = 0;
    for entry in entries.flatten() {
        let staging = entry.file_name().to_str().is_some_and(|name| name.contains('#'));
        let old = entry.metadata().is_ok_and(|m| m.is_file() && m.modified().is_ok_and(|t| t < cutoff));
        if staging && old && std::fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    Ok(removed)
}

/// A checked `s3://bucket[/prefix]` URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct S3Url {
    /// The bucket name.
    pub bucket: String,
    /// The key prefix everything is stored under, without leading or trailing `/`.
    pub prefix: Option<Path>,
}

/// Checks a storage URL: `s3://bucket[/prefix]` with no credentials, port, query or fragment
/// (credentials come from the environment). Errors never repeat the URL (it may hold a secret).
pub fn parse_storage_url(url: &str) -> Result<S3Url> {
    let invalid = |message: &str| Error::invalid("storage_url", message.to_string());
    let parsed = url::Url::parse(url)
        .map_err(|_| invalid("must be s3://bucket[/prefix] (leave it unset for <data-dir>/files)"))?;
    if parsed.scheme() != "s3" {
        return Err(Error::invalid(
            "storage_url",
            format!(
                "unsupported storage URL scheme {:?}: use s3://bucket[/prefix] (leave it unset for <data-dir>/files)",
                parsed.scheme()
            ),
        ));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(invalid(
            "must not contain credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment",
        ));
    }
    if parsed.port().is_some() || parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(invalid(
            "must be s3://bucket[/prefix] without port, query or fragment (set AWS_ENDPOINT for another server)",
        ));
    }
    let bucket = parsed.host_str().unwrap_or_default().to_string();
    let bucket_ok = (3..=63).contains(&bucket.len())
        && bucket.bytes().all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-'))
        && !bucket.starts_with(['.', '-'])
        && !bucket.ends_with(['.', '-']);
    if !bucket_ok {
        return Err(invalid("the bucket name must be 3–63 lowercase letters, digits, dots or hyphens"));
    }
    let raw_prefix = parsed.path().trim_matches('/');
    let prefix = if raw_prefix.is_empty() {
        None
    } else {
        let decoded = percent_encoding::percent_decode_str(raw_prefix)
            .decode_utf8()
            .map_err(|_| invalid("the prefix must be valid UTF-8"))?;
        Some(
            Path::parse(&decoded)
                .map_err(|_| invalid("the prefix must be path segments without empty, . or .. parts"))?,
        )
    };
    Ok(S3Url { bucket, prefix })
}

/// The location of a blob; anything but 64 lowercase hex digits is [`Error::NotFound`].
fn blob_path(sha256: &str) -> Result<Path> {
    if sha256.len() != 64 || !sha256.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(Error::NotFound);
    }
    Ok(Path::from(format!("{BLOBS}/{}/{}/{sha256}", &sha256[..2], &sha256[2..4])))
}

/// `previews/<sha256>`: the previews rendered from one blob.
fn preview_dir(sha256: &str) -> Result<Path> {
    blob_path(sha256)?;
    Ok(Path::from(format!("{PREVIEWS}/{sha256}")))
}

fn preview_path(sha256: &str, size: u32) -> Result<Path> {
    blob_path(sha256)?;
    Ok(Path::from(format!("{PREVIEWS}/{sha256}/{size}.png")))
}

fn storage(e: object_store::Error) -> Error {
    Error::internal("blob storage", e)
}

fn not_found(e: object_store::Error) -> Error {
    match e {
        object_store::Error::NotFound { .. } => Error::NotFound,
        e => storage(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HELLO: &str = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

    /// A fresh directory, removed on drop.
    struct Dir(PathBuf);
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn setup() -> (Dir, Blobs) {
        let dir = std::env::temp_dir().join(format!("atrium-blobs-{}", uuid::Uuid::now_v7()));
        let blobs = Blobs::local(&dir).unwrap();
        (Dir(dir), blobs)
    }

    fn files(dir: &std::path::Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() { out.extend(files(&path)) } else { out.push(path) }
        }
        out
    }

    fn body(chunks: Vec<&'static [u8]>) -> impl Stream<Item = Result<Bytes, String>> + Send + Unpin {
        futures_util::stream::iter(chunks.into_iter().map(|c| Ok(Bytes::from_static(c))))
    }

    async fn read_all(read: BlobRead) -> Vec<u8> {
        let chunks: Vec<Bytes> = read.stream.try_collect().await.unwrap();
        chunks.concat()
    }

    #[tokio::test]
    async fn futures_are_send() {
        fn send<T: Send>(_: &T) {}
        let (_dir, blobs) = setup();
        send(&blobs.put_stream(body(vec![]), 1));
        send(&blobs.get(HELLO, None));
        send(&blobs.sweep_temporary(Duration::ZERO));
    }

    #[tokio::test]
    async fn round_trip() {
        let (dir, blobs) = setup();
        let stored = blobs.put_stream(body(vec![b"hel", b"lo"]), 100).await.unwrap();
        assert_eq!(stored, StoredBlob { sha256: HELLO.into(), size: 5 });
        assert!(blobs.exists(HELLO).await.unwrap());
        let read = blobs.get(HELLO, None).await.unwrap();
        assert_eq!((read.size, read.range.clone()), (5, 0..5));
        assert_eq!(read_all(read).await, b"hello");
        assert_eq!(blobs.head_bytes(HELLO).await.unwrap(), Bytes::from_static(b"hello"));
        assert_eq!(files(&dir.0), vec![dir.0.join(format!("blobs/2c/f2/{HELLO}"))]);

        blobs.delete(HELLO).await.unwrap();
        blobs.delete(HELLO).await.unwrap();
        assert!(!blobs.exists(HELLO).await.unwrap());
        assert!(matches!(blobs.get(HELLO, None).await, Err(Error::NotFound)));
        assert!(files(&dir.0).is_empty());
    }

    #[tokio::test]
    async fn large_stream() {
        let (_dir, blobs) = setup();
        let chunk: Vec<u8> = (0..64 * 1024).map(|i| (i % 251) as u8).collect();
        let chunks: Vec<Bytes> = (0..320u32)
            .map(|n| {
                let mut c = chunk.clone();
                c[..4].copy_from_slice(&n.to_be_bytes());
                Bytes::from(c)
            })
            .collect();
        let mut hasher = Sha256::new();
        chunks.iter().for_each(|c| hasher.update(c));
        let expected = hex::encode(hasher.finalize());
        let stream = futures_util::stream::iter(chunks.clone().into_iter().map(Ok::<_, String>));
        let stored = blobs.put_stream(stream, 20 * 1024 * 1024).await.unwrap();
        assert_eq!(stored, StoredBlob { sha256: expected.clone(), size: 20 * 1024 * 1024 });

        let read = blobs.get(&expected, None).await.unwrap();
        assert_eq!(read.size, 20 * 1024 * 1024);
        assert_eq!(read_all(read).await, chunks.concat());
        assert_eq!(blobs.head_bytes(&expected).await.unwrap().len(), 8 * 1024);
    }

    #[tokio::test]
    async fn over_limit_leaves_nothing() {
        let (dir, blobs) = setup();
        let stream = futures_util::stream::iter((0..40).map(|_| Ok::<_, String>(Bytes::from(vec![7u8; 64 * 1024]))));
        assert!(matches!(blobs.put_stream(stream, 2 * 1024 * 1024).await, Err(Error::TooLarge)));
        assert!(files(&dir.0).is_empty());
        // Exactly the limit is fine.
        assert_eq!(blobs.put_stream(body(vec![b"hello"]), 5).await.unwrap().size, 5);
    }

    #[tokio::test]
    async fn interrupted_leaves_nothing() {
        let (dir, blobs) = setup();
        let stream = futures_util::stream::iter(
            (0..40).map(|n| if n == 30 { Err("connection reset") } else { Ok(Bytes::from(vec![1u8; 64 * 1024])) }),
        );
        let err = blobs.put_stream(stream, u64::MAX).await.unwrap_err();
        assert!(
            matches!(&err, Error::Invalid { field, message } if field == "file" && message.contains("interrupted"))
        );
        assert!(files(&dir.0).is_empty());
    }

    #[tokio::test]
    async fn empty_is_invalid() {
        let (dir, blobs) = setup();
        let err = blobs.put_stream(body(vec![]), 100).await.unwrap_err();
        assert!(matches!(&err, Error::Invalid { field, message } if field == "file" && message == "is empty"));
        let err = blobs.put_stream(body(vec![b"", b""]), 100).await.unwrap_err();
        assert!(matches!(err, Error::Invalid { .. }));
        assert!(files(&dir.0).is_empty());
    }

    #[tokio::test]
    async fn dedup() {
        let (dir, blobs) = setup();
        let a = blobs.put_stream(body(vec![b"hello"]), 100).await.unwrap();
        let b = blobs.put_stream(body(vec![b"he", b"llo"]), 100).await.unwrap();
        assert_eq!(a, b);
        assert_eq!(files(&dir.0).len(), 1);
    }

    #[tokio::test]
    async fn ranges() {
        let (_dir, blobs) = setup();
        let sha = blobs.put_stream(body(vec![b"0123456789"]), 100).await.unwrap().sha256;
        let read = blobs.get(&sha, Some(0..3)).await.unwrap();
        assert_eq!((read.size, read.range.clone()), (10, 0..3));
        assert_eq!(read_all(read).await, b"012");
        let read = blobs.get(&sha, Some(4..7)).await.unwrap();
        assert_eq!(read_all(read).await, b"456");
        let read = blobs.get(&sha, Some(9..10)).await.unwrap();
        assert_eq!((read.range.clone(), read_all(read).await), (9..10, b"9".to_vec()));
        // The end is clamped to the size.
        let read = blobs.get(&sha, Some(8..1000)).await.unwrap();
        assert_eq!((read.range.clone(), read_all(read).await), (8..10, b"89".to_vec()));
        for bad in [10..11, 50..60, 5..5, Range { start: 6, end: 2 }] {
            let err = blobs.get(&sha, Some(bad.clone())).await.unwrap_err();
            assert!(matches!(&err, Error::Invalid { field, .. } if field == "range"), "{bad:?}: {err:?}");
        }
    }

    #[tokio::test]
    async fn invalid_hashes_are_not_found() {
        let (_dir, blobs) = setup();
        blobs.put_stream(body(vec![b"hello"]), 100).await.unwrap();
        let upper = HELLO.to_uppercase();
        let long = format!("{HELLO}0");
        let traversal = format!("../{}", &HELLO[3..]);
        for bad in ["../etc", "", &upper, &HELLO[..63], &long, &traversal, "blobs/2c/f2"] {
            assert!(matches!(blobs.get(bad, None).await, Err(Error::NotFound)), "{bad}");
            assert!(matches!(blobs.head_bytes(bad).await, Err(Error::NotFound)), "{bad}");
            assert!(matches!(blobs.delete(bad).await, Err(Error::NotFound)), "{bad}");
            assert!(!blobs.exists(bad).await.unwrap(), "{bad}");
        }
        assert!(blobs.exists(HELLO).await.unwrap());
    }

    #[tokio::test]
    async fn sweep_removes_old_temporaries() {
        let (dir, blobs) = setup();
        blobs.put_stream(body(vec![b"hello"]), 100).await.unwrap();
        let tmp = dir.0.join("tmp");
        std::fs::create_dir_all(&tmp).unwrap();
        let two_hours_ago = SystemTime::now() - Duration::from_secs(2 * 3600);
        for (name, modified) in [
            ("old-complete", Some(two_hours_ago)),
            ("old-staged#1", Some(two_hours_ago)),
            ("fresh-complete", None),
            ("fresh-staged#1", None),
        ] {
            let file = std::fs::File::create(tmp.join(name)).unwrap();
            if let Some(t) = modified {
                file.set_modified(t).unwrap();
            }
        }
        assert_eq!(blobs.sweep_temporary(Duration::from_secs(3600)).await.unwrap(), 2);
        let mut left: Vec<_> = files(&dir.0).into_iter().map(|p| p.file_name().unwrap().to_owned()).collect();
        left.sort();
        assert_eq!(left, vec![HELLO, "fresh-complete", "fresh-staged#1"]);
        assert_eq!(blobs.sweep_temporary(Duration::ZERO).await.unwrap(), 2);
        assert_eq!(files(&dir.0).len(), 1);
    }

    #[test]
    fn storage_urls() {
        let parsed = parse_storage_url("s3://atrium-files").unwrap();
        assert_eq!(parsed, S3Url { bucket: "atrium-files".into(), prefix: None });
        let parsed = parse_storage_url("s3://my.bucket/portal/prod/").unwrap();
        assert_eq!(parsed.bucket, "my.bucket");
        assert_eq!(parsed.prefix.unwrap().as_ref(), "portal/prod");
        for (bad, says) in [
            ("gs://bucket/x", "unsupported storage URL scheme \"gs\""),
            ("file:///srv/files", "unsupported storage URL scheme \"file\""),
            ("https://s3.example.com/bucket", "unsupported storage URL scheme \"https\""),
            ("/srv/files", "must be s3://bucket[/prefix]"),
            ("s3://AKIAEXAMPLE:hunter2secret@bucket/x", "must not contain credentials"),
            ("s3://bucket:9000/x", "without port"),
            ("s3://bucket/x?region=eu", "without port, query"),
            ("s3://Upper_Case/x", "bucket name"),
            ("s3://ab", "bucket name"),
            ("s3://bucket/a//b", "the prefix"),
            ("s3://", "bucket name"),
        ] {
            match Blobs::open(Some(bad), std::path::Path::new("/nonexistent")) {
                Err(Error::Invalid { field, message }) => {
                    assert_eq!(field, "storage_url", "{bad}");
                    assert!(message.contains(says), "{bad}: {message}");
                    assert!(!message.contains("hunter2"), "{bad}: the error repeats a secret: {message}");
                }
                other => panic!("{bad}: {other:?}"),
            }
        }
    }

    #[test]
    fn s3_blobs_never_show_credentials() {
        // Building the client contacts nothing; its Debug names the bucket and prefix only.
        let blobs = Blobs::s3(
            "s3://atrium-files/prod",
            [
                (AmazonS3ConfigKey::AccessKeyId, "AKIAEXAMPLEKEYID".to_string()),
                (AmazonS3ConfigKey::SecretAccessKey, "wJalrXUtnFEMI-very-secret".to_string()),
                (AmazonS3ConfigKey::Region, "eu-west-1".to_string()),
            ],
        )
        .unwrap();
        let shown = format!("{blobs:?}");
        assert!(shown.contains("s3://atrium-files/prod"), "{shown}");
        assert!(!shown.contains("very-secret") && !shown.contains("AKIAEXAMPLEKEYID"), "{shown}");
        assert_eq!(blobs.location(), "s3://atrium-files/prod");
        assert_eq!((blobs.part_size, blobs.max_blob()), (S3_PART_SIZE, Some(S3_MAX_BLOB)));
        // A local directory is unchanged by the option.
        let (dir, local) = setup();
        let opened = Blobs::open(None, &dir.0).unwrap();
        assert_eq!((opened.location(), opened.part_size, opened.max_blob()), (local.location(), 1024 * 1024, None));
    }
}
