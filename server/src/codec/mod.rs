//! Turning domain events into stored payloads and back.
//!
//! An event is stored as its type name, its schema version and its payload (the variant's
//! fields as JSON). Reading goes the other way through [`upcast`]: a payload written by an older
//! version of Kipinä is brought up to the current version before it is decoded, so events
//! written in the first year still replay years later.
//!
//! Upcasters work on a `Value`; a payload that needs none (nearly every stored event) is decoded
//! by [`decode_raw`] straight from its raw JSON into the event instead, which is several times
//! cheaper. Both give the same event (tested for every kind of event).

pub mod upcast;

use kipina_domain::Event;
use serde::Deserialize as _;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

/// An event in its stored parts.
#[derive(Clone, Debug, PartialEq)]
pub struct EncodedEvent {
    pub event_type: &'static str,
    pub event_version: u32,
    pub payload: Value,
}

/// Why a stored payload could not be turned into an event.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("unknown event type {event_type:?} version {version}")]
    UnknownType { event_type: String, version: u32 },
    #[error("event type {event_type:?} version {version} is newer than this program understands")]
    FromTheFuture { event_type: String, version: u32 },
    #[error("event type {event_type:?} version {version} is old and no upcaster brings it to the current version")]
    MissingUpcaster { event_type: String, version: u32 },
    #[error("payload of {event_type:?} does not match its schema: {source}")]
    Payload { event_type: String, source: serde_json::Error },
}

/// Encodes an event for the store.
pub fn encode(event: &Event) -> EncodedEvent {
    // An `Event` is plain data with string keys, so serialising it into a `Value` cannot fail.
    let tagged = serde_json::to_value(event).unwrap_or(Value::Null);
    let payload = match tagged {
        Value::Object(mut object) => object.remove("data").unwrap_or(Value::Object(Map::new())),
        _ => Value::Object(Map::new()),
    };
    EncodedEvent { event_type: event.type_name(), event_version: event.version(), payload }
}

/// Decodes a stored payload of any known version into the current event.
pub fn decode(event_type: &str, version: u32, payload: Value) -> Result<Event, DecodeError> {
    let (version, payload) = upcast::to_current(event_type, version, payload)?;
    let mut tagged = Map::new();
    tagged.insert("type".into(), Value::String(event_type.to_owned()));
    tagged.insert("data".into(), payload);
    let event: Event =
        serde_json::from_value(Value::Object(tagged)).map_err(|source| payload_error(event_type, version, source))?;
    check_version(event_type, version, event)
}

/// Decodes a stored payload that needs no upcasting straight from its raw JSON into the event,
/// without building a `Value`: what [`decode`] does, for `(type, version)`s for which
/// [`upcast::applies`] is false. Sealed personal fields in it open only inside
/// `kipina_domain::with_opener`.
pub fn decode_raw(event_type: &str, version: u32, payload: &RawValue) -> Result<Event, DecodeError> {
    let mut data = serde_json::Deserializer::from_str(payload.get());
    let event = Event::deserialize(Tagged { event_type, data: &mut data, next: TaggedField::Type })
        .and_then(|event| data.end().map(|()| event))
        .map_err(|source| payload_error(event_type, version, source))?;
    check_version(event_type, version, event)
}

/// An error from deserializing a payload as the event `event_type`.
fn payload_error(event_type: &str, version: u32, source: serde_json::Error) -> DecodeError {
    if source.to_string().contains("unknown variant") {
        DecodeError::UnknownType { event_type: event_type.to_owned(), version }
    } else {
        DecodeError::Payload { event_type: event_type.to_owned(), source }
    }
}

/// The event, if the stored version is its current one.
fn check_version(event_type: &str, version: u32, event: Event) -> Result<Event, DecodeError> {
    if version > event.version() {
        return Err(DecodeError::FromTheFuture { event_type: event_type.to_owned(), version });
    }
    if version < event.version() {
        return Err(DecodeError::MissingUpcaster { event_type: event_type.to_owned(), version });
    }
    Ok(event)
}

/// The stored type and raw payload presented as the map `{"type": …, "data": …}` that `Event`'s
/// adjacently tagged `Deserialize` reads, the tag first, so the payload is deserialized in place
/// (serde buffers only when the content comes before the tag).
struct Tagged<'a, 'de> {
    event_type: &'a str,
    data: &'a mut serde_json::Deserializer<serde_json::de::StrRead<'de>>,
    next: TaggedField,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum TaggedField {
    Type,
    Data,
    Done,
}

impl<'de> serde::Deserializer<'de> for Tagged<'_, 'de> {
    type Error = serde_json::Error;

    fn deserialize_any<V: serde::de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_map(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit
        unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier ignored_any
    }
}

impl<'de> serde::de::MapAccess<'de> for Tagged<'_, 'de> {
    type Error = serde_json::Error;

    fn next_key_seed<K: serde::de::DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Self::Error> {
        let name = match self.next {
            TaggedField::Type => "type",
            TaggedField::Data => "data",
            TaggedField::Done => return Ok(None),
        };
        seed.deserialize(serde::de::value::StrDeserializer::new(name)).map(Some)
    }

    fn next_value_seed<V: serde::de::DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Self::Error> {
        match self.next {
            TaggedField::Type => {
                self.next = TaggedField::Data;
                seed.deserialize(serde::de::value::StrDeserializer::new(self.event_type))
            }
            TaggedField::Data | TaggedField::Done => {
                self.next = TaggedField::Done;
                seed.deserialize(&mut *self.data)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kipina_proto::{CardId, ColumnId};
    use uuid::Uuid;

    #[test]
    fn every_event_round_trips_through_its_stored_form() {
        let event = Event::CardAdded {
            card: CardId(Uuid::from_u128(1)),
            column: ColumnId(Uuid::from_u128(2)),
            title: "Kyläkoulun tilat iltakäyttöön".into(),
            body: "".into(),
        };
        let encoded = encode(&event);
        assert_eq!(encoded.event_type, "card_added");
        assert_eq!(encoded.payload["title"], serde_json::json!({"$personal": "Kyläkoulun tilat iltakäyttöön"}));
        let decoded = decode(encoded.event_type, encoded.event_version, encoded.payload).unwrap(); // unwrap: test
        assert_eq!(decoded, event);
    }

    /// One event of every kind. `kind_index` matches exhaustively, so a new kind of event does not
    /// compile until it is numbered, and the test below fails until it has an example here.
    fn one_of_each() -> Vec<Event> {
        use kipina_proto::{
            BoardOptions, BoardSettings, CardStatus, CommentId, LabelId, Language, ParticipantId, Phase,
            ReactionTarget, Role, SessionId, Timestamp,
        };
        let card = CardId(Uuid::from_u128(1));
        let other = CardId(Uuid::from_u128(5));
        let column = ColumnId(Uuid::from_u128(2));
        let comment = CommentId(Uuid::from_u128(3));
        let label = LabelId(Uuid::from_u128(4));
        let person = ParticipantId(Uuid::from_u128(6));
        let session = SessionId(Uuid::from_u128(7));
        let settings = BoardSettings { vote_budget: 5, votes_per_card: 2 };
        vec![
            Event::BoardCreated {
                title: "Kulmakivet".into(),
                description: String::new(),
                language: Language::Sv,
                settings,
            },
            Event::BoardEdited { title: "Kulmakivet 2".into(), description: "Syksy".into() },
            Event::BoardLanguageSet { language: Language::En },
            Event::SettingsChanged { settings },
            Event::OptionsSet { options: BoardOptions { anonymous: true, participants_may_group: true } },
            Event::LockSet { locked: true },
            Event::SessionCreated { session, name: "Leiri".into(), date: "2026-06-12".into(), anonymous: true },
            Event::PhaseSet { session, phase: Phase::Results },
            Event::TimerSet { ends_at: Some(Timestamp(1_800_000_000_000)) },
            Event::TimerSet { ends_at: None },
            Event::VoteRoundStarted { settings, hidden: true },
            Event::VotesRevealed {},
            Event::VoteRoundEnded {},
            Event::ParticipantJoined { participant: person, display_name: "Aino".into(), role: Role::Observer },
            Event::ParticipantRenamed { participant: person, display_name: "Aino Ä.".into() },
            Event::RoleChanged { participant: person, role: Role::Facilitator },
            Event::ParticipantErased { participant: person },
            Event::ParticipantRemoved { participant: person },
            Event::ColumnAdded { column, title: "Ideat".into() },
            Event::ColumnRenamed { column, title: "Ideoita".into() },
            Event::ColumnMoved { column, to_index: 2 },
            Event::ColumnArchived { column },
            Event::ColumnRestored { column },
            Event::LabelCreated { label, name: String::new(), color: "green".into() },
            Event::CardLabelled { card, label },
            Event::CardUnlabelled { card, label },
            Event::CardAdded { card, column, title: "Kyläkoulun tilat iltakäyttöön".into(), body: "".into() },
            Event::CardEdited { card, title: "Tilat".into(), body: "Illalla".into() },
            Event::CardMoved { card, column, to_index: 1 },
            Event::CardStatusSet { card, status: CardStatus::InProgress },
            Event::CardArchived { card },
            Event::CardRestored { card },
            Event::CardsGrouped { group: other, column, heading: "Tilat".into(), cards: vec![card] },
            Event::CardAddedToGroup { group: other, card },
            Event::GroupDissolved { group: other },
            Event::CommentAdded {
                comment,
                card,
                reply_to: Some(comment),
                body: "Hyvä @Aino".into(),
                mentions: vec![ParticipantId(uuid::Uuid::nil())],
            },
            Event::CommentEdited { comment, body: "Parempi".into(), mentions: vec![] },
            Event::CommentDeleted { comment },
            Event::VoteCast { card },
            Event::VoteWithdrawn { card },
            Event::ReactionAdded { target: ReactionTarget::Card(card) },
            Event::ReactionRemoved { target: ReactionTarget::Comment(comment) },
            Event::StatementAdded { column, title: "Visio".into(), text: "".into() },
            Event::WordingProposed {
                card,
                statement: column,
                text: "Olemme elinvoiman kasvattaja.".into(),
                reason: "Lyhyempi".into(),
                base_version: 1,
            },
            Event::ProposalRebased { card, text: "Olemme rohkea uudistaja.".into(), base_version: 2 },
            Event::ProposalAdopted { card },
            Event::CardFollowed { card },
            Event::CardUnfollowed { card },
            Event::SeenThrough { through: 41 },
            Event::NotificationsRead { through: 42 },
        ]
    }

    #[test]
    fn events_of_every_kind_round_trip_through_their_stored_form() {
        let events = one_of_each();
        let kinds: std::collections::HashSet<_> = events.iter().map(std::mem::discriminant).collect();
        assert_eq!(kinds.len(), <Event as strum::EnumCount>::COUNT, "one_of_each lacks a kind of event");
        for event in events {
            let encoded = encode(&event);
            // The envelope's type (strum's name) is the serde tag the decoder reads.
            let tag = serde_json::to_value(&event).expect("an event serialises")["type"].clone();
            assert_eq!(tag, serde_json::Value::from(encoded.event_type));
            assert!(encoded.payload.is_object(), "{} is stored as an object", event.type_name());
            let decoded = decode(encoded.event_type, encoded.event_version, encoded.payload.clone());
            match decoded {
                Ok(decoded) => assert_eq!(decoded, event),
                Err(error) => panic!("{}: {error} ({})", event.type_name(), encoded.payload),
            }
        }
    }

    /// The direct path, with `opener` opening sealed fields.
    fn decode_directly(
        encoded: &EncodedEvent,
        opener: crate::personal_data::SealedOpener,
    ) -> Result<Event, DecodeError> {
        let raw = serde_json::value::to_raw_value(&encoded.payload).expect("a payload serialises");
        kipina_domain::with_opener(std::rc::Rc::new(opener), || {
            decode_raw(encoded.event_type, encoded.event_version, &raw)
        })
    }

    #[test]
    fn the_direct_path_and_the_value_path_decode_every_kind_of_event_alike() {
        use crate::personal_data::{KeyStore, SealedOpener, seal, unseal};
        use kipina_proto::{BoardId, ParticipantId};
        let dir = tempfile::tempdir().expect("a temporary directory");
        let keys = KeyStore::open(dir.path()).expect("a key store");
        let board = BoardId(Uuid::from_u128(10));
        let owner = ParticipantId(Uuid::from_u128(11));
        let key = keys.get_or_create(board, owner).expect("a key");
        let mut sealed_kinds = 0;
        for event in one_of_each() {
            let name = event.type_name();
            let encoded = encode(&event);
            assert!(!upcast::applies(encoded.event_type, encoded.event_version), "{name} is current");
            // As written by the engine: personal fields sealed with the actor's key.
            let mut sealed = encoded.clone();
            if seal(&mut sealed.payload, board, owner, &key).expect("seals") > 0 {
                sealed_kinds += 1;
            }
            for key in [Some(&key), None] {
                let mut opened = sealed.payload.clone();
                unseal(&mut opened, board, owner, key).expect("unseals");
                let by_value = decode(name, sealed.event_version, opened);
                let direct = decode_directly(&sealed, SealedOpener::new(board, owner, key));
                match (by_value, direct) {
                    (Ok(by_value), Ok(direct)) => {
                        assert_eq!(direct, by_value, "{name}");
                        if key.is_some() {
                            assert_eq!(direct, event, "{name}");
                        }
                    }
                    (by_value, direct) => panic!("{name}: by value {by_value:?}, directly {direct:?}"),
                }
            }
            // Unsealed (as in tests and exports) it decodes directly too.
            let plain = decode_directly(&encoded, SealedOpener::new(board, owner, None));
            assert_eq!(plain.ok().as_ref(), Some(&event), "{name}");
        }
        assert!(sealed_kinds >= 10, "the kinds with personal fields were sealed ({sealed_kinds})");
    }

    #[test]
    fn the_direct_path_refuses_what_it_cannot_decode_alike() {
        use crate::personal_data::{KeyStore, SealedOpener, seal};
        use kipina_proto::{BoardId, ParticipantId};
        let board = BoardId(Uuid::from_u128(10));
        let owner = ParticipantId(Uuid::from_u128(11));
        let raw = |json: serde_json::Value| serde_json::value::to_raw_value(&json).expect("serialises");
        let direct = |event_type: &str, version: u32, json: serde_json::Value| {
            kipina_domain::with_opener(std::rc::Rc::new(SealedOpener::new(board, owner, None)), || {
                decode_raw(event_type, version, &raw(json))
            })
        };
        let unknown = direct("card_teleported", 1, serde_json::json!({}));
        assert!(matches!(unknown, Err(DecodeError::UnknownType { .. })), "{unknown:?}");
        let future = direct("vote_cast", 7, serde_json::json!({"card": Uuid::from_u128(1)}));
        assert!(matches!(future, Err(DecodeError::FromTheFuture { .. })), "{future:?}");
        let broken = direct("vote_cast", 1, serde_json::json!({"card": "not a uuid"}));
        assert!(matches!(broken, Err(DecodeError::Payload { .. })), "{broken:?}");

        // A sealed field that does not open with the actor's key is an error, never text.
        let dir = tempfile::tempdir().expect("a temporary directory");
        let keys = KeyStore::open(dir.path()).expect("a key store");
        let mut card = encode(&one_of_each().into_iter().find(|e| e.type_name() == "card_added").expect("a card"));
        seal(&mut card.payload, board, owner, &keys.get_or_create(board, owner).expect("a key")).expect("seals");
        let other = ParticipantId(Uuid::from_u128(12));
        let wrong_key = keys.get_or_create(board, other).expect("a key");
        let raw_card = raw(card.payload.clone());
        let tampered =
            kipina_domain::with_opener(std::rc::Rc::new(SealedOpener::new(board, owner, Some(&wrong_key))), || {
                decode_raw(card.event_type, card.event_version, &raw_card)
            });
        assert!(matches!(tampered, Err(DecodeError::Payload { .. })), "{tampered:?}");
        // And without any opener in force, a sealed field does not decode at all.
        assert!(decode_raw(card.event_type, card.event_version, &raw_card).is_err());
    }

    #[test]
    fn a_payload_that_needs_an_upcaster_is_never_decoded_directly() {
        // Version 1 of board_created with a language already in it: the payload would parse as
        // the current version, but only the upcaster decides what an old version means.
        let payload = serde_json::json!({
            "title": "Kulmakivet", "description": "", "language": "sv",
            "settings": {"vote_budget": 5, "votes_per_card": 3},
        });
        assert!(upcast::applies("board_created", 1));
        let raw = serde_json::value::to_raw_value(&payload).expect("serialises");
        let direct = decode_raw("board_created", 1, &raw);
        assert!(matches!(direct, Err(DecodeError::MissingUpcaster { .. })), "{direct:?}");
        assert!(matches!(decode("board_created", 1, payload), Ok(Event::BoardCreated { .. })));
    }

    #[test]
    fn unknown_types_and_future_versions_are_errors_not_guesses() {
        let unknown = decode("card_teleported", 1, serde_json::json!({}));
        assert!(matches!(unknown, Err(DecodeError::UnknownType { .. })), "{unknown:?}");
        let future = decode("vote_cast", 7, serde_json::json!({"card": Uuid::from_u128(1)}));
        assert!(matches!(future, Err(DecodeError::FromTheFuture { .. })), "{future:?}");
        let broken = decode("vote_cast", 1, serde_json::json!({"card": "not a uuid"}));
        assert!(matches!(broken, Err(DecodeError::Payload { .. })), "{broken:?}");
    }
}
