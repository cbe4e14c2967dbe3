//! Who a browser is when it comes back, and taking a duplicate off the board (issue 15).
//!
//! A browser that joined with the join code, went home and entered the same code again used to
//! become a second participant with a fresh budget of dots. Now it sends the tokens it holds,
//! and the server answers with the same participant. A facilitator can remove a duplicate made
//! before that; its dots go back, live.

use kipina_proto::ErrorCode;
use kipina_proto::api::JoinRequest;
use kipina_proto::view::VotingProgress;
use kipina_proto::{BoardSettings, Change, Command, Role, ServerMessage};
use kipina_tests::{BoardMirror, TestServer, Workshop, WsClient, add_card, card_in, changes, new_command_id};

fn round(budget: u32, cap: u32) -> Command {
    Command::StartVoteRound { settings: BoardSettings { vote_budget: budget, votes_per_card: cap }, hidden: false }
}

fn request(invitation: &str, name: &str, known_tokens: Vec<String>) -> JoinRequest {
    JoinRequest { invitation: invitation.into(), display_name: name.into(), known_tokens }
}

/// The board's voting counts in a `changed` message, if it carries the board.
fn voting_in(message: &ServerMessage) -> Option<VotingProgress> {
    changes(message).iter().find_map(|change| match change {
        Change::Board(info) => Some(info.voting),
        _ => None,
    })
}

#[tokio::test]
async fn coming_back_with_the_join_code_and_the_held_token_is_the_same_participant() {
    let server = TestServer::start().await;
    let workshop = Workshop::open(&server).await;
    let other = server.create_board("Toinen").await;
    let facilitator = &workshop.facilitator.token;
    server.http_applied(workshop.board, facilitator, &round(2, 2)).await;
    let (card, command) = add_card(workshop.column, "Kyläkoulu");
    server.http_applied(workshop.board, facilitator, &command).await;
    let code = workshop.links.join_code.clone();

    let (status, aino) = server.try_join_with(&request(&code, "Aino", vec![])).await.expect("Aino joins");
    assert_eq!(status, 201);
    for _ in 0..2 {
        server.http_applied(workshop.board, &aino.token, &Command::CastVote { card }).await;
    }

    // Home, then the same code and name again; the browser holds a token of another board too.
    let known = vec!["kp_not-a-token".to_owned(), other.session.token.clone(), aino.token.clone()];
    let (status, again) =
        server.try_join_with(&request(&code, "Aino", known)).await.expect("joining again is answered");
    assert_eq!(status, 200, "a returning participant is not created");
    assert_eq!(again, aino, "the same participant, with the same token");

    let view = server.board(workshop.board, &aino.token).await;
    assert_eq!(view.participants.len(), 2, "the facilitator and Aino, nobody else: {:?}", view.participants);
    let me = view.participants.iter().find(|found| found.id == aino.participant).expect("Aino is listed");
    assert_eq!(me.votes_used, Some(2), "the dots stay used");
    let voted = view.cards.iter().find(|found| found.id == card).expect("the card");
    assert_eq!(voted.vote_total, Some(2));
    let refused = server
        .http_command(workshop.board, Some(&again.token), new_command_id(), &Command::CastVote { card })
        .await
        .expect_err("no dots are left");
    assert_eq!(refused.1.code, ErrorCode::VoteBudgetExhausted);

    // The same through the participant link, and a token that belongs elsewhere is no pass.
    let (status, by_link) = server
        .try_join_with(&request(&workshop.links.participant, "Aino", vec![aino.token.clone()]))
        .await
        .expect("joining by link is answered");
    assert_eq!((status, by_link.participant), (200, aino.participant));
    let (status, stranger) =
        server.try_join_with(&request(&code, "Eero", vec![other.session.token.clone()])).await.expect("Eero joins");
    assert_eq!(status, 201);
    assert_ne!(stranger.participant, aino.participant);
    assert_eq!(stranger.role, Role::Participant);
}

#[tokio::test]
async fn a_facilitator_removes_a_duplicate_whose_dots_go_back_live() {
    let server = TestServer::start().await;
    let workshop = Workshop::open(&server).await;
    let board = workshop.board;
    let facilitator = workshop.facilitator.token.clone();
    server.http_applied(board, &facilitator, &round(3, 2)).await;
    let (card, command) = add_card(workshop.column, "Kyläkoulu");
    server.http_applied(board, &facilitator, &command).await;
    let aino = workshop.participant(&server, "Aino").await;
    let duplicate = workshop.participant(&server, "Aino").await;
    server.http_applied(board, &aino.token, &Command::CastVote { card }).await;
    server.http_applied(board, &duplicate.token, &Command::CastVote { card }).await;
    let (_, seq) = server.http_applied(board, &duplicate.token, &Command::CastVote { card }).await;

    let before = server.board(board, &facilitator).await;
    assert_eq!(before.info.voting, VotingProgress { voted: 2, voters: 3 }, "Aino and her duplicate have voted");
    let mut watching = WsClient::connect_and_settle(&server, board, &facilitator, Some(seq)).await;
    let mut duplicate_tab = WsClient::connect_and_settle(&server, board, &duplicate.token, Some(seq)).await;

    // Only a facilitator removes, and never the last one.
    let refused = server
        .http_command(
            board,
            Some(&aino.token),
            new_command_id(),
            &Command::RemoveParticipant { participant: duplicate.participant },
        )
        .await
        .expect_err("a participant may not remove anyone");
    assert_eq!(refused.1.code, ErrorCode::Forbidden);
    let refused = server
        .http_command(
            board,
            Some(&facilitator),
            new_command_id(),
            &Command::RemoveParticipant { participant: workshop.facilitator.participant },
        )
        .await
        .expect_err("the last facilitator stays");
    assert_eq!(refused.1.code, ErrorCode::LastFacilitator);

    let (_, removed_at) = server
        .http_applied(board, &facilitator, &Command::RemoveParticipant { participant: duplicate.participant })
        .await;
    let change = watching.expect_changed_through(removed_at).await;
    let shown = changes(&change).iter().find_map(|found| match found {
        Change::Participant(view) if view.id == duplicate.participant => Some(view.clone()),
        _ => None,
    });
    assert!(shown.is_some_and(|view| view.removed), "the facilitator sees the duplicate removed: {change:?}");
    assert_eq!(card_in(&change, card).map(|view| view.vote_total), Some(Some(1)), "the duplicate's two dots went back");
    assert_eq!(voting_in(&change), Some(VotingProgress { voted: 1, voters: 2 }));

    // The duplicate's open page is told and let go at once, before the removal goes out.
    let (heard, close) = duplicate_tab.until_closed().await;
    assert_eq!(u16::from(close.code), 4001, "closed as unauthorized");
    assert!(
        heard.iter().all(|message| !matches!(message, ServerMessage::Changed { .. })),
        "the removed participant heard changes after the removal: {heard:#?}"
    );
    assert!(
        heard.iter().any(
            |message| matches!(message, ServerMessage::Error { code, .. } if *code == ErrorCode::ParticipantRemoved)
        ),
        "told why: {heard:#?}"
    );

    // The duplicate can no longer act, and its token no longer brings it back.
    let refused = server
        .http_command(board, Some(&duplicate.token), new_command_id(), &Command::CastVote { card })
        .await
        .expect_err("a removed participant cannot vote");
    assert_eq!((refused.0, refused.1.code.as_str()), (403, "participant_removed"));
    let read = server
        .http()
        .get(format!("{}/api/boards/{board}", server.base_url()))
        .bearer_auth(&duplicate.token)
        .send()
        .await
        .expect("GET /api/boards/{board} is answered");
    assert_eq!(read.status().as_u16(), 401, "a removed participant no longer reads the board");
    let (status, back) = server
        .try_join_with(&request(&workshop.links.join_code, "Aino", vec![duplicate.token.clone()]))
        .await
        .expect("joining again is answered");
    assert_eq!(status, 201, "a removed participant's token does not bring them back");
    assert_ne!(back.participant, duplicate.participant);
    let again = server
        .http_command(
            board,
            Some(&facilitator),
            new_command_id(),
            &Command::RemoveParticipant { participant: duplicate.participant },
        )
        .await
        .expect("removing twice is answered");
    assert!(matches!(again.outcome, kipina_proto::AckOutcome::Unchanged), "already removed: {again:?}");
}

#[tokio::test]
async fn everyone_is_told_how_many_have_voted_in_a_hidden_round_but_not_who() {
    let server = TestServer::start().await;
    let workshop = Workshop::open(&server).await;
    let board = workshop.board;
    let facilitator = workshop.facilitator.token.clone();
    let hidden =
        Command::StartVoteRound { settings: BoardSettings { vote_budget: 3, votes_per_card: 2 }, hidden: true };
    let (card, command) = add_card(workshop.column, "Kyläkoulu");
    server.http_applied(board, &facilitator, &command).await;
    let aino = workshop.participant(&server, "Aino").await;
    let eero = workshop.participant(&server, "Eero").await;
    let (_, seq) = server.http_applied(board, &facilitator, &hidden).await;
    let observer_token = kipina_tests::link_part(&workshop.links.observer).to_owned();
    let mut observer = WsClient::connect_and_settle(&server, board, &observer_token, Some(seq)).await;

    let (_, first) = server.http_applied(board, &aino.token, &Command::CastVote { card }).await;
    let change = observer.expect_changed_through(first).await;
    assert_eq!(voting_in(&change), Some(VotingProgress { voted: 1, voters: 3 }));
    let text = serde_json::to_string(&change).expect("JSON");
    assert!(!text.contains(&aino.participant.to_string()), "the count never names the voter: {text}");
    assert!(card_in(&change, card).is_none(), "nor which card got the dot");

    // A second dot of the same voter changes no count, so the board is not sent again.
    let (_, second) = server.http_applied(board, &aino.token, &Command::CastVote { card }).await;
    let change = observer.expect_changed_through(second).await;
    assert_eq!(voting_in(&change), None);
    let (_, third) = server.http_applied(board, &eero.token, &Command::CastVote { card }).await;
    let change = observer.expect_changed_through(third).await;
    assert_eq!(voting_in(&change), Some(VotingProgress { voted: 2, voters: 3 }));
}

#[tokio::test]
async fn a_page_that_resumes_after_someones_first_dots_has_the_voting_counts() {
    // A catch-up renders many changes from the board as it is now; whether a dot was someone's
    // first is no longer known there, and the counts must still arrive (the reconnect storm
    // found them stale).
    let server = TestServer::start().await;
    let workshop = Workshop::open(&server).await;
    let board = workshop.board;
    let facilitator = workshop.facilitator.token.clone();
    server.http_applied(board, &facilitator, &round(3, 3)).await;
    let (card, command) = add_card(workshop.column, "Kyläkoulu");
    let (_, seen) = server.http_applied(board, &facilitator, &command).await;
    let aino = workshop.participant(&server, "Aino").await;
    let before = server.board(board, &facilitator).await;
    let mut mirror = Some(BoardMirror::of(&before));

    server.http_applied(board, &aino.token, &Command::CastVote { card }).await;
    let (_, head) = server.http_applied(board, &aino.token, &Command::CastVote { card }).await;
    assert!(head > seen);

    let mut resumed = WsClient::connect(&server, board, &facilitator, Some(before.seq)).await;
    while mirror.as_ref().is_some_and(|mirror| mirror.seq < head) {
        let message = resumed.next().await;
        kipina_tests::follow(&mut mirror, &message);
    }
    let fresh = BoardMirror::of(&server.board(board, &facilitator).await);
    assert_eq!(fresh.info.voting.voted, 1, "Aino has voted");
    assert!(mirror.as_ref() == Some(&fresh), "{}", kipina_tests::difference(&mirror, &Some(fresh.clone())));
}
