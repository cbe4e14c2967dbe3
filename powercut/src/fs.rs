//! The FUSE side: each request goes to the [`Model`], with the faults applied on the way.

use crate::Faults;
use crate::model::{EntryKind, Ino, Model};
use fuser::{
    AccessFlags, BsdFileFlags, Errno, FileAttr, FileHandle, FileType, Filesystem, FopenFlags, Generation, INodeNo,
    LockOwner, OpenFlags, RenameFlags, ReplyAttr, ReplyCreate, ReplyData, ReplyDirectory, ReplyEmpty, ReplyEntry,
    ReplyOpen, ReplyStatfs, ReplyWrite, Request, TimeOrNow, WriteFlags,
};
use std::ffi::OsStr;
use std::fs::Metadata;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long the kernel may keep names and attributes: every change goes through this file
/// system, so its caches cannot go stale.
const TTL: Duration = Duration::from_secs(1);

pub(crate) struct PowerCutFs {
    pub(crate) model: Arc<Mutex<Model>>,
    pub(crate) faults: Arc<Faults>,
    /// Cleared by a power cut: from then on every request fails and nothing changes.
    pub(crate) powered: Arc<AtomicBool>,
}

fn errno(error: &io::Error) -> Errno {
    Errno::from_i32(error.raw_os_error().unwrap_or(libc::EIO))
}

fn time(seconds: i64, nanos: i64) -> SystemTime {
    let nanos = u32::try_from(nanos).unwrap_or(0);
    match u64::try_from(seconds) {
        Ok(seconds) => UNIX_EPOCH + Duration::new(seconds, nanos),
        Err(_) => UNIX_EPOCH,
    }
}

fn attr(ino: Ino, metadata: &Metadata) -> FileAttr {
    let kind = FileType::from_std(metadata.file_type()).unwrap_or(FileType::RegularFile);
    FileAttr {
        ino: INodeNo(ino),
        size: metadata.size(),
        blocks: metadata.blocks(),
        atime: time(metadata.atime(), metadata.atime_nsec()),
        mtime: time(metadata.mtime(), metadata.mtime_nsec()),
        ctime: time(metadata.ctime(), metadata.ctime_nsec()),
        crtime: time(metadata.ctime(), metadata.ctime_nsec()),
        kind,
        perm: u16::try_from(metadata.mode() & 0o7777).unwrap_or(0o644),
        nlink: u32::try_from(metadata.nlink()).unwrap_or(1),
        uid: metadata.uid(),
        gid: metadata.gid(),
        rdev: u32::try_from(metadata.rdev()).unwrap_or(0),
        blksize: 4096,
        flags: 0,
    }
}

fn to_time(time: TimeOrNow) -> SystemTime {
    match time {
        TimeOrNow::SpecificTime(time) => time,
        TimeOrNow::Now => SystemTime::now(),
    }
}

impl PowerCutFs {
    /// The model, unless the power is off.
    fn live(&self) -> Result<MutexGuard<'_, Model>, Errno> {
        if !self.powered.load(Ordering::SeqCst) {
            return Err(Errno::EIO);
        }
        Ok(self.model.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    fn entry(&self, reply: ReplyEntry, result: io::Result<(Ino, Metadata)>) {
        match result {
            Ok((ino, metadata)) => reply.entry(&TTL, &attr(ino, &metadata), Generation(0)),
            Err(error) => reply.error(errno(&error)),
        }
    }

    /// Whether reads of this file are to come back damaged.
    fn flipped(&self, path: Option<&Path>) -> Option<std::ops::Range<u64>> {
        let rule = self.faults.flip.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()?;
        match (&rule.file, path) {
            (None, _) => Some(rule.offsets),
            (Some(file), Some(path)) if file == path => Some(rule.offsets),
            _ => None,
        }
    }
}

impl Filesystem for PowerCutFs {
    fn lookup(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEntry) {
        match self.live() {
            Ok(model) => self.entry(reply, model.lookup(parent.0, name)),
            Err(error) => reply.error(error),
        }
    }

    fn getattr(&self, _req: &Request, ino: INodeNo, fh: Option<FileHandle>, reply: ReplyAttr) {
        match self.live().map(|model| model.metadata(ino.0, fh.map(|fh| fh.0))) {
            Ok(Ok(metadata)) => reply.attr(&TTL, &attr(ino.0, &metadata)),
            Ok(Err(error)) => reply.error(errno(&error)),
            Err(error) => reply.error(error),
        }
    }

    fn setattr(
        &self,
        _req: &Request,
        ino: INodeNo,
        mode: Option<u32>,
        uid: Option<u32>,
        gid: Option<u32>,
        size: Option<u64>,
        atime: Option<TimeOrNow>,
        mtime: Option<TimeOrNow>,
        _ctime: Option<SystemTime>,
        fh: Option<FileHandle>,
        _crtime: Option<SystemTime>,
        _chgtime: Option<SystemTime>,
        _bkuptime: Option<SystemTime>,
        _flags: Option<BsdFileFlags>,
        reply: ReplyAttr,
    ) {
        let mut model = match self.live() {
            Ok(model) => model,
            Err(error) => return reply.error(error),
        };
        let handle = fh.map(|fh| fh.0);
        let result = (|| {
            if let Some(mode) = mode {
                model.set_mode(ino.0, mode)?;
            }
            if uid.is_some() || gid.is_some() {
                model.set_owner(ino.0, uid, gid)?;
            }
            if let Some(size) = size {
                model.set_len(ino.0, handle, size)?;
            }
            if atime.is_some() || mtime.is_some() {
                model.set_times(ino.0, handle, atime.map(to_time), mtime.map(to_time))?;
            }
            model.metadata(ino.0, handle)
        })();
        match result {
            Ok(metadata) => reply.attr(&TTL, &attr(ino.0, &metadata)),
            Err(error) => reply.error(errno(&error)),
        }
    }

    fn readlink(&self, _req: &Request, ino: INodeNo, reply: ReplyData) {
        match self.live().map(|model| model.readlink(ino.0)) {
            Ok(Ok(target)) => reply.data(std::os::unix::ffi::OsStrExt::as_bytes(target.as_os_str())),
            Ok(Err(error)) => reply.error(errno(&error)),
            Err(error) => reply.error(error),
        }
    }

    fn mkdir(&self, _req: &Request, parent: INodeNo, name: &OsStr, mode: u32, umask: u32, reply: ReplyEntry) {
        if self.faults.out_of_space() {
            return reply.error(Errno::ENOSPC);
        }
        match self.live() {
            Ok(mut model) => {
                let result = model.mkdir(parent.0, name, mode & !umask);
                self.entry(reply, result);
            }
            Err(error) => reply.error(error),
        }
    }

    fn unlink(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        match self.live().map(|mut model| model.unlink(parent.0, name)) {
            Ok(Ok(())) => reply.ok(),
            Ok(Err(error)) => reply.error(errno(&error)),
            Err(error) => reply.error(error),
        }
    }

    fn rmdir(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        match self.live().map(|mut model| model.rmdir(parent.0, name)) {
            Ok(Ok(())) => reply.ok(),
            Ok(Err(error)) => reply.error(errno(&error)),
            Err(error) => reply.error(error),
        }
    }

    fn symlink(&self, _req: &Request, parent: INodeNo, link_name: &OsStr, target: &Path, reply: ReplyEntry) {
        if self.faults.out_of_space() {
            return reply.error(Errno::ENOSPC);
        }
        match self.live() {
            Ok(mut model) => {
                let result = model.symlink(parent.0, link_name, target);
                self.entry(reply, result);
            }
            Err(error) => reply.error(error),
        }
    }

    fn rename(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        newparent: INodeNo,
        newname: &OsStr,
        flags: RenameFlags,
        reply: ReplyEmpty,
    ) {
        if !flags.is_empty() {
            // RENAME_NOREPLACE, RENAME_EXCHANGE and RENAME_WHITEOUT are not modelled.
            return reply.error(Errno::EINVAL);
        }
        match self.live().map(|mut model| model.rename(parent.0, name, newparent.0, newname)) {
            Ok(Ok(())) => reply.ok(),
            Ok(Err(error)) => reply.error(errno(&error)),
            Err(error) => reply.error(error),
        }
    }

    fn open(&self, _req: &Request, ino: INodeNo, flags: OpenFlags, reply: ReplyOpen) {
        let mut model = match self.live() {
            Ok(model) => model,
            Err(error) => return reply.error(error),
        };
        let direct = self.flipped(model.relative_path(ino.0).as_deref()).is_some();
        match model.open(ino.0, flags.0) {
            // Reads of a file whose reads are to be damaged bypass the page cache, so that each
            // one comes here.
            Ok(handle) => {
                reply.opened(FileHandle(handle), if direct { FopenFlags::FOPEN_DIRECT_IO } else { FopenFlags::empty() })
            }
            Err(error) => reply.error(errno(&error)),
        }
    }

    fn read(
        &self,
        _req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        size: u32,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyData,
    ) {
        let model = match self.live() {
            Ok(model) => model,
            Err(error) => return reply.error(error),
        };
        match model.read(fh.0, offset, size as usize) {
            Ok(mut data) => {
                if let Some(range) = self.flipped(model.relative_path(ino.0).as_deref()) {
                    for (at, byte) in data.iter_mut().enumerate() {
                        if range.contains(&(offset + at as u64)) {
                            *byte ^= 0xff;
                        }
                    }
                }
                reply.data(&data);
            }
            Err(error) => reply.error(errno(&error)),
        }
    }

    fn write(
        &self,
        _req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        data: &[u8],
        _write_flags: WriteFlags,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyWrite,
    ) {
        let mut model = match self.live() {
            Ok(model) => model,
            Err(error) => return reply.error(error),
        };
        // A full disk takes what fits and refuses the rest, as a real one does.
        let allowed = self.faults.take_space(data.len());
        if allowed == 0 && !data.is_empty() {
            return reply.error(Errno::ENOSPC);
        }
        match model.write(ino.0, fh.0, offset, &data[..allowed]) {
            Ok(()) => reply.written(u32::try_from(allowed).expect("FUSE writes are smaller than 4 GiB")),
            Err(error) => reply.error(errno(&error)),
        }
    }

    fn flush(&self, _req: &Request, _ino: INodeNo, _fh: FileHandle, _lock_owner: LockOwner, reply: ReplyEmpty) {
        reply.ok();
    }

    fn release(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        _flush: bool,
        reply: ReplyEmpty,
    ) {
        // Handles are let go even after a power cut, so that nothing stays open.
        self.model.lock().unwrap_or_else(std::sync::PoisonError::into_inner).release(fh.0);
        reply.ok();
    }

    fn fsync(&self, _req: &Request, ino: INodeNo, _fh: FileHandle, _datasync: bool, reply: ReplyEmpty) {
        let mut model = match self.live() {
            Ok(model) => model,
            Err(error) => return reply.error(error),
        };
        if self.faults.fail_syncs.load(Ordering::SeqCst) {
            self.faults.failed_syncs.fetch_add(1, Ordering::SeqCst);
            let _ = model.lose_unsynced(ino.0);
            return reply.error(Errno::EIO);
        }
        match model.sync_file(ino.0) {
            Ok(()) => {
                self.faults.syncs.fetch_add(1, Ordering::SeqCst);
                reply.ok();
            }
            Err(error) => reply.error(errno(&error)),
        }
    }

    fn opendir(&self, _req: &Request, _ino: INodeNo, _flags: OpenFlags, reply: ReplyOpen) {
        reply.opened(FileHandle(0), FopenFlags::empty());
    }

    fn readdir(&self, _req: &Request, ino: INodeNo, _fh: FileHandle, offset: u64, mut reply: ReplyDirectory) {
        let model = match self.live() {
            Ok(model) => model,
            Err(error) => return reply.error(error),
        };
        let entries = match model.entries(ino.0) {
            Ok(entries) => entries,
            Err(error) => return reply.error(errno(&error)),
        };
        let parent = model.parent(ino.0);
        let dots = [(ino.0, EntryKind::Dir, ".".into()), (parent, EntryKind::Dir, "..".into())];
        for (index, (child, kind, name)) in dots.into_iter().chain(entries).enumerate().skip(offset as usize) {
            let kind = match kind {
                EntryKind::File => FileType::RegularFile,
                EntryKind::Dir => FileType::Directory,
                EntryKind::Symlink => FileType::Symlink,
            };
            if reply.add(INodeNo(child), index as u64 + 1, kind, &name) {
                break;
            }
        }
        reply.ok();
    }

    fn fsyncdir(&self, _req: &Request, ino: INodeNo, _fh: FileHandle, _datasync: bool, reply: ReplyEmpty) {
        let mut model = match self.live() {
            Ok(model) => model,
            Err(error) => return reply.error(error),
        };
        if self.faults.fail_syncs.load(Ordering::SeqCst) {
            self.faults.failed_syncs.fetch_add(1, Ordering::SeqCst);
            return reply.error(Errno::EIO);
        }
        match model.sync_dir(ino.0) {
            Ok(()) => {
                self.faults.syncs.fetch_add(1, Ordering::SeqCst);
                reply.ok();
            }
            Err(error) => reply.error(errno(&error)),
        }
    }

    fn statfs(&self, _req: &Request, _ino: INodeNo, reply: ReplyStatfs) {
        // 1 TiB of 4 KiB blocks, all free, unless the faults limit the space: then the room left
        // (what `limit_space` allowed minus what has been written since), in whole blocks, as a
        // file system shows what it has left; or still plenty if the limit is set to be unseen.
        const BLOCK: u64 = 4096;
        const BLOCKS: u64 = 1 << 28;
        let free = self.faults.space_shown().map_or(BLOCKS, |left| (left / BLOCK).min(BLOCKS));
        reply.statfs(BLOCKS, free, free, 1 << 20, 1 << 19, BLOCK as u32, 255, BLOCK as u32);
    }

    fn access(&self, _req: &Request, _ino: INodeNo, _mask: AccessFlags, reply: ReplyEmpty) {
        reply.ok();
    }

    fn create(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        flags: i32,
        reply: ReplyCreate,
    ) {
        if self.faults.out_of_space() {
            return reply.error(Errno::ENOSPC);
        }
        let mut model = match self.live() {
            Ok(model) => model,
            Err(error) => return reply.error(error),
        };
        match model.create(parent.0, name, mode & !umask, flags) {
            Ok((ino, handle, metadata)) => {
                reply.created(&TTL, &attr(ino, &metadata), Generation(0), FileHandle(handle), FopenFlags::empty())
            }
            Err(error) => reply.error(errno(&error)),
        }
    }

    fn fallocate(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _fh: FileHandle,
        _offset: u64,
        _length: u64,
        _mode: i32,
        reply: ReplyEmpty,
    ) {
        // Not modelled; glibc's posix_fallocate then writes zeros, which is.
        reply.error(Errno::EOPNOTSUPP);
    }
}
