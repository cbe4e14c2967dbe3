//! The writer's look at the free disk space before it applies a group (see
//! [`crate::disk_space`]): a full disk refuses the group without anything reaching sled, so the
//! store goes on as soon as space is freed, where a write failing inside sled would stop it
//! until a restart.

use super::writer::{Group, Writer};
use super::{SEGMENT_SIZE, StoreError};
use crate::disk_space;

// The reserve is sized from the segment size the store gives sled.
const _: () = assert!(SEGMENT_SIZE as u64 == disk_space::SEGMENT);

impl Writer {
    /// The group, unless the disk has too little room for it. Then every append in it answers
    /// [`StoreError::DiskFull`] (a refusal for now: the same appends go through once space is
    /// freed), the heads planned for it are taken back, and nothing is written.
    pub(super) fn unless_disk_full(&mut self, group: Group) -> Option<Group> {
        if !group.writes {
            return Some(group);
        }
        let Err(full) = disk_space::check(&self.dir, group.bytes) else { return Some(group) };
        for (board, (before, _)) in &group.boards {
            self.heads.insert(*board, *before);
        }
        let said = full.to_string();
        for (reply, _) in group.answers {
            let _ = reply.send(Err(StoreError::DiskFull(said.clone())));
        }
        None
    }
}
