//! Identifiers. Every entity is named by a UUID made by whoever creates it (a browser, the
//! importer, the demo builder), so a command can be retried offline without making duplicates.
//! Each kind of id is its own type so a card id can never be passed where a column id belongs.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ts_rs::TS)]
        #[serde(transparent)]
        #[ts(export)]
        pub struct $name(pub Uuid);

        impl $name {
            /// Wraps an existing UUID.
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            /// The id as a UUID.
            pub const fn as_uuid(&self) -> &Uuid {
                &self.0
            }

            /// The id's 16 bytes, big-endian, as used in storage keys.
            pub const fn as_bytes(&self) -> &[u8; 16] {
                self.0.as_bytes()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

id_type!(
    /// A board: one process space with its own event stream.
    BoardId
);
id_type!(
    /// A column of a board.
    ColumnId
);
id_type!(
    /// An idea card.
    CardId
);
id_type!(
    /// A comment or a reply on a card.
    CommentId
);
id_type!(
    /// A label that can be put on cards.
    LabelId
);
id_type!(
    /// A participant of one board. The same person on two boards has two participant ids.
    ParticipantId
);
id_type!(
    /// The id a client gives a command; a retry with the same id never applies twice.
    CommandId
);
id_type!(
    /// The id of one stored event (UUIDv7, so ids sort by creation time).
    EventId
);
id_type!(
    /// A session of a board: one workshop or camp, with its phases.
    SessionId
);
