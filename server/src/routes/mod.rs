//! HTTP routes, one file per group, and the one place that maps error codes to HTTP statuses.

mod activity;
pub mod boards;
pub mod extract;
mod health;
mod join;
mod search;
mod static_files;
pub mod transfer;
pub mod ws;

use crate::access::{AccessStore, GuessLimiter};
use crate::config::Config;
use crate::live::Boards;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError, web};
use kipina_proto::BoardId;
use kipina_proto::ErrorCode;
use kipina_proto::api::ErrorBody;
use std::sync::Arc;

/// What every handler can reach.
#[derive(Debug)]
pub struct AppState {
    pub boards: Arc<Boards>,
    pub access: Arc<AccessStore>,
    pub config: Config,
    /// The server's address for links, e.g. `http://127.0.0.1:8080`.
    pub public_url: String,
    /// The origins WebSockets are accepted from (see `ws::origin_of`).
    pub own_origins: Vec<String>,
    /// Wrong join codes per client address (codes are short enough to guess), and the boards
    /// each address has opened.
    pub guesses: GuessLimiter,
    /// Each board's activity, folded from its log (see `crate::activity`).
    pub activity: Arc<crate::activity::ActivityCache>,
    /// The search indexes of the boards searched lately.
    pub search: Arc<crate::search::IndexCache>,
}

/// Headers on every answer: the client's scripts and styles come only from this server, the page
/// cannot be framed, join links never leak through `Referer`, and types are not sniffed.
pub fn security_headers() -> actix_web::middleware::DefaultHeaders {
    actix_web::middleware::DefaultHeaders::new()
        .add((
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; \
             object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        ))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("Referrer-Policy", "no-referrer"))
        .add(("X-Frame-Options", "DENY"))
        .add(("Permissions-Policy", "camera=(), microphone=(), geolocation=()"))
}

/// Registers every route.
pub fn configure(config: &mut web::ServiceConfig) {
    config
        .app_data(web::JsonConfig::default().limit(64 * 1024).error_handler(|error, _| {
            let too_large = matches!(
                error,
                actix_web::error::JsonPayloadError::OverflowKnownLength { .. }
                    | actix_web::error::JsonPayloadError::Overflow { .. }
            );
            let code = if too_large { ErrorCode::TooLarge } else { ErrorCode::Malformed };
            ApiError::new(code, error.to_string()).into()
        }))
        .app_data(
            web::PathConfig::default()
                .error_handler(|error, _| ApiError::new(ErrorCode::NotFound, error.to_string()).into()),
        )
        .app_data(
            web::QueryConfig::default()
                .error_handler(|error, _| ApiError::new(ErrorCode::Malformed, error.to_string()).into()),
        )
        .route("/health", web::get().to(health::health))
        .route("/metrics", web::get().to(health::metrics))
        .route("/api/boards", web::post().to(boards::create))
        .service(compressed("/api/boards/{board}").route(web::get().to(boards::view)))
        .route("/api/boards/{board}/links", web::get().to(boards::links))
        .service(compressed("/api/boards/{board}/qr.svg").route(web::get().to(boards::qr)))
        .service(compressed("/api/boards/{board}/export").route(web::get().to(transfer::export)))
        .service(compressed("/api/boards/{board}/activity").route(web::get().to(activity::activity)))
        .service(compressed("/api/boards/{board}/history").route(web::get().to(activity::history)))
        .service(compressed("/api/boards/{board}/timeline").route(web::get().to(activity::timeline)))
        .service(compressed("/api/boards/{board}/feed.atom").route(web::get().to(activity::feed)))
        .service(compressed("/api/boards/{board}/search").route(web::get().to(search::search)))
        .service(
            web::resource("/api/import/log")
                .app_data(web::PayloadConfig::new(transfer::MAX_UPLOAD))
                .route(web::post().to(transfer::import_log)),
        )
        .service(
            web::resource("/api/import/trello")
                .app_data(web::PayloadConfig::new(transfer::MAX_UPLOAD))
                .route(web::post().to(transfer::import_trello)),
        )
        .route("/api/boards/{board}/commands", web::post().to(boards::command))
        .route("/api/boards/{board}/ws", web::get().to(ws::connect))
        .route("/api/invitations/{board}/{role}/{secret}", web::get().to(join::invitation))
        .route("/api/join", web::post().to(join::join))
        .default_service(web::get().to(static_files::serve));
}

/// A route whose answers (board views, history, search, exports: JSON, text and XML, large on a
/// big board) are compressed with brotli or gzip when the client asks for it, and carry
/// `Vary: Accept-Encoding`. The WebSocket (its frames are small and compressing an upgrade is
/// wrong), the web client's files (precompressed at build time, see `static_files`) and small
/// answers are not wrapped.
fn compressed(
    path: &str,
) -> actix_web::Resource<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    // The compressor says `Vary` only when it compresses; a plain answer needs it too, or a
    // cache could hand it to a client that asked for brotli (and the other way round).
    let vary = actix_web::middleware::DefaultHeaders::new()
        .add((actix_web::http::header::VARY, actix_web::http::header::HeaderValue::from_static("Accept-Encoding")));
    web::resource(path)
        .wrap(actix_web::middleware::Compress::default())
        .wrap_fn(|mut request, service| {
            // Brotli when the client takes it: the compressor picks the first of equally
            // welcome codings, and browsers list gzip first ("gzip, deflate, br, zstd").
            if static_files::accepts(request.request(), "br") {
                request.headers_mut().insert(
                    actix_web::http::header::ACCEPT_ENCODING,
                    actix_web::http::header::HeaderValue::from_static("br"),
                );
            }
            actix_web::dev::Service::call(service, request)
        })
        .wrap(vary)
}

/// An error answer: a stable code, a message, and the HTTP status that goes with the code.
#[derive(Debug)]
pub struct ApiError(pub ErrorBody);

/// The answer to a write of the access records (a token, a board's join code) that failed: a
/// full disk says so, and that it passes once space is freed (the refusal is logged by the
/// free-space check when the disk fills up).
pub(crate) fn access_write_failed(error: &crate::access::AccessError) -> ApiError {
    if let crate::access::AccessError::DiskFull(_) = error {
        return ApiError::new(ErrorCode::Unavailable, crate::disk_space::REFUSED);
    }
    tracing::error!(%error, "cannot write access records");
    ApiError::new(ErrorCode::Unavailable, "access records cannot be written right now")
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self(ErrorBody { code, message: message.into() })
    }

    pub fn unauthorized() -> Self {
        Self::new(ErrorCode::Unauthorized, "a valid token for this board is needed")
    }
}

impl From<ErrorBody> for ApiError {
    fn from(body: ErrorBody) -> Self {
        Self(body)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.0.code, self.0.message)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        status_of(self.0.code)
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status_code()).json(&self.0)
    }
}

/// The HTTP status of each error code (see `docs/protocol.md`). Exhaustive: a new code does not
/// compile until it has a status here.
pub fn status_of(code: ErrorCode) -> StatusCode {
    use kipina_proto::ErrorCode::*;
    match code {
        Malformed
        | TextEmpty
        | TextTooLong
        | TextControlCharacters
        | InvalidPosition
        | InvalidSettings
        | InvalidColor
        | InvalidReply
        | InvalidDate
        | InvalidTimer
        | InvalidGroup
        | StatementColumn
        | NotAStatement
        | NotAProposal => StatusCode::BAD_REQUEST,
        Unauthorized => StatusCode::UNAUTHORIZED,
        Forbidden | NotAuthor | ReadOnly | ForbiddenOrigin | ParticipantErased | ParticipantRemoved => {
            StatusCode::FORBIDDEN
        }
        BoardNotFound | NotFound | NotJoined => StatusCode::NOT_FOUND,
        StaleVersion | AlreadyExists | IdempotencyConflict | AlreadyJoined | BoardExists | Contended | PhaseForbids
        | SessionRunning | SessionStarted | SessionNotRunning | SessionNotStarted | NoTimer | VotesNotHidden
        | CardInGroup | VoteRoundEnded | HasVotes | ProposalOutdated | ProposalAdopted | SameWording => {
            StatusCode::CONFLICT
        }
        BoardLocked => StatusCode::LOCKED,
        TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        RateLimited => StatusCode::TOO_MANY_REQUESTS,
        // A damaged board waits for its administrator (a restore from a backup), not for a retry.
        Unavailable | BoardDamaged | ShuttingDown => StatusCode::SERVICE_UNAVAILABLE,
        // The other refusals of the domain, and a Trello plan it refused.
        Archived | NotArchived | CommentDeleted | LimitReached | VoteBudgetExhausted | VoteCapReached
        | NoVoteToWithdraw | LastFacilitator | InvalidImport => StatusCode::UNPROCESSABLE_ENTITY,
        // Only ever answered over a WebSocket, which has no status; the documented fallback.
        UnknownMessage | NotSubscribed | AlreadySubscribed => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

/// The board's task, or `board_not_found`.
pub fn board_handle(state: &AppState, board: BoardId) -> Result<crate::live::BoardHandle, ApiError> {
    state.boards.get(board)?.ok_or_else(|| ApiError::new(ErrorCode::BoardNotFound, "no such board"))
}
