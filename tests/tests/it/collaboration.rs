//! Two participants on one board: what one does reaches the other as `changed` with the new
//! views, and the board's rules (text versions, the dot budget and the per-card cap) hold.

use kipina_proto::ErrorCode;
use kipina_proto::view::VoteView;
use kipina_proto::{AckOutcome, BoardSettings, CardId, Command, ReactionTarget, ServerMessage};
use kipina_tests::{
    TestServer, Workshop, WsClient, add_card, add_column, card_in, column_in, new_comment_id, participant_in,
};

/// A workshop with two participants, Aino and Eero, both connected.
struct Pair {
    workshop: Workshop,
    aino: WsClient,
    eero: WsClient,
    eero_token: String,
    aino_token: String,
}

impl Pair {
    async fn open(server: &TestServer) -> Self {
        let workshop = Workshop::open(server).await;
        let aino_session = workshop.participant(server, "Aino").await;
        let eero_session = workshop.participant(server, "Eero").await;
        let aino = WsClient::connect_and_settle(server, workshop.board, &aino_session.token, None).await;
        let eero = WsClient::connect_and_settle(server, workshop.board, &eero_session.token, None).await;
        assert_eq!(aino.you, Some(aino_session.participant));
        assert_eq!(eero.you, Some(eero_session.participant));
        Self { workshop, aino, eero, eero_token: eero_session.token, aino_token: aino_session.token }
    }

    /// Aino adds a card to the workshop's column, and Eero has seen it.
    async fn card_by_aino(&mut self, title: &str) -> CardId {
        let (card, command) = add_card(self.workshop.column, title);
        self.aino.applied(command).await;
        self.eero.expect_card(card).await;
        card
    }
}

#[tokio::test]
async fn a_card_added_by_one_participant_reaches_the_other_with_its_view() {
    let server = TestServer::start().await;
    let mut pair = Pair::open(&server).await;
    let aino = pair.aino.you.expect("Aino joined");
    let card = kipina_tests::new_card_id();
    let command = Command::AddCard {
        card,
        column: pair.workshop.column,
        title: "Kyläkoulun kerhotila".into(),
        body: "Iltaisin nuorille".into(),
    };

    let (first_seq, last_seq) = pair.aino.applied(command).await;
    let (message, view) = pair.eero.expect_card(card).await;

    assert!(
        matches!(message, ServerMessage::Changed { first_seq: f, last_seq: l, .. } if f == first_seq && l == last_seq)
    );
    assert_eq!(view.column, pair.workshop.column);
    assert_eq!(view.title.as_deref(), Some("Kyläkoulun kerhotila"));
    assert_eq!(view.body.as_deref(), Some("Iltaisin nuorille"));
    assert_eq!(view.author, Some(aino));
    assert_eq!(view.text_version, 1);
    assert_eq!(view.vote_total, Some(0));
    assert!(!view.archived);
    // The column's list is not sent whole: only where the new card went.
    assert!(column_in(&message, pair.workshop.column).is_none(), "the whole column was sent");
    let places = kipina_tests::changes(&message).iter().find_map(|change| match change {
        kipina_proto::Change::CardsInserted(inserted) if inserted.column == pair.workshop.column => {
            Some(&inserted.cards)
        }
        _ => None,
    });
    assert_eq!(places, Some(&vec![kipina_proto::CardPlace { index: 0, card }]));
}

#[tokio::test]
async fn comments_and_replies_reach_the_other_participant() {
    let server = TestServer::start().await;
    let mut pair = Pair::open(&server).await;
    let card = pair.card_by_aino("Kirjaston aukioloajat").await;
    let eero = pair.eero.you.expect("Eero joined");
    let aino = pair.aino.you.expect("Aino joined");

    let comment = new_comment_id();
    pair.eero.applied(Command::AddComment { comment, card, reply_to: None, body: "Hyvä idea!".into() }).await;
    let (message, view) = pair.aino.expect_comment(comment).await;
    assert_eq!(view.card, card);
    assert_eq!(view.author, Some(eero));
    assert_eq!(view.body.as_deref(), Some("Hyvä idea!"));
    assert_eq!(view.reply_to, None);
    assert!(!view.deleted);
    let card_view = card_in(&message, card).expect("the card's comment list changed in the same message");
    assert_eq!(card_view.comments, vec![comment]);

    let reply = new_comment_id();
    pair.aino
        .applied(Command::AddComment { comment: reply, card, reply_to: Some(comment), body: "Kiitos".into() })
        .await;
    let (message, view) = pair.eero.expect_comment(reply).await;
    assert_eq!(view.reply_to, Some(comment));
    assert_eq!(view.author, Some(aino));
    assert_eq!(view.body.as_deref(), Some("Kiitos"));
    let card_view = card_in(&message, card).expect("the card's comment list changed in the same message");
    assert_eq!(card_view.comments, vec![comment, reply]);
}

#[tokio::test]
async fn a_vote_updates_the_card_total_and_the_voters_dots_used() {
    let server = TestServer::start().await;
    let mut pair = Pair::open(&server).await;
    let card = pair.card_by_aino("Yhteinen sauna").await;
    let eero = pair.eero.you.expect("Eero joined");
    // The voter learns their dots used in the same message as the card; nobody else does.
    let eeros_count = |client: &WsClient| {
        client.log.iter().rev().find_map(|message| participant_in(message, eero)).map(|view| view.votes_used)
    };

    pair.eero.applied(Command::CastVote { card }).await;
    let (message, view) = pair.aino.expect_card(card).await;
    assert_eq!(view.vote_total, Some(1));
    assert_eq!(view.votes, vec![VoteView { participant: eero, dots: 1 }]);
    assert_eq!(participant_in(&message, eero), None, "how many dots Eero used is his to know");
    assert_eq!(eeros_count(&pair.eero), Some(Some(1)));

    pair.eero.applied(Command::CastVote { card }).await;
    let (message, view) = pair.aino.expect_card(card).await;
    assert_eq!(view.vote_total, Some(2));
    assert_eq!(view.votes, vec![VoteView { participant: eero, dots: 2 }]);
    assert_eq!(participant_in(&message, eero), None);
    assert_eq!(eeros_count(&pair.eero), Some(Some(2)));

    pair.eero.applied(Command::WithdrawVote { card }).await;
    let (_, view) = pair.aino.expect_card(card).await;
    assert_eq!(view.vote_total, Some(1));
    assert_eq!(eeros_count(&pair.eero), Some(Some(1)));
}

#[tokio::test]
async fn reactions_on_cards_and_comments_reach_the_other_participant() {
    let server = TestServer::start().await;
    let mut pair = Pair::open(&server).await;
    let card = pair.card_by_aino("Pyöräkorjaamo").await;
    let eero = pair.eero.you.expect("Eero joined");

    pair.eero.applied(Command::ToggleReaction { target: ReactionTarget::Card(card) }).await;
    let (_, view) = pair.aino.expect_card(card).await;
    assert_eq!(view.likes, vec![eero]);
    assert_eq!(view.vote_total, Some(0), "a like is not a dot");

    let comment = new_comment_id();
    pair.aino.applied(Command::AddComment { comment, card, reply_to: None, body: "Talkoilla".into() }).await;
    pair.eero.expect_comment(comment).await;
    pair.eero.applied(Command::ToggleReaction { target: ReactionTarget::Comment(comment) }).await;
    let (_, view) = pair.aino.expect_comment(comment).await;
    assert_eq!(view.likes, vec![eero]);

    pair.eero.applied(Command::ToggleReaction { target: ReactionTarget::Card(card) }).await;
    let (_, view) = pair.aino.expect_card(card).await;
    assert!(view.likes.is_empty(), "toggling again takes the like back: {view:?}");
}

#[tokio::test]
async fn a_moved_card_arrives_in_its_new_column_and_place() {
    let server = TestServer::start().await;
    let mut pair = Pair::open(&server).await;
    let (second_column, command) = add_column("Valitut");
    let facilitator_token = pair.workshop.facilitator.token.clone();
    server.http_applied(pair.workshop.board, &facilitator_token, &command).await;
    let first = pair.card_by_aino("Ensimmäinen").await;
    let second = pair.card_by_aino("Toinen").await;

    pair.aino.applied(Command::MoveCard { card: first, column: second_column, to_index: 0 }).await;
    let (message, view) = pair.eero.expect_card(first).await;
    assert_eq!(view.column, second_column);
    assert_eq!(column_in(&message, pair.workshop.column).map(|column| column.cards.clone()), Some(vec![second]));
    assert_eq!(column_in(&message, second_column).map(|column| column.cards.clone()), Some(vec![first]));

    // Within one column: the second card goes above the first.
    pair.aino.applied(Command::MoveCard { card: second, column: second_column, to_index: 0 }).await;
    let message =
        pair.eero.expect(|message| column_in(message, second_column).is_some_and(|c| c.cards.len() == 2)).await;
    assert_eq!(column_in(&message, second_column).map(|column| column.cards.clone()), Some(vec![second, first]));

    // Moving a card where it already is changes nothing.
    let command_id =
        pair.aino.send_command(Command::MoveCard { card: second, column: second_column, to_index: 0 }).await;
    assert_eq!(pair.aino.expect_ack(command_id).await, AckOutcome::Unchanged);
}

#[tokio::test]
async fn an_edit_reaches_the_other_and_a_stale_edit_is_refused_with_stale_version() {
    let server = TestServer::start().await;
    let mut pair = Pair::open(&server).await;
    let card = pair.card_by_aino("Luonnos").await;

    pair.aino
        .applied(Command::EditCard { card, title: "Valmis".into(), body: "Tarkennettu".into(), base_version: 1 })
        .await;
    let (_, view) = pair.eero.expect_card(card).await;
    assert_eq!(view.title.as_deref(), Some("Valmis"));
    assert_eq!(view.body.as_deref(), Some("Tarkennettu"));
    assert_eq!(view.text_version, 2);

    let code = pair
        .aino
        .refused(Command::EditCard { card, title: "Vanhasta".into(), body: String::new(), base_version: 1 })
        .await;
    assert_eq!(code, ErrorCode::StaleVersion);

    // The refused edit changed nothing: the next edit from version 2 is applied as version 3.
    pair.aino.applied(Command::EditCard { card, title: "Kolmas".into(), body: String::new(), base_version: 2 }).await;
    let (_, view) = pair.eero.expect_card(card).await;
    assert_eq!(view.title.as_deref(), Some("Kolmas"));
    assert_eq!(view.text_version, 3);
}

#[tokio::test]
async fn of_two_edits_from_the_same_version_exactly_one_is_applied() {
    let server = TestServer::start().await;
    let mut pair = Pair::open(&server).await;
    let card = pair.card_by_aino("Kiistanalainen").await;
    let facilitator_token = pair.workshop.facilitator.token.clone();
    let mut facilitator = WsClient::connect_and_settle(&server, pair.workshop.board, &facilitator_token, None).await;

    // Both are sent before either is answered; the board decides one after the other.
    let from_aino = pair
        .aino
        .send_command(Command::EditCard { card, title: "Ainon".into(), body: String::new(), base_version: 1 })
        .await;
    let from_facilitator = facilitator
        .send_command(Command::EditCard { card, title: "Fasilitaattorin".into(), body: String::new(), base_version: 1 })
        .await;
    let outcomes = [pair.aino.outcome(from_aino).await, facilitator.outcome(from_facilitator).await];

    let applied = outcomes.iter().filter(|outcome| matches!(outcome, Ok(AckOutcome::Applied { .. }))).count();
    let stale =
        outcomes.iter().filter(|outcome| matches!(outcome, Err(code) if *code == ErrorCode::StaleVersion)).count();
    assert_eq!((applied, stale), (1, 1), "{outcomes:?}");
    let view = server.board(pair.workshop.board, &facilitator_token).await;
    let card_view = view.cards.iter().find(|view| view.id == card).expect("the card is on the board");
    assert_eq!(card_view.text_version, 2);
}

#[tokio::test]
async fn the_vote_cap_per_card_and_the_vote_budget_are_enforced() {
    let server = TestServer::start().await;
    let mut pair = Pair::open(&server).await;
    let first = pair.card_by_aino("Ensimmäinen").await;
    let second = pair.card_by_aino("Toinen").await;
    let third = pair.card_by_aino("Kolmas").await;

    let view = server.board(pair.workshop.board, &pair.workshop.facilitator.token).await;
    assert_eq!(view.info.settings, BoardSettings { vote_budget: 5, votes_per_card: 3 }, "the default settings");

    for _ in 0..3 {
        pair.eero.applied(Command::CastVote { card: first }).await;
    }
    assert_eq!(pair.eero.refused(Command::CastVote { card: first }).await, ErrorCode::VoteCapReached);

    for _ in 0..2 {
        pair.eero.applied(Command::CastVote { card: second }).await;
    }
    assert_eq!(pair.eero.refused(Command::CastVote { card: third }).await, ErrorCode::VoteBudgetExhausted);
    assert_eq!(pair.eero.refused(Command::CastVote { card: second }).await, ErrorCode::VoteBudgetExhausted);

    // Aino's budget is her own.
    pair.aino.applied(Command::CastVote { card: third }).await;

    let eero = pair.eero.you.expect("Eero joined");
    let view = server.board(pair.workshop.board, &pair.workshop.facilitator.token).await;
    let votes_used = view.participants.iter().find(|participant| participant.id == eero).map(|p| p.votes_used);
    assert_eq!(votes_used, Some(None), "the facilitator is not told how many dots Eero used");
    let eeros_token = &pair.eero_token;
    let own = server.board(pair.workshop.board, eeros_token).await;
    let votes_used = own.participants.iter().find(|participant| participant.id == eero).map(|p| p.votes_used);
    assert_eq!(votes_used, Some(Some(5)));
    let totals: Vec<Option<u32>> = [first, second, third]
        .iter()
        .map(|card| view.cards.iter().find(|view| view.id == *card).expect("the card is on the board").vote_total)
        .collect();
    assert_eq!(totals, vec![Some(3), Some(2), Some(1)]);
}

#[tokio::test]
async fn a_participant_joining_reaches_those_already_connected() {
    let server = TestServer::start().await;
    let mut pair = Pair::open(&server).await;
    let helmi = pair.workshop.participant(&server, "Helmi").await;
    let message = pair.aino.expect(|message| participant_in(message, helmi.participant).is_some()).await;
    let view = participant_in(&message, helmi.participant).expect("matched");
    assert_eq!(view.display_name.as_deref(), Some("Helmi"));
    assert_eq!(view.role, kipina_proto::Role::Participant);
    assert_eq!(view.votes_used, None, "Helmi's dots are hers to know");
    assert!(!view.erased);
}

#[tokio::test]
async fn an_erased_participants_words_disappear_for_everyone() {
    let server = TestServer::start().await;
    let mut pair = Pair::open(&server).await;
    let aino = pair.aino.you.expect("Aino joined");
    let card = pair.card_by_aino("Ainon idea").await;
    let comment = new_comment_id();
    pair.aino.applied(Command::AddComment { comment, card, reply_to: None, body: "Ainon kommentti".into() }).await;
    pair.eero.expect_comment(comment).await;
    pair.eero.applied(Command::CastVote { card }).await;

    // Aino's own connection is closed at once (4001): she hears nothing more, not even the ack.
    pair.aino.send_command(Command::EraseParticipant { participant: aino }).await;
    let message = pair.eero.expect(|message| participant_in(message, aino).is_some_and(|view| view.erased)).await;
    let view = participant_in(&message, aino).expect("matched");
    assert_eq!(view.display_name, None);
    let card_view = card_in(&message, card).expect("the erased author's card is resent in the same changed");
    assert_eq!((card_view.title.as_deref(), card_view.body.as_deref()), (None, None));
    assert_eq!(card_view.vote_total, Some(1), "others' votes on it stay");
    let comment_view = kipina_tests::comment_in(&message, comment).expect("and the comment");
    assert_eq!(comment_view.body, None);

    let board = server.board(pair.workshop.board, &pair.workshop.facilitator.token).await;
    let stored = board.cards.iter().find(|view| view.id == card).expect("the card keeps its place");
    assert_eq!(stored.title, None);
    assert!(!serde_json::to_string(&board).expect("serialises").contains("Ainon"), "no trace of Aino's words");

    let ServerMessage::Changed { first_seq: erased_at, .. } = message else { unreachable!("a changed matched") };
    let closed = loop {
        match pair.aino.receive().await {
            kipina_tests::Received::Message(ServerMessage::Changed { last_seq, .. }) if last_seq >= erased_at => {
                panic!("Aino heard a change after her erasure")
            }
            kipina_tests::Received::Message(_) => continue,
            other => break other,
        }
    };
    assert!(
        matches!(&closed, kipina_tests::Received::Closed(Some(frame)) if u16::from(frame.code) == 4001),
        "{closed:?}"
    );
    let refused = server
        .http_command(
            pair.workshop.board,
            Some(&pair.aino_token),
            kipina_tests::new_command_id(),
            &add_card(pair.workshop.column, "Vielä").1,
        )
        .await;
    assert_eq!(refused.expect_err("refused").1.code, ErrorCode::ParticipantErased);
}
