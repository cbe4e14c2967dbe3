//! Personal text: words and names that belong to one participant and can be erased.
//!
//! Every field that holds what a person wrote or what they are called has the type
//! [`PersonalText`]. Its stored form is a tagged object (`{"$personal": "…"}`), which lets the
//! storage layer find and seal exactly these fields with the owner's key without knowing the
//! event types; once the key is destroyed the same field reads back as `{"$erased": true}`.
//!
//! In the store the field is sealed: `{"$sealed": "…"}`. Reading an event straight from its stored
//! payload, the storage layer opens each sealed field as it is deserialized, through an [`Opener`]
//! it puts in force with [`with_opener`] (serde has no other way to hand context to a field deep
//! inside a derived `Deserialize`). The domain never sees the key or the cipher; outside
//! [`with_opener`] a sealed field does not deserialize at all.

use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;

/// A piece of personal content, or the mark that it was erased on request.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "Stored", into = "Stored")]
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

/// The JSON tag of a sealed personal field (the storage layer's encrypted form).
pub const SEALED_TAG: &str = "$sealed";

#[derive(Serialize, Deserialize)]
enum Stored {
    #[serde(rename = "$personal")]
    Personal(String),
    #[serde(rename = "$erased")]
    Erased(bool),
    /// Only ever read, and only inside [`with_opener`]; never written from here.
    #[serde(rename = "$sealed")]
    Sealed(String),
}

impl TryFrom<Stored> for PersonalText {
    type Error = String;

    fn try_from(stored: Stored) -> Result<Self, String> {
        match stored {
            Stored::Personal(text) => Ok(PersonalText::Text(text)),
            Stored::Erased(_) => Ok(PersonalText::Erased),
            Stored::Sealed(sealed) => OPENER.with(|opener| match &*opener.borrow() {
                Some(opener) => opener.open(&sealed),
                None => Err("a sealed personal field, and no key in force to open it".to_owned()),
            }),
        }
    }
}

/// Opens sealed personal fields while stored events are deserialized (see [`with_opener`]).
pub trait Opener {
    /// The text sealed in `sealed` (the field's stored content), or [`PersonalText::Erased`] when
    /// its key no longer exists; an error, saying why, when it does not open (damage).
    fn open(&self, sealed: &str) -> Result<PersonalText, String>;
}

thread_local! {
    static OPENER: RefCell<Option<Rc<dyn Opener>>> = const { RefCell::new(None) };
}

/// Runs `decode` with `opener` opening every sealed personal field deserialized on this thread
/// meanwhile; the opener in force before (usually none) is back in force afterwards, also when
/// `decode` panics.
pub fn with_opener<R>(opener: Rc<dyn Opener>, decode: impl FnOnce() -> R) -> R {
    struct Restore(Option<Rc<dyn Opener>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            OPENER.with(|opener| *opener.borrow_mut() = previous);
        }
    }
    let _restore = Restore(OPENER.with(|slot| slot.borrow_mut().replace(opener)));
    decode()
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

    /// Reverses the "sealed" text, or says it is erased when it is `gone`.
    struct Mirror;

    impl Opener for Mirror {
        fn open(&self, sealed: &str) -> Result<PersonalText, String> {
            match sealed {
                "gone" => Ok(PersonalText::Erased),
                "bad" => Err("does not open".into()),
                _ => Ok(PersonalText::Text(sealed.chars().rev().collect())),
            }
        }
    }

    #[test]
    fn sealed_fields_open_only_with_an_opener_in_force() {
        let sealed = serde_json::json!({"$sealed": "ateS"});
        assert!(serde_json::from_value::<PersonalText>(sealed.clone()).is_err(), "no opener, no text");
        let opened = with_opener(Rc::new(Mirror), || serde_json::from_value::<PersonalText>(sealed.clone()));
        assert_eq!(opened.expect("opens"), PersonalText::from("Seta"));
        let gone = with_opener(Rc::new(Mirror), || serde_json::from_str::<PersonalText>(r#"{"$sealed":"gone"}"#));
        assert_eq!(gone.expect("opens as erased"), PersonalText::Erased);
        let bad = with_opener(Rc::new(Mirror), || serde_json::from_str::<PersonalText>(r#"{"$sealed":"bad"}"#));
        assert!(bad.is_err(), "{bad:?}");
        // The opener is no longer in force afterwards.
        assert!(serde_json::from_value::<PersonalText>(sealed).is_err());
    }
}
