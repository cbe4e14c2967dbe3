//! Erasure of personal data (GDPR art. 17) by crypto-shredding, end to end on a real data
//! directory: after `EraseParticipant`, the participant's name and words appear in no file of
//! the data directory, every projection reads them as erased, the rest of the board is as it
//! was, and the log still verifies.

use kipina_domain::{BoardState, Context, PersonalText};
use kipina_proto::{
    BoardId, CardId, ColumnId, Command, CommandId, CommentId, Language, ParticipantId, Role, Timestamp,
};
use kipina_server::data_dir::DataDir;
use kipina_server::engine::Engine;
use std::path::Path;
use uuid::Uuid;

const BOARD: BoardId = BoardId(Uuid::from_u128(0xB0A2D));
const FACILITATOR: ParticipantId = ParticipantId(Uuid::from_u128(1));
const ULLA: ParticipantId = ParticipantId(Uuid::from_u128(2));
const MATTI: ParticipantId = ParticipantId(Uuid::from_u128(3));
const COLUMN: ColumnId = ColumnId(Uuid::from_u128(10));
const ULLAS_CARD: CardId = CardId(Uuid::from_u128(20));
const MATTIS_CARD: CardId = CardId(Uuid::from_u128(21));

const NAME: &str = "Ulla Unohdettava";
const CARD_TITLE: &str = "Salainen kyläsaunaidea";
const CARD_BODY: &str = "Rantasauna vuokralle kesäasukkaille";
const COMMENT: &str = "Ullan kommentti Matin kortista";

struct Board {
    engine: Engine,
    state: BoardState,
    step: u128,
}

impl Board {
    fn run(&mut self, actor: ParticipantId, command: Command) {
        self.step += 1;
        let context = Context { actor, at: Timestamp(1_700_000_000_000 + self.step as i64) };
        self.engine
            .execute(BOARD, &mut self.state, CommandId(Uuid::from_u128(0xC000 + self.step)), context, &command)
            .unwrap_or_else(|error| panic!("{} refused: {error}", command.name()));
    }
}

/// Every file under `dir` whose bytes contain `needle`.
fn files_containing(dir: &Path, needle: &[u8]) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(path) = stack.pop() {
        for entry in std::fs::read_dir(&path).unwrap() {
            // unwrap: the test owns this directory
            let entry = entry.unwrap(); // unwrap: as above
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let bytes = std::fs::read(&path).unwrap(); // unwrap: as above
                if bytes.windows(needle.len()).any(|window| window == needle) {
                    found.push(path.display().to_string());
                }
            }
        }
    }
    found
}

#[test]
fn erased_name_and_words_are_gone_from_every_file_and_the_rest_stays() {
    let dir = tempfile::tempdir().unwrap(); // unwrap: a temp dir is needed
    let data = DataDir::new(dir.path());
    // Snapshot after every event, so a snapshot holding Ulla's words in the clear exists.
    let engine = Engine::open(&data).unwrap().with_snapshot_every(1); // unwrap: fresh directory
    let mut board = Board { engine, state: BoardState::default(), step: 0 };
    board.run(
        FACILITATOR,
        Command::CreateBoard {
            title: "Kylän tulevaisuus".into(),
            description: String::new(),
            language: Language::Fi,
            facilitator_name: "Aino".into(),
        },
    );
    board.run(ULLA, Command::Join { display_name: NAME.into(), role: Role::Participant });
    board.run(MATTI, Command::Join { display_name: "Matti".into(), role: Role::Participant });
    board.run(FACILITATOR, Command::AddColumn { column: COLUMN, title: "Ideat".into() });
    board.run(
        ULLA,
        Command::AddCard { card: ULLAS_CARD, column: COLUMN, title: CARD_TITLE.into(), body: CARD_BODY.into() },
    );
    board.run(
        MATTI,
        Command::AddCard { card: MATTIS_CARD, column: COLUMN, title: "Matin idea".into(), body: String::new() },
    );
    board.run(
        ULLA,
        Command::AddComment {
            comment: CommentId(Uuid::from_u128(30)),
            card: MATTIS_CARD,
            reply_to: None,
            body: COMMENT.into(),
        },
    );
    board.run(ULLA, Command::CastVote { card: MATTIS_CARD });
    board.run(MATTI, Command::CastVote { card: ULLAS_CARD });

    let key = board.engine.keys().get(BOARD, ULLA).unwrap().expect("Ulla has a key"); // unwrap: readable key dir
    // The scan can find things: before erasure, the snapshot holds Ulla's words in the clear,
    // and her key is in its file. (The log itself holds them only sealed.)
    assert!(!files_containing(dir.path(), NAME.as_bytes()).is_empty());
    assert!(!files_containing(dir.path(), key.bytes()).is_empty());
    assert!(files_containing(&data.events(), NAME.as_bytes()).is_empty(), "the log holds personal text in the clear");
    let before = board.state.clone();

    board.run(FACILITATOR, Command::EraseParticipant { participant: ULLA });

    for needle in [NAME, CARD_TITLE, CARD_BODY, COMMENT] {
        assert_eq!(
            files_containing(dir.path(), needle.as_bytes()),
            Vec::<String>::new(),
            "{needle:?} is still on disk"
        );
    }
    assert_eq!(files_containing(dir.path(), key.bytes()), Vec::<String>::new(), "the key is still on disk");

    // Live state, a fresh replay and a reopened engine all read the same erased fields.
    let live = board.state.clone();
    drop(board);
    let engine = Engine::open(&data).unwrap(); // unwrap: intact directory
    let reloaded = engine.load(BOARD).unwrap(); // unwrap: intact log
    assert_eq!(reloaded, live);
    drop(engine);
    std::fs::remove_dir_all(data.snapshots()).unwrap(); // unwrap: the test owns it
    let engine = Engine::open(&data).unwrap(); // unwrap: intact directory
    assert_eq!(engine.load(BOARD).unwrap(), live, "a replay without snapshot differs"); // unwrap: intact log
    assert_eq!(engine.state_at(BOARD, 6).unwrap().cards[&ULLAS_CARD].title, PersonalText::Erased); // unwrap: intact

    let ulla = &live.participants[&ULLA];
    assert!(ulla.erased);
    assert_eq!(ulla.display_name, PersonalText::Erased);
    assert_eq!(live.cards[&ULLAS_CARD].title, PersonalText::Erased);
    assert_eq!(live.cards[&ULLAS_CARD].body, PersonalText::Erased);
    let comment = &live.comments[&CommentId(Uuid::from_u128(30))];
    assert_eq!(comment.body, PersonalText::Erased);

    // Nothing else changed: put the erased fields back and the states are equal.
    let mut restored = live.clone();
    restored.version = before.version;
    let participant = restored.participants.get_mut(&ULLA).unwrap(); // unwrap: checked above
    participant.erased = false;
    participant.display_name = before.participants[&ULLA].display_name.clone();
    // What she followed went with her, on both sides.
    participant.following = before.participants[&ULLA].following.clone();
    for card in &before.participants[&ULLA].following {
        restored.cards.get_mut(card).unwrap().followers.insert(ULLA); // unwrap: she followed cards on the board
    }
    let card = restored.cards.get_mut(&ULLAS_CARD).unwrap(); // unwrap: checked above
    card.title = before.cards[&ULLAS_CARD].title.clone();
    card.body = before.cards[&ULLAS_CARD].body.clone();
    restored.comments.get_mut(&CommentId(Uuid::from_u128(30))).unwrap().body = COMMENT.into(); // unwrap: as above
    assert_eq!(restored, before);

    // The log verifies, with the erased fields counted, not reported as damage.
    drop(engine);
    let report = kipina_server::verify::verify(&data).unwrap(); // unwrap: the directory exists
    assert!(report.is_intact(), "{report}");
    assert_eq!(report.boards[0].erased_participants, 1);
    assert_eq!(report.boards[0].erased_fields, 4, "{report}"); // name, card title and body, comment
}
