//! The frames a connection sends: the body of its WebSocket response.
//!
//! The board puts its messages (changes, answers, presence) into the connection's outbox, and
//! this body encodes them into frames when the HTTP dispatcher asks for more to write: no task
//! of the connection's own stands between the board and the socket, so a change reaches 300
//! readers with one wake-up each, as a bare actix-ws broadcast does (see
//! `docs/adr/0009-frames-straight-from-the-outbox.md`).
//!
//! The connection's own messages (errors about what a client sent, pings, pongs and the closing
//! frame) go through a second, small channel, written after everything the outbox holds, so a
//! closing frame follows the board's messages that came before it.

use super::OUTBOX_CAPACITY;
use actix_codec::Encoder as _;
use actix_http::ws::{Codec, Item, Message};
use actix_web::body::{BodyStream, BoxBody, MessageBody as _};
use actix_web::web::{Bytes, BytesMut};
use actix_web::{HttpRequest, HttpResponse, web};
use bytestring::ByteString;
use futures_util::Stream;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};
use tokio::sync::{Notify, mpsc};

/// How many of the connection's own frames may wait to be written; a client that does not read
/// fills it, and the connection then gives up on it (see `connection::Connection::send`).
pub const CONTROL_CAPACITY: usize = 32;

/// What a connection writes to: the outbox it hands to the board, its own frames, and what it
/// sees of them being written.
#[derive(Debug)]
pub struct Link {
    pub outbox: mpsc::Sender<ByteString>,
    pub own: mpsc::Sender<Own>,
    pub written: Arc<Written>,
}

/// Accepts a WebSocket upgrade: the response (whose body is the connection's `Frames`), the
/// connection's `Link` to it, and the stream of the client's messages.
///
/// actix-ws does the handshake's checks and parses what the client sends; the frames the
/// server sends are this module's.
pub fn accept(
    request: &HttpRequest,
    payload: web::Payload,
) -> Result<(HttpResponse, Link, actix_ws::MessageStream), actix_web::Error> {
    let (parser_response, _unused_session, stream) = actix_ws::handle(request, payload)?;
    let (outbox, outbox_rx) = mpsc::channel(OUTBOX_CAPACITY);
    let (own, own_rx) = mpsc::channel(CONTROL_CAPACITY);
    let written = Arc::new(Written::default());
    let frames = Frames::new(outbox_rx, own_rx, Arc::clone(&written), parser_response.into_body());
    let response = actix_http::ws::handshake(request.head())?.message_body(BodyStream::new(frames).boxed())?;
    Ok((response.into(), Link { outbox, own, written }, stream))
}

/// Frames are handed to the dispatcher in chunks of about this many bytes (a chunk ends after the
/// frame that reaches it): what a client has not read yet waits in its outbox, where it counts
/// (the connection holds its client back, the board lets a connection go that fell behind), not
/// in the dispatcher's buffer.
const CHUNK_BYTES: usize = 64 * 1024;

/// A message longer than this goes out in fragments of this size: the dispatcher asks for the
/// next one only when it has written most of the one before, so a connection sees a client that
/// reads a large snapshot slowly still making progress (see `Written`), fragment by fragment.
const FRAGMENT_BYTES: usize = 64 * 1024;

/// A frame the connection itself sends.
#[derive(Debug)]
pub enum Own {
    Text(ByteString),
    Ping,
    Pong(Bytes),
    Close(Option<actix_ws::CloseReason>),
}

/// What the connection sees of its frames being written.
#[derive(Debug, Default)]
pub struct Written {
    /// Frames written into the dispatcher's buffer so far.
    frames: AtomicU64,
    /// The rest of a message being sent in fragments waits to be written.
    holding: AtomicBool,
    /// Told each time frames were written: a connection that stopped reading its client while
    /// its outbox was full waits for this.
    notify: Notify,
}

impl Written {
    /// How many frames have been handed to the dispatcher.
    pub fn count(&self) -> u64 {
        self.frames.load(Ordering::Acquire)
    }

    /// Whether the rest of a message sent in fragments waits to be written.
    pub fn holding(&self) -> bool {
        self.holding.load(Ordering::Acquire)
    }

    /// Waits until frames are written after this is called (or were since the last wait).
    pub async fn more(&self) {
        self.notify.notified().await;
    }
}

/// The response body of one WebSocket: the outbox's messages and the connection's own frames,
/// encoded as the dispatcher asks for them.
#[derive(Debug)]
pub struct Frames {
    outbox: mpsc::Receiver<ByteString>,
    own: mpsc::Receiver<Own>,
    written: Arc<Written>,
    codec: Codec,
    buffer: BytesMut,
    /// The closing frame is encoded: nothing follows it.
    closing: bool,
    outbox_done: bool,
    own_done: bool,
    /// What is left of a message being sent in fragments.
    rest: Option<Bytes>,
    /// actix-ws's own response body, never polled: dropping it when this body is dropped tells
    /// the message stream (which actix-ws parses the client's frames with) that the connection
    /// is gone.
    _parser_link: BoxBody,
}

impl Frames {
    pub fn new(
        outbox: mpsc::Receiver<ByteString>,
        own: mpsc::Receiver<Own>,
        written: Arc<Written>,
        parser_link: BoxBody,
    ) -> Self {
        Self {
            outbox,
            own,
            written,
            codec: Codec::new(),
            buffer: BytesMut::new(),
            closing: false,
            outbox_done: false,
            own_done: false,
            rest: None,
            _parser_link: parser_link,
        }
    }

    fn encode(&mut self, message: Message) -> Result<(), actix_http::ws::ProtocolError> {
        self.codec.encode(message, &mut self.buffer)
    }

    /// Encodes a text message of the board's: whole, or the first fragment of it.
    fn encode_text(&mut self, text: ByteString) -> Result<(), actix_http::ws::ProtocolError> {
        if text.len() <= FRAGMENT_BYTES {
            return self.encode(Message::Text(text));
        }
        let mut bytes = text.into_bytes();
        let first = bytes.split_to(FRAGMENT_BYTES);
        self.rest = Some(bytes);
        self.encode(Message::Continuation(Item::FirstText(first)))
    }

    /// Encodes the next fragment of the message being sent in fragments.
    fn encode_rest(&mut self, mut rest: Bytes) -> Result<(), actix_http::ws::ProtocolError> {
        if rest.len() <= FRAGMENT_BYTES {
            return self.encode(Message::Continuation(Item::Last(rest)));
        }
        let next = rest.split_to(FRAGMENT_BYTES);
        self.rest = Some(rest);
        self.encode(Message::Continuation(Item::Continue(next)))
    }
}

/// Control frames carry at most 125 bytes: a close frame's reason at most 123 after its code.
const MAX_CLOSE_REASON_BYTES: usize = 123;

fn bounded(reason: Option<actix_ws::CloseReason>) -> Option<actix_ws::CloseReason> {
    reason.map(|mut reason| {
        if let Some(description) = reason.description.as_mut()
            && description.len() > MAX_CLOSE_REASON_BYTES
        {
            let mut end = MAX_CLOSE_REASON_BYTES;
            while !description.is_char_boundary(end) {
                end -= 1;
            }
            description.truncate(end);
        }
        reason
    })
}

impl Stream for Frames {
    type Item = Result<Bytes, actix_http::ws::ProtocolError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let mut frames = 0u64;
        if !this.closing {
            // The board's messages first, then the connection's own: a closing frame is
            // written after what the board had already put into the outbox.
            let mut outbox_empty = false;
            while this.buffer.len() < CHUNK_BYTES {
                // A message in fragments is finished before anything else is written.
                if let Some(rest) = this.rest.take() {
                    if let Err(error) = this.encode_rest(rest) {
                        return Poll::Ready(Some(Err(error)));
                    }
                    frames += 1;
                    continue;
                }
                if this.outbox_done {
                    break;
                }
                match this.outbox.poll_recv(cx) {
                    Poll::Ready(Some(text)) => {
                        if let Err(error) = this.encode_text(text) {
                            return Poll::Ready(Some(Err(error)));
                        }
                        frames += 1;
                    }
                    Poll::Ready(None) => this.outbox_done = true,
                    Poll::Pending => {
                        outbox_empty = true;
                        break;
                    }
                }
            }
            // The connection's own frames only once the outbox is empty: a closing frame must
            // not overtake the board's messages.
            while (outbox_empty || this.outbox_done) && this.rest.is_none() && !this.own_done && !this.closing {
                let message = match this.own.poll_recv(cx) {
                    Poll::Ready(Some(Own::Text(text))) => Message::Text(text),
                    Poll::Ready(Some(Own::Ping)) => Message::Ping(Bytes::new()),
                    Poll::Ready(Some(Own::Pong(bytes))) => Message::Pong(bytes),
                    Poll::Ready(Some(Own::Close(reason))) => {
                        this.closing = true;
                        Message::Close(bounded(reason))
                    }
                    Poll::Ready(None) => {
                        this.own_done = true;
                        break;
                    }
                    Poll::Pending => break,
                };
                if let Err(error) = this.encode(message) {
                    return Poll::Ready(Some(Err(error)));
                }
                frames += 1;
            }
            if this.closing {
                // Nothing is written after the closing frame; the board, finding the outbox
                // closed, lets the connection go as one that left.
                this.outbox.close();
                this.own.close();
            }
        }
        if frames > 0 {
            this.written.holding.store(this.rest.is_some(), Ordering::Release);
            this.written.frames.fetch_add(frames, Ordering::Release);
            this.written.notify.notify_one();
        }
        if !this.buffer.is_empty() {
            return Poll::Ready(Some(Ok(this.buffer.split().freeze())));
        }
        if this.closing || (this.outbox_done && this.own_done && this.rest.is_none()) {
            return Poll::Ready(None);
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_codec::Decoder as _;
    use actix_http::ws::Frame;
    use futures_util::StreamExt as _;

    /// Decodes what a client would read (the server's frames are not masked).
    fn frames_in(bytes: &[u8]) -> Vec<Frame> {
        let mut codec = Codec::new().client_mode();
        let mut buffer = BytesMut::from(bytes);
        let mut frames = Vec::new();
        while let Some(frame) = codec.decode(&mut buffer).expect("a valid frame") {
            frames.push(frame);
        }
        frames
    }

    /// A body with an outbox and a channel of the connection's own frames of 64 places each.
    fn body() -> (mpsc::Sender<ByteString>, mpsc::Sender<Own>, Arc<Written>, Frames) {
        let (outbox, outbox_rx) = mpsc::channel(64);
        let (own, own_rx) = mpsc::channel(64);
        let written = Arc::new(Written::default());
        let frames = Frames::new(outbox_rx, own_rx, Arc::clone(&written), BoxBody::new(()));
        (outbox, own, written, frames)
    }

    #[tokio::test]
    async fn the_outbox_is_written_before_the_closing_frame_and_nothing_after_it() {
        let (outbox, own, written, mut frames) = body();
        own.try_send(Own::Text("oma".into())).unwrap();
        outbox.try_send("yksi".into()).unwrap();
        outbox.try_send("kaksi".into()).unwrap();
        own.try_send(Own::Close(Some(actix_ws::CloseCode::Away.into()))).unwrap();
        own.try_send(Own::Text("liian myöhään".into())).unwrap();
        let bytes = frames.next().await.expect("frames").expect("encoded");
        let decoded = frames_in(&bytes);
        assert_eq!(decoded.len(), 4, "{decoded:?}");
        assert!(matches!(&decoded[0], Frame::Text(text) if &text[..] == b"yksi"));
        assert!(matches!(&decoded[1], Frame::Text(text) if &text[..] == b"kaksi"));
        assert!(matches!(&decoded[2], Frame::Text(text) if &text[..] == "oma".as_bytes()));
        assert!(matches!(&decoded[3], Frame::Close(Some(reason)) if reason.code == actix_ws::CloseCode::Away));
        assert!(frames.next().await.is_none(), "the body ends after the closing frame");
        assert_eq!(written.count(), 4);
        assert!(outbox.try_send("myöhässä".into()).is_err(), "the board finds the outbox closed");
    }

    #[tokio::test]
    async fn the_body_ends_when_neither_the_board_nor_the_connection_holds_it() {
        let (outbox, own, _, mut frames) = body();
        outbox.try_send("viimeinen".into()).unwrap();
        drop((outbox, own));
        let bytes = frames.next().await.expect("frames").expect("encoded");
        assert!(matches!(&frames_in(&bytes)[..], [Frame::Text(text)] if &text[..] == b"viimeinen"));
        assert!(frames.next().await.is_none());
    }

    #[tokio::test]
    async fn frames_go_out_in_bounded_chunks_and_the_closing_frame_waits_for_the_outbox() {
        let (outbox, own, _, mut frames) = body();
        let card = ByteString::from("x".repeat(10_000));
        for _ in 0..20 {
            outbox.try_send(card.clone()).unwrap();
        }
        own.try_send(Own::Close(None)).unwrap();
        let mut texts = 0;
        let mut closed = false;
        while let Some(chunk) = frames.next().await {
            let chunk = chunk.expect("encoded");
            assert!(chunk.len() < CHUNK_BYTES + 10_100, "a chunk of {} bytes", chunk.len());
            for frame in frames_in(&chunk) {
                match frame {
                    Frame::Text(_) => {
                        assert!(!closed, "a text after the closing frame");
                        texts += 1;
                    }
                    Frame::Close(_) => closed = true,
                    other => panic!("unexpected {other:?}"),
                }
            }
        }
        assert_eq!(texts, 20);
        assert!(closed);
        drop(outbox);
    }

    #[tokio::test]
    async fn a_long_message_goes_out_in_fragments_that_nothing_interrupts() {
        let (outbox, own, written, mut frames) = body();
        let snapshot = "ö".repeat(100_000); // 200,000 bytes: four fragments
        outbox.try_send(ByteString::from(snapshot.clone())).unwrap();
        own.try_send(Own::Text("virhe".into())).unwrap();
        let first = frames.next().await.expect("frames").expect("encoded");
        assert!(written.holding(), "the rest of the snapshot waits");
        outbox.try_send("presence".into()).unwrap();
        own.try_send(Own::Close(None)).unwrap();
        let mut decoder = Codec::new().client_mode();
        let mut buffer = BytesMut::from(&first[..]);
        let mut decoded = Vec::new();
        while let Some(frame) = decoder.decode(&mut buffer).expect("a valid frame") {
            decoded.push(frame);
        }
        assert_eq!(decoded.len(), 1, "one fragment per chunk: {decoded:?}");
        while let Some(chunk) = frames.next().await {
            buffer.extend_from_slice(&chunk.expect("encoded"));
            while let Some(frame) = decoder.decode(&mut buffer).expect("a valid frame") {
                decoded.push(frame);
            }
        }
        assert!(!written.holding());
        let mut text = Vec::new();
        let mut rest = decoded.into_iter();
        for expected in ["first", "continue", "continue", "last"] {
            match (expected, rest.next()) {
                ("first", Some(Frame::Continuation(Item::FirstText(bytes))))
                | ("continue", Some(Frame::Continuation(Item::Continue(bytes))))
                | ("last", Some(Frame::Continuation(Item::Last(bytes)))) => {
                    assert!(bytes.len() <= FRAGMENT_BYTES);
                    text.extend_from_slice(&bytes);
                }
                (expected, other) => panic!("expected the {expected} fragment, got {other:?}"),
            }
        }
        assert_eq!(text, snapshot.as_bytes(), "the fragments make up the message");
        // Then the board's next message, the connection's own, and the close, in that order.
        assert!(matches!(rest.next(), Some(Frame::Text(bytes)) if &bytes[..] == b"presence"));
        assert!(matches!(rest.next(), Some(Frame::Text(bytes)) if &bytes[..] == b"virhe"));
        assert!(matches!(rest.next(), Some(Frame::Close(None))));
        assert!(rest.next().is_none());
    }

    #[test]
    fn a_long_close_reason_is_cut_at_a_character_boundary() {
        let reason = actix_ws::CloseReason { code: actix_ws::CloseCode::Away, description: Some("ä".repeat(100)) };
        let description = bounded(Some(reason)).unwrap().description.unwrap();
        assert_eq!(description.len(), 122);
        assert!(description.chars().all(|c| c == 'ä'));
    }
}
