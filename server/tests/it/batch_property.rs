//! Property: a board's task decides the commands waiting in its queue in batches, and that is
//! exactly executing them one at a time in queue order. Several senders (a WebSocket connection
//! per participant, and HTTP) send random commands, retries of earlier command ids and reuses of
//! them with other content, in random batches; each batch is queued whole before the task takes
//! it. Checked against a model that executes the same queue one command at a time with nothing
//! but `decide`, `evolve` and a map of stored command ids:
//!
//! - every answer is the model's (applied with the same sequence numbers, duplicate, unchanged,
//!   or the same refusal), and every sender gets exactly one answer per command;
//! - the board's state equals the model's, and a replay of the stored log;
//! - every applied command's events are in the log exactly once, under its id, and nothing else is;
//! - each viewer gets one `changed` per batch that changed the board, gap-free, before any answer
//!   of that batch, and applying them ends with exactly the board a fresh snapshot shows them.
//!
//! The deviation path (an append of a batch that the store handles otherwise than planned) is
//! checked with another writer moving the board in the middle of a batch, and with a sync that
//! fails: a refusal decided on a state that did not come to be is decided again.

use super::replay_property::{PEOPLE, any_command, person, with_board};
use kipina_domain::{BoardState, Context, DomainError, Event, decide, evolve, replay};
use kipina_proto::api::ErrorBody;
use kipina_proto::mirror::{Applied, BoardMirror as Mirror};
use kipina_proto::{
    AckOutcome, BoardId, BoardSettings, CardId, ColumnId, Command, CommandId, ErrorCode, Language, ParticipantId, Role,
    ServerMessage, Timestamp,
};
use kipina_server::data_dir::DataDir;
use kipina_server::engine::{Engine, ExecuteError, Executed, Submitted};
use kipina_server::live::{Boards, Kick, Outbox};
use kipina_server::metrics::Metrics;
use kipina_server::projection::views::{Viewer, board_view};
use kipina_server::store::{AppendRequest, AppendTicket, EventStore, SledStore, StoreOptions};
use proptest::prelude::*;
use proptest::sample::Index;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::task::Poll;
use tokio::sync::mpsc;
use uuid::Uuid;

const BOARD: BoardId = BoardId(Uuid::from_u128(0xB0A2D));
/// Every command is decided at this time, by the board's task and by the model alike.
const AT: Timestamp = Timestamp(1_700_000_000_000);

fn fixed_clock() -> Timestamp {
    AT
}

/// One thing a sender does.
#[derive(Clone, Debug)]
enum Op {
    /// A new command with a new id.
    Fresh(u128, Command),
    /// An earlier command sent again with its id (a retry after a reconnect).
    Again(Index),
    /// An earlier command's id with some other sender or content (a client bug).
    Reused(Index, u128, Command),
}

fn any_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => any_command().prop_map(|(actor, command)| Op::Fresh(actor, command)),
        3 => any::<Index>().prop_map(Op::Again),
        1 => (any::<Index>(), any_command()).prop_map(|(index, (actor, command))| Op::Reused(index, actor, command)),
    ]
}

/// One command as sent.
#[derive(Clone, Debug)]
struct Sent {
    actor: u128,
    command_id: CommandId,
    command: Command,
    /// Over the sender's WebSocket connection (while it has one) rather than HTTP.
    socket: bool,
}

/// The sends: the board's setup first, then the random operations.
fn materialise(ops: Vec<Op>, sockets: &[bool]) -> Vec<Sent> {
    let mut sent: Vec<Sent> = Vec::new();
    let setup = with_board(Vec::new());
    let fresh = |number: usize| CommandId(Uuid::from_u128(0xC000 + number as u128));
    for (actor, command) in setup {
        sent.push(Sent { actor, command_id: fresh(sent.len()), command, socket: false });
    }
    for (number, op) in ops.into_iter().enumerate() {
        let socket = sockets.get(number % sockets.len().max(1)).copied().unwrap_or(true);
        let next = match op {
            Op::Fresh(actor, command) => Sent { actor, command_id: fresh(sent.len()), command, socket },
            // Retries of the setup's commands too: they are answered as duplicates.
            Op::Again(index) => Sent { socket, ..sent[index.index(sent.len())].clone() },
            Op::Reused(index, actor, command) => {
                Sent { actor, command_id: sent[index.index(sent.len())].command_id, command, socket }
            }
        };
        sent.push(next);
    }
    sent
}

/// What a sender is told, without the words.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Answer {
    Applied(u64, u64),
    Duplicate(u64, u64),
    Unchanged,
    Refused(ErrorCode),
}

impl Answer {
    fn of(result: Result<AckOutcome, ErrorBody>) -> Self {
        match result {
            Ok(AckOutcome::Applied { first_seq, last_seq }) => Answer::Applied(first_seq, last_seq),
            Ok(AckOutcome::Duplicate { first_seq, last_seq }) => Answer::Duplicate(first_seq, last_seq),
            Ok(AckOutcome::Unchanged) => Answer::Unchanged,
            Err(body) => Answer::Refused(body.code),
        }
    }

    fn of_engine(result: &Result<Executed, ExecuteError>) -> Self {
        match result {
            Ok(Executed::Appended { first, last, .. }) => Answer::Applied(*first, *last),
            Ok(Executed::AlreadyAppended { first, last }) => Answer::Duplicate(*first, *last),
            Ok(Executed::Unchanged) => Answer::Unchanged,
            Err(ExecuteError::Refused(refusal)) => Answer::Refused(refusal.code()),
            Err(ExecuteError::IdempotencyConflict(_)) => Answer::Refused(ErrorCode::IdempotencyConflict),
            Err(other) => panic!("a command failed: {other}"),
        }
    }
}

/// The reference: the same queue executed one command at a time, by `decide` and `evolve` alone.
#[derive(Default)]
struct Model {
    state: BoardState,
    /// Every stored command: its sender, its content and its events.
    stored: HashMap<CommandId, (ParticipantId, Command, u64, u64)>,
}

impl Model {
    fn execute(&mut self, actor: ParticipantId, command_id: CommandId, command: &Command) -> Answer {
        if let Some((sender, content, first, last)) = self.stored.get(&command_id) {
            return if *sender == actor && content == command {
                Answer::Duplicate(*first, *last)
            } else {
                Answer::Refused(ErrorCode::IdempotencyConflict)
            };
        }
        let context = Context { actor, at: AT };
        match decide(&self.state, &context, command) {
            Err(refusal) => Answer::Refused(DomainError::code(&refusal)),
            Ok(events) if events.is_empty() => Answer::Unchanged,
            Ok(events) => {
                let first = self.state.version + 1;
                for event in events {
                    let fact = kipina_domain::Fact { seq: self.state.version + 1, at: AT, actor, event };
                    evolve(&mut self.state, &fact);
                }
                let last = self.state.version;
                self.stored.insert(command_id, (actor, command.clone(), first, last));
                Answer::Applied(first, last)
            }
        }
    }
}

/// A subscribed viewer: its outbox, as a connection would read it.
struct Watcher {
    viewer: Option<ParticipantId>,
    connection: u64,
    messages: mpsc::Receiver<bytestring::ByteString>,
    kick: Arc<Kick>,
    mirror: Option<Mirror>,
    /// Let go by the board (an erased participant).
    gone: bool,
}

impl Watcher {
    fn drain(&mut self) -> Vec<ServerMessage> {
        let mut messages = Vec::new();
        while let Ok(text) = self.messages.try_recv() {
            let message: ServerMessage = serde_json::from_str(&text).unwrap(); // unwrap: the server's own JSON
            if !matches!(message, ServerMessage::Presence { .. }) {
                messages.push(message);
            }
        }
        messages
    }
}

/// Sends a batch so that all of it is queued before the board's task takes any (the task runs
/// on this thread, and nothing here waits until every request is queued), then waits for every
/// HTTP answer and for the task to have finished the batch.
async fn send_batch(
    handle: &kipina_server::live::BoardHandle,
    watchers: &BTreeMap<ParticipantId, usize>,
    all: &[Watcher],
    batch: &[Sent],
) -> Vec<Option<Answer>> {
    let mut replies = Vec::with_capacity(batch.len());
    for sent in batch {
        let actor = person(sent.actor);
        let socket = watchers.get(&actor).map(|index| &all[*index]).filter(|watcher| sent.socket && !watcher.gone);
        match socket {
            Some(watcher) => {
                let mut queued =
                    Box::pin(handle.execute_for(watcher.connection, actor, sent.command_id, sent.command.clone()));
                let first = std::future::poll_fn(|cx| Poll::Ready(queued.as_mut().poll(cx))).await;
                assert!(matches!(first, Poll::Ready(Ok(()))), "the board's queue has room");
                replies.push(None);
            }
            None => {
                let mut answer = Box::pin(handle.execute(actor, sent.command_id, sent.command.clone()));
                // Polled once: it queues the request, then waits for its answer.
                let first = std::future::poll_fn(|cx| Poll::Ready(answer.as_mut().poll(cx))).await;
                assert!(first.is_pending(), "answered before the board's task ran");
                replies.push(Some(answer));
            }
        }
    }
    let mut answers = Vec::with_capacity(replies.len());
    for reply in replies {
        answers.push(match reply {
            Some(answer) => Some(Answer::of(answer.await)),
            None => None,
        });
    }
    // Queued after the batch, so it runs once the batch is answered and fanned out.
    handle.inspect(|_| ()).await.unwrap(); // unwrap: the board's task is running
    answers
}

/// Runs one case: the sends in batches of the given sizes through a real board task.
async fn run_case(sends: Vec<Sent>, sizes: Vec<usize>, dir: &std::path::Path) -> Result<(), TestCaseError> {
    let engine = Engine::open(&DataDir::new(dir)).unwrap().with_snapshot_every(7); // unwrap: fresh directory
    let boards = Boards::new(engine.clone(), Arc::new(Metrics::default()), u32::MAX).with_clock(fixed_clock);
    let handle = boards.start_new(BOARD);
    let mut model = Model::default();
    let mut watchers: Vec<Watcher> = Vec::new();
    let mut by_participant: BTreeMap<ParticipantId, usize> = BTreeMap::new();

    // The board's setup, one command at a time over HTTP.
    let setup = with_board(Vec::new()).len();
    for sent in &sends[..setup] {
        let answer = Answer::of(handle.execute(person(sent.actor), sent.command_id, sent.command.clone()).await);
        prop_assert_eq!(answer, model.execute(person(sent.actor), sent.command_id, &sent.command));
    }
    // An observer and every participant watch.
    let viewers = std::iter::once(None).chain((0..PEOPLE).map(|index| Some(person(index))));
    for (connection, viewer) in (1u64..).zip(viewers) {
        let (messages, receiver) = mpsc::channel(100_000);
        let kick = Arc::new(Kick::default());
        let outbox = Outbox { messages, kicked: Arc::clone(&kick), answered: Arc::default() };
        let as_viewer = viewer.map_or(Viewer::Observer, Viewer::Participant);
        handle.subscribe(connection, as_viewer, None, outbox).await.unwrap(); // unwrap: everyone has joined
        let mut watcher = Watcher { viewer, connection, messages: receiver, kick, mirror: None, gone: false };
        for message in watcher.drain() {
            if let ServerMessage::Snapshot { board } = message {
                watcher.mirror = Some(Mirror::of(&board));
            }
        }
        prop_assert!(watcher.mirror.is_some(), "a snapshot for {:?}", viewer);
        if let Some(participant) = viewer {
            by_participant.insert(participant, watchers.len());
        }
        watchers.push(watcher);
    }

    let mut rest = &sends[setup..];
    let mut sizes = sizes.into_iter().cycle();
    while !rest.is_empty() {
        let size = sizes.next().unwrap_or(1).clamp(1, rest.len());
        let (batch, after) = rest.split_at(size);
        rest = after;
        let before = model.state.version;
        let http = send_batch(&handle, &by_participant, &watchers, batch).await;
        // Which sends went over a socket: the same rule `send_batch` used.
        let over_socket: Vec<Option<usize>> = batch
            .iter()
            .map(|sent| {
                by_participant.get(&person(sent.actor)).copied().filter(|index| sent.socket && !watchers[*index].gone)
            })
            .collect();
        let expected: Vec<Answer> =
            batch.iter().map(|sent| model.execute(person(sent.actor), sent.command_id, &sent.command)).collect();
        let head = model.state.version;
        for ((sent, answer), want) in batch.iter().zip(&http).zip(&expected) {
            if let Some(answer) = answer {
                prop_assert_eq!(answer, want, "{:?}", sent);
            }
        }
        for (index, watcher) in watchers.iter_mut().enumerate() {
            if watcher.gone {
                continue;
            }
            let messages = watcher.drain();
            // A participant no longer on the board was let go before the change went out.
            if let Some(participant) = watcher.viewer
                && model.state.active_participant(participant).is_none()
            {
                watcher.kick.kicked().await;
                watcher.gone = true;
                prop_assert!(messages.is_empty(), "{:?} heard {:?} after leaving", participant, messages);
                continue;
            }
            let mut messages = messages.into_iter();
            if head > before {
                match messages.next() {
                    Some(ServerMessage::Changed { first_seq, last_seq, changes }) => {
                        prop_assert_eq!((first_seq, last_seq), (before + 1, head), "one change for the batch");
                        let mirror = watcher.mirror.as_mut().unwrap(); // unwrap: set at subscribe
                        prop_assert_eq!(mirror.seq + 1, first_seq);
                        prop_assert_eq!(mirror.apply_changed(first_seq, last_seq, changes), Applied::Applied);
                    }
                    other => prop_assert!(false, "{:?} expected the batch's change, got {:?}", watcher.viewer, other),
                }
            }
            // Then the answers of this connection's commands, in queue order, one each.
            let mine: Vec<&Answer> = over_socket
                .iter()
                .zip(&expected)
                .filter(|(socket, _)| **socket == Some(index))
                .map(|(_, answer)| answer)
                .collect();
            let mut heard = Vec::new();
            for message in messages {
                match message {
                    ServerMessage::Ack { outcome, .. } => heard.push(Answer::of(Ok(outcome))),
                    ServerMessage::Error { code, message, .. } => {
                        heard.push(Answer::of(Err(ErrorBody { code, message })));
                    }
                    other => prop_assert!(false, "{:?} got {:?} after the change", watcher.viewer, other),
                }
            }
            prop_assert_eq!(heard.iter().collect::<Vec<_>>(), mine, "{:?}", watcher.viewer);
        }
    }

    // The board's state is the model's, and a replay of its log.
    let live = handle.inspect(BoardState::clone).await.unwrap(); // unwrap: the board's task is running
    prop_assert_eq!(&live, &model.state);
    let head = model.state.version;
    let facts = engine.history(BOARD, 1, head).unwrap(); // unwrap: the log is intact
    prop_assert_eq!(&replay(&facts), &model.state);
    prop_assert_eq!(&engine.load(BOARD).unwrap(), &model.state); // unwrap: the log is intact

    // Every applied command is in the log exactly once, under its id, and nothing else is.
    let recorded = engine.store().read(BOARD, 1, usize::MAX).unwrap(); // unwrap: the log is intact
    prop_assert_eq!(recorded.len() as u64, head);
    let mut logged: BTreeMap<CommandId, BTreeSet<u64>> = BTreeMap::new();
    for event in &recorded {
        logged.entry(event.command_id).or_default().insert(event.seq);
    }
    let applied: BTreeMap<CommandId, BTreeSet<u64>> =
        model.stored.iter().map(|(id, (_, _, first, last))| (*id, (*first..=*last).collect())).collect();
    prop_assert_eq!(logged, applied);

    // Every viewer still there sees their own fresh snapshot.
    for watcher in watchers.iter().filter(|watcher| !watcher.gone) {
        let fresh = board_view(BOARD, &live, watcher.viewer.map_or(Viewer::Observer, Viewer::Participant))
            .map(|view| Mirror::of(&view));
        prop_assert_eq!(watcher.mirror.as_ref(), fresh.as_ref(), "{:?}", watcher.viewer);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn batches_answer_and_store_exactly_what_one_at_a_time_execution_does(
        ops in prop::collection::vec(any_op(), 1..150),
        sizes in prop::collection::vec(1..40usize, 1..12),
        sockets in prop::collection::vec(prop::bool::weighted(0.7), 1..8),
    ) {
        let sends = materialise(ops, &sockets);
        let dir = tempfile::tempdir().unwrap(); // unwrap: a temp dir is needed for the test
        actix_web::rt::System::new().block_on(run_case(sends, sizes, dir.path()))?;
    }
}

/// A store that lets another writer append right after the first append of each `append_all`,
/// as a second process would if it could open the data directory: the batch's later appends then
/// find the board moved.
struct Interloper {
    store: SledStore,
    next: Mutex<Vec<AppendRequest>>,
}

impl EventStore for Interloper {
    fn append_all(&self, requests: Vec<AppendRequest>) -> Vec<AppendTicket> {
        let mut tickets = Vec::new();
        let mut stopped = false;
        for (number, request) in requests.into_iter().enumerate() {
            if stopped {
                tickets.push(AppendTicket::ready(Err(kipina_server::store::StoreError::Skipped)));
                continue;
            }
            // One at a time, each durable before the next is queued, keeping the chain.
            let outcome = self.store.append(request).wait();
            stopped = !matches!(outcome, Ok(kipina_server::store::AppendOutcome::Appended { .. }));
            tickets.push(AppendTicket::ready(outcome));
            if number == 0
                && let Some(interloping) = self.next.lock().unwrap().pop()
            {
                // unwrap: not poisoned
                self.store.append(interloping).wait().unwrap(); // unwrap: the interloper's append fits
            }
        }
        tickets
    }

    fn read(
        &self,
        board: BoardId,
        from_seq: u64,
        limit: usize,
    ) -> Result<Vec<kipina_server::store::RecordedEvent>, kipina_server::store::StoreError> {
        self.store.read(board, from_seq, limit)
    }

    fn head(&self, board: BoardId) -> Result<u64, kipina_server::store::StoreError> {
        self.store.head(board)
    }

    fn boards(&self) -> Result<Vec<BoardId>, kipina_server::store::StoreError> {
        self.store.boards()
    }

    fn command(
        &self,
        board: BoardId,
        command_id: CommandId,
    ) -> Result<Option<kipina_server::store::CommandRecord>, kipina_server::store::StoreError> {
        self.store.command(board, command_id)
    }

    fn subscribe(&self, board: BoardId) -> tokio::sync::watch::Receiver<u64> {
        self.store.subscribe(board)
    }
}

/// The board both fixed scenarios start from: created by `facilitator`, joined by `voter`, with
/// one column of ideas.
fn village(facilitator: ParticipantId, voter: ParticipantId, column: ColumnId) -> Vec<(ParticipantId, Command)> {
    vec![
        (
            facilitator,
            Command::CreateBoard {
                title: "Kylätalo".into(),
                description: String::new(),
                language: Language::Fi,
                facilitator_name: "Aino".into(),
            },
        ),
        (voter, Command::Join { display_name: "Eero".into(), role: Role::Participant }),
        (facilitator, Command::AddColumn { column, title: "Ideat".into() }),
    ]
}

/// When an append in the middle of a batch finds the board moved by another writer, the appends
/// before it stand, and every command after it is decided again on the board as it now is: the
/// answers are those of executing the first command, the other writer's, then the rest, one at
/// a time.
#[test]
fn a_batch_meeting_another_writer_decides_the_rest_again_after_it() {
    let dir = tempfile::tempdir().unwrap(); // unwrap: a temp dir is needed for the test
    let data = DataDir::new(dir.path());
    let store = SledStore::open(&data.events(), StoreOptions::default()).unwrap(); // unwrap: fresh directory
    let interloper = Arc::new(Interloper { store, next: Mutex::new(Vec::new()) });
    let engine = Engine::with_store(Arc::clone(&interloper), &data).unwrap(); // unwrap: fresh directory
    let facilitator = person(0);
    let voter = person(1);
    let column = ColumnId(Uuid::from_u128(0x200));
    let card = CardId(Uuid::from_u128(0x300));
    let mut ids = (0u128..).map(|number| CommandId(Uuid::from_u128(0xC000 + number)));
    let mut model = Model::default();
    let mut state = BoardState::default();
    let mut setup = village(facilitator, voter, column);
    setup.extend([
        (facilitator, Command::AddCard { card, column, title: "Sauna".into(), body: String::new() }),
        (
            facilitator,
            Command::StartVoteRound { settings: BoardSettings { vote_budget: 2, votes_per_card: 2 }, hidden: false },
        ),
    ]);
    for (actor, command) in setup {
        let command_id = ids.next().unwrap(); // unwrap: endless
        let context = Context { actor, at: AT };
        let answer = Answer::of_engine(&engine.execute(BOARD, &mut state, command_id, context, &command));
        assert_eq!(answer, model.execute(actor, command_id, &command));
    }

    // The batch: the voter's two dots fit the budget only if nothing else takes one, a third is
    // refused; the other writer casts one of the voter's dots in between (as the voter, from a
    // second server), so after it the second dot still fits and the third is refused.
    let vote = Command::CastVote { card };
    let batch: Vec<(ParticipantId, CommandId, Command)> = vec![
        (
            facilitator,
            ids.next().unwrap(),
            Command::RenameColumn { column, title: "Ajatukset".into(), base_version: 1 },
        ),
        (voter, ids.next().unwrap(), vote.clone()),
        (voter, ids.next().unwrap(), vote.clone()),
        (facilitator, ids.next().unwrap(), Command::SetLocked { locked: true }),
    ];
    let interloping_id = ids.next().unwrap(); // unwrap: endless
    // The other writer's append, made the way the engine makes one, on the board as the batch's
    // first command leaves it.
    let mut other_state = state.clone();
    let (first_actor, _, first_command) = &batch[0];
    let first_events = decide(&other_state, &Context { actor: *first_actor, at: AT }, first_command).unwrap(); // unwrap: allowed
    for event in first_events {
        let fact = kipina_domain::Fact { seq: other_state.version + 1, at: AT, actor: *first_actor, event };
        evolve(&mut other_state, &fact);
    }
    let interloping_events = decide(&other_state, &Context { actor: voter, at: AT }, &vote).unwrap(); // unwrap: allowed
    assert!(matches!(interloping_events.as_slice(), [Event::VoteCast { .. }]));
    let interloping = AppendRequest {
        board: BOARD,
        command_id: interloping_id,
        command_fingerprint: kipina_server::engine::command_fingerprint(&vote),
        actor: voter,
        at: AT,
        expected: kipina_server::store::ExpectedVersion::Exact(other_state.version),
        events: interloping_events
            .iter()
            .map(|event| {
                let encoded = kipina_server::codec::encode(event);
                kipina_server::store::NewEvent {
                    event_id: kipina_proto::EventId(Uuid::now_v7()),
                    event_type: encoded.event_type.to_owned(),
                    event_version: encoded.event_version,
                    payload: kipina_server::store::encode_payload(&encoded.payload).expect("encodes"),
                }
            })
            .collect(),
    };
    interloper.next.lock().unwrap().push(interloping); // unwrap: not poisoned

    let submitted = batch
        .iter()
        .map(|(actor, command_id, command)| Submitted {
            command_id: *command_id,
            context: Context { actor: *actor, at: AT },
            command: command.clone(),
        })
        .collect();
    let answers: Vec<Answer> = engine.execute_all(BOARD, &mut state, submitted).iter().map(Answer::of_engine).collect();

    // One at a time: the first command, the other writer's dot, then the rest.
    let head = model.state.version;
    let mut expected = vec![model.execute(batch[0].0, batch[0].1, &batch[0].2)];
    assert_eq!(model.execute(voter, interloping_id, &vote), Answer::Applied(head + 2, head + 2));
    expected.extend(batch[1..].iter().map(|(actor, command_id, command)| model.execute(*actor, *command_id, command)));
    assert_eq!(
        expected,
        vec![
            Answer::Applied(head + 1, head + 1),
            Answer::Applied(head + 3, head + 3),
            Answer::Refused(ErrorCode::VoteBudgetExhausted),
            Answer::Applied(head + 4, head + 4)
        ]
    );
    assert_eq!(answers, expected);
    assert_eq!(state, model.state);
    assert_eq!(engine.load(BOARD).unwrap(), model.state); // unwrap: the log is intact
}

/// Fails every sync once told to, as a disk that reports a write-back error.
#[derive(Default)]
struct FailingDisk {
    failing: std::sync::atomic::AtomicBool,
}

impl kipina_server::store::sled_store::SyncHook for FailingDisk {
    fn before_sync(&self) -> std::io::Result<()> {
        if self.failing.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(std::io::Error::other("injected fdatasync failure"));
        }
        Ok(())
    }
}

/// A batch whose sync fails: nothing of it is stored, and every command is answered as executing
/// them one at a time would have: the first fails, and the second, which was refused on the
/// state the first would have left, is decided again without it (and fails to be stored too).
#[test]
fn a_batch_whose_sync_fails_is_answered_as_one_at_a_time_execution_would_be() {
    let dir = tempfile::tempdir().unwrap(); // unwrap: a temp dir is needed for the test
    let data = DataDir::new(dir.path());
    let disk = Arc::new(FailingDisk::default());
    let hook = Arc::clone(&disk) as Arc<dyn kipina_server::store::sled_store::SyncHook>;
    let store = SledStore::open_with_sync_hook(&data.events(), StoreOptions::default(), hook).unwrap(); // unwrap: fresh directory
    let engine = Engine::with_store(Arc::new(store), &data).unwrap(); // unwrap: fresh directory
    let facilitator = person(0);
    let voter = person(1);
    let column = ColumnId(Uuid::from_u128(0x200));
    let cards = [CardId(Uuid::from_u128(0x300)), CardId(Uuid::from_u128(0x301))];
    let mut ids = (0u128..).map(|number| CommandId(Uuid::from_u128(0xC000 + number)));
    let mut state = BoardState::default();
    let mut setup = village(facilitator, voter, column);
    for card in cards {
        setup.push((facilitator, Command::AddCard { card, column, title: "Sauna".into(), body: String::new() }));
    }
    setup.push((
        facilitator,
        Command::StartVoteRound { settings: BoardSettings { vote_budget: 1, votes_per_card: 1 }, hidden: false },
    ));
    for (actor, command) in setup {
        let context = Context { actor, at: AT };
        engine.execute(BOARD, &mut state, ids.next().unwrap(), context, &command).unwrap(); // unwrap: allowed
    }
    let before = state.clone();

    disk.failing.store(true, std::sync::atomic::Ordering::SeqCst);
    let batch = vec![(voter, Command::CastVote { card: cards[0] }), (voter, Command::CastVote { card: cards[1] })];
    let submitted = batch
        .into_iter()
        .map(|(actor, command)| Submitted {
            command_id: ids.next().unwrap(),
            context: Context { actor, at: AT },
            command,
        })
        .collect();
    let answers = engine.execute_all(BOARD, &mut state, submitted);
    assert_eq!(answers.len(), 2);
    for answer in &answers {
        assert!(
            matches!(answer, Err(ExecuteError::Store(kipina_server::store::StoreError::Failed(_)))),
            "both fail to be stored, neither is refused: {answers:?}"
        );
    }
    assert_eq!(state, before, "the state is the board's durable one");
    assert_eq!(engine.load(BOARD).unwrap(), before); // unwrap: the log is intact
}
