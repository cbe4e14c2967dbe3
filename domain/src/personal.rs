//! Personal text: words and names that belong to one participant and can be erased.
//!
//! Every field that holds what a person wrote or what they are called has the type
//! [`PersonalText`]. Its stored form is a tagged object (`{"$personal": "…"}`), which lets the
//! storage layer find and seal exactly these fields with the owner's key without knowing the
//! event types; once the key is destroyed the same field reads back as `{"$erased": true}`.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A piece of personal content, or the mark that it was erased on request.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "Stored", into = "Stored")]
pub enum PersonalText {
    /// The words as written.
    Text(String),
    /// The owner's key was destroyed; the words can no longer be read by anyone.
    Erased,
}

/// The JSON tag marking a readable personal field.
pub const PERSONAL_TAG: &str = "$personal";
/// The JSON tag marking an erased personal field.
pub const ERASED_TAG: &str = "$erased";

#[derive(Serialize, Deserialize)]
enum Stored {
    #[serde(rename = "$personal")]
    Personal(String),
    #[serde(rename = "$erased")]
    Erased(bool),
}

impl From<Stored> for PersonalText {
    fn from(stored: Stored) -> Self {
        match stored {
            Stored::Personal(text) => PersonalText::Text(text),
            Stored::Erased(_) => PersonalText::Erased,
        }
    }
}

impl From<PersonalText> for Stored {
    fn from(text: PersonalText) -> Self {
        match text {
            PersonalText::Text(text) => Stored::Personal(text),
            PersonalText::Erased => Stored::Erased(true),
        }
    }
}

impl PersonalText {
    /// The text, or `None` when it was erased.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            PersonalText::Text(text) => Some(text),
            PersonalText::Erased => None,
        }
    }

    /// Whether the text was erased.
    pub fn is_erased(&self) -> bool {
        matches!(self, PersonalText::Erased)
    }
}

impl From<&str> for PersonalText {
    fn from(text: &str) -> Self {
        PersonalText::Text(text.to_owned())
    }
}

impl From<String> for PersonalText {
    fn from(text: String) -> Self {
        PersonalText::Text(text)
    }
}

impl fmt::Display for PersonalText {
    /// Shows the text, or a neutral mark for erased text. Views in a language show their own word.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PersonalText::Text(text) => f.write_str(text),
            PersonalText::Erased => f.write_str("[erased]"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_form_is_a_tagged_object() {
        let text = PersonalText::from("Kylätalon remontti");
        let json = serde_json::to_value(&text).unwrap(); // unwrap: plain data always serialises
        assert_eq!(json, serde_json::json!({"$personal": "Kylätalon remontti"}));
        let erased = serde_json::to_value(PersonalText::Erased).unwrap(); // unwrap: as above
        assert_eq!(erased, serde_json::json!({"$erased": true}));
        let back: PersonalText = serde_json::from_value(json).unwrap(); // unwrap: just written
        assert_eq!(back, text);
    }
}
