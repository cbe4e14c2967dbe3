//! The writer's look at the free disk space before it applies a group (see
//! [`crate::disk_space`]): a full disk refuses the group without anything reaching sled, so the
//! store goes on as soon as space is freed, where a write failing inside sled would stop it
//! until a restart.

use super::writer::{Group, Writer, Written};
use super::{AppendOutcome, SEGMENT_SIZE, StoreError};
use crate::disk_space;

// The reserve is sized from the segment size the store gives sled.
const _: () = assert!(SEGMENT_SIZE as u64 == disk_space::SEGMENT);

impl Writer {
    /// The group, unless the disk has too little room for it. Then every append in it answers
    /// [`StoreError::DiskFull`] (a refusal for now: the same appends go through once space is
    /// freed), the heads planned for it are taken back, and nothing is written: not to sled, and
    /// not to the command index (the group's commands are noted there only when it is written).
    /// The writer plans the next group only after this, so nothing is planned on top of it.
    pub(super) fn unless_disk_full(&mut self, group: Group) -> Result<Group, Written> {
        if !group.writes {
            return Ok(group);
        }
        let Err(full) = disk_space::check(&self.dir, group.bytes) else { return Ok(group) };
        for (board, (before, _)) in &group.boards {
            self.heads.insert(*board, *before);
        }
        let said = full.to_string();
        let answers = group
            .answers
            .into_iter()
            .map(|(reply, answer)| {
                // Appends that were not going to append (a retry found, a conflict) keep their answer.
                let answer = match answer {
                    Ok(AppendOutcome::Appended { .. }) => Err(StoreError::DiskFull(said.clone())),
                    other => other,
                };
                (reply, answer)
            })
            .collect();
        Err(Written { number: 0, answers, boards: Default::default(), appends: 0, events: 0, writes: false })
    }
}
