//! A reconnect storm: many WebSocket clients on one board drop their connections again and
//! again (closing politely or just vanishing, now and then reloading the page) and resume with
//! the last sequence number they applied, while writers keep adding cards, comments, votes and
//! likes. Every client applies only `changed` messages that start right after what it holds (a
//! gap or a repeat fails the test), or a snapshot; at the end, every client's board, built from
//! nothing but what it was sent, must equal the board the server shows that participant.
//!
//! `cargo test -p kipina-tests --test it reconnect_storm::` runs 100 clients × 10 cycles;
//! `KIPINA_RECONNECT_FULL=1` runs 300 clients × 20 cycles (`KIPINA_RECONNECT_CLIENTS`,
//! `KIPINA_RECONNECT_CYCLES` and `KIPINA_RECONNECT_SEED` set them one by one) and prints the
//! figures.

use kipina_proto::api::Session;
use kipina_proto::{BoardId, CardId, ColumnId, Command, CommentId, ReactionTarget, ServerMessage};
use kipina_tests::{BoardMirror, Received, TestServer, WsClient, add_column};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use uuid::Uuid;

const WRITERS: usize = 4;
/// Columns the writers spread their cards over (a `changed` for a new card carries its column's
/// whole list of cards).
const COLUMNS: usize = 4;

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|value| value.parse().ok()).unwrap_or(default)
}

/// A small deterministic generator, so a failing run can be repeated with its seed.
struct Random(u64);

impl Random {
    fn below(&mut self, bound: u64) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % bound.max(1)
    }

    fn millis(&mut self, from: u64, to: u64) -> Duration {
        Duration::from_millis(from + self.below(to - from + 1))
    }
}

/// What happened over the storm, for the figures.
#[derive(Default)]
struct Counts {
    reconnects: AtomicU64,
    resumed: AtomicU64,
    snapshots: AtomicU64,
    resyncs: AtomicU64,
    changed: AtomicU64,
    presences: AtomicU64,
    /// Bytes of every message the readers received.
    bytes: AtomicU64,
    commands: AtomicU64,
    refused: AtomicU64,
    /// How long each writer's command took from sending to its answer.
    round_trips: Mutex<Vec<Duration>>,
}

/// Reads whatever arrives for `stay`, folding it into `mirror`. Returns `false` when the server
/// ended the connection (after `resync`, for one).
async fn read_for(client: &mut WsClient, mirror: &mut Option<BoardMirror>, stay: Duration, counts: &Counts) -> bool {
    let until = tokio::time::Instant::now() + stay;
    loop {
        let Ok(received) = tokio::time::timeout_at(until, client.receive()).await else { return true };
        match received {
            Received::Message(message) => {
                let bytes = client.raw.last().map_or(0, String::len) as u64;
                counts.bytes.fetch_add(bytes, Ordering::Relaxed);
                match &message {
                    ServerMessage::Changed { .. } => drop(counts.changed.fetch_add(1, Ordering::Relaxed)),
                    ServerMessage::Presence { .. } => drop(counts.presences.fetch_add(1, Ordering::Relaxed)),
                    ServerMessage::Resync { .. } => drop(counts.resyncs.fetch_add(1, Ordering::Relaxed)),
                    ServerMessage::Error { code, message, .. } => panic!("an error to a reader: {code}: {message}"),
                    _ => {}
                }
                kipina_tests::follow(mirror, &message);
            }
            Received::Closed(_) | Received::Ended(_) => return false,
        }
    }
}

/// One reader: connects, then `cycles` times stays a while, drops the connection one way or
/// another, waits, and resumes. Then it says so on `cycled` and keeps reading on its last
/// connection until `head` says where the board ended and it has caught up to there (a connection
/// left unread would stop answering the server's pings, and the server closes a connection it has
/// not heard from in 30 s, as docs/protocol.md says under "Liveness"). Returns its board.
#[allow(clippy::too_many_arguments)]
async fn reader(
    server: Arc<TestServer>,
    board: BoardId,
    token: String,
    cycles: u64,
    seed: u64,
    counts: Arc<Counts>,
    cycled: tokio::sync::mpsc::UnboundedSender<()>,
    mut head: tokio::sync::watch::Receiver<Option<u64>>,
) -> BoardMirror {
    let mut random = Random(seed | 1);
    let mut mirror: Option<BoardMirror> = None;
    // Spread the first connections a little, as people opening a link do.
    tokio::time::sleep(random.millis(0, 300)).await;
    let mut client = WsClient::connect(&server, board, &token, None).await;
    for _ in 0..cycles {
        let open = read_for(&mut client, &mut mirror, random.millis(20, 400), &counts).await;
        match random.below(3) {
            _ if !open => drop(client),
            0 => client.close().await,
            // Gone without a word, as a phone in a tunnel.
            _ => drop(client),
        }
        tokio::time::sleep(random.millis(0, 250)).await;
        counts.reconnects.fetch_add(1, Ordering::Relaxed);
        // One in ten comes back as a reloaded page with nothing; the rest resume.
        let last_seq = if random.below(10) == 0 { None } else { mirror.as_ref().map(|mirror| mirror.seq) };
        match last_seq {
            Some(_) => counts.resumed.fetch_add(1, Ordering::Relaxed),
            None => counts.snapshots.fetch_add(1, Ordering::Relaxed),
        };
        client = WsClient::connect(&server, board, &token, last_seq).await;
    }
    // Stay until the opening messages are in, so the mirror exists.
    while mirror.is_none() {
        assert!(
            read_for(&mut client, &mut mirror, Duration::from_millis(100), &counts).await,
            "the last connection ended"
        );
    }
    cycled.send(()).expect("the test is waiting");
    loop {
        let ended = *head.borrow_and_update();
        let seq = mirror.as_ref().map_or(0, |mirror| mirror.seq);
        if ended.is_some_and(|head| seq >= head) {
            break;
        }
        tokio::select! {
            open = read_for(&mut client, &mut mirror, Duration::from_millis(100), &counts) => {
                assert!(open, "reader's last connection ended while it caught up (seed {seed}, at seq {seq})");
            }
            _ = head.changed() => {}
        }
    }
    client.close().await;
    mirror.expect("a board")
}

/// What the writers share.
struct Writing {
    server: Arc<TestServer>,
    board: BoardId,
    columns: Vec<ColumnId>,
    /// The cards added so far.
    cards: Mutex<Vec<CardId>>,
    stop: AtomicBool,
    counts: Arc<Counts>,
}

/// One writer: adds cards, comments, dots and likes until told to stop.
async fn writer(writing: Arc<Writing>, session: Session, seed: u64) -> u64 {
    let Writing { server, board, columns, cards, stop, counts } = &*writing;
    let mut random = Random(seed | 1);
    let mut client = WsClient::connect_and_settle(server, *board, &session.token, None).await;
    while !stop.load(Ordering::Relaxed) {
        let known: Vec<CardId> = cards.lock().expect("the card list").clone();
        let pick = |random: &mut Random| known[random.below(known.len() as u64) as usize];
        let choice = if known.is_empty() { 0 } else { random.below(10) };
        let command = match choice {
            0..=2 => {
                let card = CardId(Uuid::now_v7());
                let column = columns[random.below(columns.len() as u64) as usize];
                Command::AddCard { card, column, title: format!("Idea {}", card.0.simple()), body: String::new() }
            }
            3..=5 => Command::AddComment {
                comment: CommentId(Uuid::now_v7()),
                card: pick(&mut random),
                reply_to: None,
                body: "Hyvä ajatus".into(),
            },
            6 => Command::CastVote { card: pick(&mut random) },
            7 => Command::WithdrawVote { card: pick(&mut random) },
            _ => Command::ToggleReaction { target: ReactionTarget::Card(pick(&mut random)) },
        };
        let added = match &command {
            Command::AddCard { card, .. } => Some(*card),
            _ => None,
        };
        let sent = Instant::now();
        let command_id = client.send_command(command).await;
        let outcome = client.outcome(command_id).await;
        counts.round_trips.lock().expect("the round trips").push(sent.elapsed());
        match outcome {
            Ok(_) => {
                counts.commands.fetch_add(1, Ordering::Relaxed);
                if let Some(card) = added {
                    cards.lock().expect("the card list").push(card);
                }
            }
            // Dots are budgeted and capped, and one cannot take back a dot one has not placed.
            Err(code) if matches!(choice, 6 | 7) => {
                assert!(
                    ["vote_budget_exhausted", "vote_cap_reached", "no_vote_to_withdraw"].contains(&code.as_str()),
                    "a vote was refused with {code}"
                );
                counts.refused.fetch_add(1, Ordering::Relaxed);
            }
            Err(code) => panic!("a writer's command was refused with {code}"),
        }
        tokio::time::sleep(random.millis(5, 30)).await;
    }
    client.last_seq.expect("the writer has the board")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_that_keep_dropping_and_resuming_end_with_exactly_the_servers_board() {
    let full = std::env::var_os("KIPINA_RECONNECT_FULL").is_some();
    let clients = setting("KIPINA_RECONNECT_CLIENTS", if full { 300 } else { 100 });
    let cycles = setting("KIPINA_RECONNECT_CYCLES", if full { 20 } else { 10 });
    let seed = setting("KIPINA_RECONNECT_SEED", u64::from(Uuid::new_v4().as_u128() as u32));
    let started = Instant::now();
    let server = Arc::new(
        TestServer::start_with(|config| {
            config.max_commands_per_second = 100_000;
        })
        .await,
    );
    let created = server.create_board("Fasilitaattori").await;
    let board = created.session.board;
    let mut columns = Vec::new();
    for number in 0..COLUMNS {
        let (column, command) = add_column(&format!("Sarake {number}"));
        server.http_applied(board, &created.session.token, &command).await;
        columns.push(column);
    }
    let mut people = Vec::new();
    for number in 0..clients as usize + WRITERS {
        people.push(server.join(&created.links.participant, &format!("Osallistuja {number}")).await);
    }
    let writers_people = people.split_off(clients as usize);

    let counts = Arc::new(Counts::default());
    let writing = Arc::new(Writing {
        server: Arc::clone(&server),
        board,
        columns,
        cards: Mutex::new(Vec::new()),
        stop: AtomicBool::new(false),
        counts: Arc::clone(&counts),
    });
    let writers: Vec<_> = writers_people
        .into_iter()
        .enumerate()
        .map(|(index, session)| {
            tokio::spawn(writer(Arc::clone(&writing), session, seed.wrapping_add(1_000 + index as u64)))
        })
        .collect();
    let tokens: Vec<String> = people.iter().map(|session| session.token.clone()).collect();
    let storm_started = Instant::now();
    let (cycled, mut cycles_done) = tokio::sync::mpsc::unbounded_channel();
    let (announce_head, head_known) = tokio::sync::watch::channel(None);
    let readers: Vec<_> = people
        .into_iter()
        .enumerate()
        .map(|(index, session)| {
            tokio::spawn(reader(
                Arc::clone(&server),
                board,
                session.token,
                cycles,
                seed.wrapping_mul(31).wrapping_add(index as u64),
                Arc::clone(&counts),
                cycled.clone(),
                head_known.clone(),
            ))
        })
        .collect();
    for _ in 0..clients {
        cycles_done.recv().await.unwrap_or_else(|| panic!("a reader ended before its cycles were done (seed {seed})"));
    }
    let storm = storm_started.elapsed();
    writing.stop.store(true, Ordering::Relaxed);
    for writer in writers {
        writer.await.unwrap_or_else(|error| panic!("a writer failed (seed {seed}): {error}"));
    }
    let head = server.board(board, &created.session.token).await.seq;
    announce_head.send_replace(Some(head));

    // Every reader catches up on its last connection, and its board is the server's.
    for (index, (reader, token)) in readers.into_iter().zip(&tokens).enumerate() {
        let mirror = reader.await.unwrap_or_else(|error| panic!("reader {index} failed (seed {seed}): {error}"));
        assert_eq!(mirror.seq, head, "reader {index} applied exactly up to the head (seed {seed})");
        let fresh = BoardMirror::of(&server.board(board, token).await);
        assert!(
            mirror == fresh,
            "reader {index}'s board differs from the server's (seed {seed}):\n{}",
            kipina_tests::difference(&mirror, &fresh)
        );
    }

    let mut round_trips = counts.round_trips.lock().expect("the round trips").clone();
    round_trips.sort_unstable();
    let at = |q: f64| round_trips[((round_trips.len() - 1) as f64 * q) as usize].as_secs_f64() * 1e3;
    let line = format!(
        "reconnect storm: {clients} clients × {cycles} cycles (seed {seed}) in {:.1} s (storm {:.1} s); \
         {} reconnects ({} resumed with last_seq, {} from nothing), {} resyncs; {} commands applied \
         ({} dots refused, command round trip p50 {:.0} ms, p99 {:.0} ms), head {head}; readers received {} `changed` and {} `presence` messages, {:.1} MB in all; \
         every board equal to the server's",
        started.elapsed().as_secs_f64(),
        storm.as_secs_f64(),
        counts.reconnects.load(Ordering::Relaxed),
        counts.resumed.load(Ordering::Relaxed),
        counts.snapshots.load(Ordering::Relaxed),
        counts.resyncs.load(Ordering::Relaxed),
        counts.commands.load(Ordering::Relaxed),
        counts.refused.load(Ordering::Relaxed),
        at(0.5),
        at(0.99),
        counts.changed.load(Ordering::Relaxed),
        counts.presences.load(Ordering::Relaxed),
        counts.bytes.load(Ordering::Relaxed) as f64 / 1e6,
    );
    std::io::Write::write_all(&mut std::io::stderr(), format!("{line}\n").as_bytes()).expect("stderr");
    assert!(counts.commands.load(Ordering::Relaxed) > 0, "the writers wrote during the storm");
}
