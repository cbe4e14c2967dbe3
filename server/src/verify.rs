//! `kipina verify`: checks a data directory and says precisely what is wrong. It changes no
//! event, key or snapshot (sled's own recovery may still tidy its files when they are opened). It checks every record's checksum and the gap-free sequence of every board (in the
//! store), then opens every personal field and decodes every payload (here), replays each
//! board, and compares its snapshot with the replay. Erased personal content is expected and
//! counted, not reported as damage.

use crate::codec;
use crate::data_dir::DataDir;
use crate::engine::Engine;
use crate::personal_data::unseal;
use crate::store::{Damage, EventStore, SledStore, StoreError};
use kipina_domain::{BoardState, Fact, evolve};
use kipina_proto::BoardId;
use std::fmt;
use std::sync::Arc;

/// What `verify` found.
#[derive(Debug, Default)]
pub struct VerifyReport {
    /// Damage found in the store itself (checksums, gaps, unreadable files).
    pub store_damage: Vec<Damage>,
    /// Damage in the access records (`DATA/access/`: the server key, tokens and join codes).
    pub access_damage: Vec<String>,
    pub boards: Vec<BoardReport>,
}

/// What `verify` found on one board.
#[derive(Debug)]
pub struct BoardReport {
    pub board: BoardId,
    pub title: Option<String>,
    pub events: u64,
    pub participants: usize,
    pub erased_participants: usize,
    /// Personal fields that read as erased (their owner's key was destroyed).
    pub erased_fields: usize,
    /// Damage: payloads that do not open or do not decode.
    pub problems: Vec<String>,
    /// Not damage: the snapshot is missing, unusable or out of date and will be rebuilt.
    pub notes: Vec<String>,
}

impl VerifyReport {
    /// Whether nothing is damaged.
    pub fn is_intact(&self) -> bool {
        self.store_damage.is_empty()
            && self.access_damage.is_empty()
            && self.boards.iter().all(|board| board.problems.is_empty())
    }
}

/// Why verification could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("{0} has no event log (expected {0}/events)")]
    NoData(String),
    #[error(transparent)]
    Store(StoreError),
    #[error(transparent)]
    Open(#[from] crate::engine::OpenError),
}

/// Verifies the data directory.
pub fn verify(data_dir: &DataDir) -> Result<VerifyReport, VerifyError> {
    if data_dir.is_empty() {
        return Err(VerifyError::NoData(data_dir.root().display().to_string()));
    }
    let store = match SledStore::open_for_inspection(&data_dir.events()) {
        Ok(store) => store,
        // sled's own checks refused the files: that is the whole report.
        Err(StoreError::Damaged(damage)) => {
            return Ok(VerifyReport {
                store_damage: damage,
                access_damage: access_damage(data_dir),
                boards: Vec::new(),
            });
        }
        Err(error) => return Err(VerifyError::Store(error)),
    };
    let store_damage = store.verify();
    let engine = Engine::with_store(Arc::new(store), data_dir)?;
    let mut report = VerifyReport { store_damage, access_damage: access_damage(data_dir), boards: Vec::new() };
    let damaged_boards: Vec<BoardId> = report.store_damage.iter().filter_map(|damage| damage.board).collect();
    for board in engine.store().boards().map_err(VerifyError::Store)? {
        let mut board_report = verify_board(&engine, board, damaged_boards.contains(&board));
        board_report.problems.sort();
        report.boards.push(board_report);
    }
    Ok(report)
}

fn access_damage(data_dir: &DataDir) -> Vec<String> {
    crate::access::check(&data_dir.root().join("access"))
}

fn verify_board(engine: &Engine, board: BoardId, store_damaged: bool) -> BoardReport {
    let mut report = BoardReport {
        board,
        title: None,
        events: 0,
        participants: 0,
        erased_participants: 0,
        erased_fields: 0,
        problems: Vec::new(),
        notes: Vec::new(),
    };
    let snapshot = match engine.snapshots().load(board) {
        Ok(snapshot) => snapshot,
        Err(error) => {
            report.notes.push(format!("snapshot unusable, will be rebuilt: {error}"));
            None
        }
    };
    let mut state = BoardState::default();
    let mut snapshot_checked = false;
    let mut next = 1;
    loop {
        let chunk = match engine.store().read(board, next, 4_096) {
            Ok(chunk) => chunk,
            Err(error) => {
                if !store_damaged {
                    report.problems.push(format!("reading from seq {next}: {error}"));
                }
                break;
            }
        };
        let Some(last) = chunk.last().map(|event| event.seq) else { break };
        for recorded in chunk {
            report.events += 1;
            let seq = recorded.seq;
            let mut payload = recorded.payload;
            let key = match engine.keys().get(board, recorded.actor) {
                Ok(key) => key,
                Err(error) => {
                    report.problems.push(format!("seq {seq}: key of {} unreadable: {error}", recorded.actor));
                    continue;
                }
            };
            match unseal(&mut payload, board, recorded.actor, key.as_ref()) {
                Ok(erased) => report.erased_fields += erased,
                Err(error) => {
                    report.problems.push(format!("seq {seq} ({}): {error}", recorded.event_type));
                    continue;
                }
            }
            match codec::decode(&recorded.event_type, recorded.event_version, payload) {
                Ok(event) => {
                    evolve(&mut state, &Fact { seq, at: recorded.at, actor: recorded.actor, event });
                }
                Err(error) => report.problems.push(format!("seq {seq}: {error}")),
            }
            if let Some(snapshot) = snapshot.as_ref().filter(|snapshot| snapshot.seq == seq) {
                snapshot_checked = true;
                if snapshot.state != state {
                    report.notes.push(format!("snapshot at seq {seq} disagrees with the log and will be rebuilt"));
                }
            }
        }
        next = last + 1;
    }
    if let Some(snapshot) = &snapshot
        && !snapshot_checked
    {
        report.notes.push(format!("snapshot at seq {} is past the end of the log and will be rebuilt", snapshot.seq));
    }
    // A participant's key goes only when they are erased. A key missing for anyone else makes
    // their texts read as erased although nobody erased them: that is damage, not erasure.
    for participant in state.participants.values().filter(|participant| !participant.erased) {
        match engine.keys().get(board, participant.id) {
            Ok(Some(_)) => {}
            Ok(None) => report.problems.push(format!(
                "the key of participant {} is missing (keys/{board}/{}.key) although they were never erased: \
                 their texts read as erased; restore the key file from a backup",
                participant.id, participant.id
            )),
            Err(error) => {
                report.problems.push(format!("the key of participant {} is unreadable: {error}", participant.id))
            }
        }
    }
    report.title = state.info.as_ref().map(|info| info.title.clone());
    report.participants = state.participants.len();
    report.erased_participants = state.participants.values().filter(|participant| participant.erased).count();
    report
}

impl fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for damage in &self.store_damage {
            writeln!(f, "DAMAGED  {damage}")?;
        }
        for damage in &self.access_damage {
            writeln!(f, "DAMAGED  {damage}")?;
        }
        for board in &self.boards {
            // Damage the store found in the board's records is listed above; the board is
            // damaged all the same, even if every record that can still be read is sound.
            let store_damaged = self.store_damage.iter().any(|damage| damage.board == Some(board.board));
            let status = if board.problems.is_empty() && !store_damaged { "ok" } else { "DAMAGED" };
            writeln!(
                f,
                "{status:<8} board {} {:?}: {} events, {} participants ({} erased, {} personal fields erased)",
                board.board,
                board.title.as_deref().unwrap_or("?"),
                board.events,
                board.participants,
                board.erased_participants,
                board.erased_fields,
            )?;
            for problem in &board.problems {
                writeln!(f, "         {problem}")?;
            }
            for note in &board.notes {
                writeln!(f, "  note   {note}")?;
            }
        }
        let boards = self.boards.len();
        if self.is_intact() {
            write!(f, "intact: {boards} boards checked")
        } else {
            let damaged = self.store_damage.len()
                + self.access_damage.len()
                + self.boards.iter().map(|board| board.problems.len()).sum::<usize>();
            write!(f, "damaged: {damaged} problems in {boards} boards")
        }
    }
}
