//! Boards made the way people make them: real commands through the real engine (`decide`,
//! sealing of personal text, durable appends, snapshots every 1,000 events), so the log and the
//! snapshots are what a server would have written. Each board is written by a thread of its own,
//! so the boards' appends share syncs, as busy boards do in the server.

use anyhow::{Context as _, bail};
use kipina_domain::{BoardState, Context};
use kipina_proto::{BoardSettings, CardId, ColumnId, Command, CommandId, CommentId, Language, ParticipantId, Role};
use kipina_server::access::AccessStore;
use kipina_server::data_dir::DataDir;
use kipina_server::engine::{Engine, Executed};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What to make.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct DatasetSpec {
    pub boards: usize,
    /// Participants who join each board (besides the facilitator).
    pub participants: usize,
    /// Cards per board; with `events_per_board`, the most cards.
    pub cards_per_board: usize,
    pub comments_per_card: usize,
    pub votes_per_card: usize,
    /// Take each vote back right after casting it, so boards of any length stay within budgets.
    pub withdraw_votes: bool,
    /// Stop a board once it has this many events (cards, comments and votes keep coming until then).
    pub events_per_board: Option<u64>,
}

/// A board that was made, with its facilitator.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct MadeBoard {
    pub board: kipina_proto::BoardId,
    pub facilitator: ParticipantId,
    pub events: u64,
    pub cards: usize,
}

/// What was made.
#[derive(Debug, Serialize, Deserialize)]
pub struct Dataset {
    pub spec: DatasetSpec,
    pub boards: Vec<MadeBoard>,
    pub events: u64,
    pub seconds_to_make: f64,
    /// Whether it was made by an earlier run and kept (see [`kept`]).
    #[serde(default)]
    pub reused: bool,
}

/// The data set of `spec` in `folder/data`, described by `folder/dataset.json`: made there
/// unless an earlier run made it with the same spec. A kept data directory is what the
/// benchmarks left of it (a server may have added a snapshot or a token), not a pristine copy.
pub fn kept(folder: &std::path::Path, spec: DatasetSpec) -> anyhow::Result<(DataDir, Dataset)> {
    let data = DataDir::new(folder.join("data"));
    let description = folder.join("dataset.json");
    if let Ok(bytes) = std::fs::read(&description) {
        let mut dataset: Dataset = serde_json::from_slice(&bytes).context("reading dataset.json")?;
        if serde_json::to_value(dataset.spec)? == serde_json::to_value(spec)? {
            dataset.reused = true;
            return Ok((data, dataset));
        }
        std::fs::remove_file(&description).context("removing an old dataset.json")?;
    }
    if data.root().exists() {
        std::fs::remove_dir_all(data.root()).context("removing an old data set")?;
    }
    let dataset = generate(&data, spec)?;
    std::fs::write(&description, serde_json::to_vec_pretty(&dataset)?).context("writing dataset.json")?;
    Ok((data, dataset))
}

/// A sentence of about `length` characters, different for each `n`.
fn text(kind: &str, n: usize, length: usize) -> String {
    let words = "Leader-ryhmän kehittämishanke kokoaa kylät yhteen: talkoot, lähiruoka, nuorten kesätyöt ja uusi \
                 kyläkoulun käyttö. ";
    let mut text = format!("{kind} {n}: ");
    text.extend(words.chars().cycle().take(length.saturating_sub(text.chars().count())));
    text.trim_end().to_owned()
}

/// Makes `spec.boards` boards in `data`, each by its own thread; returns them with their event counts.
pub fn generate(data: &DataDir, spec: DatasetSpec) -> anyhow::Result<Dataset> {
    let started = std::time::Instant::now();
    let engine = Engine::open(data).context("opening the data directory")?;
    let threads: Vec<_> = (0..spec.boards)
        .map(|index| {
            let engine = engine.clone();
            std::thread::Builder::new()
                .name(format!("make-board-{index}"))
                .spawn(move || make_board(&engine, index, spec))
                .context("starting a thread")
        })
        .collect::<anyhow::Result<_>>()?;
    let mut boards = Vec::with_capacity(spec.boards);
    for thread in threads {
        boards.push(thread.join().map_err(|_| anyhow::anyhow!("a board's thread panicked"))??);
    }
    drop(engine);
    let events = boards.iter().map(|board| board.events).sum();
    Ok(Dataset { spec, boards, events, seconds_to_make: started.elapsed().as_secs_f64(), reused: false })
}

fn make_board(engine: &Engine, index: usize, spec: DatasetSpec) -> anyhow::Result<MadeBoard> {
    let board = kipina_proto::BoardId(Uuid::now_v7());
    let facilitator = ParticipantId(Uuid::now_v7());
    let mut state = BoardState::default();
    let head = std::cell::Cell::new(0);
    // Runs a command and notes the board's new head.
    let mut run = |actor: ParticipantId, command: Command| -> anyhow::Result<()> {
        let context = Context { actor, at: kipina_server::clock::now() };
        let name = command.name();
        match engine.execute(board, &mut state, CommandId(Uuid::now_v7()), context, &command) {
            Ok(Executed::Appended { last, .. }) => {
                head.set(last);
                Ok(())
            }
            Ok(other) => bail!("board {index}: {name} was answered {other:?}"),
            Err(error) => bail!("board {index}: {name} failed: {error}"),
        }
    };
    run(
        facilitator,
        Command::CreateBoard {
            title: format!("Kylätyöpaja {index}"),
            description: text("Kuvaus", index, 300),
            language: Language::Fi,
            facilitator_name: format!("Fasilitaattori {index}"),
        },
    )?;
    let columns: Vec<ColumnId> = (0..4).map(|_| ColumnId(Uuid::now_v7())).collect();
    for (number, column) in columns.iter().enumerate() {
        run(facilitator, Command::AddColumn { column: *column, title: format!("Sarake {number}") })?;
    }
    run(facilitator, Command::ChangeSettings { settings: BoardSettings { vote_budget: 100, votes_per_card: 3 } })?;
    let participants: Vec<ParticipantId> =
        (0..spec.participants.max(1)).map(|_| ParticipantId(Uuid::now_v7())).collect();
    for (number, participant) in participants.iter().enumerate() {
        run(*participant, Command::Join { display_name: format!("Osallistuja {number}"), role: Role::Participant })?;
    }
    let done = |head: &std::cell::Cell<u64>| spec.events_per_board.is_some_and(|events| head.get() >= events);
    let mut cards = 0;
    'cards: for card_number in 0..spec.cards_per_board {
        if done(&head) {
            break;
        }
        let card = CardId(Uuid::now_v7());
        let author = participants[card_number % participants.len()];
        run(
            author,
            Command::AddCard {
                card,
                column: columns[card_number % columns.len()],
                title: text("Idea", card_number, 120),
                body: text("Perustelu", card_number, 200),
            },
        )?;
        cards += 1;
        for comment in 0..spec.comments_per_card {
            if done(&head) {
                break 'cards;
            }
            let commenter = participants[(card_number + 1 + comment) % participants.len()];
            run(
                commenter,
                Command::AddComment {
                    comment: CommentId(Uuid::now_v7()),
                    card,
                    reply_to: None,
                    body: text("Kommentti", comment, 150),
                },
            )?;
        }
        for vote in 0..spec.votes_per_card {
            if done(&head) {
                break 'cards;
            }
            let voter = participants[(card_number + vote) % participants.len()];
            run(voter, Command::CastVote { card })?;
            if spec.withdraw_votes && !done(&head) {
                run(voter, Command::WithdrawVote { card })?;
            }
        }
    }
    Ok(MadeBoard { board, facilitator, events: head.get(), cards })
}

/// Issues a token for each board's facilitator in `data`'s access records.
pub fn issue_tokens(data: &DataDir, boards: &[MadeBoard]) -> anyhow::Result<Vec<String>> {
    let access = AccessStore::open(&data.root().join("access")).context("opening the access records")?;
    boards.iter().map(|made| access.issue_token(made.board, made.facilitator).context("issuing a token")).collect()
}
