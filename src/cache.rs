//! How a long-lived process (`prebake watch`) decides what it may reuse
//! from one build to the next. Every stage that keeps results between
//! builds keeps them in these types, so the rules live here once:
//!
//! - [`Stamp`]: a file's metadata stands in for its bytes (as with make,
//!   cargo and git) when it can be trusted;
//! - [`Digests`]: the SHA-256 of a file now, read only when its stamp
//!   changed;
//! - [`Memo`]: a result kept under a reuse key (a digest of everything it
//!   was made from) and the files it read besides: it is reused only while
//!   the key is the same and every one of those files still reads the same.
//!   That holds for every kind of input, so a new source kind that reads
//!   other files (an `@import`, a Sass partial) only has to report them.
//! - [`Loads`]: a file's load (the bundler's parse and analysis) found by
//!   its stamp or its digest, and dropped once a build no longer uses it;
//! - [`check_cache`]: `PREBAKE_CHECK_CACHE=1` makes again whatever would be
//!   reused, and compares.
//!
//! Which caches exist is the stages' business (`pipeline::Session` holds
//! one per stage); this module knows no stage.

use std::collections::HashMap;
use std::hash::Hash;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use sha2::Digest as _;

/// `PREBAKE_CHECK_CACHE=1`: whatever a session would reuse is made again
/// and compared (the watch tests run with it).
pub fn check_cache() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("PREBAKE_CHECK_CACHE").is_some())
}

/// The SHA-256 of `bytes`.
pub fn digest(bytes: &[u8]) -> [u8; 32] {
    sha2::Sha256::digest(bytes).into()
}

/// A file's metadata, standing in for its bytes between builds of a
/// session, as with make, cargo and git: size, inode and nanosecond mtime
/// and ctime (which no user can set back). Like git's "racily clean" rule,
/// a stamp taken within `RACY` of the file's last change is not trusted,
/// since a second write in the same timestamp tick would leave it equal;
/// such a file is read and hashed again next time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    len: u64,
    ino: u64,
    dev: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

const RACY: std::time::Duration = std::time::Duration::from_millis(100);

impl Stamp {
    /// The stamp of `path` now, if it can be trusted later.
    pub fn of(path: &Path) -> Option<Stamp> {
        use std::os::unix::fs::MetadataExt as _;
        let m = std::fs::metadata(path).ok()?;
        let stamp = Stamp {
            len: m.len(),
            ino: m.ino(),
            dev: m.dev(),
            mtime: (m.mtime(), m.mtime_nsec()),
            ctime: (m.ctime(), m.ctime_nsec()),
        };
        let (secs, nanos) = stamp.ctime.max(stamp.mtime);
        let changed = std::time::UNIX_EPOCH
            + std::time::Duration::new(u64::try_from(secs).ok()?, u32::try_from(nanos).ok()?);
        let settled = std::time::SystemTime::now()
            .duration_since(changed)
            .is_ok_and(|age| age > RACY);
        settled.then_some(stamp)
    }
}

/// Files read before, by metadata: their digest without a read.
#[derive(Default)]
pub struct Digests {
    stamps: Mutex<HashMap<PathBuf, (Stamp, [u8; 32])>>,
}

impl Digests {
    /// The SHA-256 of `path` now, and its bytes when they had to be read:
    /// a file whose metadata matches the stamp recorded with its digest is
    /// not opened.
    pub fn read(&self, path: &Path) -> std::io::Result<([u8; 32], Option<Vec<u8>>)> {
        let stamp = Stamp::of(path);
        if let Some(now) = stamp
            && let Ok(stamps) = self.stamps.lock()
            && let Some((recorded, digest)) = stamps.get(path)
            && *recorded == now
        {
            return Ok((*digest, None));
        }
        let bytes = std::fs::read(path)?;
        let digest = digest(&bytes);
        if let (Some(stamp), Ok(mut stamps)) = (stamp, self.stamps.lock()) {
            stamps.insert(path.to_path_buf(), (stamp, digest));
        }
        Ok((digest, Some(bytes)))
    }

    /// The SHA-256 of `path` now.
    pub fn digest(&self, path: &Path) -> Option<[u8; 32]> {
        self.read(path).ok().map(|(d, _)| d)
    }

    /// Whether every file of `inputs` still has the recorded digest.
    pub fn all_current(&self, inputs: &[(PathBuf, [u8; 32])]) -> bool {
        inputs
            .iter()
            .all(|(path, d)| self.digest(path).as_ref() == Some(d))
    }

    /// Forgets files that `live` does not name.
    pub fn retain(&self, live: &std::collections::HashSet<&Path>) {
        if let Ok(mut stamps) = self.stamps.lock() {
            stamps.retain(|p, _| live.contains(p.as_path()));
        }
    }

    pub fn clear(&self) {
        if let Ok(mut stamps) = self.stamps.lock() {
            stamps.clear();
        }
    }
}

/// Results kept by name (a path, a logical name) under a reuse key, with
/// the files each read besides what its key covers.
pub struct Memo<K, V> {
    entries: Mutex<HashMap<K, Kept<V>>>,
}

struct Kept<V> {
    key: [u8; 32],
    inputs: Vec<(PathBuf, [u8; 32])>,
    value: V,
}

impl<K, V> Default for Memo<K, V> {
    fn default() -> Self {
        Memo {
            entries: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Hash + Eq, V: Clone> Memo<K, V> {
    /// The result kept for `name` under `key`, if every file it read still
    /// reads the same (checked through `digests`).
    pub fn get(&self, name: &K, key: &[u8; 32], digests: &Digests) -> Option<V> {
        let (value, inputs) = {
            let entries = self.entries.lock().ok()?;
            let kept = entries.get(name).filter(|k| k.key == *key)?;
            (kept.value.clone(), kept.inputs.clone())
        };
        digests.all_current(&inputs).then_some(value)
    }

    /// The result kept for `name` under `key`, for results that read
    /// nothing their key does not cover.
    pub fn get_keyed(&self, name: &K, key: &[u8; 32]) -> Option<V> {
        let entries = self.entries.lock().ok()?;
        let kept = entries.get(name).filter(|k| k.key == *key)?;
        kept.inputs.is_empty().then(|| kept.value.clone())
    }

    /// Keeps `value` for `name` under `key`, made from `inputs` besides.
    pub fn put(&self, name: K, key: [u8; 32], inputs: Vec<(PathBuf, [u8; 32])>, value: V) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.insert(name, Kept { key, inputs, value });
        }
    }

    /// Forgets the results whose name `keep` refuses.
    pub fn retain(&self, keep: impl Fn(&K) -> bool) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.retain(|k, _| keep(k));
        }
    }

    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }
}

/// Results of loading files (a parse, a transform), kept by path from one
/// build to the next. A result is found by the file's [`Stamp`] without a
/// read ([`Loads::unchanged`]), or by the SHA-256 of its bytes
/// ([`Loads::load`]), each under a variant: what else the load depended
/// on. A build opens a generation ([`Loads::begin`]); results it did not
/// use are dropped when it ends ([`Loads::end`]).
pub struct Loads<V> {
    entries: Mutex<HashMap<PathBuf, Loaded<V>>>,
    generation: std::sync::atomic::AtomicU64,
}

struct Loaded<V> {
    digest: [u8; 32],
    /// The file's metadata when it was read, if trustworthy.
    stamp: Option<Stamp>,
    variant: u64,
    value: V,
    /// The latest build that used it.
    generation: u64,
}

impl<V> Default for Loads<V> {
    fn default() -> Self {
        Loads {
            entries: Mutex::new(HashMap::new()),
            generation: std::sync::atomic::AtomicU64::new(0),
        }
    }
}

impl<V: Clone> Loads<V> {
    /// The kept load of `path` when its stamp says it did not change.
    pub fn unchanged(&self, path: &Path, now: Stamp, variant: u64) -> Option<V> {
        let generation = self.generation.load(std::sync::atomic::Ordering::Relaxed);
        let mut entries = self.entries.lock().ok()?;
        let e = entries.get_mut(path)?;
        if e.stamp != Some(now) || e.variant != variant {
            return None;
        }
        e.generation = generation;
        Some(e.value.clone())
    }

    /// The kept load of `path` with bytes of this `digest`, else `load()`'s
    /// result (kept when it succeeded, with the file's `stamp`).
    pub fn load<E>(
        &self,
        path: &Path,
        digest: [u8; 32],
        stamp: Option<Stamp>,
        variant: u64,
        load: impl FnOnce() -> Result<V, E>,
    ) -> Result<V, E> {
        let generation = self.generation.load(std::sync::atomic::Ordering::Relaxed);
        if let Ok(mut entries) = self.entries.lock()
            && let Some(e) = entries.get_mut(path)
            && e.digest == digest
            && e.variant == variant
        {
            e.generation = generation;
            e.stamp = stamp;
            return Ok(e.value.clone());
        }
        let result = load();
        if let Ok(value) = &result
            && let Ok(mut entries) = self.entries.lock()
        {
            entries.insert(
                path.to_path_buf(),
                Loaded {
                    digest,
                    stamp,
                    variant,
                    value: value.clone(),
                    generation,
                },
            );
        }
        result
    }

    /// Starts a build's generation.
    pub fn begin(&self) -> u64 {
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1
    }

    /// Drops the loads the build of `generation` did not use.
    pub fn end(&self, generation: u64) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.retain(|_, e| e.generation == generation);
        }
    }

    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }
}

/// A reuse key: the SHA-256 of `parts`, each followed by a zero byte.
pub fn key<'a>(parts: impl IntoIterator<Item = &'a [u8]>) -> [u8; 32] {
    let mut h = sha2::Sha256::new();
    for p in parts {
        h.update(p);
        h.update([0]);
    }
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::Stamp;

    #[test]
    fn a_stamp_is_trusted_only_once_the_file_has_settled() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("a.js");
        std::fs::write(&f, "export const a = 1;\n").unwrap();
        // Just written: a second write in the same tick could look equal.
        assert_eq!(Stamp::of(&f), None);
        std::thread::sleep(super::RACY + std::time::Duration::from_millis(50));
        let settled = Stamp::of(&f).expect("settled");
        assert_eq!(Stamp::of(&f), Some(settled));
        // Same size, new bytes: no longer the same stamp.
        std::fs::write(&f, "export const a = 2;\n").unwrap();
        assert_ne!(Stamp::of(&f), Some(settled));
        std::thread::sleep(super::RACY + std::time::Duration::from_millis(50));
        assert!(Stamp::of(&f).is_some_and(|s| s != settled));
    }
}
