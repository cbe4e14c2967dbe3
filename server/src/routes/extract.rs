//! Who may call a route, said by its signature. Each extractor reads the board from the route's
//! `{board}`, finds its task (an unknown board is `board_not_found` whoever asks, one in
//! quarantine `board_damaged`), and checks the request's token:
//!
//! - [`Reader`]: anyone who may read the board: a participant by their token in
//!   `Authorization: Bearer …`, or the observer link's `{board}/o/{secret}` part as the bearer
//!   token. Whether a participant is still on the board is the handler's to ask, against the
//!   state it reads.
//! - [`FeedReader`]: a `Reader`, but the observer link may also come as `?token=`, for feed
//!   readers, which send no headers (the activity, timeline, history and Atom feed).
//! - [`Participant`]: a participant's token; the observer link is `read_only`. Whether they may
//!   still act is `decide`'s to say, with its own codes.
//! - [`Facilitator`]: a participant whose role may read what `What` names
//!   (`kipina_domain::may_read`); anyone else on the board is `forbidden` with `What`'s words.
//!
//! A participant's token is taken from the header only, so it never ends up in a URL.
//!
//! actix-web runs a handler's extractors side by side and answers the first failure in the order
//! of its parameters, so a request that is wrong in several ways is answered in the order it
//! always was: the path (a handler with a query takes the path first), the query, then who asks;
//! a body is read before who sent it is judged (`routes::boards::command` takes its `Participant`
//! as a `Result`). The checks run when polled, not when the extractors are made, so nothing is
//! looked up for a request whose path or query was already refused.

use super::{ApiError, AppState, join};
use crate::live::BoardHandle;
use crate::projection::views::Viewer;
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use kipina_domain::Read;
use kipina_proto::ErrorCode;
use kipina_proto::view::BoardView;
use kipina_proto::{BoardId, ParticipantId, Role};
use std::marker::PhantomData;

/// Anyone who may read the board: a participant's token or the observer link, in the
/// `Authorization` header.
#[derive(Debug)]
pub struct Reader {
    pub viewer: Viewer,
    pub board: BoardHandle,
}

/// A [`Reader`] whose observer link may also come as `?token=`.
#[derive(Debug)]
pub struct FeedReader {
    pub viewer: Viewer,
    pub board: BoardHandle,
}

/// A participant, by their token: someone who may send commands.
#[derive(Debug)]
pub struct Participant {
    pub participant: ParticipantId,
    pub board: BoardHandle,
}

/// A participant whose role may read `What` (see [`FacilitatorsOnly`]), with the board as they
/// see it.
#[derive(Debug)]
pub struct Facilitator<What> {
    pub participant: ParticipantId,
    pub board: BoardHandle,
    pub view: BoardView,
    what: PhantomData<What>,
}

/// What a [`Facilitator`] is let read, and what anyone else on the board is told.
pub trait FacilitatorsOnly {
    const READ: Read;
    const REFUSAL: &'static str;
}

/// The board's links and their QR codes.
#[derive(Debug)]
pub struct Links;

impl FacilitatorsOnly for Links {
    const READ: Read = Read::Links;
    const REFUSAL: &'static str = "only facilitators see the board's links";
}

/// The board's exports.
#[derive(Debug)]
pub struct Export;

impl FacilitatorsOnly for Export {
    const READ: Read = Read::Export;
    const REFUSAL: &'static str = "only facilitators export the board";
}

/// `FromRequest` for an extractor with `async fn check(request) -> Result<Self, …>`. The check
/// runs when actix-web polls it, after the parameters before it were extracted.
macro_rules! checked_when_polled {
    ($extractor:ident) => {
        checked_when_polled!([] $extractor);
    };
    ([$($generics:tt)*] $extractor:ty) => {
        impl<$($generics)*> FromRequest for $extractor {
            type Error = actix_web::Error;
            type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

            fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
                Box::pin(Self::check(request.clone()))
            }
        }
    };
}

checked_when_polled!(Reader);
checked_when_polled!(FeedReader);
checked_when_polled!(Participant);
checked_when_polled!([What: FacilitatorsOnly + 'static] Facilitator<What>);

impl Reader {
    async fn check(request: HttpRequest) -> Result<Self, actix_web::Error> {
        let (state, board) = target(&request).await?;
        let (board, viewer) = viewer_of(&request, &state, board, None)?;
        Ok(Self { viewer, board })
    }
}

/// The observer link where a feed reader puts it.
#[derive(Debug, serde::Deserialize)]
struct LinkQuery {
    token: Option<String>,
}

impl FeedReader {
    async fn check(request: HttpRequest) -> Result<Self, actix_web::Error> {
        let (state, board) = target(&request).await?;
        let token = web::Query::<LinkQuery>::extract(&request).await?.into_inner().token;
        let (board, viewer) = viewer_of(&request, &state, board, token.as_deref())?;
        Ok(Self { viewer, board })
    }
}

impl Participant {
    async fn check(request: HttpRequest) -> Result<Self, actix_web::Error> {
        let (state, board) = target(&request).await?;
        match viewer_of(&request, &state, board, None)? {
            (board, Viewer::Participant(participant)) => Ok(Self { participant, board }),
            (_, Viewer::Observer) => {
                Err(ApiError::new(ErrorCode::ReadOnly, "the observer link can only read the board").into())
            }
        }
    }
}

impl<What: FacilitatorsOnly> Facilitator<What> {
    async fn check(request: HttpRequest) -> Result<Self, actix_web::Error> {
        let (state, board) = target(&request).await?;
        let (board, viewer) = viewer_of(&request, &state, board, None)?;
        let Viewer::Participant(participant) = viewer else { return Err(ApiError::unauthorized().into()) };
        let (view, role) = board.view(viewer).await.map_err(ApiError::from)?;
        match role {
            Some(role) if kipina_domain::may_read(role, What::READ) => {
                Ok(Self { participant, board, view, what: PhantomData })
            }
            Some(_) => Err(ApiError::new(ErrorCode::Forbidden, What::REFUSAL).into()),
            None => Err(ApiError::unauthorized().into()),
        }
    }
}

/// The server's state and the board the route names (a malformed id is the path's own error).
async fn target(request: &HttpRequest) -> Result<(web::Data<AppState>, BoardId), actix_web::Error> {
    let state = request
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::new(ErrorCode::Unavailable, "the server is not ready to answer"))?;
    let board = web::Path::<BoardId>::extract(request).await?.into_inner();
    Ok((state, board))
}

/// Who the request reads `board` as: a participant by the bearer token, or someone with the
/// observer link, as the bearer token or as `link_in_query`; and the board's task.
fn viewer_of(
    request: &HttpRequest,
    state: &AppState,
    board: BoardId,
    link_in_query: Option<&str>,
) -> Result<(BoardHandle, Viewer), ApiError> {
    let handle = super::board_handle(state, board)?;
    let header = request
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim);
    if let Some(token) = header {
        match state.access.resolve_token(token) {
            Ok(Some((token_board, participant))) if token_board == board => {
                state.guesses.remember(join::client_address(request), board, std::time::Instant::now());
                return Ok((handle, Viewer::Participant(participant)));
            }
            Ok(_) => {}
            Err(error) => {
                tracing::error!(%error, "cannot read access records");
                return Err(ApiError::new(ErrorCode::Unavailable, "access records cannot be read right now"));
            }
        }
    }
    let observer = header.into_iter().chain(link_in_query).any(|token| {
        state
            .access
            .link(token)
            .is_some_and(|invitation| invitation.board == board && invitation.role == Role::Observer)
    });
    if observer { Ok((handle, Viewer::Observer)) } else { Err(ApiError::unauthorized()) }
}
