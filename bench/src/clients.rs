//! The client side of a fan-out run, the same for Kipinä and for the bare baseline: reader
//! connections that each read their socket in a task of their own and timestamp every message the
//! moment it arrives, one writer connection whose answers are timestamped the same way, and the
//! round loop that sends one message, waits until the writer has its answer and every reader has
//! the round's sequence number, and keeps the times.
//!
//! What a message means differs between the two servers, so each scenario hands in a function
//! that classifies a text frame ([`ReaderSees`], [`WriterSees`]); everything that is timed is here.
//! Nothing waits by sleeping: every wait is for a message, under a deadline ([`WAIT`]) that fails
//! the run with what was missing.

use anyhow::{Context as _, anyhow, bail};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use std::future::Future;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How long any one step (a connection, the set-up, a round) may take before the run fails.
pub const WAIT: Duration = Duration::from_secs(10);

/// How many reader connections are opened at the same time.
const CONNECT_CONCURRENTLY: usize = 8;

/// Opens a WebSocket with an `Origin` header, as a browser on the server's own page would.
pub async fn open(url: &str, origin: &str) -> anyhow::Result<Socket> {
    let mut request = url.into_client_request().with_context(|| format!("a WebSocket request for {url}"))?;
    request.headers_mut().insert("Origin", HeaderValue::from_str(origin)?);
    // Browsers turn Nagle's algorithm off on WebSockets, and so do these clients.
    let connecting = tokio_tungstenite::connect_async_with_config(request, None, true);
    let (socket, _response) = tokio::time::timeout(WAIT, connecting)
        .await
        .map_err(|_| anyhow!("the WebSocket upgrade at {url} was not answered within {WAIT:?}"))?
        .with_context(|| format!("the WebSocket upgrade at {url}"))?;
    Ok(socket)
}

/// What a reader reads of a message: its type and, for a change, its sequence numbers. The rest
/// (a change's content, the bare baseline's padding) is skipped, not decoded, so that Kipinä's
/// readers and the baseline's do the same work for each message: the clients share the two
/// cores with the server, and a reader decoding a whole `changed` (about 1.4 kB of cards and ids)
/// held up the readers after it on the same thread, which the bare baseline's did not.
#[derive(Debug, serde::Deserialize)]
pub struct Glance {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub first_seq: u64,
    #[serde(default)]
    pub last_seq: u64,
}

/// What a reader makes of one text message.
#[derive(Debug)]
pub enum ReaderSees {
    /// The board as of this sequence number (a snapshot); changes continue from here.
    Head(u64),
    /// The reader is subscribed and everyone else is too, so rounds may start. `head`, when
    /// given, is the sequence number changes continue from.
    Ready { head: Option<u64> },
    /// A change covering `first_seq..=last_seq`.
    Changed { first_seq: u64, last_seq: u64 },
    /// Nothing the measurement needs (presence, say).
    Other,
    /// Something that makes the run meaningless: the server dropped the reader, or an error.
    Fatal(String),
}

/// What the writer makes of one text message.
#[derive(Debug)]
pub enum WriterSees {
    /// The writer is subscribed.
    Ready,
    /// The answer to the message that produced this sequence number.
    Answered(u64),
    /// Nothing the measurement needs (its own copy of a change, presence).
    Other,
    /// A refusal or a dropped connection.
    Fatal(String),
}

#[derive(Debug)]
enum ReaderEvent {
    Ready { reader: usize },
    Received { reader: usize, seq: u64, at: Instant, bytes: usize },
    Failed { reader: usize, reason: String },
}

#[derive(Debug)]
enum WriterEvent {
    Ready,
    Answered { seq: u64, at: Instant },
    Failed(String),
}

/// Every reader connection of a run; each reads its socket in its own task.
#[derive(Debug)]
pub struct Readers {
    count: usize,
    events: mpsc::UnboundedReceiver<ReaderEvent>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Readers {
    /// Opens `count` connections to `url`, sends `hello` on each (a subscription, or nothing),
    /// and starts reading. `classify` turns each text frame into what the reader should do.
    pub async fn connect<F>(
        count: usize,
        url: &str,
        origin: &str,
        hello: Option<String>,
        classify: F,
    ) -> anyhow::Result<Self>
    where
        F: Fn(&str) -> ReaderSees + Clone + Send + Sync + 'static,
    {
        let (sender, events) = mpsc::unbounded_channel();
        let (stop, stopped) = watch::channel(false);
        let opened: Vec<anyhow::Result<JoinHandle<()>>> = futures_util::stream::iter(0..count)
            .map(|reader| {
                let (hello, classify, sender, stopped) =
                    (hello.clone(), classify.clone(), sender.clone(), stopped.clone());
                async move {
                    let mut socket = open(url, origin).await?;
                    if let Some(hello) = hello {
                        socket.send(Message::text(hello)).await.context("sending the subscription")?;
                    }
                    Ok(tokio::spawn(read_as_reader(reader, socket, classify, sender, stopped)))
                }
            })
            .buffer_unordered(CONNECT_CONCURRENTLY)
            .collect()
            .await;
        let tasks = opened.into_iter().collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Self { count, events, stop, tasks })
    }

    /// Waits until every reader has said it is ready.
    pub async fn ready(&mut self) -> anyhow::Result<()> {
        let deadline = tokio::time::Instant::now() + WAIT;
        let mut ready = vec![false; self.count];
        let mut waiting = self.count;
        while waiting > 0 {
            let event = tokio::time::timeout_at(deadline, self.events.recv()).await.map_err(|_| {
                anyhow!("{waiting} of {} readers were not subscribed and settled within {WAIT:?}", self.count)
            })?;
            match event {
                Some(ReaderEvent::Ready { reader }) if !ready[reader] => {
                    ready[reader] = true;
                    waiting -= 1;
                }
                Some(ReaderEvent::Ready { .. }) => {}
                Some(ReaderEvent::Received { reader, seq, .. }) => {
                    bail!("reader {reader} received sequence number {seq} before the first round")
                }
                Some(ReaderEvent::Failed { reader, reason }) => {
                    bail!("reader {reader} failed while settling: {reason}")
                }
                None => bail!("every reader task has ended"),
            }
        }
        Ok(())
    }

    /// Closes every connection cleanly and waits (a bounded time) for the tasks to end.
    pub async fn close(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = tokio::time::timeout(WAIT, task).await;
        }
    }
}

/// Reads one reader's socket until it ends or the run stops, reporting every change.
async fn read_as_reader<F>(
    reader: usize,
    mut socket: Socket,
    classify: F,
    events: mpsc::UnboundedSender<ReaderEvent>,
    mut stop: watch::Receiver<bool>,
) where
    F: Fn(&str) -> ReaderSees,
{
    let fail = |reason: String| {
        let _ = events.send(ReaderEvent::Failed { reader, reason });
    };
    let mut last_seen: Option<u64> = None;
    let mut ready = false;
    loop {
        tokio::select! {
            message = socket.next() => {
                // The time of arrival, before any parsing.
                let at = Instant::now();
                let text = match message {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Close(frame))) => return fail(format!("the server closed the connection: {frame:?}")),
                    Some(Ok(_)) => continue,
                    Some(Err(error)) => return fail(format!("the connection failed: {error}")),
                    None => return fail("the connection ended".into()),
                };
                match classify(text.as_str()) {
                    ReaderSees::Head(seq) => last_seen = Some(seq),
                    ReaderSees::Ready { head } => {
                        if let Some(seq) = head {
                            last_seen = Some(seq);
                        }
                        if !ready {
                            ready = true;
                            let _ = events.send(ReaderEvent::Ready { reader });
                        }
                    }
                    ReaderSees::Changed { first_seq, last_seq } => {
                        // Delivery must be gap-free and in order, or the times mean nothing.
                        match last_seen {
                            Some(seen) if first_seq == seen + 1 => last_seen = Some(last_seq),
                            seen => return fail(format!("changed {first_seq}..={last_seq} after {seen:?}")),
                        }
                        let _ = events.send(ReaderEvent::Received { reader, seq: last_seq, at, bytes: text.len() });
                    }
                    ReaderSees::Other => {}
                    ReaderSees::Fatal(reason) => return fail(reason),
                }
            }
            _ = stop.changed() => {
                let _ = tokio::time::timeout(WAIT, socket.close(None)).await;
                // Read up to the server's close frame so the server sees a clean close.
                let _ = tokio::time::timeout(WAIT, async { while socket.next().await.is_some() {} }).await;
                return;
            }
        }
    }
}

/// The one connection that makes every change (Kipinä) or triggers every broadcast (baseline).
#[derive(Debug)]
pub struct Writer {
    sink: SplitSink<Socket, Message>,
    events: mpsc::UnboundedReceiver<WriterEvent>,
    task: JoinHandle<()>,
}

impl Writer {
    /// Opens the connection, sends `hello` (a subscription) if any, and starts reading.
    pub async fn connect<F>(url: &str, origin: &str, hello: Option<String>, classify: F) -> anyhow::Result<Self>
    where
        F: Fn(&str) -> WriterSees + Send + 'static,
    {
        let socket = open(url, origin).await?;
        let (mut sink, stream) = socket.split();
        if let Some(hello) = hello {
            sink.send(Message::text(hello)).await.context("sending the writer's subscription")?;
        }
        let (sender, events) = mpsc::unbounded_channel();
        let task = tokio::spawn(read_as_writer(stream, classify, sender));
        Ok(Self { sink, events, task })
    }

    /// Waits until the writer is subscribed.
    pub async fn ready(&mut self) -> anyhow::Result<()> {
        let event = tokio::time::timeout(WAIT, self.events.recv())
            .await
            .map_err(|_| anyhow!("the writer was not subscribed within {WAIT:?}"))?;
        match event {
            Some(WriterEvent::Ready) => Ok(()),
            Some(WriterEvent::Answered { seq, .. }) => bail!("the writer got an answer ({seq}) before asking"),
            Some(WriterEvent::Failed(reason)) => bail!("the writer failed while subscribing: {reason}"),
            None => bail!("the writer's task has ended"),
        }
    }

    /// Closes the connection and waits (a bounded time) for its reading task to end.
    pub async fn close(mut self) {
        let _ = tokio::time::timeout(WAIT, self.sink.close()).await;
        let _ = tokio::time::timeout(WAIT, self.task).await;
    }
}

async fn read_as_writer<F>(mut stream: SplitStream<Socket>, classify: F, events: mpsc::UnboundedSender<WriterEvent>)
where
    F: Fn(&str) -> WriterSees,
{
    let fail = |reason: String| {
        let _ = events.send(WriterEvent::Failed(reason));
    };
    loop {
        let message = stream.next().await;
        let at = Instant::now();
        let text = match message {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Close(frame))) => return fail(format!("the server closed the connection: {frame:?}")),
            Some(Ok(_)) => continue,
            Some(Err(error)) => return fail(format!("the connection failed: {error}")),
            None => return fail("the connection ended".into()),
        };
        match classify(text.as_str()) {
            WriterSees::Ready => {
                let _ = events.send(WriterEvent::Ready);
            }
            WriterSees::Answered(seq) => {
                let _ = events.send(WriterEvent::Answered { seq, at });
            }
            WriterSees::Other => {}
            WriterSees::Fatal(reason) => return fail(reason),
        }
    }
}

/// The times of one round.
#[derive(Clone, Copy, Debug)]
pub struct Sample {
    /// From just before the writer's message was written to the writer receiving its answer.
    pub send_to_ack: Duration,
    /// From just before the writer's message was written to the last reader receiving the change.
    pub send_to_last: Duration,
    /// From the writer's answer to the last reader's receipt, 0 when every reader was earlier.
    pub ack_to_last: Duration,
    /// Whether every reader had the change before the writer had its answer.
    pub all_before_ack: bool,
    /// The length of the change message (text bytes).
    pub message_bytes: usize,
}

/// What a writer sends in a round: the text for round `round`, which must produce sequence
/// number `seq`.
pub type MakeMessage = Box<dyn Fn(usize, u64) -> anyhow::Result<String> + Send>;

/// One server's writer and readers, connected and ready, and how far its rounds have got: runs
/// can be split into blocks and interleaved with another server's, and the rounds still count on.
pub struct Rig {
    writer: Writer,
    readers: Readers,
    /// The next round's number (rounds run so far).
    round: usize,
    /// The sequence number the next round produces.
    next_seq: u64,
    message: MakeMessage,
}

impl Rig {
    /// A rig whose first round produces `first_seq`.
    pub fn new(writer: Writer, readers: Readers, first_seq: u64, message: MakeMessage) -> Self {
        Self { writer, readers, round: 0, next_seq: first_seq, message }
    }

    /// Runs `count` rounds, one after another: each sends its message, which must produce the
    /// next sequence number, and waits for the writer's answer and every reader's copy before
    /// the next round. The messages are made beforehand so that making them is not timed.
    /// Returns one sample per round.
    pub async fn rounds(&mut self, count: usize) -> anyhow::Result<Vec<Sample>> {
        let messages = (self.round..self.round + count)
            .zip(self.next_seq..)
            .map(|(round, seq)| (self.message)(round, seq))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let mut samples = Vec::with_capacity(count);
        for text in messages {
            samples.push(run_round(&mut self.writer, &mut self.readers, self.round, self.next_seq, text).await?);
            self.round += 1;
            self.next_seq += 1;
        }
        Ok(samples)
    }

    /// Closes every connection and waits for the tasks that read them.
    pub async fn close(self) {
        self.readers.close().await;
        self.writer.close().await;
    }
}

async fn run_round(
    writer: &mut Writer,
    readers: &mut Readers,
    round: usize,
    seq: u64,
    text: String,
) -> anyhow::Result<Sample> {
    let sent_at = Instant::now();
    let deadline = tokio::time::Instant::from_std(sent_at + WAIT);
    send_before(deadline, writer.sink.send(Message::text(text))).await.with_context(|| format!("round {round}"))?;
    let mut answered_at: Option<Instant> = None;
    let mut received = vec![false; readers.count];
    let mut waiting = readers.count;
    let mut last_at = sent_at;
    let mut message_bytes = 0;
    while answered_at.is_none() || waiting > 0 {
        tokio::select! {
            event = writer.events.recv(), if answered_at.is_none() => match event {
                Some(WriterEvent::Answered { seq: answered, at }) if answered == seq => answered_at = Some(at),
                Some(WriterEvent::Answered { seq: answered, .. }) => {
                    bail!("round {round}: the writer's answer was for sequence number {answered}, not {seq}")
                }
                Some(WriterEvent::Ready) => {}
                Some(WriterEvent::Failed(reason)) => bail!("round {round}: the writer failed: {reason}"),
                None => bail!("round {round}: the writer's task has ended"),
            },
            event = readers.events.recv() => match event {
                Some(ReaderEvent::Received { reader, seq: got, at, bytes }) => {
                    if got != seq {
                        bail!("round {round}: reader {reader} received sequence number {got}, not {seq}");
                    }
                    if std::mem::replace(&mut received[reader], true) {
                        bail!("round {round}: reader {reader} received sequence number {seq} twice");
                    }
                    waiting -= 1;
                    last_at = last_at.max(at);
                    message_bytes = bytes;
                }
                Some(ReaderEvent::Ready { .. }) => {}
                Some(ReaderEvent::Failed { reader, reason }) => bail!("round {round}: reader {reader} failed: {reason}"),
                None => bail!("round {round}: every reader task has ended"),
            },
            () = tokio::time::sleep_until(deadline) => {
                let answer = if answered_at.is_some() { "had its answer" } else { "had no answer" };
                bail!(
                    "round {round} (sequence number {seq}) timed out after {WAIT:?}: the writer {answer}, \
                     {waiting} of {} readers had not received it",
                    readers.count
                );
            }
        }
    }
    // The loop above only ends once the answer is in.
    let answered_at = answered_at.ok_or_else(|| anyhow!("round {round}: no answer"))?;
    Ok(Sample {
        send_to_ack: answered_at.duration_since(sent_at),
        send_to_last: last_at.duration_since(sent_at),
        ack_to_last: last_at.saturating_duration_since(answered_at),
        all_before_ack: last_at <= answered_at,
        message_bytes,
    })
}

async fn send_before<T, E>(
    deadline: tokio::time::Instant,
    sending: impl Future<Output = Result<T, E>>,
) -> anyhow::Result<T>
where
    E: std::error::Error + Send + Sync + 'static,
{
    tokio::time::timeout_at(deadline, sending)
        .await
        .map_err(|_| anyhow!("the writer's message was not sent within {WAIT:?}"))?
        .context("sending the writer's message")
}
