//! Search over HTTP: an accent-less query finds a comment, the observer link searches too,
//! nobody else does, queries that are no queries are refused, and what changed on the board is
//! found on the next search (the index updated with what changed), while what was deleted,
//! erased or made anonymous since is neither found nor named.

use kipina_proto::api::ErrorBody;
use kipina_proto::search::{SearchResults, SearchTarget, TextSpan};
use kipina_proto::{BoardId, BoardOptions, Command, ErrorCode};
use kipina_tests::{TestServer, Workshop, add_card, link_part, new_comment_id};

/// `GET /api/boards/{board}/search?q=…` with a bearer token (or none): the results, or the
/// status and error body.
async fn search(
    server: &TestServer,
    board: BoardId,
    token: Option<&str>,
    query: &str,
) -> Result<SearchResults, (u16, ErrorBody)> {
    let url = format!("{}/api/boards/{board}/search", server.base_url());
    let url = reqwest::Url::parse_with_params(&url, &[("q", query)]).expect("a search URL");
    let mut request = server.http().get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("the search is answered");
    let status = response.status().as_u16();
    let text = response.text().await.expect("a body");
    if status == 200 {
        Ok(serde_json::from_str(&text).unwrap_or_else(|error| panic!("SearchResults ({error}): {text}")))
    } else {
        Err((status, serde_json::from_str(&text).unwrap_or_else(|error| panic!("an ErrorBody ({error}): {text}"))))
    }
}

async fn found(server: &TestServer, board: BoardId, token: &str, query: &str) -> SearchResults {
    search(server, board, Some(token), query).await.unwrap_or_else(|error| panic!("searching {query:?}: {error:?}"))
}

fn refused(answer: Result<SearchResults, (u16, ErrorBody)>) -> (u16, ErrorCode) {
    match answer {
        Ok(results) => panic!("the search was answered: {results:?}"),
        Err((status, body)) => (status, body.code),
    }
}

#[tokio::test]
async fn an_accent_less_query_finds_a_comment_for_participants_and_observers() {
    let server = TestServer::start().await;
    let workshop = Workshop::open(&server).await;
    let aino = workshop.participant(&server, "Aino").await;
    let (card, command) = add_card(workshop.column, "Kylätalon piha");
    server.http_applied(workshop.board, &aino.token, &command).await;
    let comment = new_comment_id();
    let body = "Pihalta kuuluu iltaisin lasten ääniä.";
    let command = Command::AddComment { comment, card, reply_to: None, body: body.into() };
    server.http_applied(workshop.board, &workshop.facilitator.token, &command).await;

    let results = found(&server, workshop.board, &aino.token, "aania").await;
    assert_eq!(results.words, vec!["aania"]);
    assert_eq!(results.total, 1);
    let hit = &results.hits[0];
    assert_eq!(hit.target, SearchTarget::Comment { comment, card });
    assert_eq!(hit.author, Some(workshop.facilitator.participant));
    assert_eq!(
        hit.snippet,
        vec![
            TextSpan { text: "Pihalta kuuluu iltaisin lasten ".into(), highlight: false },
            TextSpan { text: "ääniä".into(), highlight: true },
            TextSpan { text: ".".into(), highlight: false },
        ]
    );
    assert_eq!(hit.title, vec![TextSpan { text: "Kylätalon piha".into(), highlight: false }]);

    // The observer link's `{board}/o/{secret}` is the observer's token, as for the WebSocket.
    let observer = link_part(&workshop.links.observer);
    let seen = found(&server, workshop.board, observer, "AANIA").await;
    assert_eq!(seen.hits, results.hits);
    // A prefix of an inflected form finds the card ("kylä" → "Kylätalon").
    let prefix = found(&server, workshop.board, observer, "kylä").await;
    assert_eq!(
        prefix.hits.iter().map(|hit| hit.target).collect::<Vec<_>>(),
        vec![SearchTarget::Card { card, group: None }]
    );
}

#[tokio::test]
async fn only_the_boards_people_and_observers_may_search_it() {
    let server = TestServer::start().await;
    let workshop = Workshop::open(&server).await;
    let other = Workshop::open(&server).await;
    let (_, command) = add_card(workshop.column, "Salainen suunnitelma");
    server.http_applied(workshop.board, &workshop.facilitator.token, &command).await;

    assert_eq!(refused(search(&server, workshop.board, None, "salainen").await), (401, ErrorCode::Unauthorized));
    for token in [
        other.facilitator.token.as_str(),
        link_part(&other.links.observer),
        // A participant link lets one join; it is not a way to read.
        link_part(&workshop.links.participant),
        "kp_not-a-token",
    ] {
        let answer = search(&server, workshop.board, Some(token), "salainen").await;
        assert_eq!(refused(answer), (401, ErrorCode::Unauthorized), "{token}");
    }

    // A participant who erased themselves reads the board no more.
    let leaving = workshop.participant(&server, "Lähtijä").await;
    assert_eq!(found(&server, workshop.board, &leaving.token, "salainen").await.total, 1);
    let erase = Command::EraseParticipant { participant: leaving.participant };
    server.http_applied(workshop.board, &leaving.token, &erase).await;
    let answer = search(&server, workshop.board, Some(&leaving.token), "salainen").await;
    assert_eq!(refused(answer), (401, ErrorCode::Unauthorized));
}

#[tokio::test]
async fn empty_and_too_long_queries_are_malformed() {
    let server = TestServer::start().await;
    let workshop = Workshop::open(&server).await;
    let token = Some(workshop.facilitator.token.as_str());
    for query in ["", "   ", "–?!", &"ä".repeat(201)] {
        let answer = search(&server, workshop.board, token, query).await;
        assert_eq!(refused(answer), (400, ErrorCode::Malformed), "{query:?}");
    }
    // 200 characters is still a query (the limit counts characters, not bytes).
    assert_eq!(found(&server, workshop.board, &workshop.facilitator.token, &"ä".repeat(200)).await.total, 0);
    let missing = server
        .http()
        .get(format!("{}/api/boards/{}/search", server.base_url(), workshop.board))
        .bearer_auth(&workshop.facilitator.token)
        .send()
        .await
        .expect("answered");
    assert_eq!(missing.status().as_u16(), 400, "no q at all");
}

#[tokio::test]
async fn the_next_search_finds_what_changed_on_the_board() {
    let server = TestServer::start().await;
    let workshop = Workshop::open(&server).await;
    let token = workshop.facilitator.token.as_str();
    let (first, command) = add_card(workshop.column, "Kesäteatteri rannalla");
    server.http_applied(workshop.board, token, &command).await;
    let before = found(&server, workshop.board, token, "kesateatteri").await;
    assert_eq!(before.total, 1);

    // A new card is found at once: the index of the older version is not used. Searches at the
    // same moment share one build of the new version and all see it.
    let (second, command) = add_card(workshop.column, "Kesäteatterin puvut");
    let (_, last_seq) = server.http_applied(workshop.board, token, &command).await;
    let together = (0..8).map(|_| found(&server, workshop.board, token, "kesateatteri"));
    for results in futures_util::future::join_all(together).await {
        assert_eq!((results.seq, results.total), (last_seq, 2));
    }
    let after = found(&server, workshop.board, token, "kesateatteri").await;
    assert_eq!(after.seq, last_seq);
    assert_eq!(after.total, 2);
    let targets: Vec<SearchTarget> = after.hits.iter().map(|hit| hit.target).collect();
    assert_eq!(
        targets,
        vec![SearchTarget::Card { card: first, group: None }, SearchTarget::Card { card: second, group: None }]
    );

    // An edit replaces the old words: they are found no more.
    let edit = Command::EditCard { card: first, title: "Rantakonsertti".into(), body: String::new(), base_version: 1 };
    server.http_applied(workshop.board, token, &edit).await;
    let edited = found(&server, workshop.board, token, "kesateatteri").await;
    assert_eq!(
        edited.hits.iter().map(|hit| hit.target).collect::<Vec<_>>(),
        vec![SearchTarget::Card { card: second, group: None }]
    );
    assert_eq!(found(&server, workshop.board, token, "rantakonsertti").await.total, 1);
}

#[tokio::test]
async fn what_was_deleted_erased_or_made_anonymous_since_the_last_search_is_not_found_or_named() {
    let server = TestServer::start().await;
    let workshop = Workshop::open(&server).await;
    let token = workshop.facilitator.token.as_str();
    let aino = workshop.participant(&server, "Aino").await;
    let (card, command) = add_card(workshop.column, "Saunailta rannalla");
    server.http_applied(workshop.board, &aino.token, &command).await;
    let comment = new_comment_id();
    let command = Command::AddComment { comment, card, reply_to: None, body: "Saunailta lauantaina!".into() };
    server.http_applied(workshop.board, token, &command).await;
    let before = found(&server, workshop.board, token, "saunailta").await;
    assert_eq!(before.total, 2);
    assert_eq!(before.hits[0].author, Some(aino.participant), "the card, in its title, comes first");

    // The whole board goes anonymous: its authors are named no more (but to themselves).
    let options = BoardOptions { anonymous: true, participants_may_group: false };
    server.http_applied(workshop.board, token, &Command::SetBoardOptions { options }).await;
    let observer = link_part(&workshop.links.observer);
    let anonymous = found(&server, workshop.board, observer, "saunailta").await;
    assert_eq!(anonymous.total, 2);
    assert!(anonymous.hits.iter().all(|hit| hit.anonymous && hit.author.is_none()), "{anonymous:?}");
    let own = found(&server, workshop.board, &aino.token, "saunailta").await;
    assert_eq!(own.hits[0].author, Some(aino.participant));
    assert_eq!(own.hits[1].author, None, "the facilitator's comment is anonymous to Aino");

    server.http_applied(workshop.board, token, &Command::DeleteComment { comment }).await;
    let deleted = found(&server, workshop.board, token, "lauantaina").await;
    assert_eq!(deleted.total, 0, "{deleted:?}");
    assert_eq!(found(&server, workshop.board, token, "saunailta").await.total, 1);

    let erase = Command::EraseParticipant { participant: aino.participant };
    let (_, erased_at) = server.http_applied(workshop.board, &aino.token, &erase).await;
    let erased = found(&server, workshop.board, token, "saunailta rannalla").await;
    assert_eq!((erased.seq, erased.total), (erased_at, 0), "{erased:?}");
}

#[tokio::test]
async fn a_search_after_each_of_many_changes_finds_each_change() {
    let server = TestServer::start_with(|config| config.max_commands_per_second = 100_000).await;
    let workshop = Workshop::open(&server).await;
    let token = workshop.facilitator.token.as_str();
    let mut cards = Vec::new();
    // More changes than an update keeps apart from the whole segment before one is compacted
    // into a new one (off the request path): the searches after that start from it.
    for number in 0..100 {
        let (card, command) = add_card(workshop.column, &format!("Kesäidea numero {number}"));
        let (_, seq) = server.http_applied(workshop.board, token, &command).await;
        cards.push(card);
        let results = found(&server, workshop.board, token, "kesaidea").await;
        assert_eq!((results.seq, results.total), (seq, number + 1));
        assert!(results.hits.iter().any(|hit| hit.target == SearchTarget::Card { card, group: None }));
    }
    for (number, card) in cards.iter().enumerate().step_by(10) {
        let edit = Command::EditCard {
            card: *card,
            title: format!("Syysidea {number}"),
            body: String::new(),
            base_version: 1,
        };
        server.http_applied(workshop.board, token, &edit).await;
        let results = found(&server, workshop.board, token, &format!("syysidea {number}")).await;
        assert_eq!(
            results.hits.iter().map(|hit| hit.target).collect::<Vec<_>>(),
            vec![SearchTarget::Card { card: *card, group: None }]
        );
    }
    assert_eq!(found(&server, workshop.board, token, "kesaidea").await.total, 90);
    assert_eq!(found(&server, workshop.board, token, "syysidea").await.total, 10);
}
