//! The baseline: a bare actix-ws server that does nothing but fan-out, written the way a careful
//! hand-written server would be, to show what the same machine and the same WebSocket stack cost
//! without Kipinä's domain, store and `fsync`.
//!
//! Every client first sends a subscription and is welcomed, as Kipinä's clients are. Readers
//! connect to `/clients`; each gets an outbox (a bounded channel) and a task of its own that
//! writes the outbox to its `actix_ws::Session`, so a slow reader never holds up the others. The
//! writer connects to `/trigger` and sends `{"seq":N}`; the server encodes one message of the
//! requested size once, puts the same bytes into every outbox without waiting (a reader whose
//! outbox is full is dropped), and then answers the writer, as Kipinä sends `changed` before
//! `ack`. Like Kipinä it runs two HTTP workers with actix's socket defaults (Nagle's algorithm on).

use crate::clients::{Glance, ReaderSees, Readers, Rig, Writer, WriterSees};
use crate::server_thread::{ServerThread, Started};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use actix_ws::{AggregatedMessage, Session};
use bytestring::ByteString;
use futures_util::StreamExt;
use serde::Deserialize;
use std::net::TcpListener;
use std::sync::Mutex;
use tokio::sync::mpsc;

/// Messages that may wait for one reader before it is dropped (Kipinä's outbox holds 256).
const OUTBOX_CAPACITY: usize = 256;
/// HTTP worker threads, as `Config::for_tests` gives Kipinä.
const WORKERS: usize = 2;

/// What the bare server shares between its workers.
#[derive(Debug)]
struct Hub {
    outboxes: Mutex<Vec<mpsc::Sender<ByteString>>>,
    message_bytes: usize,
}

/// What the writer sends.
#[derive(Deserialize)]
struct Trigger {
    seq: u64,
}

/// What every client sends first, as Kipinä's clients send `subscribe`, and the answer.
const SUBSCRIBE: &str = r#"{"type":"subscribe"}"#;
const WELCOME: &str = r#"{"type":"welcome"}"#;

/// A `changed`-like message of exactly `bytes` bytes (or the smallest one, if `bytes` is less).
fn broadcast_message(seq: u64, bytes: usize) -> String {
    let bare = format!(r#"{{"type":"changed","first_seq":{seq},"last_seq":{seq},"pad":""}}"#);
    let pad = "x".repeat(bytes.saturating_sub(bare.len()));
    format!(r#"{{"type":"changed","first_seq":{seq},"last_seq":{seq},"pad":"{pad}"}}"#)
}

async fn reader(request: HttpRequest, body: web::Payload, hub: web::Data<Hub>) -> actix_web::Result<HttpResponse> {
    let (response, session, stream) = actix_ws::handle(&request, body)?;
    actix_web::rt::spawn(serve_reader(session, stream, hub));
    Ok(response)
}

/// Registers a reader when it subscribes, then writes its outbox to its socket and answers its
/// pings, until either side ends or the hub drops the reader.
async fn serve_reader(mut session: Session, stream: actix_ws::MessageStream, hub: web::Data<Hub>) {
    let mut stream = stream.aggregate_continuations();
    let (outbox, mut pending) = mpsc::channel(OUTBOX_CAPACITY);
    // Held here until the reader subscribes, then handed to the hub.
    let mut unregistered = Some(outbox);
    loop {
        tokio::select! {
            message = pending.recv() => match message {
                Some(message) => {
                    if session.text(message).await.is_err() {
                        return;
                    }
                }
                // Dropped from the hub for falling behind.
                None => break,
            },
            incoming = stream.next() => match incoming {
                Some(Ok(AggregatedMessage::Text(text))) if text == SUBSCRIBE => {
                    if let Some(outbox) = unregistered.take() {
                        // The welcome is queued before the reader is in the hub, so it comes
                        // first, and a reader that has it is in every later broadcast.
                        let _ = outbox.try_send(ByteString::from_static(WELCOME));
                        hub.outboxes.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(outbox);
                    }
                }
                Some(Ok(AggregatedMessage::Ping(bytes))) => {
                    if session.pong(&bytes).await.is_err() {
                        return;
                    }
                }
                Some(Ok(AggregatedMessage::Close(_))) | Some(Err(_)) | None => break,
                Some(Ok(_)) => {}
            },
        }
    }
    let _ = session.close(None).await;
}

async fn trigger(request: HttpRequest, body: web::Payload, hub: web::Data<Hub>) -> actix_web::Result<HttpResponse> {
    let (response, session, stream) = actix_ws::handle(&request, body)?;
    actix_web::rt::spawn(serve_trigger(session, stream, hub));
    Ok(response)
}

/// Broadcasts a message for every trigger, then answers the trigger.
async fn serve_trigger(mut session: Session, stream: actix_ws::MessageStream, hub: web::Data<Hub>) {
    let mut stream = stream.aggregate_continuations();
    while let Some(incoming) = stream.next().await {
        match incoming {
            Ok(AggregatedMessage::Text(text)) if text == SUBSCRIBE => {
                if session.text(WELCOME).await.is_err() {
                    return;
                }
            }
            Ok(AggregatedMessage::Text(text)) => {
                let Ok(Trigger { seq }) = serde_json::from_str(&text) else { break };
                let message = ByteString::from(broadcast_message(seq, hub.message_bytes));
                {
                    let mut outboxes = hub.outboxes.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                    outboxes.retain(|outbox| match outbox.try_send(message.clone()) {
                        Ok(()) => true,
                        // The reader's task ends when its outbox closes, and the client notices.
                        Err(mpsc::error::TrySendError::Full(_) | mpsc::error::TrySendError::Closed(_)) => false,
                    });
                }
                let ack = format!(r#"{{"type":"ack","last_seq":{seq}}}"#);
                if session.text(ack).await.is_err() {
                    return;
                }
            }
            Ok(AggregatedMessage::Ping(bytes)) => {
                if session.pong(&bytes).await.is_err() {
                    return;
                }
            }
            Ok(AggregatedMessage::Close(_)) | Err(_) => break,
            Ok(_) => {}
        }
    }
    let _ = session.close(None).await;
}

fn start_server(message_bytes: usize) -> anyhow::Result<Started> {
    let hub = web::Data::new(Hub { outboxes: Mutex::new(Vec::new()), message_bytes });
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(hub.clone())
            .route("/clients", web::get().to(reader))
            .route("/trigger", web::get().to(trigger))
    })
    .workers(WORKERS)
    .shutdown_timeout(10)
    .listen(listener)?
    .run();
    let handle = server.handle();
    Ok(Started { port, handle, serve: Box::pin(server) })
}

fn reader_sees(text: &str) -> ReaderSees {
    match serde_json::from_str::<Glance>(text) {
        Ok(message) if message.kind == "welcome" => ReaderSees::Ready { head: Some(0) },
        Ok(Glance { kind, first_seq, last_seq }) if kind == "changed" => ReaderSees::Changed { first_seq, last_seq },
        Ok(_) | Err(_) => ReaderSees::Fatal(format!("an unexpected message: {text}")),
    }
}

fn writer_sees(text: &str) -> WriterSees {
    match serde_json::from_str::<Glance>(text) {
        Ok(message) if message.kind == "welcome" => WriterSees::Ready,
        Ok(message) if message.kind == "ack" => WriterSees::Answered(message.last_seq),
        Ok(_) | Err(_) => WriterSees::Fatal(format!("an unexpected message: {text}")),
    }
}

/// Starts the bare server on its own thread, broadcasting messages of `message_bytes` bytes.
pub async fn start(message_bytes: usize) -> anyhow::Result<ServerThread> {
    ServerThread::start("bare-actix-ws", move || async move { start_server(message_bytes) }).await
}

/// Connects a writer and `clients` readers to the bare server and waits until all are welcomed.
pub async fn connect(server: &ServerThread, clients: usize) -> anyhow::Result<Rig> {
    let origin = server.base_url();
    let trigger_url = format!("ws://127.0.0.1:{}/trigger", server.port());
    let mut writer = Writer::connect(&trigger_url, &origin, Some(SUBSCRIBE.into()), writer_sees).await?;
    writer.ready().await?;
    let url = format!("ws://127.0.0.1:{}/clients", server.port());
    let mut readers = Readers::connect(clients, &url, &origin, Some(SUBSCRIBE.into()), reader_sees).await?;
    readers.ready().await?;
    Ok(Rig::new(writer, readers, 1, Box::new(|_round, seq| Ok(format!(r#"{{"seq":{seq}}}"#)))))
}

#[cfg(test)]
mod tests {
    use super::broadcast_message;

    #[test]
    fn broadcast_messages_have_the_asked_size() {
        for (seq, bytes) in [(1, 700), (123_456, 700), (7, 1_500)] {
            assert_eq!(broadcast_message(seq, bytes).len(), bytes);
        }
        let message: serde_json::Value = serde_json::from_str(&broadcast_message(42, 300)).expect("valid JSON");
        assert_eq!(message["last_seq"], 42);
    }
}
