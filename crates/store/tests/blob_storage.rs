//! The same blob behaviour checks on every kind of storage: a local directory (always) and an
//! S3-compatible server when `ATRIUM_TEST_S3_ENDPOINT` names one (`.ci/s3-up` starts moto and
//! prints it). Each run makes a fresh bucket and works under a prefix, so the checks see
//! every key the storage wrote, including half-finished multipart uploads.

use std::path::PathBuf;
use std::time::Duration;

use atrium_core::Error;
use atrium_store::blobs::{Blobs, S3_PART_SIZE, StoredBlob};
use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3, AmazonS3Builder, AmazonS3ConfigKey};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use sha2::{Digest, Sha256};

const MIB: usize = 1024 * 1024;
const CHUNK: usize = 64 * 1024;

/// Where a [`Blobs`] under test keeps its keys, seen from outside it.
enum Target {
    Local(PathBuf),
    S3 { raw: AmazonS3, endpoint: String, bucket: String, prefix: String },
}

impl Target {
    /// Every key under the storage root, relative to it, sorted.
    async fn keys(&self) -> Vec<String> {
        let mut keys = match self {
            Target::Local(dir) => {
                walk(dir).into_iter().map(|p| p.strip_prefix(dir).unwrap().display().to_string()).collect()
            }
            Target::S3 { raw, prefix, .. } => {
                let metas: Vec<_> = raw.list(Some(&Path::from(prefix.as_str()))).try_collect().await.unwrap();
                metas.into_iter().map(|m| m.location.as_ref()[prefix.len() + 1..].to_string()).collect::<Vec<_>>()
            }
        };
        keys.sort();
        keys
    }

    /// Multipart uploads still open (S3; a local directory shows its staging files as keys).
    async fn open_uploads(&self) -> usize {
        match self {
            Target::Local(_) => 0,
            Target::S3 { endpoint, bucket, .. } => {
                let listing = reqwest::get(format!("{endpoint}/{bucket}?uploads")).await.unwrap();
                assert!(listing.status().is_success(), "{}", listing.status());
                listing.text().await.unwrap().matches("<UploadId>").count()
            }
        }
    }

    /// Writes an object directly (as a crashed upload would have left it).
    async fn put_raw(&self, key: &str) {
        match self {
            Target::Local(dir) => {
                let path = dir.join(key);
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(path, b"partial").unwrap();
            }
            Target::S3 { raw, prefix, .. } => {
                raw.put(&Path::from(format!("{prefix}/{key}")), PutPayload::from_static(b"partial")).await.unwrap();
            }
        }
    }
}

fn walk(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return out };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() { out.extend(walk(&path)) } else { out.push(path) }
    }
    out
}

fn key_of(sha: &str) -> String {
    format!("blobs/{}/{}/{sha}", &sha[..2], &sha[2..4])
}

/// `n` chunks of 64 KiB, each different, and their SHA-256.
fn chunks(n: usize) -> (Vec<Bytes>, String) {
    let chunks: Vec<Bytes> =
        (0..n).map(|i| Bytes::from((0..CHUNK).map(|j| ((i * 7 + j) % 253) as u8).collect::<Vec<u8>>())).collect();
    let mut hasher = Sha256::new();
    chunks.iter().for_each(|c| hasher.update(c));
    (chunks, hex::encode(hasher.finalize()))
}

fn stream(chunks: Vec<Bytes>) -> impl futures_util::Stream<Item = Result<Bytes, String>> + Send + Unpin {
    futures_util::stream::iter(chunks.into_iter().map(Ok))
}

async fn read_all(blobs: &Blobs, sha: &str, range: Option<std::ops::Range<u64>>) -> Vec<u8> {
    let read = blobs.get(sha, range).await.unwrap();
    let parts: Vec<Bytes> = read.stream.try_collect().await.unwrap();
    parts.concat()
}

/// The behaviour every storage must have.
async fn check(blobs: &Blobs, target: &Target) {
    // A 12 MiB body streamed in 64 KiB chunks: three parts on S3 (5 + 5 + 2 MiB).
    let (big, big_sha) = chunks(12 * MIB / CHUNK);
    let whole = big.concat();
    let stored = blobs.put_stream(stream(big.clone()), 20 * MIB as u64).await.unwrap();
    assert_eq!(stored, StoredBlob { sha256: big_sha.clone(), size: 12 * MIB as u64 });
    assert_eq!(target.keys().await, vec![key_of(&big_sha)], "only the blob, no temporary left");
    assert!(blobs.exists(&big_sha).await.unwrap());
    let read = read_all(blobs, &big_sha, None).await;
    assert!(read == whole, "the 12 MiB blob reads back as written");
    assert_eq!(blobs.head_bytes(&big_sha).await.unwrap(), Bytes::copy_from_slice(&whole[..8 * 1024]));

    // Dedupe: the same content in other chunks is the same blob, stored once.
    let rechunked: Vec<Bytes> = whole.chunks(100_000).map(Bytes::copy_from_slice).collect();
    let again = blobs.put_stream(stream(rechunked), 20 * MIB as u64).await.unwrap();
    assert_eq!(again, stored);
    assert_eq!(target.keys().await, vec![key_of(&big_sha)]);

    // Ranges, one across the boundary between the first two parts.
    let boundary = S3_PART_SIZE as u64;
    let read = blobs.get(&big_sha, Some(boundary - 3..boundary + 3)).await.unwrap();
    assert_eq!((read.size, read.range.clone()), (12 * MIB as u64, boundary - 3..boundary + 3));
    assert_eq!(
        read_all(blobs, &big_sha, Some(boundary - 3..boundary + 3)).await,
        whole[S3_PART_SIZE - 3..S3_PART_SIZE + 3]
    );
    let small = blobs.put_stream(stream(vec![Bytes::from_static(b"0123456789")]), 100).await.unwrap().sha256;
    assert_eq!(read_all(blobs, &small, Some(4..7)).await, b"456");
    let read = blobs.get(&small, Some(8..1000)).await.unwrap();
    assert_eq!(read.range, 8..10, "the end is clamped to the size");
    assert_eq!(read_all(blobs, &small, Some(8..1000)).await, b"89");
    for bad in [10..11, 5..5] {
        let err = blobs.get(&small, Some(bad.clone())).await.unwrap_err();
        assert!(matches!(&err, Error::Invalid { field, .. } if field == "range"), "{bad:?}: {err:?}");
    }
    let expected = {
        let mut k = vec![key_of(&big_sha), key_of(&small)];
        k.sort();
        k
    };
    assert_eq!(target.keys().await, expected);

    // Over the limit after a part went out: refused, and nothing stays (no object, no upload).
    let (over, _) = chunks(10 * MIB / CHUNK);
    let err = blobs.put_stream(stream(over), 7 * MIB as u64).await.unwrap_err();
    assert!(matches!(err, Error::TooLarge), "{err:?}");
    assert_eq!(target.keys().await, expected, "an upload over the limit leaves nothing");
    assert_eq!(target.open_uploads().await, 0, "its multipart upload was aborted");

    // A body that breaks off after more than a part: nothing stays either.
    let (cut, _) = chunks(12 * MIB / CHUNK);
    let broken = futures_util::stream::iter(cut)
        .enumerate()
        .map(|(i, c)| if i == 150 { Err("connection reset") } else { Ok(c) });
    let err = blobs.put_stream(broken, u64::MAX).await.unwrap_err();
    assert!(
        matches!(&err, Error::Invalid { field, message } if field == "file" && message.contains("interrupted")),
        "{err:?}"
    );
    assert_eq!(target.keys().await, expected, "an interrupted upload leaves nothing");
    assert_eq!(target.open_uploads().await, 0);

    // Previews, keyed by the blob's hash and the size; an empty one means "no preview".
    assert_eq!(blobs.preview(&big_sha, 320).await.unwrap(), None);
    blobs.put_preview(&big_sha, 320, Bytes::from_static(b"png")).await.unwrap();
    blobs.put_preview(&big_sha, 1200, Bytes::new()).await.unwrap();
    blobs.put_preview(&small, 320, Bytes::from_static(b"small")).await.unwrap();
    assert_eq!(blobs.preview(&big_sha, 320).await.unwrap(), Some(Bytes::from_static(b"png")));
    assert_eq!(blobs.preview(&big_sha, 1200).await.unwrap(), Some(Bytes::new()));
    assert!(matches!(blobs.put_preview("../x", 320, Bytes::new()).await, Err(Error::NotFound)));

    // Delete (twice is fine); the blob's previews go with it, another blob's stay.
    blobs.delete(&big_sha).await.unwrap();
    assert_eq!(blobs.preview(&big_sha, 320).await.unwrap(), None);
    assert_eq!(blobs.preview(&big_sha, 1200).await.unwrap(), None);
    assert_eq!(target.keys().await, vec![key_of(&small), format!("previews/{small}/320.png")]);
    blobs.delete(&small).await.unwrap();
    assert_eq!(target.keys().await, Vec::<String>::new(), "a purged blob leaves no preview behind");
    let small = blobs.put_stream(stream(vec![Bytes::from_static(b"0123456789")]), 100).await.unwrap().sha256;
    blobs.delete(&big_sha).await.unwrap();
    assert!(!blobs.exists(&big_sha).await.unwrap());
    assert!(matches!(blobs.get(&big_sha, None).await, Err(Error::NotFound)));
    assert_eq!(target.keys().await, vec![key_of(&small)]);

    // Sweep: temporaries older than the age go, fresh ones and blobs stay.
    target.put_raw("tmp/abandoned").await;
    tokio::time::sleep(Duration::from_millis(3100)).await;
    target.put_raw("tmp/fresh").await;
    assert_eq!(blobs.sweep_temporary(Duration::from_secs(2)).await.unwrap(), 1);
    assert_eq!(target.keys().await, vec![key_of(&small), "tmp/fresh".to_string()]);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(blobs.sweep_temporary(Duration::ZERO).await.unwrap(), 1);
    assert_eq!(target.keys().await, vec![key_of(&small)]);
}

#[tokio::test]
async fn local_directory() {
    let dir = std::env::temp_dir().join(format!("atrium-blob-storage-{}", uuid::Uuid::now_v7().simple()));
    let blobs = Blobs::local(&dir).unwrap();
    check(&blobs, &Target::Local(dir.clone())).await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn s3_compatible_server() {
    let Ok(endpoint) = std::env::var("ATRIUM_TEST_S3_ENDPOINT") else {
        println!("skipped: ATRIUM_TEST_S3_ENDPOINT is not set (`eval \"$(.ci/s3-up)\"` starts a local S3 server)");
        return;
    };
    let endpoint = endpoint.trim_end_matches('/').to_string();
    let bucket = format!("atrium-test-{}", uuid::Uuid::now_v7().simple());
    let prefix = "portal/files".to_string();
    // object_store does not create buckets; the S3 API does it with a PUT on the bucket.
    let created = reqwest::Client::new().put(format!("{endpoint}/{bucket}")).send().await.unwrap();
    assert!(created.status().is_success(), "creating bucket {bucket}: {}", created.status());

    let options = [
        (AmazonS3ConfigKey::Endpoint, endpoint.clone()),
        (AmazonS3ConfigKey::Client(object_store::ClientConfigKey::AllowHttp), "true".to_string()),
        (AmazonS3ConfigKey::AccessKeyId, "atrium-test".to_string()),
        (AmazonS3ConfigKey::SecretAccessKey, "atrium-test-secret".to_string()),
        (AmazonS3ConfigKey::Region, "us-east-1".to_string()),
    ];
    let mut raw = AmazonS3Builder::new().with_bucket_name(&bucket);
    for (k, v) in options.clone() {
        raw = raw.with_config(k, v);
    }
    let raw = raw.build().unwrap();
    let blobs = Blobs::s3(&format!("s3://{bucket}/{prefix}"), options).unwrap();
    assert_eq!(blobs.location(), format!("s3://{bucket}/{prefix}"));
    assert!(!format!("{blobs:?}").contains("atrium-test-secret"));
    check(&blobs, &Target::S3 { raw, endpoint, bucket, prefix }).await;
    println!("S3 checks passed against {}", std::env::var("ATRIUM_TEST_S3_ENDPOINT").unwrap_or_default());
}
