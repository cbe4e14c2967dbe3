//! Turning domain events into stored payloads and back.
//!
//! An event is stored as its type name, its schema version and its payload (the variant's
//! fields as JSON). Reading goes the other way through [`upcast`]: a payload written by an older
//! version of Kipinä is brought up to the current version before it is decoded, so events
//! written in the first year still replay years later.

pub mod upcast;

use kipina_domain::Event;
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
    let event: Event = serde_json::from_value(Value::Object(tagged)).map_err(|source| {
        if source.to_string().contains("unknown variant") {
            DecodeError::UnknownType { event_type: event_type.to_owned(), version }
        } else {
            DecodeError::Payload { event_type: event_type.to_owned(), source }
        }
    })?;
    if version > event.version() {
        return Err(DecodeError::FromTheFuture { event_type: event_type.to_owned(), version });
    }
    if version < event.version() {
        return Err(DecodeError::MissingUpcaster { event_type: event_type.to_owned(), version });
    }
    Ok(event)
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
