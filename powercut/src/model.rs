//! The durability model: the live tree (what a program sees, kept in the backing directory) and,
//! for every node, what a power cut would leave of it.
//!
//! Nodes are known by our own inode numbers. Each directory keeps two maps of its entries: the
//! live one and the durable one (what its last `fsync` saw; in the lenient mode the same as the
//! live one at all times). Each file keeps its durable content and the writes and size changes
//! made since its last sync, in order. See the crate documentation for the model as a whole.

use crate::{Cut, CutReport, Entries, Unsynced, UnsyncedFile};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::ffi::{OsStr, OsString};
use std::fs::{self, File, Metadata, OpenOptions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, FileExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::SystemTime;

pub(crate) type Ino = u64;

/// What a disk writes atomically: a write is torn only between sectors.
pub(crate) const SECTOR: u64 = 512;

/// The root directory's inode number (FUSE's).
pub(crate) const ROOT: Ino = 1;

/// A change to a file's content that no sync has covered yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    Write { offset: u64, data: Vec<u8> },
    SetLen(u64),
}

impl Op {
    fn apply(&self, content: &mut Vec<u8>) {
        match self {
            Op::Write { offset, data } => write_into(content, *offset, data),
            Op::SetLen(len) => content.resize(to_usize(*len), 0),
        }
    }

    /// Applies the first `keep` bytes of a write (a size change is all or nothing, so it is not
    /// applied).
    fn apply_torn(&self, content: &mut Vec<u8>, keep: usize) {
        if let Op::Write { offset, data } = self {
            write_into(content, *offset, &data[..keep.min(data.len())]);
        }
    }

    fn len(&self) -> usize {
        match self {
            Op::Write { data, .. } => data.len(),
            Op::SetLen(_) => 0,
        }
    }
}

fn to_usize(value: u64) -> usize {
    usize::try_from(value).expect("a file that fits in memory")
}

fn write_into(content: &mut Vec<u8>, offset: u64, data: &[u8]) {
    let start = to_usize(offset);
    let end = start + data.len();
    if content.len() < end {
        content.resize(end, 0);
    }
    content[start..end].copy_from_slice(data);
}

#[derive(Debug, Default)]
struct FileNode {
    /// What survives a cut of everything unsynced; `None` while the file is as it was when the
    /// file system was mounted (the backing file then holds it).
    durable: Option<Vec<u8>>,
    /// Writes and size changes since the last sync, oldest first.
    pending: Vec<Op>,
    /// Syncs while mounted (failed ones too).
    syncs: usize,
}

#[derive(Debug, Default)]
struct DirNode {
    live: BTreeMap<OsString, Ino>,
    durable: BTreeMap<OsString, Ino>,
}

/// One edit of a directory's entries: `name` now leads to `to`, or (`None`) to nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Edit {
    dir: Ino,
    name: OsString,
    to: Option<Ino>,
}

/// A change to directory entries that no sync of the directory has covered yet: one operation
/// (a create, mkdir, symlink, unlink, rmdir: one edit; a rename: the removal of the old name and
/// the new name, in one directory or two).
type EntryChange = Vec<Edit>;

#[derive(Debug)]
enum Kind {
    File(FileNode),
    Dir(DirNode),
    Symlink(PathBuf),
}

/// What a directory entry is, for `readdir`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EntryKind {
    File,
    Dir,
    Symlink,
}

#[derive(Debug)]
struct Node {
    kind: Kind,
    /// Where the node is in the live tree (its directory and name); `None` for the root and for
    /// a node that was removed (it may still be open, and may still be in a durable entry).
    place: Option<(Ino, OsString)>,
}

/// The whole state of a mounted file system.
#[derive(Debug)]
pub(crate) struct Model {
    backing: PathBuf,
    strict: bool,
    nodes: HashMap<Ino, Node>,
    next_ino: Ino,
    handles: HashMap<u64, (Ino, File)>,
    next_handle: u64,
    /// In the strict mode: every directory change since its directory's last sync, in the order
    /// made (a directory's sync takes its edits out).
    unsynced_entries: Vec<EntryChange>,
    /// Cleared by a power cut (shared with the FUSE side).
    powered: Arc<AtomicBool>,
    /// Directory changes still to be made before the power goes by itself, if it is to.
    power_off_after: Option<u64>,
}

fn not_found() -> io::Error {
    io::Error::from_raw_os_error(libc::ENOENT)
}

fn error(code: i32) -> io::Error {
    io::Error::from_raw_os_error(code)
}

impl Model {
    /// The model of `backing` as it is now: everything in it counts as durable.
    pub(crate) fn new(backing: &Path, strict: bool, powered: Arc<AtomicBool>) -> io::Result<Model> {
        let backing = backing.canonicalize()?;
        let mut model = Model {
            backing: backing.clone(),
            strict,
            nodes: HashMap::new(),
            next_ino: ROOT + 1,
            handles: HashMap::new(),
            next_handle: 1,
            unsynced_entries: Vec::new(),
            powered,
            power_off_after: None,
        };
        model.nodes.insert(ROOT, Node { kind: Kind::Dir(DirNode::default()), place: None });
        model.scan(ROOT, &backing)?;
        Ok(model)
    }

    fn scan(&mut self, dir: Ino, path: &Path) -> io::Result<()> {
        let mut entries = Vec::new();
        for entry in fs::read_dir(path)? {
            entries.push(entry?);
        }
        for entry in entries {
            let name = entry.file_name();
            let kind = entry.file_type()?;
            let kind = if kind.is_dir() {
                Kind::Dir(DirNode::default())
            } else if kind.is_symlink() {
                Kind::Symlink(fs::read_link(entry.path())?)
            } else if kind.is_file() {
                Kind::File(FileNode::default())
            } else {
                // Sockets, devices and pipes are not kept.
                continue;
            };
            let is_dir = matches!(kind, Kind::Dir(_));
            let ino = self.add_node(kind, dir, &name);
            let entries = self.dir_mut(dir)?;
            entries.durable.insert(name.clone(), ino);
            if is_dir {
                self.scan(ino, &entry.path())?;
            }
        }
        Ok(())
    }

    fn add_node(&mut self, kind: Kind, dir: Ino, name: &OsStr) -> Ino {
        let ino = self.next_ino;
        self.next_ino += 1;
        self.nodes.insert(ino, Node { kind, place: Some((dir, name.to_owned())) });
        if let Some(Node { kind: Kind::Dir(entries), .. }) = self.nodes.get_mut(&dir) {
            entries.live.insert(name.to_owned(), ino);
        }
        ino
    }

    fn node(&self, ino: Ino) -> io::Result<&Node> {
        self.nodes.get(&ino).ok_or_else(not_found)
    }

    fn dir(&self, ino: Ino) -> io::Result<&DirNode> {
        match &self.node(ino)?.kind {
            Kind::Dir(dir) => Ok(dir),
            _ => Err(error(libc::ENOTDIR)),
        }
    }

    fn dir_mut(&mut self, ino: Ino) -> io::Result<&mut DirNode> {
        match self.nodes.get_mut(&ino).map(|node| &mut node.kind) {
            Some(Kind::Dir(dir)) => Ok(dir),
            Some(_) => Err(error(libc::ENOTDIR)),
            None => Err(not_found()),
        }
    }

    fn file_mut(&mut self, ino: Ino) -> io::Result<&mut FileNode> {
        match self.nodes.get_mut(&ino).map(|node| &mut node.kind) {
            Some(Kind::File(file)) => Ok(file),
            Some(Kind::Dir(_)) => Err(error(libc::EISDIR)),
            Some(Kind::Symlink(_)) => Err(error(libc::EINVAL)),
            None => Err(not_found()),
        }
    }

    /// The node's path relative to the mount, if it is in the live tree.
    pub(crate) fn relative_path(&self, ino: Ino) -> Option<PathBuf> {
        let mut names = Vec::new();
        let mut at = ino;
        while at != ROOT {
            let (dir, name) = self.nodes.get(&at)?.place.as_ref()?;
            names.push(name.clone());
            at = *dir;
        }
        Some(names.iter().rev().collect())
    }

    /// The node's path in the backing directory.
    fn path(&self, ino: Ino) -> io::Result<PathBuf> {
        self.relative_path(ino).map(|relative| self.backing.join(relative)).ok_or_else(not_found)
    }

    fn child(&self, dir: Ino, name: &OsStr) -> io::Result<Ino> {
        self.dir(dir)?.live.get(name).copied().ok_or_else(not_found)
    }

    /// Notes a change to directory entries (already made to the live maps): in the lenient mode
    /// it is durable the moment it is made; in the strict one it waits for a sync of each
    /// directory it edits, in order with the others (a cut may keep some of them).
    fn changed(&mut self, change: EntryChange) {
        if let Some(left) = self.power_off_after.as_mut() {
            *left = left.saturating_sub(1);
            if *left == 0 {
                // Before the answer goes back: nothing after this change succeeds.
                self.powered.store(false, Ordering::SeqCst);
                self.power_off_after = None;
            }
        }
        if self.strict {
            self.unsynced_entries.push(change);
            return;
        }
        for edit in &change {
            if let Ok(entries) = self.dir_mut(edit.dir) {
                entries.durable = entries.live.clone();
            }
        }
    }

    /// Makes sure a file's durable content is held here, not only in the backing file, before
    /// the backing file changes or goes away.
    fn keep_durable_copy(&mut self, ino: Ino) -> io::Result<()> {
        let untouched = matches!(&self.node(ino)?.kind, Kind::File(FileNode { durable: None, .. }));
        if untouched {
            let content = fs::read(self.path(ino)?)?;
            self.file_mut(ino)?.durable = Some(content);
        }
        Ok(())
    }

    /// The node's attributes: from an open handle if one is given, else from its path.
    pub(crate) fn metadata(&self, ino: Ino, handle: Option<u64>) -> io::Result<Metadata> {
        if let Some((_, file)) = handle.and_then(|handle| self.handles.get(&handle)) {
            return file.metadata();
        }
        match self.path(ino) {
            Ok(path) => fs::symlink_metadata(path),
            Err(error) => {
                // Removed but still open: any of its handles will do.
                let open = self.handles.values().find(|(open, _)| *open == ino);
                match open {
                    Some((_, file)) => file.metadata(),
                    None => Err(error),
                }
            }
        }
    }

    pub(crate) fn lookup(&self, dir: Ino, name: &OsStr) -> io::Result<(Ino, Metadata)> {
        let ino = self.child(dir, name)?;
        Ok((ino, self.metadata(ino, None)?))
    }

    pub(crate) fn entries(&self, dir: Ino) -> io::Result<Vec<(Ino, EntryKind, OsString)>> {
        let entries = self.dir(dir)?;
        Ok(entries
            .live
            .iter()
            .filter_map(|(name, ino)| {
                let kind = match &self.nodes.get(ino)?.kind {
                    Kind::File(_) => EntryKind::File,
                    Kind::Dir(_) => EntryKind::Dir,
                    Kind::Symlink(_) => EntryKind::Symlink,
                };
                Some((*ino, kind, name.clone()))
            })
            .collect())
    }

    /// The directory that holds `dir` (the root's own for the root).
    pub(crate) fn parent(&self, dir: Ino) -> Ino {
        self.nodes.get(&dir).and_then(|node| node.place.as_ref()).map_or(ROOT, |(parent, _)| *parent)
    }

    pub(crate) fn mkdir(&mut self, dir: Ino, name: &OsStr, mode: u32) -> io::Result<(Ino, Metadata)> {
        if self.dir(dir)?.live.contains_key(name) {
            return Err(error(libc::EEXIST));
        }
        let path = self.path(dir)?.join(name);
        fs::DirBuilder::new().mode(mode).create(&path)?;
        let ino = self.add_node(Kind::Dir(DirNode::default()), dir, name);
        self.changed(vec![Edit { dir, name: name.to_owned(), to: Some(ino) }]);
        Ok((ino, fs::symlink_metadata(path)?))
    }

    pub(crate) fn symlink(&mut self, dir: Ino, name: &OsStr, target: &Path) -> io::Result<(Ino, Metadata)> {
        if self.dir(dir)?.live.contains_key(name) {
            return Err(error(libc::EEXIST));
        }
        let path = self.path(dir)?.join(name);
        std::os::unix::fs::symlink(target, &path)?;
        let ino = self.add_node(Kind::Symlink(target.to_owned()), dir, name);
        self.changed(vec![Edit { dir, name: name.to_owned(), to: Some(ino) }]);
        Ok((ino, fs::symlink_metadata(path)?))
    }

    pub(crate) fn readlink(&self, ino: Ino) -> io::Result<PathBuf> {
        match &self.node(ino)?.kind {
            Kind::Symlink(target) => Ok(target.clone()),
            _ => Err(error(libc::EINVAL)),
        }
    }

    /// `open(2)` with `O_CREAT`: a new file (durable content: none), or the existing one.
    pub(crate) fn create(&mut self, dir: Ino, name: &OsStr, mode: u32, flags: i32) -> io::Result<(Ino, u64, Metadata)> {
        if let Ok(existing) = self.child(dir, name) {
            if flags & libc::O_EXCL != 0 {
                return Err(error(libc::EEXIST));
            }
            let handle = self.open(existing, flags)?;
            return Ok((existing, handle, self.metadata(existing, Some(handle))?));
        }
        let path = self.path(dir)?.join(name);
        let file = OpenOptions::new().read(true).write(true).create_new(true).mode(mode).open(&path)?;
        let ino = self.add_node(Kind::File(FileNode { durable: Some(Vec::new()), ..FileNode::default() }), dir, name);
        self.changed(vec![Edit { dir, name: name.to_owned(), to: Some(ino) }]);
        let metadata = file.metadata()?;
        let handle = self.add_handle(ino, file);
        Ok((ino, handle, metadata))
    }

    fn add_handle(&mut self, ino: Ino, file: File) -> u64 {
        let handle = self.next_handle;
        self.next_handle += 1;
        self.handles.insert(handle, (ino, file));
        handle
    }

    pub(crate) fn open(&mut self, ino: Ino, flags: i32) -> io::Result<u64> {
        self.file_mut(ino)?;
        let path = self.path(ino)?;
        let writes = flags & libc::O_ACCMODE != libc::O_RDONLY;
        let file = OpenOptions::new().read(true).write(writes).open(path)?;
        let handle = self.add_handle(ino, file);
        if flags & libc::O_TRUNC != 0 && writes {
            self.set_len(ino, Some(handle), 0)?;
        }
        Ok(handle)
    }

    pub(crate) fn release(&mut self, handle: u64) {
        self.handles.remove(&handle);
    }

    fn handle(&self, handle: u64) -> io::Result<&File> {
        self.handles.get(&handle).map(|(_, file)| file).ok_or_else(|| error(libc::EBADF))
    }

    pub(crate) fn read(&self, handle: u64, offset: u64, size: usize) -> io::Result<Vec<u8>> {
        let file = self.handle(handle)?;
        let mut buffer = vec![0; size];
        let mut filled = 0;
        while filled < size {
            match file.read_at(&mut buffer[filled..], offset + filled as u64)? {
                0 => break,
                read => filled += read,
            }
        }
        buffer.truncate(filled);
        Ok(buffer)
    }

    pub(crate) fn write(&mut self, ino: Ino, handle: u64, offset: u64, data: &[u8]) -> io::Result<()> {
        self.handle(handle)?;
        self.keep_durable_copy(ino)?;
        self.handle(handle)?.write_all_at(data, offset)?;
        self.file_mut(ino)?.pending.push(Op::Write { offset, data: data.to_vec() });
        Ok(())
    }

    pub(crate) fn set_len(&mut self, ino: Ino, handle: Option<u64>, len: u64) -> io::Result<()> {
        self.file_mut(ino)?;
        self.keep_durable_copy(ino)?;
        match handle.and_then(|handle| self.handles.get(&handle)) {
            Some((_, file)) => file.set_len(len)?,
            None => OpenOptions::new().write(true).open(self.path(ino)?)?.set_len(len)?,
        }
        self.file_mut(ino)?.pending.push(Op::SetLen(len));
        Ok(())
    }

    pub(crate) fn set_mode(&self, ino: Ino, mode: u32) -> io::Result<()> {
        fs::set_permissions(self.path(ino)?, fs::Permissions::from_mode(mode & 0o7777))
    }

    pub(crate) fn set_owner(&self, ino: Ino, uid: Option<u32>, gid: Option<u32>) -> io::Result<()> {
        std::os::unix::fs::lchown(self.path(ino)?, uid, gid)
    }

    pub(crate) fn set_times(
        &self,
        ino: Ino,
        handle: Option<u64>,
        accessed: Option<SystemTime>,
        modified: Option<SystemTime>,
    ) -> io::Result<()> {
        let mut times = fs::FileTimes::new();
        if let Some(accessed) = accessed {
            times = times.set_accessed(accessed);
        }
        if let Some(modified) = modified {
            times = times.set_modified(modified);
        }
        match handle.and_then(|handle| self.handles.get(&handle)) {
            Some((_, file)) => file.set_times(times),
            None => match &self.node(ino)?.kind {
                Kind::Symlink(_) => Ok(()),
                _ => File::open(self.path(ino)?)?.set_times(times),
            },
        }
    }

    pub(crate) fn unlink(&mut self, dir: Ino, name: &OsStr) -> io::Result<()> {
        let ino = self.child(dir, name)?;
        if matches!(self.node(ino)?.kind, Kind::Dir(_)) {
            return Err(error(libc::EISDIR));
        }
        if matches!(self.node(ino)?.kind, Kind::File(_)) {
            self.keep_durable_copy(ino)?;
        }
        fs::remove_file(self.path(ino)?)?;
        self.dir_mut(dir)?.live.remove(name);
        if let Some(node) = self.nodes.get_mut(&ino) {
            node.place = None;
        }
        self.changed(vec![Edit { dir, name: name.to_owned(), to: None }]);
        Ok(())
    }

    pub(crate) fn rmdir(&mut self, dir: Ino, name: &OsStr) -> io::Result<()> {
        let ino = self.child(dir, name)?;
        fs::remove_dir(self.path(ino)?)?;
        self.dir_mut(dir)?.live.remove(name);
        if let Some(node) = self.nodes.get_mut(&ino) {
            node.place = None;
        }
        self.changed(vec![Edit { dir, name: name.to_owned(), to: None }]);
        Ok(())
    }

    pub(crate) fn rename(&mut self, dir: Ino, name: &OsStr, new_dir: Ino, new_name: &OsStr) -> io::Result<()> {
        let ino = self.child(dir, name)?;
        self.dir(new_dir)?;
        let replaced = self.child(new_dir, new_name).ok();
        if let Some(replaced) = replaced {
            if replaced == ino {
                return Ok(());
            }
            if matches!(self.node(replaced)?.kind, Kind::File(_)) {
                self.keep_durable_copy(replaced)?;
            }
        }
        // A directory cannot move into itself or below itself.
        let mut at = new_dir;
        while at != ROOT {
            if at == ino {
                return Err(error(libc::EINVAL));
            }
            at = self.parent(at);
        }
        let to = self.path(new_dir)?.join(new_name);
        fs::rename(self.path(ino)?, to)?;
        self.dir_mut(dir)?.live.remove(name);
        if let Some(replaced) = replaced
            && let Some(node) = self.nodes.get_mut(&replaced)
        {
            node.place = None;
        }
        self.dir_mut(new_dir)?.live.insert(new_name.to_owned(), ino);
        if let Some(node) = self.nodes.get_mut(&ino) {
            node.place = Some((new_dir, new_name.to_owned()));
        }
        self.changed(vec![
            Edit { dir, name: name.to_owned(), to: None },
            Edit { dir: new_dir, name: new_name.to_owned(), to: Some(ino) },
        ]);
        Ok(())
    }

    /// `fsync`/`fdatasync` of a file: its content as it is now becomes durable.
    pub(crate) fn sync_file(&mut self, ino: Ino) -> io::Result<()> {
        let file = self.file_mut(ino)?;
        file.syncs += 1;
        if file.pending.is_empty() {
            return Ok(());
        }
        let pending = std::mem::take(&mut file.pending);
        let content = file.durable.as_mut().expect("a file with unsynced changes holds its durable content");
        for op in &pending {
            op.apply(content);
        }
        Ok(())
    }

    /// A failed sync: what it was to make durable never will be (Linux marks the pages clean
    /// after a failed writeback; a later sync that succeeds does not bring them back). Reads go
    /// on seeing the data.
    pub(crate) fn lose_unsynced(&mut self, ino: Ino) -> io::Result<()> {
        let file = self.file_mut(ino)?;
        file.syncs += 1;
        file.pending.clear();
        Ok(())
    }

    /// Cuts the power by itself right after `changes` more directory changes (`None`: not).
    pub(crate) fn power_off_after_entry_changes(&mut self, changes: Option<u64>) {
        self.power_off_after = changes.filter(|changes| *changes > 0);
    }

    /// `fsync` of a directory: its entries as they are now become durable.
    pub(crate) fn sync_dir(&mut self, ino: Ino) -> io::Result<()> {
        let entries = self.dir_mut(ino)?;
        entries.durable = entries.live.clone();
        for change in &mut self.unsynced_entries {
            change.retain(|edit| edit.dir != ino);
        }
        self.unsynced_entries.retain(|change| !change.is_empty());
        Ok(())
    }

    /// The entries a cut leaves of each directory with unsynced changes, as `cut.entries` says
    /// (every other directory keeps its durable entries), and how many of the unsynced changes
    /// it keeps (a rename between two directories kept in one of them only counts as kept).
    fn entries_after_cut(&self, cut: &Cut) -> (HashMap<Ino, BTreeMap<OsString, Ino>>, usize) {
        // A generator of its own, so that the files' choices stay as they were for a seed.
        let mut rng = fastrand::Rng::with_seed(cut.seed ^ 0x6469_7265_6374_6f72);
        let mut kept: HashMap<Ino, BTreeMap<OsString, Ino>> = HashMap::new();
        let mut apply = |model: &Model, edit: &Edit| {
            let entries = kept.entry(edit.dir).or_insert_with(|| match model.dir(edit.dir) {
                Ok(dir) => dir.durable.clone(),
                Err(_) => BTreeMap::new(),
            });
            match edit.to {
                Some(ino) => entries.insert(edit.name.clone(), ino),
                None => entries.remove(&edit.name),
            };
        };
        let changes = &self.unsynced_entries;
        let count = match cut.entries {
            Entries::Lost => 0,
            Entries::Prefix => {
                let count = rng.usize(0..=changes.len());
                for edit in changes[..count].iter().flatten() {
                    apply(self, edit);
                }
                count
            }
            Entries::PerDirectory => {
                let mut by_dir: BTreeMap<Ino, Vec<(usize, &Edit)>> = BTreeMap::new();
                for (index, change) in changes.iter().enumerate() {
                    for edit in change {
                        by_dir.entry(edit.dir).or_default().push((index, edit));
                    }
                }
                let mut touched = HashSet::new();
                for edits in by_dir.values() {
                    let count = rng.usize(0..=edits.len());
                    for (index, edit) in &edits[..count] {
                        apply(self, edit);
                        touched.insert(*index);
                    }
                }
                touched.len()
            }
        };
        (kept, count)
    }

    /// Every live path (relative to the mount) and its node, directories before what they hold.
    fn live_paths(&self) -> BTreeMap<PathBuf, Ino> {
        let mut paths = BTreeMap::new();
        let mut queue = vec![(ROOT, PathBuf::new())];
        while let Some((dir, path)) = queue.pop() {
            let Ok(entries) = self.dir(dir) else { continue };
            for (name, ino) in &entries.live {
                let child = path.join(name);
                paths.insert(child.clone(), *ino);
                if matches!(self.nodes.get(ino).map(|node| &node.kind), Some(Kind::Dir(_))) {
                    queue.push((*ino, child));
                }
            }
        }
        paths
    }

    /// Every durable path and its node (with the directories in `kept` as given there instead);
    /// a directory reachable twice (its move made durable in one directory and not in the
    /// other) is kept at the first place only.
    fn durable_paths(&self, kept: &HashMap<Ino, BTreeMap<OsString, Ino>>) -> BTreeMap<PathBuf, Ino> {
        let mut paths = BTreeMap::new();
        let mut seen = HashSet::from([ROOT]);
        let mut queue = vec![(ROOT, PathBuf::new())];
        while let Some((dir, path)) = queue.pop() {
            let Ok(entries) = self.dir(dir) else { continue };
            for (name, ino) in kept.get(&dir).unwrap_or(&entries.durable) {
                let is_dir = matches!(self.nodes.get(ino).map(|node| &node.kind), Some(Kind::Dir(_)));
                if is_dir && !seen.insert(*ino) {
                    continue;
                }
                let child = path.join(name);
                paths.insert(child.clone(), *ino);
                if is_dir {
                    queue.push((*ino, child));
                }
            }
        }
        paths
    }

    /// Writes what survives a power cut into `into` (an empty or missing directory), choosing
    /// what each file keeps of its unsynced changes as `cut` says.
    pub(crate) fn materialize(&self, into: &Path, cut: &Cut) -> io::Result<CutReport> {
        fs::create_dir_all(into)?;
        if fs::read_dir(into)?.next().is_some() {
            return Err(io::Error::other(format!("{} is not empty", into.display())));
        }
        let mut rng = fastrand::Rng::with_seed(cut.seed);
        let live = self.live_paths();
        let (kept, kept_entries) = self.entries_after_cut(cut);
        let durable = self.durable_paths(&kept);
        let mut report = CutReport {
            entry_changes: self.unsynced_entries.len(),
            entry_changes_kept: kept_entries,
            ..CutReport::default()
        };
        let mut contents: HashMap<Ino, Vec<u8>> = HashMap::new();
        // BTreeMap order puts a directory before everything in it.
        for (path, ino) in &durable {
            let target = into.join(path);
            let node = self.node(*ino)?;
            let live_mode = self
                .path(*ino)
                .ok()
                .and_then(|path| fs::symlink_metadata(path).ok())
                .map(|metadata| metadata.permissions().mode() & 0o7777);
            match &node.kind {
                Kind::Dir(_) => fs::DirBuilder::new().mode(live_mode.unwrap_or(0o755)).create(&target)?,
                Kind::Symlink(link) => std::os::unix::fs::symlink(link, &target)?,
                Kind::File(file) => {
                    if !contents.contains_key(ino) {
                        let mut content = match &file.durable {
                            Some(content) => content.clone(),
                            None => fs::read(self.path(*ino)?)?,
                        };
                        let (kept, torn) = keep_unsynced(&file.pending, &mut content, cut, &mut rng);
                        if !file.pending.is_empty() {
                            report.unsynced.push(UnsyncedFile {
                                path: path.clone(),
                                changes: file.pending.len(),
                                bytes: file.pending.iter().map(Op::len).sum(),
                                kept,
                                torn,
                                syncs: file.syncs,
                            });
                        }
                        contents.insert(*ino, content);
                    }
                    let mut options = OpenOptions::new();
                    options.write(true).create_new(true).mode(live_mode.unwrap_or(0o644));
                    options.open(&target)?.write_all_at(&contents[ino], 0)?;
                }
            }
        }
        report.lost =
            live.iter().filter(|(path, ino)| durable.get(*path) != Some(ino)).map(|(path, _)| path.clone()).collect();
        report.revived =
            durable.iter().filter(|(path, ino)| live.get(*path) != Some(ino)).map(|(path, _)| path.clone()).collect();
        Ok(report)
    }
}

/// Applies to `content` what a file keeps of its unsynced changes: how many whole changes, and
/// whether one more was applied in part.
fn keep_unsynced(pending: &[Op], content: &mut Vec<u8>, cut: &Cut, rng: &mut fastrand::Rng) -> (usize, bool) {
    match cut.unsynced {
        Unsynced::Lost => (0, false),
        Unsynced::Prefix => {
            let kept = rng.usize(0..=pending.len());
            for op in &pending[..kept] {
                op.apply(content);
            }
            let torn = match pending.get(kept) {
                Some(next @ Op::Write { offset, data }) if cut.torn => {
                    // A disk writes whole sectors: the write is torn at a sector boundary inside
                    // it, or not at all.
                    let first = offset / SECTOR + 1;
                    let last = (offset + data.len() as u64).div_ceil(SECTOR) - 1;
                    if first <= last {
                        let boundary = rng.u64(first..=last) * SECTOR;
                        next.apply_torn(content, to_usize(boundary - offset));
                        true
                    } else {
                        false
                    }
                }
                _ => false,
            };
            (kept, torn)
        }
        Unsynced::Subset => {
            let mut kept = 0;
            for op in pending {
                if rng.bool() {
                    op.apply(content);
                    kept += 1;
                }
            }
            (kept, false)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(offset: u64, data: &[u8]) -> Op {
        Op::Write { offset, data: data.to_vec() }
    }

    #[test]
    fn writes_extend_and_overwrite_and_size_changes_cut_or_pad() {
        let mut content = b"abc".to_vec();
        write(5, b"xy").apply(&mut content);
        assert_eq!(content, b"abc\0\0xy");
        write(1, b"ZZ").apply(&mut content);
        assert_eq!(content, b"aZZ\0\0xy");
        Op::SetLen(2).apply(&mut content);
        assert_eq!(content, b"aZ");
        Op::SetLen(4).apply(&mut content);
        assert_eq!(content, b"aZ\0\0");
    }

    #[test]
    fn a_prefix_keeps_whole_changes_in_order_and_tears_the_next_write_between_sectors() {
        let sector = SECTOR as usize;
        // Three writes; the second spans three sectors, the third fits in one.
        let pending = vec![
            write(0, &vec![1; sector]),
            write(SECTOR + 100, &vec![2; 2 * sector]),
            write(3 * SECTOR + 200, &[3; 16]),
        ];
        let whole = [sector, 3 * sector + 100, 3 * sector + 216];
        let mut seen_kept = HashSet::new();
        let mut seen_torn = HashSet::new();
        for seed in 0..300 {
            let cut = Cut { unsynced: Unsynced::Prefix, torn: true, entries: Entries::Lost, seed };
            let mut content = Vec::new();
            let (kept, torn) = keep_unsynced(&pending, &mut content, &cut, &mut fastrand::Rng::with_seed(seed));
            seen_kept.insert(kept);
            let length = if kept == 0 { 0 } else { whole[kept - 1] };
            if torn {
                assert_eq!(kept, 1, "only the write that spans sectors can tear: {seed}");
                assert!(
                    content.len() == 2 * sector || content.len() == 3 * sector,
                    "torn at a sector boundary: {}",
                    content.len()
                );
                assert!(content[sector + 100..].iter().all(|byte| *byte == 2));
                seen_torn.insert(content.len());
            } else {
                assert_eq!(content.len(), length, "seed {seed}");
            }
        }
        assert_eq!(seen_kept, HashSet::from([0, 1, 2, 3]), "every prefix length comes up");
        assert_eq!(seen_torn, HashSet::from([2 * sector, 3 * sector]), "either boundary");
    }

    #[test]
    fn nothing_unsynced_survives_when_it_is_lost() {
        let pending = vec![write(0, b"1111"), Op::SetLen(1)];
        let mut content = b"old".to_vec();
        let cut = Cut { unsynced: Unsynced::Lost, torn: true, entries: Entries::Lost, seed: 7 };
        assert_eq!(keep_unsynced(&pending, &mut content, &cut, &mut fastrand::Rng::with_seed(7)), (0, false));
        assert_eq!(content, b"old");
    }
}
