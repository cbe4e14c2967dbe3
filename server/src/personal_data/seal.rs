//! Sealing and unsealing the personal fields inside a stored payload.
//!
//! A personal field looks like `{"$personal": "text"}` (see `domain::PersonalText`). Sealing
//! replaces it with `{"$sealed": "<base64 of nonce and ciphertext>"}`, encrypted with
//! XChaCha20-Poly1305 under the owner's key and bound to the board and owner as associated
//! data. Unsealing turns it back, or into `{"$erased": true}` when the key no longer exists.

use super::keys::ParticipantKey;
use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD as BASE64;
use chacha20poly1305::aead::{Aead, AeadInPlace, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use kipina_domain::{ERASED_TAG, Opener, PERSONAL_TAG, PersonalText};
use kipina_proto::{BoardId, ParticipantId};
use serde_json::{Map, Value};

/// The JSON tag of a sealed personal field.
pub use kipina_domain::SEALED_TAG;

const NONCE_LEN: usize = 24;

/// Whether poly1305 was built with its portable backend (`--cfg poly1305_force_soft`, see
/// `.cargo/config.toml`): on x86 its AVX2 backend takes about 2.5 µs more to open each field.
/// A `RUSTFLAGS` environment variable drops the flag; `build.rs` tells.
pub const POLY1305_PORTABLE: bool = matches!(env!("KIPINA_POLY1305_PORTABLE").as_bytes(), b"1");

/// Why sealing or unsealing failed.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("no randomness for a nonce: {0}")]
    Randomness(String),
    #[error("a sealed field is not valid base64 or too short")]
    Malformed,
    #[error("a sealed field does not open with its owner's key: the data or the key is damaged")]
    Tampered,
}

fn associated_data(board: BoardId, owner: ParticipantId) -> [u8; 32] {
    let mut data = [0u8; 32];
    data[..16].copy_from_slice(board.as_bytes());
    data[16..].copy_from_slice(owner.as_bytes());
    data
}

/// Whether `value` is a single-key object tagged `tag`, and its content.
fn tagged<'a>(value: &'a Value, tag: &str) -> Option<&'a Value> {
    match value {
        Value::Object(object) if object.len() == 1 => object.get(tag),
        _ => None,
    }
}

fn single(tag: &str, value: Value) -> Value {
    let mut object = Map::new();
    object.insert(tag.to_owned(), value);
    Value::Object(object)
}

/// Seals every personal field in `payload` with `key`. Returns how many fields were sealed.
pub fn seal(
    payload: &mut Value,
    board: BoardId,
    owner: ParticipantId,
    key: &ParticipantKey,
) -> Result<usize, SealError> {
    let cipher = XChaCha20Poly1305::new((&key.0).into());
    let aad = associated_data(board, owner);
    let mut sealed = 0;
    walk(payload, &mut |field| {
        let Some(Value::String(text)) = tagged(field, PERSONAL_TAG) else { return Ok(false) };
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|error| SealError::Randomness(error.to_string()))?;
        let ciphertext = cipher
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: text.as_bytes(), aad: &aad })
            // Encryption fails only for messages longer than the cipher allows (gigabytes).
            .map_err(|_| SealError::Malformed)?;
        let mut bytes = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        bytes.extend_from_slice(&nonce);
        bytes.extend_from_slice(&ciphertext);
        *field = single(SEALED_TAG, Value::String(BASE64.encode(bytes)));
        sealed += 1;
        Ok(true)
    })?;
    Ok(sealed)
}

/// Opens every sealed field in `payload` with `key`, or marks it erased when `key` is `None`.
/// Returns how many fields were found erased. A field that does not open with an existing key
/// is damage, reported as an error rather than shown as erased.
pub fn unseal(
    payload: &mut Value,
    board: BoardId,
    owner: ParticipantId,
    key: Option<&ParticipantKey>,
) -> Result<usize, SealError> {
    let cipher = key.map(|key| XChaCha20Poly1305::new((&key.0).into()));
    let aad = associated_data(board, owner);
    let mut erased = 0;
    walk(payload, &mut |field| {
        let Some(Value::String(encoded)) = tagged(field, SEALED_TAG) else { return Ok(false) };
        let Some(cipher) = &cipher else {
            *field = single(ERASED_TAG, Value::Bool(true));
            erased += 1;
            return Ok(true);
        };
        *field = single(PERSONAL_TAG, Value::String(open_field(cipher, &aad, encoded)?));
        Ok(true)
    })?;
    Ok(erased)
}

/// The text in one sealed field's stored content. Decrypted in place: the one buffer the base64
/// is decoded into becomes the text.
fn open_field(cipher: &XChaCha20Poly1305, aad: &[u8; 32], encoded: &str) -> Result<String, SealError> {
    let mut bytes = BASE64.decode(encoded).map_err(|_| SealError::Malformed)?;
    if bytes.len() < NONCE_LEN {
        return Err(SealError::Malformed);
    }
    let mut nonce = [0u8; NONCE_LEN];
    nonce.copy_from_slice(&bytes[..NONCE_LEN]);
    bytes.drain(..NONCE_LEN);
    cipher.decrypt_in_place(XNonce::from_slice(&nonce), aad, &mut bytes).map_err(|_| SealError::Tampered)?;
    String::from_utf8(bytes).map_err(|_| SealError::Tampered)
}

/// Opens the sealed fields of one owner's events on one board while they are deserialized
/// straight into typed events (see `kipina_domain::with_opener`): what [`unseal`] does to a
/// `Value`, field by field. Made once per owner and reused for all their events.
pub struct SealedOpener {
    cipher: Option<XChaCha20Poly1305>,
    aad: [u8; 32],
}

impl SealedOpener {
    /// Opens with `key`, or reads every sealed field as erased when it is `None`.
    pub fn new(board: BoardId, owner: ParticipantId, key: Option<&ParticipantKey>) -> Self {
        Self { cipher: key.map(|key| XChaCha20Poly1305::new((&key.0).into())), aad: associated_data(board, owner) }
    }
}

impl std::fmt::Debug for SealedOpener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.debug_struct("SealedOpener").field("has_key", &self.cipher.is_some()).finish_non_exhaustive()
    }
}

impl Opener for SealedOpener {
    /// A field that does not open is an error here, as in [`unseal`] (which says which error).
    fn open(&self, sealed: &str) -> Result<PersonalText, String> {
        let Some(cipher) = &self.cipher else { return Ok(PersonalText::Erased) };
        open_field(cipher, &self.aad, sealed).map(PersonalText::Text).map_err(|error| error.to_string())
    }
}

/// Visits every object and array element depth-first; `visit` returns true when it replaced
/// the value, which is then not descended into.
fn walk(value: &mut Value, visit: &mut impl FnMut(&mut Value) -> Result<bool, SealError>) -> Result<(), SealError> {
    if visit(value)? {
        return Ok(());
    }
    match value {
        Value::Object(object) => object.values_mut().try_for_each(|child| walk(child, visit)),
        Value::Array(items) => items.iter_mut().try_for_each(|child| walk(child, visit)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use uuid::Uuid;

    const BOARD: BoardId = BoardId(Uuid::from_u128(1));
    const OWNER: ParticipantId = ParticipantId(Uuid::from_u128(2));

    fn key(byte: u8) -> ParticipantKey {
        ParticipantKey([byte; 32])
    }

    /// The flag in `.cargo/config.toml` is in force, and still has the name this poly1305 reads.
    #[test]
    #[cfg(any(target_arch = "x86_64", target_arch = "x86"))]
    fn poly1305_uses_its_portable_backend() {
        assert_eq!(
            env!("KIPINA_POLY1305_PORTABLE"),
            "1",
            "poly1305 was built without `--cfg poly1305_force_soft`: a RUSTFLAGS (or CARGO_ENCODED_RUSTFLAGS) \
             environment variable replaced the rustflags of .cargo/config.toml; add the flag to it"
        );
        let lock = include_str!("../../../Cargo.lock");
        let versions: Vec<&str> = lock
            .split("[[package]]")
            .filter(|package| package.contains("\nname = \"poly1305\"\n"))
            .filter_map(|package| package.lines().find_map(|line| line.strip_prefix("version = ")))
            .collect();
        assert!(
            !versions.is_empty() && versions.iter().all(|version| version.starts_with("\"0.8.")),
            "poly1305 {versions:?}: from 0.9 its switch is `--cfg poly1305_backend=\"soft\"`; change .cargo/config.toml, \
             server/build.rs and this test"
        );
    }

    #[test]
    fn sealed_fields_hide_the_text_and_open_again_with_the_key() {
        let original = json!({"card": "x", "title": {"$personal": "Nuorten kesätyöseteli"}, "body": {"$personal": ""}});
        let mut payload = original.clone();
        assert_eq!(seal(&mut payload, BOARD, OWNER, &key(7)).unwrap(), 2); // unwrap: test
        let stored = payload.to_string();
        assert!(!stored.contains("Nuorten"), "{stored}");
        assert_eq!(payload["card"], "x");
        assert_eq!(unseal(&mut payload, BOARD, OWNER, Some(&key(7))).unwrap(), 0); // unwrap: test
        assert_eq!(payload, original);
    }

    #[test]
    fn without_the_key_fields_read_as_erased() {
        let mut payload = json!({"display_name": {"$personal": "Aino Virtanen"}, "role": "participant"});
        seal(&mut payload, BOARD, OWNER, &key(7)).unwrap(); // unwrap: test
        assert_eq!(unseal(&mut payload, BOARD, OWNER, None).unwrap(), 1); // unwrap: test
        assert_eq!(payload, json!({"display_name": {"$erased": true}, "role": "participant"}));
    }

    #[test]
    fn a_wrong_key_or_another_owner_is_damage_not_erasure() {
        let mut payload = json!({"body": {"$personal": "Hyvä idea!"}});
        seal(&mut payload, BOARD, OWNER, &key(7)).unwrap(); // unwrap: test
        let mut wrong_key = payload.clone();
        assert!(matches!(unseal(&mut wrong_key, BOARD, OWNER, Some(&key(8))), Err(SealError::Tampered)));
        let other_owner = ParticipantId(Uuid::from_u128(3));
        let mut moved = payload.clone();
        assert!(matches!(unseal(&mut moved, BOARD, other_owner, Some(&key(7))), Err(SealError::Tampered)));
    }
}
