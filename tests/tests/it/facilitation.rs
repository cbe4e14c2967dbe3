//! Running a workshop over the real protocol: what each browser is sent while votes are hidden
//! or cards are anonymous (read from the raw WebSocket frames), phase and lock refusals with
//! their codes, the server-decided countdown, and the join QR code.

use kipina_proto::ErrorCode;
use kipina_proto::{BoardSettings, Change, Command, ParticipantId, Phase, ServerMessage, SessionId, Timestamp};
use kipina_tests::{TestServer, Workshop, WsClient, add_card, card_in, changes, new_comment_id};

/// A workshop with Aino and Eero connected, and the facilitator's own connection.
struct Room {
    workshop: Workshop,
    facilitator: WsClient,
    aino: WsClient,
    eero: WsClient,
    aino_token: String,
    eero_token: String,
}

impl Room {
    async fn open(server: &TestServer) -> Self {
        let workshop = Workshop::open(server).await;
        let aino = workshop.participant(server, "Aino Ääkkönen").await;
        let eero = workshop.participant(server, "Eero Mäkelä").await;
        let board = workshop.board;
        Self {
            facilitator: WsClient::connect_and_settle(server, board, &workshop.facilitator.token, None).await,
            aino: WsClient::connect_and_settle(server, board, &aino.token, None).await,
            eero: WsClient::connect_and_settle(server, board, &eero.token, None).await,
            aino_token: aino.token,
            eero_token: eero.token,
            workshop,
        }
    }

    fn aino_id(&self) -> ParticipantId {
        self.aino.you.expect("Aino joined")
    }

    /// Runs a facilitator's command over HTTP; returns its last sequence number.
    async fn facilitate(&self, server: &TestServer, command: Command) -> u64 {
        server.http_applied(self.workshop.board, &self.workshop.facilitator.token, &command).await.1
    }

    /// Plans the spring camp's session and starts it (its ideate phase); returns its id.
    async fn start_session(&self, server: &TestServer) -> SessionId {
        let session = SessionId(uuid::Uuid::now_v7());
        self.facilitate(
            server,
            Command::CreateSession { session, name: "Kevätleiri".into(), date: "2026-06-12".into(), anonymous: false },
        )
        .await;
        self.facilitate(server, Command::StartSession { session }).await;
        session
    }

    /// Waits until every connection has seen everything up to `seq`.
    async fn settle(&mut self, seq: u64) {
        for client in [&mut self.facilitator, &mut self.aino, &mut self.eero] {
            client.seen_through(seq).await;
        }
    }
}

fn hidden_round() -> Command {
    Command::StartVoteRound { settings: BoardSettings { vote_budget: 3, votes_per_card: 2 }, hidden: true }
}

/// The frames that mention `id` as a voter (`{"participant": id, ...}` is how a dot is sent).
fn dots_of(raw: &[String], id: ParticipantId) -> Vec<&String> {
    let needle = format!("\"participant\":\"{id}\"");
    raw.iter().filter(|frame| frame.contains(&needle)).collect()
}

/// The frames that name `id` as an author.
fn authored_by(raw: &[String], id: ParticipantId) -> Vec<&String> {
    let needle = format!("\"author\":\"{id}\"");
    raw.iter().filter(|frame| frame.contains(&needle)).collect()
}

#[tokio::test]
async fn no_browser_receives_anothers_hidden_dots_before_the_reveal() {
    let server = TestServer::start().await;
    let mut room = Room::open(&server).await;
    let (card, command) = add_card(room.workshop.column, "Kyläkoulun kerhotila");
    room.aino.applied(command).await;
    let round_seq = room.facilitate(&server, hidden_round()).await;
    room.settle(round_seq).await;
    let aino = room.aino_id();
    let eero = room.eero.you.expect("Eero joined");
    let before_votes = room.eero.raw.len();

    let (ainos_first, _) = room.aino.applied(Command::CastVote { card }).await;
    room.aino.applied(Command::CastVote { card }).await;
    let (_, head) = room.eero.applied(Command::CastVote { card }).await;
    room.settle(head).await;

    // Eero and the facilitator were told that something happened, and nothing more.
    for client in [&room.eero, &room.facilitator] {
        assert!(dots_of(&client.raw, aino).is_empty(), "Aino's dots reached another browser");
        let covering = client
            .log
            .iter()
            .find(|message| matches!(message, ServerMessage::Changed { first_seq, .. } if *first_seq == ainos_first));
        // Only how many have used dots (Aino's first dot made it one): no card, no voter.
        let told = covering.map(changes).expect("the sequence is covered");
        assert!(
            matches!(told, [kipina_proto::Change::Board(info)] if info.voting.voted == 1),
            "the sequence is covered with the count of voters and no other view: {told:?}"
        );
    }
    for frame in &room.eero.raw[before_votes..] {
        assert!(!frame.contains("\"vote_total\":3") && !frame.contains("\"vote_total\":1"), "a total leaked: {frame}");
    }
    // Eero sees his own dot and no total.
    let (_, own) = room
        .eero
        .log
        .iter()
        .rev()
        .find_map(|message| card_in(message, card).map(|view| (message, view)))
        .expect("Eero's own dot");
    assert_eq!((own.vote_total, own.votes.len(), own.votes[0].participant), (None, 1, eero));

    // Neither a fresh snapshot nor a resume from before the votes gives them away.
    let mut fresh = WsClient::connect(&server, room.workshop.board, &room.eero_token, None).await;
    fresh.seen_through(head).await;
    let mut resumed = WsClient::connect(&server, room.workshop.board, &room.eero_token, Some(round_seq)).await;
    resumed.seen_through(head).await;
    let view = server.board(room.workshop.board, &room.workshop.facilitator.token).await;
    assert!(dots_of(&fresh.raw, aino).is_empty() && dots_of(&resumed.raw, aino).is_empty());
    assert!(view.cards.iter().all(|card| card.vote_total.is_none() && card.votes.is_empty()));

    // The reveal shows everyone every dot at once.
    let revealed = room.facilitate(&server, Command::RevealVotes).await;
    room.settle(revealed).await;
    let (_, view) = room
        .eero
        .log
        .iter()
        .rev()
        .find_map(|message| card_in(message, card).map(|view| (message, view)))
        .expect("the revealed card");
    assert_eq!(view.vote_total, Some(3));
    assert_eq!(view.votes.iter().map(|vote| vote.dots).sum::<u32>(), 3);
    assert!(!dots_of(&room.eero.raw, aino).is_empty(), "after the reveal Aino's dots are shown");
    fresh.close().await;
    resumed.close().await;
}

#[tokio::test]
async fn no_browser_receives_the_author_of_an_anonymous_card_or_comment() {
    let server = TestServer::start().await;
    let mut room = Room::open(&server).await;
    let observer_secret = kipina_tests::link_part(&room.workshop.links.observer).to_owned();
    let mut observer = WsClient::connect_and_settle(&server, room.workshop.board, &observer_secret, None).await;
    let session = SessionId(uuid::Uuid::now_v7());
    room.facilitate(
        &server,
        Command::CreateSession {
            session, name: "Nimetön ideointi".into(), date: "2026-11-23".into(), anonymous: true
        },
    )
    .await;
    room.facilitate(&server, Command::StartSession { session }).await;

    let aino = room.aino_id();
    let (card, command) = add_card(room.workshop.column, "Rohkea idea");
    room.aino.applied(command).await;
    let comment = new_comment_id();
    room.aino.applied(Command::AddComment { comment, card, reply_to: None, body: "Ja perustelu".into() }).await;
    room.aino.applied(Command::ToggleReaction { target: kipina_proto::ReactionTarget::Card(card) }).await;
    room.facilitate(&server, Command::SetPhase { session, phase: Phase::Vote }).await;
    let (_, head) = room.aino.applied(Command::CastVote { card }).await;
    room.settle(head).await;
    observer.expect_changed_through(head).await;

    for (who, raw) in
        [("Eero", &room.eero.raw), ("the facilitator", &room.facilitator.raw), ("an observer", &observer.raw)]
    {
        assert!(authored_by(raw, aino).is_empty(), "{who} was told who wrote the anonymous card");
        assert!(dots_of(raw, aino).is_empty(), "{who} was told Aino voted on it");
    }
    assert!(!authored_by(&room.aino.raw, aino).is_empty(), "Aino's own browser knows the card is hers");

    // Over HTTP, and in a snapshot after the session, the card stays anonymous.
    room.facilitate(&server, Command::SetPhase { session, phase: Phase::Closed }).await;
    let view = server.board(room.workshop.board, &room.workshop.facilitator.token).await;
    let card_view = view.cards.iter().find(|view| view.id == card).expect("the card");
    assert_eq!((card_view.author, card_view.anonymous), (None, true));
    let eeros = WsClient::connect_and_settle(&server, room.workshop.board, &room.eero_token, None).await;
    assert!(authored_by(&eeros.raw, aino).is_empty());
    let ainos = server.board(room.workshop.board, &room.aino_token).await;
    assert_eq!(ainos.cards.iter().find(|view| view.id == card).and_then(|view| view.author), Some(aino));
    observer.close().await;
}

#[tokio::test]
async fn the_phase_and_the_lock_refuse_with_a_code_and_the_connection_goes_on() {
    let server = TestServer::start().await;
    let mut room = Room::open(&server).await;
    let (card, command) = add_card(room.workshop.column, "Ideointivaiheen kortti");
    room.aino.applied(command).await;
    let session = room.start_session(&server).await;
    let head = room.facilitate(&server, Command::SetPhase { session, phase: Phase::Discuss }).await;
    room.settle(head).await;

    // Every browser was told what the phase allows, per role.
    let info = room.aino.log.iter().rev().find_map(|message| {
        changes(message).iter().find_map(|change| match change {
            Change::Board(info) => Some(info.clone()),
            _ => None,
        })
    });
    let info = info.expect("the board's info changed with the phase");
    assert_eq!(info.phase, Some(Phase::Discuss));
    assert_eq!(info.gates.add_card.participant, Some(ErrorCode::PhaseForbids));

    let (_, command) = add_card(room.workshop.column, "Liian myöhään");
    assert_eq!(room.aino.refused(command).await, ErrorCode::PhaseForbids);
    assert_eq!(room.aino.refused(Command::CastVote { card }).await, ErrorCode::PhaseForbids);
    // The same connection goes on with what the phase allows.
    room.aino
        .applied(Command::AddComment { comment: new_comment_id(), card, reply_to: None, body: "Tarkennus".into() })
        .await;

    let head = room.facilitate(&server, Command::SetLocked { locked: true }).await;
    room.aino.expect_changed_through(head).await;
    let comment = Command::AddComment { comment: new_comment_id(), card, reply_to: None, body: "Lukittu?".into() };
    assert_eq!(room.aino.refused(comment.clone()).await, ErrorCode::BoardLocked);
    let refused = server
        .http_command(room.workshop.board, Some(&room.eero_token), kipina_tests::new_command_id(), &comment)
        .await;
    assert_eq!(
        refused.map_err(|(status, body)| (status, body.code)).err(),
        Some((423, ErrorCode::BoardLocked.to_owned()))
    );
    assert_eq!(room.aino.refused(Command::SetLocked { locked: false }).await, ErrorCode::Forbidden);
    room.facilitate(&server, Command::SetLocked { locked: false }).await;
    room.aino.applied(comment).await;
}

#[tokio::test]
async fn the_countdown_ends_when_the_server_says() {
    let server = TestServer::start().await;
    let mut room = Room::open(&server).await;
    let session = SessionId(uuid::Uuid::now_v7());
    room.facilitate(
        &server,
        Command::CreateSession { session, name: "Leiri".into(), date: "2026-06-12".into(), anonymous: false },
    )
    .await;
    room.facilitate(&server, Command::StartSession { session }).await;
    let welcome_time = room.eero.log.iter().find_map(|message| match message {
        ServerMessage::Welcome { server_time, .. } => Some(*server_time),
        _ => None,
    });
    let welcome_time = welcome_time.expect("a welcome");
    let head = room.facilitate(&server, Command::StartTimer { seconds: 300 }).await;
    room.settle(head).await;
    let ends_at = room.eero.log.iter().rev().find_map(|message| {
        changes(message).iter().find_map(|change| match change {
            Change::Board(info) => info.timer_ends_at,
            _ => None,
        })
    });
    let Some(Timestamp(ends_at)) = ends_at else { panic!("no countdown reached Eero") };
    // The end is five minutes after the command, on the server's clock (the welcome's time is
    // from a moment before it).
    let after_welcome = ends_at - welcome_time.millis();
    assert!((300_000..360_000).contains(&after_welcome), "ends {after_welcome} ms after the welcome");
    let head = room.facilitate(&server, Command::ExtendTimer { seconds: 60 }).await;
    room.settle(head).await;
    let extended = server.board(room.workshop.board, &room.eero_token).await.info.timer_ends_at;
    assert_eq!(extended, Some(Timestamp(ends_at + 60_000)));
}

/// Draws the QR code's SVG (the `M x y h w v h H x V y` squares the server's encoder writes) as
/// pixels and reads it with an independent decoder.
fn decode_qr(svg: &str) -> String {
    let number = |text: &str| text.trim().parse::<f64>().unwrap_or_else(|_| panic!("a number in the path: {text:?}"));
    let size =
        svg.split("viewBox=\"0 0 ").nth(1).and_then(|rest| rest.split(' ').next()).map(number).expect("a viewBox");
    let side = size as usize;
    let mut dark = vec![false; side * side];
    let path = svg.split(" d=\"").nth(1).and_then(|rest| rest.split('"').next()).expect("a path of modules");
    for square in path.split('M').filter(|square| !square.is_empty()) {
        let (origin, rest) = square.split_once('h').expect("M x y h…");
        let (x, y) = origin.split_once(' ').expect("x and y");
        let (width, rest) = rest.split_once('v').expect("h w v…");
        let height = rest.split('H').next().expect("v h H…");
        let (x, y, width, height) =
            (number(x) as usize, number(y) as usize, number(width) as usize, number(height) as usize);
        for row in y..(y + height).min(side) {
            for column in x..(x + width).min(side) {
                dark[row * side + column] = true;
            }
        }
    }
    let mut image =
        rqrr::PreparedImage::prepare_from_greyscale(side, side, |x, y| if dark[y * side + x] { 0 } else { 255 });
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the picture");
    grids[0].decode().expect("a readable QR code").1
}

#[tokio::test]
async fn the_join_qr_code_is_drawn_by_the_server_for_facilitators_only() {
    let server = TestServer::start().await;
    let workshop = Workshop::open(&server).await;
    let aino = workshop.participant(&server, "Aino").await;
    let url = |link: &str| format!("{}/api/boards/{}/qr.svg?link={link}", server.base_url(), workshop.board);

    let response =
        server.http().get(url("participant")).bearer_auth(&workshop.facilitator.token).send().await.expect("answered");
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers().get("content-type").and_then(|value| value.to_str().ok()), Some("image/svg+xml"));
    let svg = response.text().await.expect("a body");
    assert_eq!(decode_qr(&svg), workshop.links.participant);
    let observer =
        server.http().get(url("observer")).bearer_auth(&workshop.facilitator.token).send().await.expect("answered");
    assert_eq!(decode_qr(&observer.text().await.expect("a body")), workshop.links.observer);

    let refused = server.http().get(url("participant")).bearer_auth(&aino.token).send().await.expect("answered");
    assert_eq!(refused.status().as_u16(), 403);
    let anonymous = server.http().get(url("participant")).send().await.expect("answered");
    assert_eq!(anonymous.status().as_u16(), 401);
    let unknown =
        server.http().get(url("everyone")).bearer_auth(&workshop.facilitator.token).send().await.expect("answered");
    assert_eq!(unknown.status().as_u16(), 400);
    let body: serde_json::Value = unknown.json().await.expect("an error body");
    assert_eq!(body["code"], "malformed");
}

/// Closing a session ends its vote round: what the projector showed at the close is what the
/// board and every export say afterwards, and later dots are refused with a code.
#[tokio::test]
async fn closing_a_session_freezes_its_vote_round_for_the_results_and_the_exports() {
    let server = TestServer::start().await;
    let mut room = Room::open(&server).await;
    let (card, command) = add_card(room.workshop.column, "Yhteinen sauna");
    room.aino.applied(command).await;
    let (other, command) = add_card(room.workshop.column, "Kyläbussi");
    room.aino.applied(command).await;
    let session = room.start_session(&server).await;
    room.facilitate(&server, Command::SetPhase { session, phase: Phase::Vote }).await;
    room.aino.applied(Command::CastVote { card }).await;
    room.eero.applied(Command::CastVote { card }).await;
    let head = room.facilitate(&server, Command::SetPhase { session, phase: Phase::Closed }).await;
    room.settle(head).await;

    let board = server.board(room.workshop.board, &room.workshop.facilitator.token).await;
    let round = board.rounds.last().expect("the round");
    assert!(!round.current, "the round ended with the session");
    assert_eq!(
        round.results.iter().map(|result| (result.card, result.votes, result.place)).collect::<Vec<_>>(),
        vec![(card, 2, 1)]
    );
    assert_eq!(board.info.gates.vote.participant, Some(ErrorCode::VoteRoundEnded));
    let export = |format: &'static str| {
        let url = format!("{}/api/boards/{}/export?format={format}", server.base_url(), room.workshop.board);
        let token = room.workshop.facilitator.token.clone();
        let http = server.http().clone();
        async move { http.get(url).bearer_auth(token).send().await.expect("the export").text().await.expect("text") }
    };
    let before = export("md").await;
    assert!(before.contains("1\\. Yhteinen sauna — 2 ääntä"), "{before}");

    // After the close nobody changes the round: not a new dot, not taking one back.
    assert_eq!(room.eero.refused(Command::CastVote { card: other }).await, ErrorCode::VoteRoundEnded);
    assert_eq!(room.aino.refused(Command::WithdrawVote { card }).await, ErrorCode::VoteRoundEnded);
    assert_eq!(room.facilitator.refused(Command::CastVote { card: other }).await, ErrorCode::VoteRoundEnded);
    let refused = server
        .http_command(
            room.workshop.board,
            Some(&room.eero_token),
            kipina_tests::new_command_id(),
            &Command::CastVote { card: other },
        )
        .await;
    assert_eq!(
        refused.map_err(|(status, body)| (status, body.code)).err(),
        Some((409, ErrorCode::VoteRoundEnded.to_owned()))
    );
    let after = server.board(room.workshop.board, &room.workshop.facilitator.token).await;
    assert_eq!(after.rounds, board.rounds, "the results stay as they were shown");
    let exported = export("md").await;
    let rounds = |text: &str| text[text.find("## Äänestyskierrokset").expect("the rounds")..].to_owned();
    assert_eq!(rounds(&exported), rounds(&before), "the export still matches");
}
