//! Clients that stop reading do not slow down anyone else. Twenty readers measure how long each
//! change takes from the moment its command is sent to the moment they have it, on a board
//! where three more clients have stopped reading altogether (their TCP receive buffers full),
//! and on the same kind of board without them, before and after. The bound (see
//! `docs/reliability.md`): the readers' 99th percentile with stalled clients stays within three
//! times the larger baseline (or the baseline plus 100 ms, whichever is more: the machine is
//! shared), and no change ever waits for the stalled clients' write timeout. The stalled clients
//! are dropped from the board when their queue is full, their connections are closed within the
//! write timeout, and each resumes afterwards with the last sequence number it applied and ends
//! with exactly the server's board.

use kipina_proto::{ColumnId, Command, ReactionTarget, ServerMessage};
use kipina_tests::{BoardMirror, Received, TestServer, WAIT, Workshop, WsClient, add_card, add_column, changes};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::watch;

const READERS: usize = 20;
const STALLED: usize = 3;
/// Changes measured in each phase.
const CHANGES: usize = 300;
/// Columns the cards are spread over (a new card's `changed` carries its column's list of cards).
const COLUMNS: usize = 10;
/// How long a write to a client may wait before the server gives up on the client. It is
/// `min(heartbeat, client timeout)`; long here, so a change that waited for a stalled client
/// would stand out.
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);
/// Edits of a 5 kB text sent before the measured changes: about 3.7 MB to every client, about
/// what the kernel and the server buffer for a socket here, so the stalled clients' queues fill
/// during the measured changes.
const FILL_EDITS: u32 = 700;

/// Delivery latencies of one phase, over every reader and change.
#[derive(Debug)]
struct Latencies {
    samples: Vec<Duration>,
}

impl Latencies {
    fn quantile(&self, q: f64) -> Duration {
        let index = ((self.samples.len() - 1) as f64 * q).round() as usize;
        self.samples[index]
    }

    fn p50(&self) -> Duration {
        self.quantile(0.5)
    }

    fn p99(&self) -> Duration {
        self.quantile(0.99)
    }

    fn max(&self) -> Duration {
        *self.samples.last().expect("samples")
    }

    fn summary(&self) -> String {
        format!(
            "p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms over {} deliveries",
            self.p50().as_secs_f64() * 1e3,
            self.p99().as_secs_f64() * 1e3,
            self.max().as_secs_f64() * 1e3,
            self.samples.len()
        )
    }
}

/// The number in a measured card's title `L{n}`.
fn measured(title: &str) -> Option<usize> {
    title.strip_prefix('L').and_then(|number| number.parse().ok())
}

/// Reads until told the head and caught up with it, timing the arrival of each measured card.
async fn reader(
    mut client: WsClient,
    sent: Arc<Vec<OnceLock<Instant>>>,
    mut head: watch::Receiver<Option<u64>>,
) -> (WsClient, Vec<Duration>) {
    let mut samples = Vec::new();
    loop {
        if let Some(head) = *head.borrow_and_update()
            && client.last_seq.is_some_and(|seen| seen >= head)
        {
            return (client, samples);
        }
        tokio::select! {
            received = client.receive() => match received {
                Received::Message(message) => {
                    let now = Instant::now();
                    for change in changes(&message) {
                        if let kipina_proto::Change::Card(card) = change
                            && let Some(number) = card.title.as_deref().and_then(measured)
                            && let Some(at) = sent[number].get()
                        {
                            samples.push(now - *at);
                        }
                    }
                    if let ServerMessage::Resync { .. } = message {
                        panic!("a reader that reads was told to resync");
                    }
                }
                other => panic!("a reader's connection ended: {other:?}"),
            },
            _ = head.changed() => {}
        }
    }
}

/// One phase on a board of its own: `stalled` clients that stop reading right after `welcome`,
/// twenty readers, and a writer adding `CHANGES` cards one after another.
/// What one phase measured and left behind.
struct Phase {
    latencies: Latencies,
    /// The stalled clients and their tokens.
    stalled: Vec<(WsClient, String)>,
    workshop: Workshop,
    /// Connections dropped for a full queue: during the filling, the measured changes, the rest.
    drops: [f64; 3],
}

async fn phase(server: &TestServer, stalled: usize) -> Phase {
    let drops_before = server.metric("kipina_fanout_queue_drops_total").await;
    let workshop = Workshop::open(server).await;
    let mut columns: Vec<ColumnId> = vec![workshop.column];
    for number in 1..COLUMNS {
        let (column, command) = add_column(&format!("Sarake {number}"));
        server.http_applied(workshop.board, &workshop.facilitator.token, &command).await;
        columns.push(column);
    }
    let writer = workshop.participant(server, "Kirjoittaja").await;
    let mut writer = WsClient::connect_and_settle(server, workshop.board, &writer.token, None).await;
    let mut stalled_clients = Vec::new();
    for number in 0..stalled {
        let session = workshop.participant(server, &format!("Nukkuja {number}")).await;
        // A small receive buffer, so the socket fills after little traffic. After `welcome` it
        // reads nothing more: the snapshot and everything after it wait in the socket.
        let client = WsClient::connect_with_receive_buffer(server, workshop.board, &session.token, None, 4096).await;
        stalled_clients.push((client, session.token));
    }
    // Before the readers come: some megabytes of changes (one card's long text edited again
    // and again), more than the kernel and the server buffer for a socket, so the stalled
    // clients' connections are stuck writing when the measured changes start. Every phase does
    // the same, so the boards compare. One edit at a time, each after the answer to the one
    // before, so each is a `changed` of its own (commands waiting together share one).
    let (filler, command) = add_card(columns[0], "Täyte");
    writer.applied(command).await;
    for version in 1..=FILL_EDITS {
        let body = format!("{version} {}", "x".repeat(4_900));
        writer.applied(Command::EditCard { card: filler, title: "Täyte".into(), body, base_version: version }).await;
    }
    let filled = server.metric("kipina_fanout_queue_drops_total").await;
    let sent: Arc<Vec<OnceLock<Instant>>> = Arc::new((0..CHANGES).map(|_| OnceLock::new()).collect());
    let (tell_head, head) = watch::channel(None);
    let mut readers = Vec::new();
    for number in 0..READERS {
        let session = workshop.participant(server, &format!("Lukija {number}")).await;
        let client = WsClient::connect_and_settle(server, workshop.board, &session.token, None).await;
        readers.push(tokio::spawn(reader(client, Arc::clone(&sent), head.clone())));
    }
    let body = "Tarkempi kuvaus ideasta. ".repeat(24);
    for number in 0..CHANGES {
        let (_, command) = add_card(columns[number % COLUMNS], &format!("L{number}"));
        let Command::AddCard { card, column, title, .. } = command else { unreachable!("add_card makes AddCard") };
        let command = Command::AddCard { card, column, title, body: body.clone() };
        sent[number].set(Instant::now()).expect("sent once");
        writer.applied(command).await;
    }
    let measured_drops = server.metric("kipina_fanout_queue_drops_total").await;
    if stalled > 0 {
        // Many small changes (likes toggled on one card) on top: more than a connection's queue
        // holds, so a stalled client is dropped from the board now if its socket took the cards.
        // One at a time again, a `changed` each.
        let (card, command) = add_card(columns[0], "Tykätty");
        writer.applied(command).await;
        let toggle = Command::ToggleReaction { target: ReactionTarget::Card(card) };
        for _ in 0..2 * kipina_server::live::OUTBOX_CAPACITY {
            writer.applied(toggle.clone()).await;
        }
    }
    let final_head = writer.last_seq.expect("the writer applied its cards");
    tell_head.send_replace(Some(final_head));
    let mut samples = Vec::new();
    for reader in readers {
        let (client, mut measured) = within_wait(reader).await.expect("a reader does not panic");
        assert_eq!(client.last_seq, Some(final_head));
        samples.append(&mut measured);
        client.close().await;
    }
    writer.close().await;
    samples.sort_unstable();
    assert_eq!(samples.len(), READERS * CHANGES, "every reader timed every card once");
    let after = server.metric("kipina_fanout_queue_drops_total").await;
    Phase {
        latencies: Latencies { samples },
        stalled: stalled_clients,
        workshop,
        drops: [filled - drops_before, measured_drops - filled, after - measured_drops],
    }
}

async fn within_wait<T>(task: tokio::task::JoinHandle<T>) -> Result<T, tokio::task::JoinError> {
    tokio::time::timeout(WAIT * 3, task).await.expect("a reader finished in time")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_that_stop_reading_do_not_slow_the_others_and_resume_afterwards() {
    let server = TestServer::start_with(|config| {
        config.max_commands_per_second = 100_000;
        config.heartbeat_interval = WRITE_TIMEOUT;
        config.client_timeout = WRITE_TIMEOUT * 3;
    })
    .await;

    let before = phase(&server, 0).await.latencies;
    let Phase { latencies: stalled_phase, stalled, workshop, drops } = phase(&server, STALLED).await;
    let after = phase(&server, 0).await.latencies;
    let baseline = before.p99().max(after.p99());
    let line = format!(
        "slow readers: {READERS} readers × {CHANGES} changes; without stalled clients {} / {}; with {STALLED} \
         stalled clients {} (dropped for a full queue: {} while filling, {} during the measured changes, {} after)",
        before.summary(),
        after.summary(),
        stalled_phase.summary(),
        drops[0],
        drops[1],
        drops[2],
    );
    std::io::Write::write_all(&mut std::io::stderr(), format!("{line}\n").as_bytes()).expect("stderr");
    let bound = (baseline * 3).max(baseline + Duration::from_millis(100));
    assert!(stalled_phase.p99() <= bound, "the stalled clients slowed the others beyond {bound:?}: {line}");
    assert!(
        stalled_phase.max() < WRITE_TIMEOUT / 2,
        "a change waited on the order of the write timeout ({WRITE_TIMEOUT:?}): {line}"
    );

    // Every stalled connection is closed within the write timeout of falling behind (everyone
    // else has closed theirs).
    let deadline = tokio::time::Instant::now() + WRITE_TIMEOUT + WAIT;
    loop {
        let open = server.metric("kipina_connections").await;
        if open == 0.0 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{open} connections still open after the stall");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // What a stalled client does receive once it reads again is gap-free (the harness checks
    // every `changed`) and ends; resuming with the last seq it applied brings it to the board.
    let head = server.board(workshop.board, &workshop.facilitator.token).await.seq;
    for (mut client, token) in stalled {
        let mut mirror = None;
        loop {
            match client.receive().await {
                Received::Message(ServerMessage::Resync { .. }) => {}
                Received::Message(message) => kipina_tests::follow(&mut mirror, &message),
                Received::Closed(_) | Received::Ended(_) => break,
            }
        }
        let seen = mirror.as_ref().map(|mirror| mirror.seq).expect("the stalled client had its snapshot");
        assert!(seen < head, "a stalled client cannot have received everything");
        let mut again = WsClient::connect(&server, workshop.board, &token, Some(seen)).await;
        while mirror.as_ref().is_some_and(|mirror| mirror.seq < head) {
            let message = again.next().await;
            kipina_tests::follow(&mut mirror, &message);
        }
        let fresh = BoardMirror::of(&server.board(workshop.board, &token).await);
        assert!(mirror.as_ref() == Some(&fresh), "a resumed client's board differs from the server's");
        again.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_sends_but_never_reads_is_let_go() {
    let write_timeout = Duration::from_secs(1);
    let server = TestServer::start_with(move |config| {
        config.heartbeat_interval = write_timeout;
        // It keeps talking, so it is never silent: only its not reading can end it.
        config.client_timeout = Duration::from_secs(60);
    })
    .await;
    let workshop = Workshop::open(&server).await;
    let observer = kipina_tests::link_part(&workshop.links.observer);
    let mut client = WsClient::connect_with_receive_buffer(&server, workshop.board, observer, None, 4096).await;
    // Each of these is answered with `unknown_message` naming the type: about 60 kB that the
    // client never reads, until the server cannot write the answer.
    let message = serde_json::json!({ "type": "x".repeat(60_000) }).to_string();
    let mut sent = 0;
    let mut let_go_by = None;
    while server.metric("kipina_connections").await != 0.0 {
        let went = sent < 1_000
            && client
                .try_send_message(
                    tokio_tungstenite::tungstenite::Message::text(message.clone()),
                    Duration::from_millis(500),
                )
                .await;
        if went {
            sent += 1;
            continue;
        }
        // A send that waited (the server has stopped reading this client, or the machine is
        // busy) or nothing left to send: from now on the server must let the client go. A busy
        // machine's stall is harmless: the next send goes and the client keeps filling.
        let deadline = *let_go_by.get_or_insert(tokio::time::Instant::now() + write_timeout + WAIT);
        assert!(
            tokio::time::Instant::now() < deadline,
            "a connection that sent {sent} messages and read none of the answers is still open"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The board goes on for everyone else.
    let reader = workshop.participant(&server, "Lukija").await;
    let mut reader = WsClient::connect_and_settle(&server, workshop.board, &reader.token, None).await;
    reader.applied(add_card(workshop.column, "Yhä täällä").1).await;
}
