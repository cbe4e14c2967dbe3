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
    /// freed), the heads planned for it and the commands it noted in the command index are taken
    /// back, and nothing is written to sled or the commit log.
    /// The writer plans the next group only after this, so nothing is planned on top of it.
    pub(super) fn unless_disk_full(&mut self, group: Group) -> Result<Group, Written> {
        if !group.writes {
            return Ok(group);
        }
        let Err(full) = disk_space::check(&self.dir, group.bytes) else { return Ok(group) };
        for (board, (before, _)) in &group.boards {
            self.heads.insert(*board, *before);
        }
        // Nothing of the group is written: a retry of one of its commands must find nothing.
        self.shared.commands.forget(group.noted);
        let said = full.to_string();
        let answers = group
            .answers
            .into_iter()
            .enumerate()
            .map(|(index, (reply, answer))| {
                // Appends that were not going to append (a retry of a command stored before, a
                // conflict) keep their answer; a retry of a command of this group shares its fate.
                let answer = match answer {
                    Ok(AppendOutcome::Appended { .. }) => Err(StoreError::DiskFull(said.clone())),
                    Ok(AppendOutcome::AlreadyAppended { .. }) if group.retries_within.contains(&index) => {
                        Err(StoreError::DiskFull(said.clone()))
                    }
                    other => other,
                };
                (reply, answer)
            })
            .collect();
        Err(Written { number: 0, answers, boards: Default::default(), appends: 0, events: 0, writes: false })
    }
}
