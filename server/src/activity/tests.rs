//! The activity projection, given a board's commands and then a viewer: what each one is told.
//! Anonymous authors and hidden dots reach nobody else, personal events nobody at all; filters
//! and the `before` cursor page through exactly what the viewer may see.

use super::feed::{FeedLinks, atom};
use super::history::history_view;
use super::words::sentence;
use super::{Projection, Query};
use crate::projection::views::Viewer;
use kipina_domain::testing::{
    ALICE, BOB, FACILITATOR, IDEAS, LATER, OBSERVER, add_card, add_column, add_comment, card, comment, create_board,
    join, like_card, session, vote,
};
use kipina_domain::{BoardState, Context, Fact, decide, evolve};
use kipina_proto::activity::{ActivityGroup, ActivityItem, ActivityKind, ActivityPage};
use kipina_proto::{
    BoardId, BoardSettings, CardId, Command, Language, ParticipantId, Phase, Role, SessionId, Timestamp,
};
use std::collections::BTreeSet;

/// A board run command by command, its facts folded into a projection as the cache does.
struct Board {
    facts: Vec<Fact>,
    state: BoardState,
    projection: Projection,
    clock: i64,
}

impl Board {
    /// The facilitator's board "Leaderin kulmakivet" with Alice, Bob, an observer and two columns.
    fn new() -> Self {
        let mut board =
            Board { facts: Vec::new(), state: BoardState::default(), projection: Projection::default(), clock: 0 };
        board
            .run(FACILITATOR, create_board())
            .run(ALICE, join("Aino Ääkkönen", Role::Participant))
            .run(BOB, join("Eero Mäkelä", Role::Participant))
            .run(OBSERVER, join("Olli Oksanen", Role::Observer))
            .run(FACILITATOR, add_column(IDEAS, "Ideat"))
            .run(FACILITATOR, add_column(LATER, "Myöhemmin"));
        board
    }

    fn run(&mut self, actor: ParticipantId, command: Command) -> &mut Self {
        self.clock += 1_000;
        let context = Context { actor, at: Timestamp(1_800_000_000_000 + self.clock) };
        let events = decide(&self.state, &context, &command).unwrap_or_else(|error| panic!("{command:?}: {error:?}"));
        for event in events {
            let fact = Fact { seq: self.state.version + 1, at: context.at, actor, event };
            evolve(&mut self.state, &fact);
            self.projection.fold(&fact);
            self.facts.push(fact);
        }
        self
    }

    fn head(&self) -> u64 {
        self.state.version
    }

    /// Everything `viewer` may see, newest first.
    fn all(&self, viewer: Viewer) -> Vec<ActivityItem> {
        self.projection.page(viewer, &Query::newest(200)).items
    }

    fn items(&self, viewer: Viewer, kind: ActivityKind) -> Vec<ActivityItem> {
        self.all(viewer).into_iter().filter(|item| item.kind == kind).collect()
    }

    fn state_at(&self, seq: u64) -> BoardState {
        kipina_domain::replay(self.facts.iter().take_while(|fact| fact.seq <= seq))
    }

    fn anonymous_session(&mut self, id: SessionId) -> &mut Self {
        self.run(
            FACILITATOR,
            Command::CreateSession {
                session: id,
                name: "Nimetön leiri".into(),
                date: "2026-06-12".into(),
                anonymous: true,
            },
        )
        .run(FACILITATOR, Command::StartSession { session: id })
    }
}

const EVERYONE: [Viewer; 4] =
    [Viewer::Observer, Viewer::Participant(FACILITATOR), Viewer::Participant(ALICE), Viewer::Participant(BOB)];

fn kinds(items: &[ActivityItem]) -> Vec<ActivityKind> {
    items.iter().map(|item| item.kind).collect()
}

#[test]
fn every_item_says_who_did_what_to_which_thing() {
    let mut board = Board::new();
    board
        .run(ALICE, add_card(card(1), IDEAS, "Kyläkoulu"))
        .run(BOB, add_comment(comment(1), card(1), "Hyvä!"))
        .run(FACILITATOR, Command::MoveCard { card: card(1), column: LATER, to_index: 0 });
    let items = board.all(Viewer::Participant(BOB));
    assert_eq!(
        kinds(&items[..3]),
        vec![ActivityKind::CardMoved, ActivityKind::CommentAdded, ActivityKind::CardAdded],
        "newest first"
    );
    let added = &items[2];
    assert_eq!(
        (added.actor, added.card, added.column, added.group, added.anonymous),
        (Some(ALICE), Some(card(1)), Some(IDEAS), ActivityGroup::Cards, false)
    );
    assert_eq!((items[1].actor, items[1].comment, items[1].card), (Some(BOB), Some(comment(1)), Some(card(1))));
    assert_eq!((items[0].actor, items[0].column), (Some(FACILITATOR), Some(LATER)));
    assert_eq!(
        sentence(&board.state, added, Language::Fi),
        "Aino Ääkkönen lisäsi kortin «Kyläkoulu» sarakkeeseen «Ideat»"
    );
    assert_eq!(sentence(&board.state, &items[1], Language::En), "Eero Mäkelä commented on “Kyläkoulu”");
    let joined = board.items(Viewer::Observer, ActivityKind::ParticipantJoined);
    assert_eq!(joined.len(), 4, "the facilitator joined with the board");
    assert_eq!((joined[2].participant, joined[2].role), (Some(ALICE), Some(Role::Participant)));
}

#[test]
fn an_anonymous_author_is_named_to_nobody_else() {
    let mut board = Board::new();
    board
        .anonymous_session(session(1))
        .run(ALICE, add_card(card(1), IDEAS, "Salainen idea"))
        .run(ALICE, add_comment(comment(1), card(1), "Salainen kommentti"))
        .run(
            ALICE,
            Command::EditCard { card: card(1), title: "Salaisempi".into(), body: String::new(), base_version: 1 },
        )
        .run(FACILITATOR, Command::MoveCard { card: card(1), column: LATER, to_index: 0 })
        .run(BOB, like_card(card(1)));
    for viewer in [Viewer::Observer, Viewer::Participant(BOB), Viewer::Participant(FACILITATOR)] {
        let items = board.all(viewer);
        for kind in [ActivityKind::CardAdded, ActivityKind::CommentAdded, ActivityKind::CardEdited] {
            let found = items.iter().find(|item| item.kind == kind).expect("listed");
            assert_eq!((found.actor, found.anonymous), (None, true), "{viewer:?} {kind:?}");
        }
        let json = serde_json::to_string(&items).unwrap_or_default();
        let alice = ALICE.to_string();
        // Her joining names her; nothing she wrote anonymously does.
        assert_eq!(json.matches(&alice).count(), 2, "{viewer:?}: only as the one who joined: {json}");
        let moved = items.iter().find(|item| item.kind == ActivityKind::CardMoved).expect("listed");
        assert_eq!(moved.actor, Some(FACILITATOR), "someone else acting on it is named");
        let liked = items.iter().find(|item| item.kind == ActivityKind::ReactionAdded).expect("listed");
        assert_eq!(liked.actor, Some(BOB), "likes are public, as on the card");
        let anonymous = items.iter().find(|item| item.kind == ActivityKind::CardAdded).expect("listed");
        assert_eq!(
            sentence(&board.state, anonymous, Language::Fi),
            "nimetön lisäsi kortin «Salaisempi» sarakkeeseen «Ideat»"
        );
    }
    let own = board.items(Viewer::Participant(ALICE), ActivityKind::CardAdded);
    assert_eq!((own[0].actor, own[0].anonymous), (Some(ALICE), false), "her own, to her");

    // Filtering by Alice never finds what she wrote anonymously.
    let query = Query { actor: Some(ALICE), ..Query::newest(200) };
    assert_eq!(
        kinds(&board.projection.page(Viewer::Participant(BOB), &query).items),
        vec![ActivityKind::ParticipantJoined]
    );
}

#[test]
fn a_board_made_anonymous_later_hides_its_earlier_authors_too() {
    let mut board = Board::new();
    board.run(ALICE, add_card(card(1), IDEAS, "Kyläkahvila"));
    assert_eq!(board.items(Viewer::Participant(BOB), ActivityKind::CardAdded)[0].actor, Some(ALICE));
    board.run(
        FACILITATOR,
        Command::SetBoardOptions {
            options: kipina_proto::BoardOptions { anonymous: true, participants_may_group: false },
        },
    );
    assert_eq!(board.items(Viewer::Participant(BOB), ActivityKind::CardAdded)[0].actor, None);
}

#[test]
fn hidden_dots_are_listed_to_their_voter_alone_before_and_after_the_reveal() {
    let mut board = Board::new();
    board
        .run(ALICE, add_card(card(1), IDEAS, "Kyläkoulu"))
        .run(BOB, add_card(card(2), IDEAS, "Nuorisotila"))
        .run(
            FACILITATOR,
            Command::StartVoteRound { settings: BoardSettings { vote_budget: 5, votes_per_card: 3 }, hidden: true },
        )
        .run(ALICE, vote(card(2)))
        .run(ALICE, Command::WithdrawVote { card: card(2) })
        .run(ALICE, vote(card(1)));
    let check = |board: &Board| {
        for viewer in [Viewer::Observer, Viewer::Participant(BOB), Viewer::Participant(FACILITATOR)] {
            let dots: Vec<_> =
                board.all(viewer).into_iter().filter(|item| item.group == ActivityGroup::Votes).collect();
            assert_eq!(dots, vec![], "{viewer:?} must not learn of Alice's dots");
        }
        let own = board.all(Viewer::Participant(ALICE));
        let own: Vec<_> =
            own.iter().filter(|item| item.group == ActivityGroup::Votes).map(|item| (item.kind, item.card)).collect();
        assert_eq!(
            own,
            vec![
                (ActivityKind::VoteCast, Some(card(1))),
                (ActivityKind::VoteWithdrawn, Some(card(2))),
                (ActivityKind::VoteCast, Some(card(2)))
            ]
        );
    };
    check(&board);
    board.run(FACILITATOR, Command::RevealVotes);
    check(&board);
    let revealed = board.items(Viewer::Participant(BOB), ActivityKind::VotesRevealed);
    assert_eq!((revealed[0].actor, revealed[0].round), (Some(FACILITATOR), Some(2)));
    let started = board.items(Viewer::Observer, ActivityKind::VoteRoundStarted);
    assert_eq!((started[0].round, started[0].hidden), (Some(2), Some(true)));

    // A visible round names voters, as the cards do, but never on an anonymous card.
    board
        .run(
            FACILITATOR,
            Command::StartVoteRound { settings: BoardSettings { vote_budget: 5, votes_per_card: 3 }, hidden: false },
        )
        .run(BOB, vote(card(1)))
        .anonymous_session(session(1))
        .run(ALICE, add_card(card(3), IDEAS, "Salainen"))
        .run(FACILITATOR, Command::SetPhase { session: session(1), phase: Phase::Vote })
        .run(ALICE, vote(card(3)));
    let dots = board.items(Viewer::Observer, ActivityKind::VoteCast);
    assert_eq!(
        dots.iter().map(|item| (item.card, item.actor, item.anonymous)).collect::<Vec<_>>(),
        vec![(Some(card(3)), None, true), (Some(card(1)), Some(BOB), false),]
    );
    assert_eq!(sentence(&board.state, &dots[0], Language::Fi), "Kortti «Salainen» sai äänen");
}

#[test]
fn personal_events_are_nobodys_business() {
    let mut board = Board::new();
    board.run(ALICE, add_card(card(1), IDEAS, "Kyläkoulu"));
    let before: Vec<_> = EVERYONE.iter().map(|viewer| board.all(*viewer)).collect();
    let head = board.head();
    board
        .run(BOB, Command::FollowCard { card: card(1), follow: true })
        .run(BOB, Command::FollowCard { card: card(1), follow: false })
        .run(BOB, Command::MarkSeen { through: head })
        .run(BOB, Command::MarkNotificationsRead { through: head });
    assert!(board.head() > head + 2, "the personal events were stored");
    let after: Vec<_> = EVERYONE.iter().map(|viewer| board.all(*viewer)).collect();
    assert_eq!(after, before, "nobody, Bob included, sees them in the feed");
    assert_eq!(board.projection.time_of(board.head()), Some(board.facts[board.facts.len() - 1].at));
}

#[test]
fn filters_keep_the_groups_asked_for() {
    let mut board = Board::new();
    board
        .run(ALICE, add_card(card(1), IDEAS, "Kyläkoulu"))
        .run(BOB, add_comment(comment(1), card(1), "Hyvä"))
        .run(BOB, like_card(card(1)))
        .run(
            FACILITATOR,
            Command::CreateSession {
                session: session(1),
                name: "Kevät".into(),
                date: "2026-06-12".into(),
                anonymous: false,
            },
        )
        .run(FACILITATOR, Command::StartSession { session: session(1) })
        .run(
            FACILITATOR,
            Command::AddStatement {
                column: kipina_domain::testing::column(9),
                title: "Visio".into(),
                text: "Luonnos".into(),
            },
        );
    let only = |groups: &[ActivityGroup]| {
        let query = Query { groups: Some(groups.iter().copied().collect()), ..Query::newest(200) };
        board
            .projection
            .page(Viewer::Participant(BOB), &query)
            .items
            .into_iter()
            .map(|item| item.group)
            .collect::<BTreeSet<_>>()
    };
    for group in ActivityGroup::ALL {
        assert_eq!(only(&[group]), BTreeSet::from([group]), "{group:?}");
    }
    assert_eq!(
        only(&[ActivityGroup::Cards, ActivityGroup::Comments]),
        BTreeSet::from([ActivityGroup::Cards, ActivityGroup::Comments])
    );
    let by_bob = Query { actor: Some(BOB), ..Query::newest(200) };
    assert_eq!(
        kinds(&board.projection.page(Viewer::Observer, &by_bob).items),
        vec![ActivityKind::ReactionAdded, ActivityKind::CommentAdded, ActivityKind::ParticipantJoined]
    );
}

#[test]
fn pages_go_back_by_the_before_cursor_without_gaps_or_overlaps() {
    let mut board = Board::new();
    for n in 1..=7 {
        board.run(ALICE, add_card(card(n), IDEAS, &format!("Idea {n}")));
    }
    let cards = Query { groups: Some(BTreeSet::from([ActivityGroup::Cards])), limit: 3, ..Query::default() };
    let mut pages: Vec<ActivityPage> = vec![board.projection.page(Viewer::Observer, &cards)];
    while let Some(before) = pages.last().and_then(|page| page.before) {
        pages.push(board.projection.page(Viewer::Observer, &Query { before: Some(before), ..cards.clone() }));
    }
    let sizes: Vec<usize> = pages.iter().map(|page| page.items.len()).collect();
    assert_eq!(sizes, vec![3, 3, 1]);
    let titles: Vec<CardId> = pages.iter().flat_map(|page| page.items.iter().filter_map(|item| item.card)).collect();
    assert_eq!(titles, (1..=7).rev().map(card).collect::<Vec<_>>(), "newest first, each once");
    assert_eq!(pages[0].before, Some(pages[0].items[2].seq));
    assert!(pages.iter().all(|page| page.head == board.head()));
    // A page that ends exactly at the oldest item says there is nothing older.
    let six = Query { limit: 6, before: Some(pages[0].items[0].seq), ..cards.clone() };
    assert_eq!(board.projection.page(Viewer::Observer, &six).before, None);
}

#[test]
fn sessions_read_as_started_moved_on_and_ended_and_statements_get_versions() {
    let vision = kipina_domain::testing::column(9);
    let mut board = Board::new();
    board
        .run(
            FACILITATOR,
            Command::CreateSession {
                session: session(1),
                name: "Kevätleiri".into(),
                date: "2026-06-12".into(),
                anonymous: false,
            },
        )
        .run(FACILITATOR, Command::StartSession { session: session(1) })
        .run(FACILITATOR, Command::AddStatement { column: vision, title: "Visio".into(), text: "Luonnos".into() })
        .run(
            ALICE,
            Command::ProposeWording {
                card: card(5),
                statement: vision,
                text: "Parempi".into(),
                reason: "Selkeämpi".into(),
                base_version: 1,
            },
        )
        .run(FACILITATOR, Command::AdoptProposal { card: card(5) })
        .run(FACILITATOR, Command::SetPhase { session: session(1), phase: Phase::Vote })
        .run(FACILITATOR, Command::SetPhase { session: session(1), phase: Phase::Closed });
    let facilitation: Vec<_> = board
        .all(Viewer::Observer)
        .into_iter()
        .filter(|item| item.session.is_some())
        .map(|item| (item.kind, item.phase))
        .collect();
    assert_eq!(
        facilitation,
        vec![
            (ActivityKind::SessionEnded, Some(Phase::Closed)),
            (ActivityKind::PhaseSet, Some(Phase::Vote)),
            (ActivityKind::SessionStarted, Some(Phase::Ideate)),
            (ActivityKind::SessionCreated, None),
        ]
    );
    let phase = board.items(Viewer::Observer, ActivityKind::PhaseSet);
    assert_eq!(sentence(&board.state, &phase[0], Language::Fi), "Fanni Fasilitaattori siirtyi äänestysvaiheeseen");
    let adopted = board.items(Viewer::Observer, ActivityKind::ProposalAdopted);
    assert_eq!((adopted[0].column, adopted[0].version), (Some(vision), Some(2)));
    assert_eq!(
        sentence(&board.state, &adopted[0], Language::Fi),
        "Fanni Fasilitaattori hyväksyi ehdotuksen: «Visio» sai uuden version 2"
    );
    let proposed = board.items(Viewer::Participant(BOB), ActivityKind::WordingProposed);
    assert_eq!((proposed[0].actor, proposed[0].version), (Some(ALICE), Some(1)));

    // The timeline holds the session's start and end with their times.
    let timeline = board.projection.timeline();
    let ended = board.state.sessions[&session(1)].ended_seq.expect("ended");
    let point = timeline.points.iter().find(|point| point.seq == ended).expect("the end is a point");
    assert_eq!(Some(point.at), board.projection.time_of(ended));
    assert_eq!(timeline.points.last().map(|point| point.seq), Some(board.head()));
}

#[test]
fn an_erased_participant_reads_as_erased() {
    let mut board = Board::new();
    board
        .run(ALICE, add_card(card(1), IDEAS, "Kyläkoulu"))
        .run(BOB, add_comment(comment(1), card(1), "Hyvä"))
        .run(BOB, Command::EraseParticipant { participant: BOB });
    let commented = &board.items(Viewer::Observer, ActivityKind::CommentAdded)[0];
    assert_eq!(commented.actor, Some(BOB), "the id stays; the client shows the erased name");
    assert_eq!(sentence(&board.state, commented, Language::Fi), "(poistettu) kommentoi korttia «Kyläkoulu»");
    let erased = &board.items(Viewer::Observer, ActivityKind::ParticipantErased)[0];
    assert_eq!(erased.participant, Some(BOB));
    assert_eq!(sentence(&board.state, erased, Language::Sv), "En deltagares uppgifter raderades");
}

#[test]
fn the_past_board_keeps_what_is_private_now_private() {
    let mut board = Board::new();
    board
        .run(ALICE, add_card(card(1), IDEAS, "Kyläkoulu"))
        .run(ALICE, add_comment(comment(1), card(1), "Ajatus"))
        .run(BOB, vote(card(1)));
    let then_seq = board.head();
    board
        .run(ALICE, Command::DeleteComment { comment: comment(1) })
        .run(
            FACILITATOR,
            Command::SetBoardOptions {
                options: kipina_proto::BoardOptions { anonymous: true, participants_may_group: false },
            },
        )
        .run(BOB, add_card(card(2), IDEAS, "Myöhempi"));
    let then = board.state_at(then_seq);
    let id = BoardId::from_uuid(uuid::Uuid::nil());
    let past = history_view(id, &then, &board.state, Viewer::Participant(BOB)).expect("the board then");
    assert_eq!(past.seq, then_seq);
    assert!(past.cards.iter().all(|found| found.id != card(2)), "the later card is not there yet");
    let kylakoulu = past.cards.iter().find(|found| found.id == card(1)).expect("the card");
    assert_eq!((kylakoulu.author, kylakoulu.anonymous, kylakoulu.vote_total), (None, true, Some(1)));
    assert_eq!(kylakoulu.votes.iter().map(|vote| vote.participant).collect::<Vec<_>>(), vec![BOB], "his own dot only");
    let words = &past.comments[0];
    assert_eq!((words.author, words.body.as_deref(), words.deleted), (None, None, true));
    let own = history_view(id, &then, &board.state, Viewer::Participant(ALICE)).expect("the board then");
    assert_eq!(own.cards.iter().find(|found| found.id == card(1)).and_then(|found| found.author), Some(ALICE));
    let observers = history_view(id, &then, &board.state, Viewer::Observer).expect("the board then");
    assert!(observers.cards.iter().all(|card| card.votes.is_empty()));
    assert!(
        history_view(id, &BoardState::default(), &board.state, Viewer::Observer).is_none(),
        "before the board existed"
    );
}

#[test]
fn the_atom_feed_holds_the_public_items_in_the_boards_language() {
    let mut board = Board::new();
    board
        .run(ALICE, add_card(card(1), IDEAS, "Kyläkoulu"))
        .run(BOB, add_comment(comment(1), card(1), "Hyvä & tärkeä <idea>"))
        .anonymous_session(session(1))
        .run(ALICE, add_card(card(2), IDEAS, "Salainen"))
        .run(FACILITATOR, Command::SetPhase { session: session(1), phase: Phase::Vote })
        .run(
            FACILITATOR,
            Command::StartVoteRound { settings: BoardSettings { vote_budget: 5, votes_per_card: 3 }, hidden: true },
        )
        .run(ALICE, vote(card(1)))
        .run(ALICE, Command::FollowCard { card: card(1), follow: true });
    let links = FeedLinks { observer: "http://kipina.test/join/b/o/s".into(), feed: "http://kipina.test/feed".into() };
    let id = BoardId::from_uuid(uuid::Uuid::nil());
    let xml = atom(id, &board.projection, &links).expect("a feed");
    let feed = atom_syndication::Feed::read_from(&xml[..]).expect("the feed parses");
    assert_eq!(feed.title.value, "Leaderin kulmakivet");
    assert_eq!(feed.lang.as_deref(), Some("fi"));
    let titles: Vec<&str> = feed.entries.iter().map(|entry| entry.title.value.as_str()).collect();
    assert_eq!(
        titles[0], "Fanni Fasilitaattori aloitti äänestyskierroksen 2 (äänet piilossa)",
        "no hidden dot: {titles:?}"
    );
    assert!(titles.contains(&"Nimetön lisäsi kortin «Salainen» sarakkeeseen «Ideat»"), "{titles:?}");
    assert!(titles.contains(&"Eero Mäkelä kommentoi korttia «Kyläkoulu»"), "{titles:?}");
    let comment_entry = feed.entries.iter().find(|entry| entry.title.value.contains("kommentoi")).expect("the comment");
    assert_eq!(comment_entry.summary.as_ref().map(|text| text.value.as_str()), Some("Hyvä & tärkeä <idea>"));
    assert_eq!(comment_entry.links[0].href, links.observer);
    let secret = feed.entries.iter().find(|entry| entry.title.value.contains("Salainen")).expect("the anonymous card");
    assert_eq!(secret.authors[0].name, "Nimetön");
    assert_eq!(feed.entries.len(), board.all(Viewer::Observer).len().min(super::feed::FEED_ENTRIES));
}
