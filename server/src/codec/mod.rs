//! Turning domain events into stored payloads and back.
//!
//! An event is stored as its type name, its schema version and its payload (the variant's
//! fields as JSON). Reading goes the other way through [`upcast`]: a payload written by an older
//! version of Kipinä is brought up to the current version before it is decoded, so events
//! written in the first year still replay years later.

pub mod upcast;

use crate::domain::Event;
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
