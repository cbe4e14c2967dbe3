//! Given / when / then tests of the domain core, one file per command area (the helpers are in
//! [`crate::testing`]).

mod board;
mod cards;
mod columns;
mod comments;
mod erasure;
mod facilitation;
mod keeping_up;
mod labels;
mod participants;
mod replay;
mod statements;
mod votes;

#[allow(unused_imports)]
use crate::testing::*;
#[allow(unused_imports)]
use crate::{BoardState, Context, Decision, DomainError, Event, Fact, Kind, decide, evolve};
#[allow(unused_imports)]
use kipina_proto::{
    CardId, ColumnId, Command, CommentId, LabelId, Language, ParticipantId, ReactionTarget, Role, Timestamp,
};
#[allow(unused_imports)]
use uuid::Uuid;
