//! Making changes to the file system durable, by the rule every part of the data directory
//! follows: a new file is durable only once the file *and* the directory that holds it are
//! fsynced, a new directory only once its parent is, and a rename only once the directory is.
//! (A power cut keeps nothing else: data written but not synced, and entries created or renamed
//! in a directory that was not synced since, can be gone.)

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::Path;

/// Syncs a directory, so the entries created, removed or renamed in it are durable.
pub fn sync_directory(path: &Path) -> io::Result<()> {
    File::open(path)?.sync_all()
}

/// The directory that holds `path` (`.` for a bare name).
fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// Makes sure the directory `path` exists durably: creates it and every missing parent, and
/// syncs each new directory's parent. It also syncs `path` and its parent when `path` already
/// existed, since an earlier run may have stopped between creating it and syncing its parent.
pub fn ensure_dir(path: &Path) -> io::Result<()> {
    let mut missing = Vec::new();
    let mut current = path;
    while !current.exists() {
        missing.push(current);
        match current.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => current = parent,
            _ => break,
        }
    }
    for dir in missing.iter().rev() {
        match fs::create_dir(dir) {
            Ok(()) => {}
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {}
            Err(error) => return Err(error),
        }
        sync_directory(parent_of(dir))?;
    }
    sync_directory(path)?;
    sync_directory(parent_of(path))
}

/// Writes `bytes` as the whole of `path`, atomically and durably: to a temporary file beside
/// it, which is synced, renamed over `path`, and then the directory is synced.
pub fn replace_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".tmp");
    let temporary = Path::new(&temporary);
    {
        let mut file = File::create(temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
    }
    fs::rename(temporary, path)?;
    sync_directory(parent_of(path))
}

/// Syncs a file that another library (sled) created and wrote, and the directory holding it.
pub fn sync_file_and_entry(path: &Path) -> io::Result<()> {
    File::open(path)?.sync_all()?;
    sync_directory(parent_of(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ensure_dir_creates_every_missing_parent_and_is_idempotent() {
        let root = tempfile::tempdir().unwrap();
        let deep = root.path().join("data").join("keys").join("board");
        ensure_dir(&deep).unwrap();
        assert!(deep.is_dir());
        ensure_dir(&deep).unwrap();
        assert!(deep.is_dir());
    }

    #[test]
    fn replace_file_replaces_the_whole_content_and_leaves_no_temporary() {
        let root = tempfile::tempdir().unwrap();
        let path = root.path().join("server.key");
        replace_file(&path, b"first, longer content").unwrap();
        replace_file(&path, b"second").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"second");
        let names: Vec<_> = fs::read_dir(root.path()).unwrap().map(|entry| entry.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("server.key")]);
    }
}
