//! The model, through a real mount: ordinary file operations on the mount, then a power cut,
//! then a look at what survived.

use kipina_powercut::{Cut, Entries, FlipReads, Mode, PowerCut, Unsynced};
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

struct Setup {
    backing: tempfile::TempDir,
    mount: tempfile::TempDir,
    images: tempfile::TempDir,
}

impl Setup {
    fn new() -> Setup {
        Setup {
            backing: tempfile::tempdir().expect("a backing directory"),
            mount: tempfile::tempdir().expect("a mount point"),
            images: tempfile::tempdir().expect("a place for images"),
        }
    }

    fn mount(&self, mode: Mode) -> PowerCut {
        PowerCut::mount(self.backing.path(), self.mount.path(), mode).expect("mounted")
    }

    fn at(&self, path: &str) -> PathBuf {
        self.mount.path().join(path)
    }

    fn image(&self, name: &str) -> PathBuf {
        self.images.path().join(name)
    }

    /// Cuts the power, losing everything unsynced; returns where the image is.
    fn cut(&self, fs: PowerCut) -> PathBuf {
        let image = self.image("image");
        fs.cut(&image, &Cut::lose_everything_unsynced()).expect("the cut");
        image
    }
}

fn sync_dir(path: &Path) {
    File::open(path).expect("the directory opens").sync_all().expect("the directory syncs");
}

fn write_file(path: &Path, content: &[u8]) -> File {
    let mut file = File::create(path).expect("created");
    file.write_all(content).expect("written");
    file
}

#[test]
fn an_unsynced_write_is_gone_and_a_synced_one_stays() {
    let setup = Setup::new();
    fs::write(setup.backing.path().join("old"), b"before").expect("a file from before");
    let fs = setup.mount(Mode::Lenient);
    let mut file = OpenOptions::new().write(true).open(setup.at("old")).expect("opens");
    file.write_all(b"AFTER!").expect("written");
    drop(file);
    write_file(&setup.at("synced"), b"kept").sync_data().expect("fdatasync");
    write_file(&setup.at("unsynced"), b"not kept");
    assert_eq!(fs::read(setup.at("old")).expect("read"), b"AFTER!", "the live file has the write");
    let image = setup.cut(fs);
    assert_eq!(fs::read(image.join("old")).expect("still there"), b"before");
    assert_eq!(fs::read(image.join("synced")).expect("there"), b"kept");
    assert_eq!(fs::read(image.join("unsynced")).expect("its name is durable in the lenient mode"), b"");
    assert_eq!(
        fs::read(setup.backing.path().join("old")).expect("read"),
        b"AFTER!",
        "the backing keeps the live state"
    );
}

#[test]
fn in_the_strict_mode_a_new_file_needs_a_sync_of_its_directory() {
    let setup = Setup::new();
    let fs = setup.mount(Mode::Strict);
    let both = write_file(&setup.at("both-synced"), b"data");
    both.sync_all().expect("fsync");
    drop(both);
    sync_dir(setup.mount.path());
    // Created after the directory's sync: the file is synced, its name is not durable.
    write_file(&setup.at("only-file-synced"), b"data").sync_all().expect("fsync");
    let image = setup.cut(fs);
    assert!(!image.join("only-file-synced").exists(), "a file whose directory was not synced since is gone");
    assert_eq!(fs::read(image.join("both-synced")).expect("there"), b"data");
}

#[test]
fn in_the_strict_mode_a_rename_needs_a_sync_of_the_directory() {
    let setup = Setup::new();
    fs::write(setup.backing.path().join("a"), b"first").expect("a file from before");
    fs::write(setup.backing.path().join("b"), b"second").expect("a file from before");
    fs::write(setup.backing.path().join("gone"), b"removed").expect("a file from before");
    let fs = setup.mount(Mode::Strict);
    // The usual atomic replacement: write a temporary file, sync it, rename it over.
    write_file(&setup.at("a.tmp"), b"new first").sync_all().expect("fsync");
    fs::rename(setup.at("a.tmp"), setup.at("a")).expect("renamed");
    fs::rename(setup.at("b"), setup.at("b2")).expect("renamed");
    fs::remove_file(setup.at("gone")).expect("removed");
    assert_eq!(fs::read(setup.at("a")).expect("read"), b"new first");
    let image = setup.cut(fs);
    assert_eq!(fs::read(image.join("a")).expect("the old name"), b"first", "the rename was not durable");
    assert!(!image.join("a.tmp").exists(), "the temporary file's creation was not durable either");
    assert_eq!(fs::read(image.join("b")).expect("the old name"), b"second");
    assert!(!image.join("b2").exists());
    assert_eq!(fs::read(image.join("gone")).expect("not removed"), b"removed");

    // The same with a sync of the directory.
    let setup = Setup::new();
    fs::write(setup.backing.path().join("a"), b"first").expect("a file from before");
    let fs = setup.mount(Mode::Strict);
    write_file(&setup.at("a.tmp"), b"new first").sync_all().expect("fsync");
    fs::rename(setup.at("a.tmp"), setup.at("a")).expect("renamed");
    sync_dir(setup.mount.path());
    let image = setup.cut(fs);
    assert_eq!(fs::read(image.join("a")).expect("the new content"), b"new first");
    assert!(!image.join("a.tmp").exists());
}

#[test]
fn a_new_directory_needs_a_sync_of_its_parent_and_of_itself() {
    /// Makes `data/keys/k` (the file synced) on a strict mount, syncs the directories named
    /// (`""` is the mount's root) and cuts: what survived.
    fn cut_after_syncing(directories: &[&str]) -> (Setup, PathBuf) {
        let setup = Setup::new();
        let fs = setup.mount(Mode::Strict);
        fs::create_dir_all(setup.at("data/keys")).expect("made");
        write_file(&setup.at("data/keys/k"), b"key").sync_all().expect("fsync");
        for directory in directories {
            sync_dir(&if directory.is_empty() { setup.mount.path().to_owned() } else { setup.at(directory) });
        }
        let image = setup.cut(fs);
        (setup, image)
    }

    // The mount's root was not synced: `data` is not durable, and with it nothing below.
    let (_setup, image) = cut_after_syncing(&["data/keys", "data"]);
    assert!(!image.join("data").exists());

    // `keys` itself was not synced: it is there, empty.
    let (_setup, image) = cut_after_syncing(&["data", ""]);
    assert!(image.join("data/keys").is_dir());
    assert!(!image.join("data/keys/k").exists());

    let (_setup, image) = cut_after_syncing(&["data/keys", "data", ""]);
    assert_eq!(fs::read(image.join("data/keys/k")).expect("everything synced"), b"key");
}

#[test]
fn in_the_lenient_mode_directory_changes_are_durable_at_once() {
    let setup = Setup::new();
    fs::write(setup.backing.path().join("a"), b"first").expect("a file from before");
    let fs = setup.mount(Mode::Lenient);
    fs::create_dir_all(setup.at("data/keys")).expect("made");
    write_file(&setup.at("data/keys/k"), b"key").sync_all().expect("fsync");
    fs::rename(setup.at("a"), setup.at("data/a")).expect("moved");
    let image = setup.cut(fs);
    assert_eq!(fs::read(image.join("data/keys/k")).expect("there"), b"key");
    assert_eq!(fs::read(image.join("data/a")).expect("moved"), b"first");
    assert!(!image.join("a").exists());
}

#[test]
fn a_cut_may_keep_a_prefix_of_the_unsynced_writes_and_tear_the_next_between_sectors() {
    // Four writes of 600 bytes: each but the first spans a 512-byte sector boundary.
    let all: Vec<u8> = (0..4u8).flat_map(|index| vec![b'a' + index; 600]).collect();
    let mut lengths = std::collections::BTreeSet::new();
    for seed in 0..16 {
        let setup = Setup::new();
        let fs = setup.mount(Mode::Lenient);
        let file = write_file(&setup.at("log"), b"");
        file.sync_all().expect("fsync");
        for (index, chunk) in all.chunks(600).enumerate() {
            file.write_all_at(chunk, index as u64 * 600).expect("written");
        }
        drop(file);
        let image = setup.image("image");
        let report = fs
            .cut(&image, &Cut { unsynced: Unsynced::Prefix, torn: true, entries: Entries::Lost, seed })
            .expect("the cut");
        let content = fs::read(image.join("log")).expect("the file");
        assert!(all.starts_with(&content), "seed {seed}: {} bytes are a prefix", content.len());
        let unsynced = &report.unsynced[0];
        assert_eq!((unsynced.changes, unsynced.bytes, unsynced.syncs), (4, 2400, 1));
        if unsynced.torn {
            assert_eq!(content.len() % 512, 0, "torn at a sector boundary");
            assert!(content.len() > unsynced.kept * 600 && content.len() < (unsynced.kept + 1) * 600);
        } else {
            assert_eq!(content.len(), unsynced.kept * 600);
        }
        lengths.insert(content.len());
    }
    assert!(lengths.len() > 2, "different seeds keep different amounts: {lengths:?}");
}

#[test]
fn a_failed_sync_loses_what_it_was_to_make_durable_even_after_a_later_sync() {
    let setup = Setup::new();
    let fs = setup.mount(Mode::Lenient);
    let file = write_file(&setup.at("log"), b"a");
    fs.faults().fail_syncs(true);
    let failed = file.sync_data().expect_err("fdatasync fails");
    assert_eq!(failed.raw_os_error(), Some(libc_eio()), "{failed}");
    assert_eq!(fs.faults().failed_syncs(), 1);
    fs.faults().fail_syncs(false);
    file.write_all_at(b"b", 1).expect("written");
    file.sync_data().expect("the next fdatasync succeeds");
    let mut read = String::new();
    File::open(setup.at("log")).expect("opens").read_to_string(&mut read).expect("read");
    assert_eq!(read, "ab", "reads still see the write whose sync failed");
    drop(file);
    let image = setup.cut(fs);
    assert_eq!(fs::read(image.join("log")).expect("there"), b"\0b", "the first write never became durable");
}

fn libc_eio() -> i32 {
    5
}

#[test]
fn a_full_disk_refuses_writes_until_space_is_freed() {
    let setup = Setup::new();
    let fs = setup.mount(Mode::Lenient);
    let mut file = write_file(&setup.at("big"), b"");
    fs.faults().limit_space(Some(10));
    let refused = file.write_all(&[7; 20]).expect_err("the disk fills up");
    assert_eq!(refused.raw_os_error(), Some(28), "ENOSPC: {refused}");
    assert_eq!(fs::metadata(setup.at("big")).expect("there").len(), 10, "what fitted was written");
    assert_eq!(File::create(setup.at("new")).expect_err("no room for a file").raw_os_error(), Some(28));
    assert!(fs.faults().refused_writes() >= 2);
    fs.faults().limit_space(None);
    file.write_all(&[8; 20]).expect("room again");
    assert_eq!(fs::metadata(setup.at("big")).expect("there").len(), 30);
    drop(file);
    fs.unmount().expect("a clean unmount");
    assert_eq!(fs::read(setup.backing.path().join("big")).expect("kept").len(), 30, "the backing has it all");
}

/// The operations of the partial-directory tests, each file synced as it is made, on a strict
/// mount whose directories `a` and `b` are durable (and empty) at the start; then a cut keeping
/// directory changes as `entries` says. Returns the files in the image and the cut's report.
fn partial_directories(
    seed: u64,
    entries: Entries,
) -> (std::collections::BTreeSet<String>, kipina_powercut::CutReport) {
    let setup = Setup::new();
    let fs = setup.mount(Mode::Strict);
    for dir in ["a", "b"] {
        fs::create_dir(setup.at(dir)).expect("made");
        sync_dir(&setup.at(dir));
    }
    sync_dir(setup.mount.path());
    write_file(&setup.at("a/1"), b"one").sync_all().expect("fsync");
    write_file(&setup.at("b/1"), b"b-one").sync_all().expect("fsync");
    fs::rename(setup.at("a/1"), setup.at("a/2")).expect("renamed");
    write_file(&setup.at("a/3"), b"three").sync_all().expect("fsync");
    fs::remove_file(setup.at("b/1")).expect("removed");
    fs::rename(setup.at("a/3"), setup.at("b/3")).expect("moved");
    let image = setup.image("image");
    let cut = Cut::lose_everything_unsynced().keeping_entries(entries);
    let report = fs.cut(&image, &Cut { seed, ..cut }).expect("the cut");
    let mut files = std::collections::BTreeSet::new();
    for dir in ["a", "b"] {
        for entry in fs::read_dir(image.join(dir)).expect("the directory is durable") {
            let entry = entry.expect("an entry");
            let name = format!("{dir}/{}", entry.file_name().to_string_lossy());
            let content = fs::read(entry.path()).expect("read");
            let expected: &[u8] = match name.as_str() {
                "a/1" | "a/2" => b"one",
                "b/1" => b"b-one",
                _ => b"three",
            };
            assert_eq!(content, expected, "{name}: a kept name leads to its synced file");
            files.insert(name);
        }
    }
    (files, report)
}

fn set(names: &[&str]) -> std::collections::BTreeSet<String> {
    names.iter().map(|name| (*name).to_owned()).collect()
}

#[test]
fn a_prefix_of_directory_changes_keeps_them_in_the_order_made_across_directories() {
    // The state after each number of the operations, in the order made.
    let states = [
        set(&[]),
        set(&["a/1"]),
        set(&["a/1", "b/1"]),
        set(&["a/2", "b/1"]),
        set(&["a/2", "a/3", "b/1"]),
        set(&["a/2", "a/3"]),
        set(&["a/2", "b/3"]),
    ];
    let mut seen = std::collections::BTreeSet::new();
    for seed in 0..24 {
        let (files, report) = partial_directories(seed, Entries::Prefix);
        assert_eq!(report.entry_changes, 6, "six changes were not covered by a sync of their directory");
        let kept = report.entry_changes_kept;
        assert_eq!(files, states[kept], "seed {seed}: the first {kept} changes, no others");
        seen.insert(kept);
    }
    assert!(seen.len() > 3, "different seeds keep different numbers of changes: {seen:?}");

    // Nothing kept: each directory as its last sync left it.
    let (files, report) = partial_directories(0, Entries::Lost);
    assert_eq!((files, report.entry_changes_kept), (set(&[]), 0));
}

#[test]
fn per_directory_each_directory_keeps_a_prefix_of_its_own_changes() {
    // Each directory's states after each number of its own changes (the move from `a` to `b`
    // is a removal in `a` and an addition in `b`).
    let a = [set(&[]), set(&["a/1"]), set(&["a/2"]), set(&["a/2", "a/3"]), set(&["a/2"])];
    let b = [set(&[]), set(&["b/1"]), set(&[]), set(&["b/3"])];
    let global_prefixes = [
        set(&[]),
        set(&["a/1"]),
        set(&["a/1", "b/1"]),
        set(&["a/2", "b/1"]),
        set(&["a/2", "a/3", "b/1"]),
        set(&["a/2", "a/3"]),
        set(&["a/2", "b/3"]),
    ];
    let mut outside_the_global_order = 0;
    let mut moved_twice = 0;
    for seed in 0..24 {
        let (files, _) = partial_directories(seed, Entries::PerDirectory);
        let in_a: std::collections::BTreeSet<String> =
            files.iter().filter(|name| name.starts_with("a/")).cloned().collect();
        let in_b: std::collections::BTreeSet<String> =
            files.iter().filter(|name| name.starts_with("b/")).cloned().collect();
        assert!(a.contains(&in_a), "seed {seed}: a is as after some of its own changes: {in_a:?}");
        assert!(b.contains(&in_b), "seed {seed}: b is as after some of its own changes: {in_b:?}");
        if !global_prefixes.contains(&files) {
            outside_the_global_order += 1;
        }
        if files.contains("a/3") && files.contains("b/3") {
            moved_twice += 1;
        }
    }
    assert!(outside_the_global_order > 0, "some cuts keep what no global order would");
    assert!(moved_twice > 0, "a move between directories is sometimes kept in both");
}

#[test]
fn a_sync_of_a_directory_makes_its_changes_durable_whatever_the_cut_keeps_of_the_others() {
    for seed in 0..8 {
        let setup = Setup::new();
        let fs = setup.mount(Mode::Strict);
        fs::create_dir(setup.at("a")).expect("made");
        fs::create_dir(setup.at("b")).expect("made");
        sync_dir(setup.mount.path());
        write_file(&setup.at("b/early"), b"").sync_all().expect("fsync");
        write_file(&setup.at("a/kept"), b"").sync_all().expect("fsync");
        sync_dir(&setup.at("a"));
        write_file(&setup.at("b/late"), b"").sync_all().expect("fsync");
        let image = setup.image("image");
        let cut = Cut { seed, ..Cut::lose_everything_unsynced().keeping_entries(Entries::Prefix) };
        let report = fs.cut(&image, &cut).expect("the cut");
        assert_eq!(report.entry_changes, 2, "the two changes in b");
        assert!(image.join("a/kept").exists(), "seed {seed}: synced with its directory");
        assert_eq!(
            (image.join("b/early").exists(), image.join("b/late").exists()),
            [(false, false), (true, false), (true, true)][report.entry_changes_kept],
            "seed {seed}"
        );
    }
}

#[test]
fn the_power_can_go_right_after_a_directory_change_before_its_sync() {
    let setup = Setup::new();
    let fs = setup.mount(Mode::Strict);
    fs.power_off_after_entry_changes(Some(2));
    write_file(&setup.at("first"), b"1").sync_all().expect("fsync");
    assert!(fs.powered(), "one change made");
    let second = write_file(&setup.at("second"), b"");
    assert!(!fs.powered(), "the power went with the second change");
    assert_eq!(second.sync_all().expect_err("nothing works any more").raw_os_error(), Some(libc_eio()));
    assert!(File::open(setup.mount.path()).and_then(|dir| dir.sync_all()).is_err(), "the directory is not synced");
    drop(second);
    let image = setup.image("image");
    let report = fs.cut(&image, &Cut::lose_everything_unsynced().keeping_entries(Entries::Prefix)).expect("the cut");
    assert_eq!(report.entry_changes, 2);
    let kept: Vec<bool> = ["first", "second"].iter().map(|name| image.join(name).exists()).collect();
    assert_eq!(kept, [[false, false], [true, false], [true, true]][report.entry_changes_kept]);
}

/// The free bytes `statvfs` shows on the mount (available to an unprivileged user, and free).
fn free_space(path: &Path) -> (u64, u64) {
    let shown = rustix::fs::statvfs(path).expect("statvfs");
    (shown.f_bavail * shown.f_frsize, shown.f_bfree * shown.f_frsize)
}

#[test]
fn statfs_shows_the_room_a_space_limit_leaves() {
    let setup = Setup::new();
    let fs = setup.mount(Mode::Lenient);
    let (plenty, _) = free_space(setup.mount.path());
    assert!(plenty >= 1 << 40, "no limit: plenty of room ({plenty})");
    let mut file = write_file(&setup.at("big"), b"");
    fs.faults().limit_space(Some(100 * 4096));
    assert_eq!(free_space(setup.mount.path()), (100 * 4096, 100 * 4096), "the limit, in 4 KiB blocks");
    file.write_all(&[1; 10 * 4096 + 1]).expect("written");
    // 89 blocks and 4095 bytes are left: statfs shows whole blocks.
    assert_eq!(free_space(setup.mount.path()), (89 * 4096, 89 * 4096), "the limit minus what was written");
    fs.faults().hide_space_limit(true);
    assert_eq!(free_space(setup.mount.path()).0, plenty, "a hidden limit shows plenty of room");
    fs.faults().hide_space_limit(false);
    file.write_all(&vec![2; 90 * 4096]).expect_err("the rest does not fit");
    assert_eq!(free_space(setup.mount.path()), (0, 0), "full");
    fs.faults().limit_space(None);
    assert_eq!(free_space(setup.mount.path()).0, plenty, "space freed");
    drop(file);
    fs.unmount().expect("a clean unmount");
}

#[test]
fn reads_can_come_back_flipped() {
    let setup = Setup::new();
    fs::create_dir(setup.backing.path().join("dir")).expect("made");
    fs::write(setup.backing.path().join("dir/file"), b"abcdef").expect("a file from before");
    fs::write(setup.backing.path().join("other"), b"abcdef").expect("a file from before");
    let fs = setup.mount(Mode::Strict);
    fs.faults().flip_reads(Some(FlipReads { file: Some("dir/file".into()), offsets: 2..4 }));
    let damaged = fs::read(setup.at("dir/file")).expect("read");
    assert_eq!(damaged, [b'a', b'b', !b'c', !b'd', b'e', b'f']);
    assert_eq!(fs::read(setup.at("other")).expect("read"), b"abcdef", "another file reads right");
    fs.faults().flip_reads(None);
    assert_eq!(fs::read(setup.at("dir/file")).expect("read"), b"abcdef");
    drop(fs);
}

#[test]
fn the_mount_behaves_as_a_file_system() {
    let setup = Setup::new();
    fs::create_dir(setup.backing.path().join("from-before")).expect("made");
    let fs = setup.mount(Mode::Strict);
    fs::create_dir_all(setup.at("a/b/c")).expect("nested directories");
    fs::write(setup.at("a/b/c/file"), b"hello").expect("a file");
    std::os::unix::fs::symlink("c/file", setup.at("a/b/link")).expect("a symlink");
    assert_eq!(fs::read(setup.at("a/b/link")).expect("through the link"), b"hello");
    let mut names: Vec<_> = fs::read_dir(setup.mount.path())
        .expect("listed")
        .map(|entry| entry.expect("an entry").file_name().into_string().expect("utf-8"))
        .collect();
    names.sort();
    assert_eq!(names, ["a", "from-before"]);
    let file = OpenOptions::new().read(true).write(true).open(setup.at("a/b/c/file")).expect("opens");
    file.set_len(2).expect("truncated");
    assert_eq!(fs::read(setup.at("a/b/c/file")).expect("read"), b"he");
    fs::rename(setup.at("a/b"), setup.at("moved")).expect("a directory moves");
    assert_eq!(fs::read(setup.at("moved/c/file")).expect("read"), b"he");
    assert!(fs::remove_dir(setup.at("moved/c")).is_err(), "a directory that is not empty stays");
    fs::remove_file(setup.at("moved/c/file")).expect("removed");
    fs::remove_dir(setup.at("moved/c")).expect("an empty directory goes");
    drop(file);
    fs.unmount().expect("a clean unmount");
    assert!(setup.backing.path().join("moved/link").exists() || setup.backing.path().join("moved/link").is_symlink());
    assert!(!setup.backing.path().join("moved/c").exists());
}

#[test]
fn after_the_power_is_off_nothing_changes() {
    let setup = Setup::new();
    let fs = setup.mount(Mode::Lenient);
    let file = write_file(&setup.at("f"), b"one");
    file.sync_all().expect("fsync");
    fs.power_off();
    assert!(file.write_all_at(b"two", 0).is_err(), "a write after the cut fails");
    assert!(file.sync_all().is_err(), "and so does a sync");
    drop(file);
    let image = setup.cut(fs);
    assert_eq!(fs::read(image.join("f")).expect("there"), b"one");
}

#[test]
fn a_mount_still_in_use_is_detached_rather_than_left_behind() {
    let setup = Setup::new();
    let fs = setup.mount(Mode::Lenient);
    let open = write_file(&setup.at("held"), b"open");
    let refused = fs.cut(&setup.image("image"), &Cut::lose_everything_unsynced());
    assert!(refused.is_err(), "a mount with an open file cannot be unmounted");
    let mounts = fs::read_to_string("/proc/self/mounts").expect("the mount table");
    let mountpoint = setup.mount.path().canonicalize().expect("a path");
    assert!(
        !mounts.lines().any(|line| line.split(' ').nth(1) == mountpoint.to_str()),
        "the mount is gone from the tree: {mounts}"
    );
    drop(open);
}
