//! Deciding a board's waiting commands together (see `docs/adr/0004-a-board-decides-in-batches.md`).
//!
//! A [`Batch`] holds commands in the order they were queued. [`Engine::plan`] decides each one
//! still unanswered against the state the ones before it left: their facts are folded into the
//! state at once, before they are durable, so the next command sees them. Every command that
//! changes something becomes an append that expects the board exactly where the one before it
//! left it; the store takes them all as one group (one sled batch, one `fdatasync`,
//! [`EventStore::append_all`]) and as a chain: once one does not append, none after it is
//! written. [`Engine::settle`] then takes the store's answers. When they are
//! what `plan` expected (the only outcome while the board has one writer), every command's
//! answer is final and the state is the board's. When an append went otherwise (a store that
//! failed, a record too large, another writer), everything up to it stands, the state is
//! reloaded from the log, and the commands after it are decided again in another round, so the
//! answers are always those of executing the commands one at a time in queue order.
//!
//! Nothing of a batch is answered before its sync: not its appends, not a retry of a command
//! earlier in the same batch, not a refusal or an "already so" decided on the state the batch's
//! appends left.

use super::execute::{CONFLICT_RETRIES, command_fingerprint};
use super::{Engine, ExecuteError, Executed, HistoryError};
use crate::store::{AppendOutcome, AppendRequest, EventStore, StoreError};
use kipina_domain::{BoardState, Context, Event, Fact, decide, evolve};
use kipina_proto::{BoardId, Command, CommandId, ParticipantId};
use std::collections::HashMap;

/// One command of a batch, as its sender sent it.
#[derive(Clone, Debug)]
pub struct Submitted {
    pub command_id: CommandId,
    pub context: Context,
    pub command: Command,
}

/// Commands decided together; see the module docs. Drive it with [`Engine::plan`] and
/// [`Engine::settle`] until [`Batch::is_open`] is false, then take [`Batch::into_answers`].
#[derive(Debug)]
pub struct Batch {
    commands: Vec<Submitted>,
    /// Each command's answer once it is final; `None` while it is to be decided (again).
    answers: Vec<Option<Result<Executed, ExecuteError>>>,
    /// How often each command found the board moved by another writer.
    conflicts: Vec<usize>,
    /// The round `plan` made and `settle` has not taken yet, in queue order.
    round: Vec<Staged>,
    /// The state's version before the round, which is the board's durable head.
    round_base: u64,
    /// Whether a round's appends went otherwise than planned, so the state was reloaded from
    /// the log (and whatever the caller derived from the planned facts is to be derived again).
    reloaded: bool,
    /// Why the state could not be reloaded, if it could not: it is then not the board's.
    lost: Option<String>,
}

/// What `plan` made of one command.
#[derive(Debug)]
struct Staged {
    /// The command's place in the batch.
    index: usize,
    plan: Plan,
}

#[derive(Debug)]
enum Plan {
    /// Answered without an append: refused, already so, or a retry of a command stored before
    /// the batch. Final once the appends before it are durable.
    Answered(Result<Executed, ExecuteError>),
    /// A retry of a command appended earlier in this round: its first result.
    SameAs { first: u64, last: u64 },
    /// Appended as `first..=last`; its facts are already folded into the state.
    Append { first: u64, last: u64, facts: Vec<Fact> },
}

/// A command appended earlier in the same round, for retries of it.
struct Planned {
    actor: ParticipantId,
    fingerprint: u32,
    first: u64,
    last: u64,
}

impl Batch {
    pub fn new(commands: Vec<Submitted>) -> Self {
        let count = commands.len();
        Self {
            commands,
            answers: (0..count).map(|_| None).collect(),
            conflicts: vec![0; count],
            round: Vec::new(),
            round_base: 0,
            reloaded: false,
            lost: None,
        }
    }

    /// Whether some command still waits for its answer.
    pub fn is_open(&self) -> bool {
        self.answers.iter().any(Option::is_none)
    }

    /// Whether the state was reloaded from the log because an append went otherwise than
    /// planned: what was derived from the facts `plan` reported is then to be derived again from
    /// the log (the board's events after the batch's start are exactly what is durable).
    pub fn reloaded(&self) -> bool {
        self.reloaded
    }

    /// Why the state passed to `settle` could not be brought back to the board's after a failed
    /// round, if so: it must then be thrown away (and the board loaded again).
    pub fn lost(&self) -> Option<&str> {
        self.lost.as_deref()
    }

    /// Every command's answer, in the batch's order.
    pub fn into_answers(self) -> Vec<Result<Executed, ExecuteError>> {
        self.answers
            .into_iter()
            .map(|answer| answer.unwrap_or(Err(ExecuteError::Store(StoreError::Failed("not executed".into())))))
            .collect()
    }
}

impl<S: EventStore> Engine<S> {
    /// Executes commands on `board`, whose current state is `state` (updated in place), as one
    /// batch: the same answers and events as executing them one at a time in this order, with
    /// one append group and one sync. Blocks until the events are durable; async callers drive
    /// [`Engine::plan`] and [`Engine::settle`] themselves.
    pub fn execute_all(
        &self,
        board: BoardId,
        state: &mut BoardState,
        commands: Vec<Submitted>,
    ) -> Vec<Result<Executed, ExecuteError>> {
        let mut batch = Batch::new(commands);
        while batch.is_open() {
            let requests = self.plan(board, state, &mut batch, &mut |_, _| {});
            let outcomes = self.store.append_all(requests).into_iter().map(|ticket| ticket.wait()).collect();
            self.settle(board, state, &mut batch, outcomes);
        }
        batch.into_answers()
    }

    /// Decides every command of `batch` still unanswered, in order, each against the state the
    /// ones before it left, and returns the appends of those that change something, in order.
    /// Their facts are folded into `state` at once (give the appends' answers to `settle`,
    /// which reloads the state if they went otherwise); `folded` sees the state and each such
    /// command's facts right after they were folded.
    pub fn plan(
        &self,
        board: BoardId,
        state: &mut BoardState,
        batch: &mut Batch,
        folded: &mut dyn FnMut(&BoardState, &[Fact]),
    ) -> Vec<AppendRequest> {
        batch.round_base = state.version;
        let mut requests = Vec::new();
        let mut planned: HashMap<CommandId, Planned> = HashMap::new();
        for index in 0..batch.commands.len() {
            if batch.answers[index].is_some() {
                continue;
            }
            let Submitted { command_id, context, command } = &batch.commands[index];
            let plan = match self.stage(board, state, &planned, *command_id, *context, command, requests.is_empty()) {
                Ok(Staging::Answered(executed)) => Plan::Answered(Ok(executed)),
                Ok(Staging::SameAs { first, last }) => Plan::SameAs { first, last },
                Ok(Staging::Append(request, events)) => {
                    let first = state.version + 1;
                    let facts: Vec<Fact> = events
                        .into_iter()
                        .zip(first..)
                        .map(|(event, seq)| Fact { seq, at: context.at, actor: context.actor, event })
                        .collect();
                    for fact in &facts {
                        evolve(state, fact);
                    }
                    let last = state.version;
                    folded(state, &facts);
                    planned.insert(
                        *command_id,
                        Planned { actor: context.actor, fingerprint: request.command_fingerprint, first, last },
                    );
                    requests.push(request);
                    Plan::Append { first, last, facts }
                }
                Err(error) => Plan::Answered(Err(error)),
            };
            batch.round.push(Staged { index, plan });
        }
        requests
    }

    /// Takes the store's answers to the appends `plan` returned (in the same order) and settles
    /// the round: finishes what must follow durable events (erasures, snapshots) and fixes every
    /// answer that is final. If an append went otherwise than planned, the commands after it are
    /// left open to be planned again, and `state` is reloaded from the log.
    pub fn settle(
        &self,
        board: BoardId,
        state: &mut BoardState,
        batch: &mut Batch,
        outcomes: Vec<Result<AppendOutcome, StoreError>>,
    ) {
        let round = std::mem::take(&mut batch.round);
        let mut outcomes = outcomes.into_iter();
        let mut deviated = false;
        let mut erasing = Vec::new();
        for Staged { index, plan } in round {
            if deviated {
                // Decided on a state that did not come to be: decided again in the next round.
                continue;
            }
            let answer = match plan {
                Plan::Answered(answer) => answer,
                Plan::SameAs { first, last } => Ok(Executed::AlreadyAppended { first, last }),
                Plan::Append { first, last, facts } => {
                    let outcome = outcomes
                        .next()
                        .unwrap_or_else(|| Err(StoreError::Failed("the store did not answer an append".into())));
                    if outcome.as_ref().is_ok_and(|done| *done == AppendOutcome::Appended { first, last }) {
                        if facts.iter().any(|fact| matches!(fact.event, Event::ParticipantErased { .. })) {
                            erasing.push(index);
                        }
                        Ok(Executed::Appended { first, last, facts })
                    } else {
                        deviated = true;
                        match self.unplanned(board, batch, index, facts, outcome) {
                            Some(answer) => answer,
                            None => continue,
                        }
                    }
                }
            };
            batch.answers[index] = Some(answer);
        }
        if deviated {
            batch.reloaded = true;
            match self.load(board) {
                Ok(fresh) => *state = fresh,
                Err(error) => self.lose(batch, &error),
            }
        } else if !erasing.is_empty() {
            if let Err(error) = self.finish_erasures(board, state) {
                // The events are durable and stay; an erasure that did not happen on disk must
                // not look done, so the commands that erased answer the failure (and are
                // completed at the next load).
                tracing::error!(%board, %error, "an erasure could not be completed on disk");
                for index in erasing {
                    batch.answers[index] = Some(Err(ExecuteError::History(copy_of(&error))));
                }
            }
        } else if state.version / self.snapshot_every != batch.round_base / self.snapshot_every {
            self.save_snapshot(board, state);
        }
    }

    /// The answer to an append the store handled otherwise than planned, as executing the
    /// command alone would have given it; `None` to decide it again.
    fn unplanned(
        &self,
        board: BoardId,
        batch: &mut Batch,
        index: usize,
        facts: Vec<Fact>,
        outcome: Result<AppendOutcome, StoreError>,
    ) -> Option<Result<Executed, ExecuteError>> {
        let Submitted { command_id, context, .. } = &batch.commands[index];
        Some(match outcome {
            // Another writer moved the board first.
            Err(StoreError::Conflict { .. }) => {
                batch.conflicts[index] += 1;
                if batch.conflicts[index] < CONFLICT_RETRIES {
                    return None;
                }
                Err(ExecuteError::Contended)
            }
            // Stored elsewhere with the same id in the meantime.
            Ok(AppendOutcome::AlreadyAppended { first, last }) => match self.sent_by(board, first, context.actor) {
                Ok(true) => Ok(Executed::AlreadyAppended { first, last }),
                Ok(false) => Err(ExecuteError::IdempotencyConflict(*command_id)),
                Err(error) => Err(error),
            },
            // Stored, but not where planned (only for an append that expects any head).
            Ok(AppendOutcome::Appended { first, last }) => {
                let facts = facts.into_iter().zip(first..).map(|(fact, seq)| Fact { seq, ..fact }).collect();
                Ok(Executed::Appended { first, last, facts })
            }
            Err(StoreError::IdempotencyConflict { command_id }) => Err(ExecuteError::IdempotencyConflict(command_id)),
            Err(error) => Err(ExecuteError::Store(error)),
        })
    }

    /// The state could not be reloaded: every open command answers why, and the batch says the
    /// state is lost.
    fn lose(&self, batch: &mut Batch, error: &HistoryError) {
        tracing::error!(%error, "a board's state could not be reloaded after a failed append");
        for answer in batch.answers.iter_mut().filter(|answer| answer.is_none()) {
            *answer = Some(Err(ExecuteError::History(copy_of(error))));
        }
        batch.lost = Some(error.to_string());
    }

    /// Decides one command against `state` without changing it.
    #[allow(clippy::too_many_arguments)]
    fn stage(
        &self,
        board: BoardId,
        state: &mut BoardState,
        planned: &HashMap<CommandId, Planned>,
        command_id: CommandId,
        context: Context,
        command: &Command,
        state_is_durable: bool,
    ) -> Result<Staging, ExecuteError> {
        let fingerprint = command_fingerprint(command);
        // A command id is its sender's: a retry is the same sender's with the same content.
        if let Some(earlier) = planned.get(&command_id) {
            if earlier.fingerprint != fingerprint || earlier.actor != context.actor {
                return Err(ExecuteError::IdempotencyConflict(command_id));
            }
            return Ok(Staging::SameAs { first: earlier.first, last: earlier.last });
        }
        if let Some(record) = self.store.command(board, command_id).map_err(ExecuteError::Store)? {
            if record.fingerprint != fingerprint || !self.sent_by(board, record.first, context.actor)? {
                return Err(ExecuteError::IdempotencyConflict(command_id));
            }
            if state_is_durable {
                // Stored by another writer the state has not seen yet.
                self.catch_up(board, state)?;
            }
            return Ok(Staging::Answered(Executed::AlreadyAppended { first: record.first, last: record.last }));
        }
        let events = decide(state, &context, command)?;
        if events.is_empty() {
            return Ok(Staging::Answered(Executed::Unchanged));
        }
        let request = self.append_request(board, state, command_id, fingerprint, context, &events)?;
        Ok(Staging::Append(request, events))
    }
}

/// What `stage` found.
enum Staging {
    Answered(Executed),
    SameAs { first: u64, last: u64 },
    Append(AppendRequest, Vec<Event>),
}

/// The same failure again, for each command it answers (the error types hold I/O errors, which
/// cannot be cloned); damage stays damage, so the board is answered `board_damaged`.
fn copy_of(error: &HistoryError) -> HistoryError {
    match error {
        HistoryError::Store(StoreError::Damaged(damage)) => HistoryError::Store(StoreError::Damaged(damage.clone())),
        HistoryError::Erasure { board, source } => {
            HistoryError::Erasure { board: *board, source: std::io::Error::new(source.kind(), source.to_string()) }
        }
        other => HistoryError::Store(StoreError::Failed(other.to_string())),
    }
}
