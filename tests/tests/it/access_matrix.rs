//! Every command × every kind of caller, over HTTP against the real server: the facilitator, a
//! participant (not the author of what the command touches), an observer who joined, a
//! participant of another board, and no token at all. Allowed commands succeed; the rest get
//! their refusal code, and the board is exactly as it was.

use kipina_proto::ErrorCode;
use kipina_proto::view::BoardView;
use kipina_proto::{
    BoardOptions, BoardSettings, CardId, CardStatus, ColumnId, Command, CommentId, LabelId, Language, ParticipantId,
    Phase, ReactionTarget, Role, SessionId,
};
use kipina_tests::{TestServer, new_command_id};
use uuid::Uuid;

/// A board with something of everything, its people and their tokens.
struct Stage {
    board: kipina_proto::BoardId,
    facilitator: String,
    /// Eero: a participant who wrote nothing on the stage.
    participant: String,
    observer: String,
    /// A participant of another board.
    stranger: String,
    aino: ParticipantId,
    column: ColumnId,
    statement: ColumnId,
    card: CardId,
    free: [CardId; 2],
    group: CardId,
    comment: CommentId,
    label: LabelId,
    proposal: CardId,
    session: SessionId,
}

fn id() -> Uuid {
    Uuid::now_v7()
}

impl Stage {
    async fn open(server: &TestServer) -> Stage {
        let created = server.create_board("Fanni").await;
        let board = created.session.board;
        let facilitator = created.session.token.clone();
        let aino = server.join(&created.links.participant, "Aino").await;
        let eero = server.join(&created.links.participant, "Eero").await;
        let observer = server.join(&created.links.observer, "Olli").await;
        let other = server.create_board("Toinen").await;
        let stranger = server.join(&other.links.participant, "Vieras").await;
        let (column, statement) = (ColumnId(id()), ColumnId(id()));
        let (card, group, proposal) = (CardId(id()), CardId(id()), CardId(id()));
        let free = [CardId(id()), CardId(id())];
        let (comment, label, session) = (CommentId(id()), LabelId(id()), SessionId(id()));
        let by_facilitator = [
            Command::AddColumn { column, title: "Ideat".into() },
            Command::CreateLabel { label, name: "Tärkeä".into(), color: "red".into() },
            Command::AddStatement { column: statement, title: "Visio".into(), text: "Luonnos".into() },
            Command::CreateSession { session, name: "Leiri".into(), date: "2026-06-12".into(), anonymous: false },
        ];
        for command in &by_facilitator {
            server.http_applied(board, &facilitator, command).await;
        }
        let by_aino = [
            Command::AddCard { card, column, title: "Ainon kortti".into(), body: String::new() },
            Command::AddCard { card: free[0], column, title: "Vapaa 1".into(), body: String::new() },
            Command::AddCard { card: free[1], column, title: "Vapaa 2".into(), body: String::new() },
            Command::AddComment { comment, card, reply_to: None, body: "Ainon kommentti".into() },
            Command::ProposeWording {
                card: proposal,
                statement,
                text: "Visio".into(),
                reason: "Selkeämpi".into(),
                base_version: 1,
            },
            Command::CastVote { card },
        ];
        for command in &by_aino {
            server.http_applied(board, &aino.token, command).await;
        }
        let second = [CardId(id()), CardId(id())];
        for card in second {
            server
                .http_applied(
                    board,
                    &aino.token,
                    &Command::AddCard { card, column, title: "Ryhmään".into(), body: String::new() },
                )
                .await;
        }
        server
            .http_applied(
                board,
                &facilitator,
                &Command::GroupCards { group, heading: "Ryhmä".into(), cards: second.to_vec() },
            )
            .await;
        Stage {
            board,
            facilitator,
            participant: eero.token,
            observer: observer.token,
            stranger: stranger.token,
            aino: aino.participant,
            column,
            statement,
            card,
            free,
            group,
            comment,
            label,
            proposal,
            session,
        }
    }
}

/// The callers, in the order of each row's expectations.
const CALLERS: [&str; 5] = ["facilitator", "participant", "observer", "another board's participant", "no token"];

/// What a caller gets: allowed, or the refusal's code.
type Expected = Option<ErrorCode>;
const OK: Expected = None;

/// A command's name, the command on a stage, and what the facilitator, the participant and the
/// observer get (the other two callers are always `unauthorized`).
type Row = (&'static str, fn(&Stage) -> Command, [Expected; 3]);

/// One row per command.
fn rows() -> Vec<Row> {
    let forbidden = Some(ErrorCode::Forbidden);
    let not_author = Some(ErrorCode::NotAuthor);
    vec![
        (
            "edit_board",
            |_| Command::EditBoard { title: "Uusi".into(), description: String::new(), base_version: 1 },
            [OK, forbidden, forbidden],
        ),
        ("set_board_language", |_| Command::SetBoardLanguage { language: Language::Sv }, [OK, forbidden, forbidden]),
        (
            "change_settings",
            |_| Command::ChangeSettings { settings: BoardSettings { vote_budget: 7, votes_per_card: 2 } },
            [OK, forbidden, forbidden],
        ),
        (
            "set_board_options",
            |_| Command::SetBoardOptions { options: BoardOptions { anonymous: true, participants_may_group: true } },
            [OK, forbidden, forbidden],
        ),
        ("set_locked", |_| Command::SetLocked { locked: true }, [OK, forbidden, forbidden]),
        (
            "create_session",
            |_| Command::CreateSession {
                session: SessionId(id()),
                name: "Syksy".into(),
                date: "2026-11-23".into(),
                anonymous: false,
            },
            [OK, forbidden, forbidden],
        ),
        ("start_session", |s| Command::StartSession { session: s.session }, [OK, forbidden, forbidden]),
        (
            "set_phase",
            |s| Command::SetPhase { session: s.session, phase: Phase::Vote },
            [Some(ErrorCode::SessionNotStarted), forbidden, forbidden],
        ),
        (
            "start_timer",
            |_| Command::StartTimer { seconds: 60 },
            [Some(ErrorCode::SessionNotRunning), forbidden, forbidden],
        ),
        ("extend_timer", |_| Command::ExtendTimer { seconds: 60 }, [Some(ErrorCode::NoTimer), forbidden, forbidden]),
        ("stop_timer", |_| Command::StopTimer, [OK, forbidden, forbidden]),
        (
            "start_vote_round",
            |_| Command::StartVoteRound { settings: BoardSettings { vote_budget: 3, votes_per_card: 1 }, hidden: true },
            [OK, forbidden, forbidden],
        ),
        ("reveal_votes", |_| Command::RevealVotes, [Some(ErrorCode::VotesNotHidden), forbidden, forbidden]),
        (
            "join",
            |_| Command::Join { display_name: "Toinen kerta".into(), role: Role::Participant },
            [Some(ErrorCode::AlreadyJoined), Some(ErrorCode::AlreadyJoined), Some(ErrorCode::AlreadyJoined)],
        ),
        ("rename", |_| Command::Rename { display_name: "Uusi nimi".into() }, [OK, OK, OK]),
        (
            "change_role",
            |s| Command::ChangeRole { participant: s.aino, role: Role::Observer },
            [OK, forbidden, forbidden],
        ),
        ("erase_participant", |s| Command::EraseParticipant { participant: s.aino }, [OK, forbidden, forbidden]),
        (
            "add_column",
            |_| Command::AddColumn { column: ColumnId(id()), title: "Uusi".into() },
            [OK, forbidden, forbidden],
        ),
        (
            "rename_column",
            |s| Command::RenameColumn { column: s.column, title: "Ideoita".into(), base_version: 1 },
            [OK, forbidden, forbidden],
        ),
        ("move_column", |s| Command::MoveColumn { column: s.column, to_index: 1 }, [OK, forbidden, forbidden]),
        ("archive_column", |s| Command::ArchiveColumn { column: s.column }, [OK, forbidden, forbidden]),
        (
            "restore_column",
            |s| Command::RestoreColumn { column: s.column },
            [Some(ErrorCode::NotArchived), forbidden, forbidden],
        ),
        (
            "add_statement",
            |_| Command::AddStatement { column: ColumnId(id()), title: "Missio".into(), text: String::new() },
            [OK, forbidden, forbidden],
        ),
        (
            "propose_wording",
            |s| Command::ProposeWording {
                card: CardId(id()),
                statement: s.statement,
                text: "Toinen visio".into(),
                reason: "Lyhyempi".into(),
                base_version: 1,
            },
            [OK, OK, forbidden],
        ),
        (
            "rebase_proposal",
            |s| Command::RebaseProposal { card: s.proposal, text: "Kolmas".into(), base_version: 1 },
            [OK, not_author, forbidden],
        ),
        ("adopt_proposal", |s| Command::AdoptProposal { card: s.proposal }, [OK, forbidden, forbidden]),
        (
            "create_label",
            |_| Command::CreateLabel { label: LabelId(id()), name: "Uusi".into(), color: "blue".into() },
            [OK, forbidden, forbidden],
        ),
        (
            "set_card_label",
            |s| Command::SetCardLabel { card: s.card, label: s.label, on: true },
            [OK, not_author, forbidden],
        ),
        (
            "add_card",
            |s| Command::AddCard { card: CardId(id()), column: s.column, title: "Uusi".into(), body: String::new() },
            [OK, OK, forbidden],
        ),
        (
            "edit_card",
            |s| Command::EditCard { card: s.card, title: "Muokattu".into(), body: String::new(), base_version: 1 },
            [OK, not_author, forbidden],
        ),
        (
            "move_card",
            |s| Command::MoveCard { card: s.card, column: s.column, to_index: 2 },
            [OK, not_author, forbidden],
        ),
        (
            "set_card_status",
            |s| Command::SetCardStatus { card: s.card, status: CardStatus::Selected },
            [OK, forbidden, forbidden],
        ),
        ("archive_card", |s| Command::ArchiveCard { card: s.free[0] }, [OK, not_author, forbidden]),
        (
            "restore_card",
            |s| Command::RestoreCard { card: s.card },
            [Some(ErrorCode::NotArchived), not_author, forbidden],
        ),
        (
            "group_cards",
            |s| Command::GroupCards { group: CardId(id()), heading: "Ryhmä".into(), cards: s.free.to_vec() },
            [OK, forbidden, forbidden],
        ),
        ("add_to_group", |s| Command::AddToGroup { group: s.group, card: s.free[0] }, [OK, forbidden, forbidden]),
        ("ungroup", |s| Command::Ungroup { group: s.group }, [OK, forbidden, forbidden]),
        (
            "add_comment",
            |s| Command::AddComment { comment: CommentId(id()), card: s.card, reply_to: None, body: "Hei".into() },
            [OK, OK, forbidden],
        ),
        (
            "edit_comment",
            |s| Command::EditComment { comment: s.comment, body: "Muokattu".into(), base_version: 1 },
            // Only its author edits a comment's words, even a facilitator (who may delete it).
            [not_author, not_author, forbidden],
        ),
        ("delete_comment", |s| Command::DeleteComment { comment: s.comment }, [OK, not_author, forbidden]),
        ("cast_vote", |s| Command::CastVote { card: s.card }, [OK, OK, forbidden]),
        (
            "withdraw_vote",
            |s| Command::WithdrawVote { card: s.card },
            [Some(ErrorCode::NoVoteToWithdraw), Some(ErrorCode::NoVoteToWithdraw), forbidden],
        ),
        ("toggle_reaction", |s| Command::ToggleReaction { target: ReactionTarget::Card(s.card) }, [OK, OK, forbidden]),
        // Keeping up is personal: anyone who joined, observers too.
        ("follow_card", |s| Command::FollowCard { card: s.card, follow: true }, [OK, OK, OK]),
        ("mark_seen", |_| Command::MarkSeen { through: 3 }, [OK, OK, OK]),
        ("mark_notifications_read", |_| Command::MarkNotificationsRead { through: 3 }, [OK, OK, OK]),
    ]
}

fn without_votes_used(mut view: BoardView) -> BoardView {
    for participant in &mut view.participants {
        participant.votes_used = None;
    }
    view
}

#[tokio::test]
async fn every_command_for_every_caller_is_allowed_or_refused_and_refusals_change_nothing() {
    let server = TestServer::start().await;
    let rows = rows();
    // Every command the protocol has is in the table (create_board is answered by POST /api/boards).
    assert_eq!(rows.len() + 1, 47, "a command is missing from the access table");
    let mut failures = Vec::new();
    for (name, command, expected) in rows {
        let stage = Stage::open(&server).await;
        let before = without_votes_used(server.board(stage.board, &stage.facilitator).await);
        let callers: [(Option<&str>, Expected); 5] = [
            (Some(&stage.facilitator), expected[0]),
            (Some(&stage.participant), expected[1]),
            (Some(&stage.observer), expected[2]),
            (Some(&stage.stranger), Some(ErrorCode::Unauthorized)),
            (None, Some(ErrorCode::Unauthorized)),
        ];
        // Refusals first, each checked to leave the board as it was; the allowed call last.
        let mut ordered: Vec<(usize, (Option<&str>, Expected))> = callers.into_iter().enumerate().collect();
        ordered.sort_by_key(|(_, (_, expected))| expected.is_none());
        for (index, (token, expected)) in ordered {
            let answer = server.http_command(stage.board, token, new_command_id(), &command(&stage)).await;
            let got: Expected = match &answer {
                Ok(_) => None,
                Err((_, body)) => Some(body.code),
            };
            if got != expected {
                failures.push(format!("{name} by the {}: expected {expected:?}, got {answer:?}", CALLERS[index]));
            }
            if expected.is_some() {
                let after = without_votes_used(server.board(stage.board, &stage.facilitator).await);
                if after != before {
                    failures.push(format!("{name} by the {} was refused but changed the board", CALLERS[index]));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
}
