//! Erasable personal data by crypto-shredding.
//!
//! The log is append-only, yet people's names and words must be erasable on request (GDPR
//! art. 17). Every personal field of an event (see `domain::PersonalText`) is sealed with a key
//! that belongs to the participant who wrote it, before the event reaches the store. Keys live
//! outside the log, one small file each in `keys/`; erasing a participant destroys their key
//! file, after which the sealed fields read back as erased everywhere: in replays, snapshots,
//! exports and `kipina verify`. Sequence numbers, checksums and the rest of each event stay as
//! they were.

mod keys;
mod seal;

pub use keys::{KeyStore, ParticipantKey};
pub use seal::{POLY1305_PORTABLE, SEALED_TAG, SealError, SealedOpener, seal, unseal};
