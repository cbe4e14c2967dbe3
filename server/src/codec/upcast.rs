//! Upcasters: each one turns a stored payload of `(type, version)` into `version + 1`.
//!
//! Stored events are never rewritten; they are upcast on every read. To change an event's
//! payload, bump `Event::version` for it and add a step here keyed on the old `(type, version)`.

use super::DecodeError;
use serde_json::Value;

/// One step: the payload of `event_type` at `from_version`, rewritten to `from_version + 1`.
struct Upcaster {
    event_type: &'static str,
    from_version: u32,
    step: fn(Value) -> Value,
}

/// Every upcaster, in no particular order; `to_current` chains them.
const UPCASTERS: &[Upcaster] = &[
    Upcaster { event_type: "board_created", from_version: 1, step: board_created_v1_to_v2 },
    Upcaster { event_type: "comment_added", from_version: 1, step: no_mentions },
    Upcaster { event_type: "comment_edited", from_version: 1, step: no_mentions },
];

/// `board_created` v1 (the first Kipinä prototype) had no `language`: every board was Finnish.
fn board_created_v1_to_v2(mut payload: Value) -> Value {
    if let Value::Object(object) = &mut payload {
        object.entry("language").or_insert_with(|| Value::String("fi".into()));
    }
    payload
}

/// `comment_added` and `comment_edited` v1 were written before `@name` mentions: they mention
/// nobody (an old comment does not notify anyone when replayed).
fn no_mentions(mut payload: Value) -> Value {
    if let Value::Object(object) = &mut payload {
        object.entry("mentions").or_insert_with(|| Value::Array(Vec::new()));
    }
    payload
}

/// Whether a payload of `(event_type, version)` has an upcaster, i.e. must go through
/// [`to_current`] (and so through a `Value`) before it is decoded.
pub fn applies(event_type: &str, version: u32) -> bool {
    UPCASTERS.iter().any(|upcaster| upcaster.event_type == event_type && upcaster.from_version == version)
}

/// Applies upcasters until no step matches, and returns the final version and payload.
pub fn to_current(event_type: &str, mut version: u32, mut payload: Value) -> Result<(u32, Value), DecodeError> {
    while let Some(upcaster) =
        UPCASTERS.iter().find(|upcaster| upcaster.event_type == event_type && upcaster.from_version == version)
    {
        payload = (upcaster.step)(payload);
        version += 1;
    }
    Ok((version, payload))
}

#[cfg(test)]
mod tests {
    use super::super::decode;
    use kipina_domain::Event;
    use kipina_proto::{BoardSettings, Language};
    use serde_json::json;

    #[test]
    fn a_first_version_board_created_replays_as_a_finnish_board() {
        // Exactly what the prototype stored: no language field.
        let stored = json!({"title": "Leaderin kulmakivet", "description": "", "settings": {"vote_budget": 5, "votes_per_card": 3}});
        let event = decode("board_created", 1, stored).unwrap(); // unwrap: the test's point is that this decodes
        assert_eq!(
            event,
            Event::BoardCreated {
                title: "Leaderin kulmakivet".into(),
                description: String::new(),
                language: Language::Fi,
                settings: BoardSettings::default(),
            }
        );
    }

    #[test]
    fn a_first_version_comment_mentions_nobody() {
        let card = "0190a1b2-0000-7000-8000-000000000001";
        let comment = "0190a1b2-0000-7000-8000-000000000002";
        let stored = json!({"comment": comment, "card": card, "reply_to": null, "body": {"$personal": "Hyvä @Aino"}});
        let event = decode("comment_added", 1, stored.clone());
        let Ok(Event::CommentAdded { mentions, .. }) = event else { panic!("{event:?}") };
        assert!(mentions.is_empty());
        assert!(decode("comment_added", 2, stored).is_err(), "the current version needs the field");
        let edited = json!({"comment": comment, "body": {"$personal": "Hyvä"}});
        assert!(
            matches!(decode("comment_edited", 1, edited), Ok(Event::CommentEdited { mentions, .. }) if mentions.is_empty())
        );
    }

    #[test]
    fn without_the_upcaster_the_old_payload_would_not_decode() {
        let stored = json!({"title": "Leaderin kulmakivet", "description": "", "settings": {"vote_budget": 5, "votes_per_card": 3}});
        // Decoding it as if it were current must fail, proving the upcaster does the work.
        assert!(decode("board_created", 2, stored).is_err());
    }
}
