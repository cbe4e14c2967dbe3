//! Property: for any sequence of commands, the state kept up to date event by event equals a
//! full replay of the recorded facts (for every prefix), and equals what a reopened store
//! replays, including `state_at` for earlier sequence numbers and erasures along the way.

use kipina_domain::{BoardState, Context, Fact, decide, evolve, replay};
use kipina_proto::{
    BoardId, BoardOptions, BoardSettings, CardId, CardStatus, ColumnId, Command, CommandId, CommentId, LabelId,
    Language, ParticipantId, Phase, ReactionTarget, Role, SessionId, Timestamp,
};
use kipina_server::data_dir::DataDir;
use kipina_server::engine::{Engine, Executed};
use proptest::prelude::*;
use uuid::Uuid;

pub(crate) const PEOPLE: u128 = 4;
const COLUMNS: u128 = 3;
const CARDS: u128 = 4;
const COMMENTS: u128 = 4;

pub(crate) fn person(index: u128) -> ParticipantId {
    ParticipantId(Uuid::from_u128(0x100 + index))
}
fn column(index: u128) -> ColumnId {
    ColumnId(Uuid::from_u128(0x200 + index))
}
fn card(index: u128) -> CardId {
    CardId(Uuid::from_u128(0x300 + index))
}
fn comment(index: u128) -> CommentId {
    CommentId(Uuid::from_u128(0x400 + index))
}
fn label(index: u128) -> LabelId {
    LabelId(Uuid::from_u128(0x500 + index))
}
fn session(index: u128) -> SessionId {
    SessionId(Uuid::from_u128(0x600 + index))
}
/// Groups share the cards' id space (a group is a card).
fn group(index: u128) -> CardId {
    card(CARDS + index)
}
/// So do proposals for a statement.
fn proposal(index: u128) -> CardId {
    card(CARDS + 2 + index)
}
const STATEMENT: ColumnId = ColumnId(Uuid::from_u128(0x700));

const WORDS: [&str; 4] = ["Kyläilta", "Nuorten ääni", "Yhteistyö yli rajojen", "Äänestys"];

/// Any command over a small universe of ids, so commands often hit the same things.
pub(crate) fn any_command() -> impl Strategy<Value = (u128, Command)> {
    let p = 0..PEOPLE;
    let col = 0..COLUMNS;
    let c = 0..CARDS;
    let m = 0..COMMENTS;
    let w = 0..WORDS.len();
    // Versions start at 1 and grow slowly, so small numbers are often current.
    let v = prop_oneof![3 => Just(1u32), 1 => 0u32..4];
    let command = prop_oneof![
        (w.clone(), prop_oneof![Just(Role::Participant), Just(Role::Observer), Just(Role::Facilitator)])
            .prop_map(|(w, role)| Command::Join { display_name: WORDS[w].into(), role }),
        w.clone().prop_map(|w| Command::Rename { display_name: WORDS[w].into() }),
        (p.clone(), prop_oneof![Just(Role::Participant), Just(Role::Observer)])
            .prop_map(|(p, role)| Command::ChangeRole { participant: person(p), role }),
        (col.clone(), w.clone())
            .prop_map(|(col, w)| Command::AddColumn { column: column(col), title: WORDS[w].into() }),
        (col.clone(), w.clone(), v.clone()).prop_map(|(col, w, v)| Command::RenameColumn {
            column: column(col),
            title: WORDS[w].into(),
            base_version: v
        }),
        (col.clone(), v.clone()).prop_map(|(col, v)| Command::MoveColumn { column: column(col), to_index: v }),
        col.clone().prop_map(|col| Command::ArchiveColumn { column: column(col) }),
        col.clone().prop_map(|col| Command::RestoreColumn { column: column(col) }),
        (c.clone(), col.clone(), w.clone(), w.clone()).prop_map(|(c, col, t, b)| Command::AddCard {
            card: card(c),
            column: column(col),
            title: WORDS[t].into(),
            body: WORDS[b].into()
        }),
        (c.clone(), w.clone(), v.clone()).prop_map(|(c, w, v)| Command::EditCard {
            card: card(c),
            title: WORDS[w].into(),
            body: String::new(),
            base_version: v
        }),
        (c.clone(), col.clone(), v.clone()).prop_map(|(c, col, v)| Command::MoveCard {
            card: card(c),
            column: column(col),
            to_index: v
        }),
        c.clone().prop_map(|c| Command::SetCardStatus { card: card(c), status: CardStatus::Selected }),
        c.clone().prop_map(|c| Command::ArchiveCard { card: card(c) }),
        c.clone().prop_map(|c| Command::RestoreCard { card: card(c) }),
        (0..2u128, w.clone()).prop_map(|(l, w)| Command::CreateLabel {
            label: label(l),
            name: WORDS[w].into(),
            color: "green".into()
        }),
        (c.clone(), 0..2u128, any::<bool>()).prop_map(|(c, l, on)| Command::SetCardLabel {
            card: card(c),
            label: label(l),
            on
        }),
        (m.clone(), c.clone(), proptest::option::of(0..COMMENTS), w.clone()).prop_map(|(m, c, r, w)| {
            Command::AddComment { comment: comment(m), card: card(c), reply_to: r.map(comment), body: WORDS[w].into() }
        }),
        (m.clone(), w.clone(), v.clone()).prop_map(|(m, w, v)| Command::EditComment {
            comment: comment(m),
            body: WORDS[w].into(),
            base_version: v
        }),
        m.clone().prop_map(|m| Command::DeleteComment { comment: comment(m) }),
        c.clone().prop_map(|c| Command::CastVote { card: card(c) }),
        c.clone().prop_map(|c| Command::CastVote { card: card(c) }),
        c.clone().prop_map(|c| Command::WithdrawVote { card: card(c) }),
        c.clone().prop_map(|c| Command::ToggleReaction { target: ReactionTarget::Card(card(c)) }),
        m.clone().prop_map(|m| Command::ToggleReaction { target: ReactionTarget::Comment(comment(m)) }),
        (w.clone(), v.clone()).prop_map(|(w, v)| Command::EditBoard {
            title: WORDS[w].into(),
            description: String::new(),
            base_version: v
        }),
    ];
    // Running a workshop: sessions and phases, the countdown, the lock, rounds, groups.
    let phase = prop_oneof![
        Just(Phase::Ideate),
        Just(Phase::Discuss),
        Just(Phase::Vote),
        Just(Phase::Results),
        Just(Phase::Closed)
    ];
    let g = 0..2u128;
    let facilitation = prop_oneof![
        (0..2u128, any::<bool>()).prop_map(|(s, anonymous)| Command::CreateSession {
            session: session(s),
            name: WORDS[s as usize].into(),
            date: "2026-06-12".into(),
            anonymous
        }),
        (0..2u128).prop_map(|s| Command::StartSession { session: session(s) }),
        (0..2u128, phase).prop_map(|(s, phase)| Command::SetPhase { session: session(s), phase }),
        (1..600u32).prop_map(|seconds| Command::StartTimer { seconds }),
        (1..600u32).prop_map(|seconds| Command::ExtendTimer { seconds }),
        Just(Command::StopTimer),
        any::<bool>().prop_map(|locked| Command::SetLocked { locked }),
        (any::<bool>(), any::<bool>()).prop_map(|(anonymous, participants_may_group)| Command::SetBoardOptions {
            options: BoardOptions { anonymous, participants_may_group }
        }),
        (1..4u32, any::<bool>()).prop_map(|(budget, hidden)| Command::StartVoteRound {
            settings: BoardSettings { vote_budget: budget, votes_per_card: 1 },
            hidden
        }),
        Just(Command::RevealVotes),
        (g.clone(), c.clone(), c.clone()).prop_map(|(g, a, b)| Command::GroupCards {
            group: group(g),
            heading: WORDS[g as usize].into(),
            cards: vec![card(a), card(b)]
        }),
        (g.clone(), c.clone()).prop_map(|(g, c)| Command::AddToGroup { group: group(g), card: card(c) }),
        g.clone().prop_map(|g| Command::Ungroup { group: group(g) }),
        g.prop_map(|g| Command::CastVote { card: group(g) }),
    ];
    // Drafting a statement together.
    let k = 0..3u128;
    let base = prop_oneof![2 => Just(1u32), 2 => Just(2u32), 1 => 3..5u32];
    let statements = prop_oneof![
        w.clone().prop_map(|w| Command::AddStatement {
            column: STATEMENT,
            title: "Visio".into(),
            text: WORDS[w].into()
        }),
        (k.clone(), w.clone(), base.clone()).prop_map(|(k, w, base_version)| Command::ProposeWording {
            card: proposal(k),
            statement: STATEMENT,
            text: WORDS[w].into(),
            reason: WORDS[(w + 1) % WORDS.len()].into(),
            base_version
        }),
        (k.clone(), w.clone(), base).prop_map(|(k, w, base_version)| Command::RebaseProposal {
            card: proposal(k),
            text: WORDS[w].into(),
            base_version
        }),
        k.clone().prop_map(|k| Command::AdoptProposal { card: proposal(k) }),
        k.clone().prop_map(|k| Command::CastVote { card: proposal(k) }),
        (k, w.clone()).prop_map(|(k, w)| Command::AddComment {
            comment: comment(COMMENTS + k),
            card: proposal(k),
            reply_to: None,
            body: WORDS[w].into()
        }),
    ];
    // Between camps: mentions, follows, what has been seen and read.
    let keeping_up = prop_oneof![
        (m.clone(), c.clone(), w.clone(), w.clone()).prop_map(|(m, c, a, b)| Command::AddComment {
            comment: comment(m),
            card: card(c),
            reply_to: None,
            body: format!("@{} ja @{}: katsokaa", WORDS[a], WORDS[b].to_lowercase()),
        }),
        (m.clone(), w.clone(), v.clone()).prop_map(|(m, w, v)| Command::EditComment {
            comment: comment(m),
            body: format!("Lisäksi @{}", WORDS[w]),
            base_version: v
        }),
        (c.clone(), any::<bool>()).prop_map(|(c, follow)| Command::FollowCard { card: card(c), follow }),
        (0..40u64).prop_map(|through| Command::MarkSeen { through }),
        (0..40u64).prop_map(|through| Command::MarkNotificationsRead { through }),
    ];
    // Erasure is rare, as in life; it still happens in most longer histories.
    let command = prop_oneof![
        40 => command,
        12 => facilitation,
        8 => statements,
        8 => keeping_up,
        1 => p.prop_map(|p| Command::EraseParticipant { participant: person(p) }),
    ];
    // Half of the commands come from the facilitator, who may do the most.
    (prop_oneof![1 => Just(0u128), 1 => 1..PEOPLE], command)
}

fn create_board() -> Command {
    Command::CreateBoard {
        title: "Leaderin kulmakivet".into(),
        description: "Ominaisuustesti".into(),
        language: Language::Fi,
        facilitator_name: "Aino".into(),
    }
}

/// Runs the commands through `decide` and `evolve`, returning the live state after each fact
/// (the last one is the final state) and the facts.
/// Who follows which card, as the participants say.
fn followers_from_participants(state: &BoardState) -> Vec<(CardId, ParticipantId)> {
    let mut pairs: Vec<(CardId, ParticipantId)> = state
        .participants
        .values()
        .flat_map(|participant| participant.following.iter().map(|card| (*card, participant.id)))
        .collect();
    pairs.sort();
    pairs
}

/// Who follows which card, as the cards say: the two sides must always agree.
fn followers_of_cards(state: &BoardState) -> Vec<(CardId, ParticipantId)> {
    let mut pairs: Vec<(CardId, ParticipantId)> =
        state.cards.values().flat_map(|card| card.followers.iter().map(|follower| (card.id, *follower))).collect();
    pairs.sort();
    pairs
}

fn run_pure(commands: &[(u128, Command)]) -> (Vec<BoardState>, Vec<Fact>) {
    let mut state = BoardState::default();
    let mut states = vec![state.clone()];
    let mut facts = Vec::new();
    for (step, (actor, command)) in commands.iter().enumerate() {
        let context = Context { actor: person(*actor), at: Timestamp(1_000 + step as i64) };
        let Ok(events) = decide(&state, &context, command) else { continue };
        for event in events {
            let fact = Fact { seq: state.version + 1, at: context.at, actor: context.actor, event };
            evolve(&mut state, &fact);
            states.push(state.clone());
            facts.push(fact);
        }
    }
    (states, facts)
}

/// The facts as a store replays them after erasures: every personal field written by a
/// participant who is erased anywhere in the history reads as erased, retroactively.
fn as_stored(facts: &[Fact]) -> Vec<Fact> {
    let erased: Vec<ParticipantId> = facts
        .iter()
        .filter_map(|fact| match fact.event {
            kipina_domain::Event::ParticipantErased { participant } => Some(participant),
            _ => None,
        })
        .collect();
    facts
        .iter()
        .map(|fact| {
            if !erased.contains(&fact.actor) {
                return fact.clone();
            }
            let text = serde_json::to_string(&fact.event).unwrap(); // unwrap: events serialise
            let shredded = shred_json(&text);
            Fact { event: serde_json::from_str(&shredded).unwrap(), ..fact.clone() } // unwrap: still valid JSON
        })
        .collect()
}

/// Replaces every `{"$personal":"…"}` with `{"$erased":true}` by walking the JSON value.
fn shred_json(json: &str) -> String {
    fn walk(value: &mut serde_json::Value) {
        if let serde_json::Value::Object(object) = value {
            if object.len() == 1 && object.contains_key("$personal") {
                *value = serde_json::json!({"$erased": true});
                return;
            }
            object.values_mut().for_each(walk);
        }
    }
    let mut value: serde_json::Value = serde_json::from_str(json).unwrap(); // unwrap: made by serde_json
    walk(&mut value);
    value.to_string()
}

/// A board with everyone joined, two columns and two cards, then the random commands, so that
/// most random commands meet things they can act on.
pub(crate) fn with_board(commands: Vec<(u128, Command)>) -> Vec<(u128, Command)> {
    let mut setup = vec![(0, create_board())];
    for index in 1..PEOPLE {
        setup.push((index, Command::Join { display_name: WORDS[index as usize].into(), role: Role::Participant }));
    }
    for index in 0..2 {
        setup.push((0, Command::AddColumn { column: column(index), title: WORDS[index as usize].into() }));
    }
    setup.push((0, Command::AddStatement { column: STATEMENT, title: "Visio".into(), text: String::new() }));
    for index in 0..CARDS {
        let column = column(index % 2);
        setup.push((
            index % PEOPLE,
            Command::AddCard { card: card(index), column, title: WORDS[2].into(), body: String::new() },
        ));
    }
    for index in 0..2 {
        let body = WORDS[3].into();
        setup.push((
            index + 1,
            Command::AddComment { comment: comment(index), card: card(index), reply_to: None, body },
        ));
    }
    setup.extend(commands);
    setup
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn live_state_equals_replay_for_every_prefix(commands in prop::collection::vec(any_command(), 1..120)) {
        let (states, facts) = run_pure(&with_board(commands));
        for (cut, live) in states.iter().enumerate() {
            prop_assert_eq!(followers_from_participants(live), followers_of_cards(live));
            let replayed = replay(&facts[..cut]);
            prop_assert_eq!(replayed.version, cut as u64);
            prop_assert_eq!(&replayed, live);
        }
        // Erasure is retroactive, yet the final state is the same whichever way it is reached.
        let final_state = states.last().unwrap(); // unwrap: there is always the empty state
        prop_assert_eq!(&replay(&as_stored(&facts)), final_state);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn a_reopened_store_replays_to_the_live_state(commands in prop::collection::vec(any_command(), 1..60)) {
        let commands = with_board(commands);
        let (states, facts) = run_pure(&commands);
        let expected = states.last().unwrap().clone(); // unwrap: there is always the empty state
        let stored = as_stored(&facts);
        let dir = tempfile::tempdir().unwrap(); // unwrap: a temp dir is needed for the test
        let data = DataDir::new(dir.path());
        let board = BoardId(Uuid::from_u128(0xB0A2D));
        {
            // A small snapshot interval so snapshots are written and used along the way.
            let engine = Engine::open(&data).unwrap().with_snapshot_every(7); // unwrap: fresh directory
            let mut live = BoardState::default();
            for (step, (actor, command)) in commands.iter().enumerate() {
                let context = Context { actor: person(*actor), at: Timestamp(1_000 + step as i64) };
                let command_id = CommandId(Uuid::from_u128(0xC000 + step as u128));
                match engine.execute(board, &mut live, command_id, context, command) {
                    Ok(Executed::Appended { .. } | Executed::Unchanged) | Err(kipina_server::engine::ExecuteError::Refused(_)) => {}
                    other => prop_assert!(false, "unexpected result {:?}", other),
                }
            }
            prop_assert_eq!(&live, &expected);
        }
        let engine = Engine::open(&data).unwrap(); // unwrap: the directory was just written
        let reopened = engine.load(board).unwrap(); // unwrap: the log is intact
        prop_assert_eq!(&reopened, &expected);
        for seq in [1, facts.len() as u64 / 2, facts.len() as u64] {
            let at = engine.state_at(board, seq).unwrap(); // unwrap: the log is intact
            let cut = seq.min(facts.len() as u64) as usize;
            prop_assert_eq!(at, replay(&stored[..cut]));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Views are shaped per viewer (hidden dots, anonymous authors, one's own dots used), so
    /// each viewer — an observer and every participant — applies only what was rendered for
    /// them, and must end with exactly the board a fresh snapshot would show them.
    #[test]
    fn every_viewer_applying_their_changes_sees_their_own_snapshot(
        commands in prop::collection::vec(any_command(), 1..80)
    ) {
        use kipina_proto::mirror::{Applied, BoardMirror};
        use kipina_server::live::changes::ChangeSet;
        use kipina_server::projection::views::{Viewer, board_view};
        let board = BoardId(Uuid::from_u128(0xB0A2D));
        let viewers: Vec<Viewer> =
            std::iter::once(Viewer::Observer).chain((0..PEOPLE).map(|index| Viewer::Participant(person(index)))).collect();
        let mut state = BoardState::default();
        let mut mirrors: Vec<Option<BoardMirror>> = viewers.iter().map(|_| None).collect();
        for (step, (actor, command)) in with_board(commands).iter().enumerate() {
            let context = Context { actor: person(*actor), at: Timestamp(1_000 + step as i64) };
            let Ok(events) = decide(&state, &context, command) else { continue };
            if events.is_empty() {
                continue;
            }
            let first = state.version + 1;
            let mut facts = Vec::new();
            for event in events {
                let fact = Fact { seq: state.version + 1, at: context.at, actor: context.actor, event };
                evolve(&mut state, &fact);
                facts.push(fact);
            }
            // As the board task does: fold every fact, then collect what they touched.
            let mut changes = ChangeSet::default();
            for fact in &facts {
                changes.add(&state, fact);
            }
            // Everyone the change set does not name gets the shared bytes, so those must be right.
            let personal = changes.personal_viewers(&state);
            let shared = changes.render(&state, Viewer::Observer);
            for viewer in viewers.iter().filter(|viewer| viewer.participant().is_none_or(|id| !personal.contains(&id))) {
                prop_assert_eq!(&changes.render(&state, *viewer), &shared, "{:?} after {:?}", viewer, command);
            }
            for (viewer, mirror) in viewers.iter().zip(mirrors.iter_mut()) {
                match mirror {
                    // A client starts from the snapshot it gets once the board exists.
                    None => *mirror = board_view(board, &state, *viewer).map(|view| BoardMirror::of(&view)),
                    Some(mirror) => {
                        prop_assert_eq!(mirror.seq + 1, first);
                        let applied = mirror.apply_changed(first, state.version, changes.render(&state, *viewer));
                        prop_assert_eq!(applied, Applied::Applied);
                    }
                }
            }
            for (viewer, mirror) in viewers.iter().zip(&mirrors) {
                let fresh = board_view(board, &state, *viewer).map(|view| BoardMirror::of(&view));
                prop_assert_eq!(mirror, &fresh, "{:?} after {:?}", viewer, command);
            }
        }
    }
}
