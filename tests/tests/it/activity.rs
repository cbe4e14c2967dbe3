//! Between camps over real HTTP: the activity feed page by page, what an observer is told of
//! anonymous writing, the board as it was at the end of a session, the timeline, and the Atom
//! feed behind the observer link.

use kipina_proto::activity::{ActivityKind, ActivityPage, HistoryView, Timeline};
use kipina_proto::view::BoardView;
use kipina_proto::{BoardOptions, Command, Phase, SessionId};
use kipina_tests::{TestServer, Workshop, add_card, link_part};

/// `GET {path}` with an optional bearer token: the status and the body.
async fn get(server: &TestServer, path: &str, token: Option<&str>) -> (u16, String) {
    let mut request = server.http().get(format!("{}{path}", server.base_url()));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("answered");
    let status = response.status().as_u16();
    (status, response.text().await.expect("a body"))
}

async fn page(server: &TestServer, workshop: &Workshop, query: &str, token: &str) -> ActivityPage {
    let (status, body) = get(server, &format!("/api/boards/{}/activity?{query}", workshop.board), Some(token)).await;
    assert_eq!(status, 200, "{query}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|error| panic!("an ActivityPage ({error}): {body}"))
}

async fn history(server: &TestServer, workshop: &Workshop, seq: u64, token: &str) -> HistoryView {
    let (status, body) = get(server, &format!("/api/boards/{}/history?seq={seq}", workshop.board), Some(token)).await;
    assert_eq!(status, 200, "history at {seq}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|error| panic!("a HistoryView ({error}): {body}"))
}

fn titles(board: &BoardView) -> Vec<String> {
    let mut titles: Vec<String> = board.cards.iter().filter_map(|card| card.title.clone()).collect();
    titles.sort();
    titles
}

fn error_code(body: &str) -> String {
    let value: serde_json::Value = serde_json::from_str(body).unwrap_or_else(|error| panic!("{error}: {body}"));
    value["code"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn activity_pages_go_back_newest_first_with_the_before_cursor() {
    let server = TestServer::start().await;
    let workshop = Workshop::open(&server).await;
    let aino = workshop.participant(&server, "Aino").await;
    let mut cards = Vec::new();
    for n in 1..=5 {
        let (card, command) = add_card(workshop.column, &format!("Idea {n}"));
        server.http_applied(workshop.board, &aino.token, &command).await;
        cards.push(card);
    }
    let first = page(&server, &workshop, "kinds=cards&limit=2", &workshop.facilitator.token).await;
    assert_eq!(first.items.iter().map(|item| item.card).collect::<Vec<_>>(), vec![Some(cards[4]), Some(cards[3])]);
    assert!(
        first.items.iter().all(|item| item.kind == ActivityKind::CardAdded && item.actor == Some(aino.participant))
    );
    let before = first.before.expect("an older page");
    let second = page(&server, &workshop, &format!("kinds=cards&limit=2&before={before}"), &aino.token).await;
    assert_eq!(second.items.iter().map(|item| item.card).collect::<Vec<_>>(), vec![Some(cards[2]), Some(cards[1])]);
    let before = second.before.expect("an older page");
    let last = page(&server, &workshop, &format!("kinds=cards&limit=2&before={before}"), &aino.token).await;
    assert_eq!((last.items.len(), last.before), (1, None));

    // People and facilitation are there too: Aino's joining, the column.
    let everything = page(&server, &workshop, "", &aino.token).await;
    assert!(
        everything
            .items
            .iter()
            .any(|item| item.kind == ActivityKind::ParticipantJoined && item.participant == Some(aino.participant))
    );
    assert!(everything.items.iter().any(|item| item.kind == ActivityKind::ColumnAdded));
    let by_facilitator =
        page(&server, &workshop, &format!("actor={}", workshop.facilitator.participant), &aino.token).await;
    assert!(by_facilitator.items.iter().all(|item| item.actor == Some(workshop.facilitator.participant)));

    let path = |query: &str| format!("/api/boards/{}/activity?{query}", workshop.board);
    for (query, status, code) in
        [("limit=201", 400, "malformed"), ("limit=0", 400, "malformed"), ("kinds=cards,gossip", 400, "malformed")]
    {
        let (answered, body) = get(&server, &path(query), Some(&aino.token)).await;
        assert_eq!((answered, error_code(&body).as_str()), (status, code), "{query}");
    }
    let (status, body) = get(&server, &path(""), None).await;
    assert_eq!((status, error_code(&body).as_str()), (401, "unauthorized"));
    let other = Workshop::open(&server).await;
    let (status, _) = get(&server, &path(""), Some(&other.facilitator.token)).await;
    assert_eq!(status, 401, "a token of another board");
}

#[tokio::test]
async fn an_observer_never_learns_who_wrote_anonymously() {
    let server = TestServer::start().await;
    let workshop = Workshop::open(&server).await;
    let aino = workshop.participant(&server, "Aino").await;
    let anonymous =
        Command::SetBoardOptions { options: BoardOptions { anonymous: true, participants_may_group: false } };
    server.http_applied(workshop.board, &workshop.facilitator.token, &anonymous).await;
    let (card, command) = add_card(workshop.column, "Nimetön idea");
    server.http_applied(workshop.board, &aino.token, &command).await;

    let observer = link_part(&workshop.links.observer).to_owned();
    let by_header = page(&server, &workshop, "", &observer).await;
    let (status, body) = get(&server, &format!("/api/boards/{}/activity?token={observer}", workshop.board), None).await;
    assert_eq!(status, 200, "{body}");
    let by_query: ActivityPage = serde_json::from_str(&body).expect("a page");
    assert_eq!(by_query, by_header, "the observer link as a bearer token or as ?token= reads the same");
    let added = by_header.items.iter().find(|item| item.card == Some(card)).expect("the card is listed");
    assert_eq!((added.kind, added.actor, added.anonymous), (ActivityKind::CardAdded, None, true));
    let aino_id = aino.participant.to_string();
    let raw = serde_json::to_string(&by_header.items).expect("json");
    assert_eq!(raw.matches(&aino_id).count(), 2, "Aino appears only where she joined: {raw}");
    let as_facilitator = page(&server, &workshop, "kinds=cards", &workshop.facilitator.token).await;
    assert_eq!(as_facilitator.items[0].actor, None, "a facilitator is not told either");
    let own = page(&server, &workshop, "kinds=cards", &aino.token).await;
    assert_eq!(own.items[0].actor, Some(aino.participant), "Aino sees her own");

    let (status, _) = get(&server, &format!("/api/boards/{}/activity?token={observer}x", workshop.board), None).await;
    assert_eq!(status, 401, "a wrong secret");
    let participant_link = link_part(&workshop.links.participant).to_owned();
    let (status, _) = get(&server, &format!("/api/boards/{}/activity", workshop.board), Some(&participant_link)).await;
    assert_eq!(status, 401, "the participant link is for joining, not reading");
}

#[tokio::test]
async fn the_board_at_the_end_of_a_session_lacks_what_came_later() {
    let server = TestServer::start().await;
    let workshop = Workshop::open(&server).await;
    let aino = workshop.participant(&server, "Aino").await;
    let facilitate = |command: Command| {
        let server = &server;
        let token = workshop.facilitator.token.clone();
        let board = workshop.board;
        async move { server.http_applied(board, &token, &command).await }
    };
    let session = SessionId(uuid::Uuid::now_v7());
    facilitate(Command::CreateSession {
        session,
        name: "Kesäleiri".into(),
        date: "2026-06-12".into(),
        anonymous: false,
    })
    .await;
    facilitate(Command::StartSession { session }).await;
    let (_, during) = add_card(workshop.column, "Leirillä kirjattu");
    server.http_applied(workshop.board, &aino.token, &during).await;
    facilitate(Command::SetPhase { session, phase: Phase::Closed }).await;
    let (_, later) = add_card(workshop.column, "Leirin jälkeen");
    server.http_applied(workshop.board, &aino.token, &later).await;

    let now = server.board(workshop.board, &aino.token).await;
    let ended = now.sessions[0].ended_seq.expect("the session ended");
    assert!(ended < now.seq);
    let at_end = history(&server, &workshop, ended, &aino.token).await;
    assert_eq!((at_end.seq, at_end.head), (ended, now.seq));
    assert_eq!(Some(at_end.at), now.sessions[0].ended_at, "the time of the session's end");
    assert_eq!(titles(&at_end.board), vec!["Leirillä kirjattu".to_owned()], "the later card is absent");
    assert_eq!(at_end.board.seq, ended);
    assert_eq!(at_end.board.sessions[0].phase, Some(Phase::Closed));
    let at_head = history(&server, &workshop, now.seq, &aino.token).await;
    assert_eq!(titles(&at_head.board), titles(&now), "now it is there");
    assert_eq!(at_head.board.cards, now.cards);
    let at_start = history(&server, &workshop, now.sessions[0].started_seq.expect("started"), &aino.token).await;
    assert!(titles(&at_start.board).is_empty(), "nothing yet when the session started");

    // Far past the head means now; observers read the past too.
    let beyond = history(&server, &workshop, now.seq + 1_000, link_part(&workshop.links.observer)).await;
    assert_eq!(beyond.seq, now.seq);
    let (status, _) = get(&server, &format!("/api/boards/{}/history?seq={ended}", workshop.board), None).await;
    assert_eq!(status, 401);
    let (status, body) = get(&server, &format!("/api/boards/{}/history", workshop.board), Some(&aino.token)).await;
    assert_eq!((status, error_code(&body).as_str()), (400, "malformed"), "seq is required");

    // The timeline has the session's end, with its time, and the head.
    let (status, body) = get(&server, &format!("/api/boards/{}/timeline", workshop.board), Some(&aino.token)).await;
    assert_eq!(status, 200, "{body}");
    let timeline: Timeline = serde_json::from_str(&body).expect("a timeline");
    assert_eq!(timeline.head, now.seq);
    let end = timeline.points.iter().find(|point| point.seq == ended).expect("the session's end is a point");
    assert_eq!(Some(end.at), now.sessions[0].ended_at);
    assert_eq!(timeline.points.last().map(|point| point.seq), Some(now.seq));
}

#[tokio::test]
async fn the_atom_feed_parses_and_holds_the_public_activity() {
    let server = TestServer::start().await;
    let workshop = Workshop::open(&server).await;
    let aino = workshop.participant(&server, "Aino").await;
    let (_, command) = add_card(workshop.column, "Kyläkoulu");
    server.http_applied(workshop.board, &aino.token, &command).await;
    let anonymous =
        Command::SetBoardOptions { options: BoardOptions { anonymous: true, participants_may_group: false } };
    server.http_applied(workshop.board, &workshop.facilitator.token, &anonymous).await;
    let (_, command) = add_card(workshop.column, "Salainen");
    server.http_applied(workshop.board, &aino.token, &command).await;

    let observer = link_part(&workshop.links.observer).to_owned();
    let feed_path = format!("/api/boards/{}/feed.atom?token={observer}", workshop.board);
    let response = server.get(&feed_path).await;
    assert_eq!(response.status().as_u16(), 200);
    let content_type = response.headers().get("content-type").and_then(|value| value.to_str().ok()).map(str::to_owned);
    assert_eq!(content_type.as_deref(), Some("application/atom+xml; charset=utf-8"));
    let bytes = response.bytes().await.expect("a body");
    let feed = atom_syndication::Feed::read_from(&bytes[..]).expect("the feed parses");
    assert_eq!(feed.title.value, "Työpaja");
    assert_eq!(feed.lang.as_deref(), Some("fi"));
    let titles: Vec<&str> = feed.entries.iter().map(|entry| entry.title.value.as_str()).collect();
    assert_eq!(titles[0], "Nimetön lisäsi kortin «Salainen» sarakkeeseen «Ideat»", "newest first: {titles:?}");
    // The board is anonymous now: the earlier card does not name Aino either.
    assert_eq!(titles[2], "Nimetön lisäsi kortin «Kyläkoulu» sarakkeeseen «Ideat»", "{titles:?}");
    assert!(titles.contains(&"Aino liittyi tauluun roolissa osallistuja"), "{titles:?}");
    assert!(titles.contains(&"Fasilitaattori lisäsi sarakkeen «Ideat»"), "{titles:?}");
    let self_link = feed.links.iter().find(|link| link.rel == "self").expect("a self link");
    assert_eq!(self_link.href, format!("{}{feed_path}", server.base_url()));
    let alternate = feed.links.iter().find(|link| link.rel == "alternate").expect("a link to the board");
    assert_eq!(alternate.href, workshop.links.observer);
    assert!(feed.entries.iter().all(|entry| entry.links[0].href == workshop.links.observer));

    let participant_link = link_part(&workshop.links.participant).to_owned();
    for (what, path, token) in [
        ("no token", format!("/api/boards/{}/feed.atom", workshop.board), None),
        ("a wrong secret", format!("/api/boards/{}/feed.atom?token={observer}A", workshop.board), None),
        ("the participant link", format!("/api/boards/{}/feed.atom?token={participant_link}", workshop.board), None),
        ("a participant's token", format!("/api/boards/{}/feed.atom", workshop.board), Some(aino.token.as_str())),
    ] {
        let (status, body) = get(&server, &path, token).await;
        assert_eq!((status, error_code(&body).as_str()), (401, "unauthorized"), "{what}: {body}");
    }
    let other = Workshop::open(&server).await;
    let (status, _) = get(&server, &format!("/api/boards/{}/feed.atom?token={observer}", other.board), None).await;
    assert_eq!(status, 401, "another board's observer link");
}
