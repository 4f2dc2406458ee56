//! The last stages: [`assemble`] makes the manifest of the named outputs,
//! [`publish`] writes the release into the out dir atomically.
//!
//! In: named outputs. Out: files on disk, the manifest last.
//!
//! * Every file is written under a temporary name (`.prebake-tmp-*`) in the
//!   out dir, made read-only (0444), fsynced, and renamed into place. The
//!   directories are fsynced after the renames. The dev profile skips the
//!   fsyncs: readers still see whole files, but a power cut may lose them.
//! * The manifest is written the same way, and renamed last: a reader sees
//!   the complete old release or the complete new one, never a mix.
//! * Files of earlier releases stay (`prebake watch` removes the previous
//!   release's files once the new manifest is in place); an output that already exists with the
//!   same bytes is kept as it is.
//! * An exclusive `flock` on `.prebake.lock` serialises builds into one out
//!   dir; the kernel releases it if the holder dies. The holder removes
//!   temporary files left by killed builds.
//! * Nothing is written outside the out dir: every directory on the way to
//!   an output must be a real directory, not a symlink.

use std::collections::BTreeSet;
use std::fs::{self, File, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use rayon::prelude::*;

use crate::compile::Product;
use crate::config::Config;
use crate::diagnostics::{Category, Diagnostic};
use crate::discover::Kind;
use crate::fingerprint::{self, Named};
use crate::manifest::{Entry, Manifest};

/// Prefix of our temporary files.
pub const TEMP_PREFIX: &str = ".prebake-tmp-";
/// Name of the lock file in the out dir.
pub const LOCK_FILE: &str = ".prebake.lock";
/// Mode of every output file.
pub const FILE_MODE: u32 = 0o444;
/// Mode of every directory prebake creates.
pub const DIR_MODE: u32 = 0o755;

/// One output of a build.
#[derive(Debug, Clone)]
pub struct Asset {
    pub logical: String,
    /// Path relative to the out dir.
    pub file: String,
    pub kind: Kind,
    pub entry: Entry,
}

/// A release ready to write: its manifest, its assets and the bytes of
/// every file.
pub struct Release {
    pub manifest: Manifest,
    pub assets: Vec<Asset>,
    /// Each asset's bytes, in the order of `assets`.
    pub bytes: Vec<Vec<u8>>,
    /// Map files: name and bytes.
    pub maps: Vec<(String, Vec<u8>)>,
}

/// The release of the named products (`named[i]` is `products[i]`'s).
pub fn assemble(cfg: &Config, products: &[Product], named: Vec<Option<Named>>) -> Release {
    // Only a chunk that imports assets needs to look them up.
    let by_path = std::cell::LazyCell::new(|| crate::compile::by_path(products));
    let logical_of = |p: &Path| by_path.get(p).map(|&j| products[j].source.logical.clone());
    let mut release = Release {
        manifest: Manifest::new(cfg.base.clone()),
        assets: Vec::with_capacity(products.len()),
        bytes: Vec::with_capacity(products.len()),
        maps: Vec::new(),
    };
    for (p, named) in products.iter().zip(named) {
        let Some(Named {
            done,
            integrity,
            cycle,
        }) = named
        else {
            continue;
        };
        let src = &p.source;
        let chunk = p.chunk.as_ref();
        let entry = Entry {
            imports: chunk.map(|c| c.imports.clone()).unwrap_or_default(),
            dynamic_imports: chunk.map(|c| c.dynamic_imports.clone()).unwrap_or_default(),
            css: chunk.map(|c| c.css.clone()).unwrap_or_default(),
            assets: chunk
                .map(|c| c.assets.iter().filter_map(|p| logical_of(p)).collect())
                .unwrap_or_default(),
            cycle,
            immutable: src.kind != Kind::Html,
            map: done.map.as_ref().map(|(name, _)| name.clone()),
            content_type: fingerprint::mime_type(&done.file),
            integrity,
            size: done.bytes.len() as u64,
            file: done.file.clone(),
        };
        release
            .manifest
            .assets
            .insert(src.logical.clone(), entry.clone());
        release.assets.push(Asset {
            logical: src.logical.clone(),
            file: done.file,
            kind: src.kind,
            entry,
        });
        release.bytes.push(done.bytes);
        release.maps.extend(done.map);
    }
    release
}

/// What publishing a release did.
#[derive(Debug, Default)]
pub struct Published {
    pub stats: WriteStats,
    /// Logical names whose output differs from the previous release's
    /// (when replacing one).
    pub changed: Vec<String>,
    /// Files of the previous release removed once the manifest was
    /// replaced (when replacing one), relative to the out dir.
    pub removed: Vec<String>,
}

/// Writes `release` (its manifest as `json`, last). `replacing`: a
/// session's publishing lock; the previous release's files the new one
/// does not use are then removed, and what changed is reported.
pub fn publish(
    cfg: &Config,
    pool: &rayon::ThreadPool,
    lock: &OutLock,
    release: &Release,
    json: &str,
    replacing: Option<&std::sync::Mutex<()>>,
) -> Result<Published, Vec<Diagnostic>> {
    let files: Vec<OutFile<'_>> = release
        .assets
        .iter()
        .zip(&release.bytes)
        .map(|(a, b)| OutFile {
            rel: &a.file,
            bytes: b,
            stable: !a.entry.immutable,
        })
        .chain(release.maps.iter().map(|(name, json)| OutFile {
            rel: name,
            bytes: json,
            stable: false,
        }))
        .collect();
    // A session's publish is not interrupted by its signal handler, and
    // replaces the manifest on disk now.
    let publishing = replacing.map(std::sync::Mutex::lock);
    let previous = replacing.and_then(|_| {
        fs::read(cfg.out.join(&cfg.manifest))
            .ok()
            .and_then(|b| Manifest::from_json(&String::from_utf8_lossy(&b)).ok())
    });
    let stats = pool.install(|| write_release(cfg, lock, &files, json.as_bytes()))?;
    let mut published = Published {
        stats,
        ..Published::default()
    };
    if replacing.is_some() {
        let current = &release.manifest;
        published.changed = current
            .assets
            .iter()
            .filter(|(k, e)| {
                previous
                    .as_ref()
                    .and_then(|p| p.assets.get(*k))
                    .is_none_or(|old| !old.files().eq(e.files()))
            })
            .map(|(k, _)| k.clone())
            .collect();
        if let Some(old) = &previous {
            published.removed = remove_superseded(cfg, lock, old, current);
        }
    }
    drop(publishing);
    Ok(published)
}

/// Held for the whole build; dropping it releases the lock.
pub struct OutLock {
    _file: File,
}

fn io_error(cfg: &Config, what: &str, path: &Path, e: &std::io::Error) -> Diagnostic {
    let shown = cfg.display_path(path);
    Diagnostic::error("IO", Category::Io, format!("cannot {what} {shown}: {e}")).with_file(shown)
}

/// Creates the out dir and takes the build lock, calling `on_wait` once if
/// another build holds it.
pub fn lock(cfg: &Config, on_wait: &mut dyn FnMut(&Path)) -> Result<OutLock, Diagnostic> {
    create_out_dir(cfg)?;
    let path = cfg.out.join(LOCK_FILE);
    if fs::symlink_metadata(&path).is_ok_and(|m| !m.is_file()) {
        return Err(Diagnostic::error(
            "OUT_UNSAFE",
            Category::Io,
            format!(
                "{} is not a regular file; refusing to use it as the lock",
                cfg.display_path(&path)
            ),
        ));
    }
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| io_error(cfg, "open lock file", &path, &e))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(fs::TryLockError::WouldBlock) => {
            on_wait(&cfg.out);
            file.lock().map_err(|e| io_error(cfg, "lock", &path, &e))?;
        }
        Err(fs::TryLockError::Error(e)) => return Err(io_error(cfg, "lock", &path, &e)),
    }
    remove_stale_temps(cfg);
    Ok(OutLock { _file: file })
}

/// Removes temporary files of builds that were killed. Only called with the
/// lock held, so no live build owns them.
fn remove_stale_temps(cfg: &Config) {
    if let Ok(rd) = fs::read_dir(&cfg.out) {
        for entry in rd.flatten() {
            if entry.file_name().to_string_lossy().starts_with(TEMP_PREFIX) {
                let _ = fs::remove_file(entry.path());
            }
        }
    }
}

/// Creates the out dir and any missing parents, each with [`DIR_MODE`]
/// whatever the umask, so another user can serve the release.
fn create_out_dir(cfg: &Config) -> Result<(), Diagnostic> {
    let mut missing = Vec::new();
    let mut p = cfg.out.as_path();
    while fs::symlink_metadata(p).is_err() {
        missing.push(p.to_path_buf());
        match p.parent() {
            Some(parent) => p = parent,
            None => break,
        }
    }
    for d in missing.iter().rev() {
        make_dir(d).map_err(|e| io_error(cfg, "create out dir", d, &e))?;
    }
    if !cfg.out.is_dir() {
        return Err(io_error(
            cfg,
            "use out dir",
            &cfg.out,
            &std::io::Error::other("not a directory"),
        ));
    }
    Ok(())
}

/// Creates one directory with [`DIR_MODE`] whatever the umask. `Ok(false)`
/// when something already stood there (the caller decides what it may be).
fn make_dir(p: &Path) -> std::io::Result<bool> {
    match fs::create_dir(p) {
        Ok(()) => {
            fs::set_permissions(p, fs::Permissions::from_mode(DIR_MODE))?;
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e),
    }
}

/// Creates the directories of `rel` (relative to the out dir) with
/// [`DIR_MODE`]. Every existing component must be a real directory, never a
/// symlink, so no write can leave the out dir.
fn create_dirs(cfg: &Config, rel: &Path) -> Result<(), Diagnostic> {
    let mut p = cfg.out.clone();
    for part in rel.components() {
        p.push(part);
        match fs::symlink_metadata(&p) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                return Err(Diagnostic::error(
                    "OUT_UNSAFE",
                    Category::Io,
                    format!(
                        "{} is in the way: expected a directory, found a file or symlink",
                        cfg.display_path(&p)
                    ),
                ));
            }
            Err(_) => {
                let made = make_dir(&p).map_err(|e| io_error(cfg, "create directory", &p, &e))?;
                // Made by a parallel writer: check what it is.
                if !made && !fs::symlink_metadata(&p).is_ok_and(|m| m.is_dir()) {
                    return Err(Diagnostic::error(
                        "OUT_UNSAFE",
                        Category::Io,
                        format!(
                            "{} is in the way: expected a directory",
                            cfg.display_path(&p)
                        ),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// What to write: a path relative to the out dir and its bytes.
pub struct OutFile<'a> {
    pub rel: &'a str,
    pub bytes: &'a [u8],
    /// The name is kept from release to release (HTML pages), so writing
    /// replaces the previous release's file.
    pub stable: bool,
}

/// Counts of a write.
#[derive(Debug, Default, Clone, Copy)]
pub struct WriteStats {
    pub written: usize,
    pub reused: usize,
}

/// Writes all files, then the manifest last. Requires the lock.
///
/// Fingerprinted files go first: they never replace anything a release
/// uses. Files with stable names (pages) are replaced only once all of them
/// are durable, right before the manifest, so a failed write leaves the
/// previous release whole; a kill in that short window can leave a page
/// newer than the manifest (the page's own references are all in place),
/// which the next build repairs.
pub fn write_release(
    cfg: &Config,
    _lock: &OutLock,
    files: &[OutFile<'_>],
    manifest: &[u8],
) -> Result<WriteStats, Vec<Diagnostic>> {
    let mtime = cfg
        .source_date_epoch
        .and_then(|s| SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(s)));
    let mut stats = WriteStats::default();
    for stable in [false, true] {
        let results: Vec<Result<Option<PathBuf>, Diagnostic>> = files
            .par_iter()
            .filter(|f| f.stable == stable)
            .map(|f| put(cfg, f.rel, f.bytes, mtime))
            .collect();
        let mut errors = Vec::new();
        let mut dirs = BTreeSet::new();
        for r in results {
            match r {
                Ok(Some(dir)) => {
                    stats.written += 1;
                    dirs.insert(dir);
                }
                Ok(None) => stats.reused += 1,
                Err(d) => errors.push(d),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        // Renames are durable only once their directories are synced.
        for d in dirs.iter().filter(|_| cfg.durable) {
            sync_dir(cfg, d).map_err(|d| vec![d])?;
        }
    }
    // The manifest is always rewritten: it is the commit point.
    let manifest_dir = put_file(cfg, &cfg.manifest, manifest, mtime).map_err(|d| vec![d])?;
    if cfg.durable {
        sync_dir(cfg, &manifest_dir).map_err(|d| vec![d])?;
    }
    Ok(stats)
}

/// Removes the files of a superseded release that the current one does not
/// use (its outputs and their maps), then any directory that left empty.
/// Requires the lock, and is called only once the current manifest is in
/// place, so a reader never finds a named file missing. Returns the removed
/// files, relative to the out dir, sorted.
pub fn remove_superseded(
    cfg: &Config,
    _lock: &OutLock,
    old: &crate::manifest::Manifest,
    current: &crate::manifest::Manifest,
) -> Vec<String> {
    let files_of = |m: &crate::manifest::Manifest| -> BTreeSet<String> {
        m.assets
            .values()
            .flat_map(|e| e.files().map(str::to_string))
            .collect()
    };
    let keep = files_of(current);
    let mut removed = Vec::new();
    let mut dirs = BTreeSet::new();
    for rel in files_of(old).difference(&keep) {
        // A manifest is input: never follow a name out of the out dir.
        if rel == &cfg.manifest
            || Path::new(rel)
                .components()
                .any(|c| !matches!(c, std::path::Component::Normal(_)))
        {
            continue;
        }
        let path = cfg.out.join(rel);
        if fs::symlink_metadata(&path).is_ok_and(|m| m.is_file()) && fs::remove_file(&path).is_ok()
        {
            removed.push(rel.clone());
            let mut dir = Path::new(rel).parent();
            while let Some(d) = dir.filter(|d| !d.as_os_str().is_empty()) {
                dirs.insert(d.to_path_buf());
                dir = d.parent();
            }
        }
    }
    // Deepest first; a directory still in use is not empty and stays.
    for d in dirs.iter().rev() {
        let _ = fs::remove_dir(cfg.out.join(d));
    }
    removed
}

fn sync_dir(cfg: &Config, dir: &Path) -> Result<(), Diagnostic> {
    File::open(dir)
        .and_then(|f| f.sync_all())
        .map_err(|e| io_error(cfg, "sync directory", dir, &e))
}

/// Writes one output unless the same bytes are already there. Returns the
/// directory to sync when it wrote.
fn put(
    cfg: &Config,
    rel: &str,
    bytes: &[u8],
    mtime: Option<SystemTime>,
) -> Result<Option<PathBuf>, Diagnostic> {
    let target = cfg.out.join(rel);
    // The directories are checked before anything is trusted, so a planted
    // symlink is refused even when it leads to matching bytes.
    create_dirs(cfg, Path::new(rel).parent().unwrap_or(Path::new("")))?;
    if let Ok(m) = fs::symlink_metadata(&target)
        && m.is_file()
        && m.len() == bytes.len() as u64
        && fs::read(&target).is_ok_and(|old| old == bytes)
    {
        // Same bytes: keep the file, but restore what a fresh write gives.
        if m.permissions().mode() & 0o7777 != FILE_MODE {
            fs::set_permissions(&target, fs::Permissions::from_mode(FILE_MODE))
                .map_err(|e| io_error(cfg, "set permissions of", &target, &e))?;
        }
        if let Some(t) = mtime
            && m.modified().ok() != Some(t)
        {
            File::open(&target)
                .and_then(|f| f.set_modified(t))
                .map_err(|e| io_error(cfg, "set the mtime of", &target, &e))?;
        }
        return Ok(None);
    }
    put_file(cfg, rel, bytes, mtime).map(Some)
}

/// temp file → 0444 → mtime → fsync → rename. Returns the target's directory.
fn put_file(
    cfg: &Config,
    rel: &str,
    bytes: &[u8],
    mtime: Option<SystemTime>,
) -> Result<PathBuf, Diagnostic> {
    let target = cfg.out.join(rel);
    let rel_dir = Path::new(rel).parent().unwrap_or(Path::new(""));
    create_dirs(cfg, rel_dir)?;
    let dir = cfg.out.join(rel_dir);
    if fs::symlink_metadata(&target).is_ok_and(|m| m.is_dir()) {
        return Err(Diagnostic::error(
            "OUT_UNSAFE",
            Category::Io,
            format!(
                "{} is a directory in the way of an output",
                cfg.display_path(&target)
            ),
        ));
    }
    let mut tmp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .tempfile_in(&cfg.out)
        .map_err(|e| io_error(cfg, "create a temporary file in", &cfg.out, &e))?;
    let fail = |e: std::io::Error| io_error(cfg, "write", &target, &e);
    tmp.write_all(bytes).map_err(fail)?;
    let file = tmp.as_file();
    file.set_permissions(fs::Permissions::from_mode(FILE_MODE))
        .map_err(fail)?;
    if let Some(t) = mtime {
        file.set_modified(t).map_err(fail)?;
    }
    if cfg.durable {
        file.sync_all().map_err(fail)?;
    }
    tmp.persist(&target).map_err(|e| fail(e.error))?;
    Ok(dir)
}
