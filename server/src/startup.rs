//! Building and running the server: `Application::build(config)` opens the data directory,
//! makes the demo board when asked, binds (port 0 allowed) and returns an application whose
//! port is known; `run_until_stopped` serves until SIGINT/SIGTERM or `handle().stop()`.

use crate::access::AccessStore;
use crate::config::Config;
use crate::data_dir::DataDir;
use crate::engine::{Engine, OpenError};
use crate::live::Boards;
use crate::metrics::Metrics;
use crate::routes::{self, AppState};
use crate::store::sled_store::RewriteReport;
use crate::store::{Damage, EventStore, StoreError, StoreOptions, TidyEstimate, TidyPolicy};
use actix_web::dev::{Server, ServerHandle};
use actix_web::{App, HttpServer, web};
use kipina_proto::BoardId;
use kipina_proto::api::BoardLinks;
use std::net::TcpListener;
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::sync::watch;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(
        "the data directory {0} is in use by another process, most likely a running kipina server; stop it first or choose another directory"
    )]
    InUse(String),
    #[error("the data directory {dir} cannot be opened: {source}")]
    Open { dir: String, source: OpenError },
    #[error("{}", damaged_message(.dir, .damage))]
    Damaged { dir: String, damage: Vec<Damage> },
    #[error("the access records cannot be opened: {0}")]
    Access(#[from] crate::access::AccessError),
    #[error("creating the demo board failed: {0}")]
    Demo(anyhow::Error),
    #[error("cannot listen on {bind}: {source}")]
    Bind { bind: String, source: std::io::Error },
}

/// How many problems a refusal to start lists; `kipina verify` lists them all.
const LISTED_PROBLEMS: usize = 20;

/// The words of a refusal to open a damaged event log.
fn damaged_message(dir: &str, damage: &[Damage]) -> String {
    let mut message = format!(
        "the event log in {dir} is damaged in a way that cannot be pinned on single boards (those would be set \
         aside and the others served), so Kipinä does not start on it. Found:"
    );
    for item in damage.iter().take(LISTED_PROBLEMS) {
        message.push_str(&format!("\n  - {item}"));
    }
    if damage.len() > LISTED_PROBLEMS {
        message.push_str(&format!("\n  … and {} more", damage.len() - LISTED_PROBLEMS));
    }
    message.push_str(&format!(
        "\nRun `kipina verify --data {dir}` for the whole report (on a copy: sled tidies its files when it opens them). \
         Then restore the data directory from a backup, or restore each board from its JSON export into an empty \
         data directory with `kipina import-log`."
    ));
    message
}

/// Opens the data directory's engine, turning failures into errors a person can act on.
pub fn open_engine(data: &DataDir) -> Result<Engine, StartError> {
    open_engine_with(data, StoreOptions::default())
}

/// [`open_engine`] with the event store's options.
pub fn open_engine_with(data: &DataDir, options: StoreOptions) -> Result<Engine, StartError> {
    if !crate::personal_data::POLY1305_PORTABLE && cfg!(any(target_arch = "x86_64", target_arch = "x86")) {
        tracing::warn!(
            "built without `--cfg poly1305_force_soft` (a RUSTFLAGS environment variable replaced .cargo/config.toml's \
             flags): opening personal fields, and so loading boards, is slower"
        );
    }
    open_unless_held(data, || match Engine::open_with(data, options) {
        Err(OpenError::Store(StoreError::Locked(_))) => Err(None),
        Err(OpenError::Store(StoreError::Damaged(damage))) => {
            Err(Some(StartError::Damaged { dir: data.root().display().to_string(), damage }))
        }
        Err(source) => Err(Some(StartError::Open { dir: data.root().display().to_string(), source })),
        Ok(engine) => Ok(engine),
    })
}

/// Says in the log, board by board, what is damaged and therefore not served.
fn report_quarantine(engine: &Engine, data: &DataDir) {
    let damaged = engine.store().damaged_boards();
    if damaged.is_empty() {
        return;
    }
    for (board, damage) in &damaged {
        // The board's first event (or its snapshot) still tells a person which board it is;
        // neither is used for anything else.
        let title = engine
            .store()
            .read_for_damage_report(*board, 1, 1)
            .ok()
            .and_then(|events| events.into_iter().next())
            .filter(|event| event.event_type == "board_created")
            .and_then(|event| event.payload.get("title").and_then(|title| title.as_str()).map(str::to_owned))
            .or_else(|| {
                engine
                    .snapshots()
                    .load(*board)
                    .ok()
                    .flatten()
                    .and_then(|snapshot| snapshot.state.info.map(|info| info.title))
            })
            .unwrap_or_else(|| "?".to_owned());
        tracing::error!(
            %board,
            title = %title,
            damage = %damage.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "),
            "board {board} ({title:?}) is damaged: it is quarantined and not served (every request for it answers \
             board_damaged) until it is restored from a backup"
        );
    }
    tracing::error!(
        quarantined = damaged.len(),
        "{} damaged board(s) quarantined; the other boards are served. Run `kipina verify --data {}` on a copy of the \
         data directory for the whole report",
        damaged.len(),
        data.root().display()
    );
}

/// Opens the access records, with the same patience.
fn open_access(data: &DataDir) -> Result<AccessStore, StartError> {
    open_unless_held(data, || match AccessStore::open(&data.root().join("access")) {
        Err(crate::access::AccessError::Sled(sled::Error::Io(error)))
            if error.to_string().contains("could not acquire lock") =>
        {
            Err(None)
        }
        other => other.map_err(|error| Some(error.into())),
    })
}

/// Runs `open` once, turning a held lock (`Err(None)`) into [`StartError::InUse`]. A store closed
/// in this process lets go of its directory before its close returns (`store::release`), and one
/// closed by a process that ended is let go by the kernel, so a lock that is held is another
/// running program's: there is nothing to wait for.
fn open_unless_held<T>(data: &DataDir, open: impl FnOnce() -> Result<T, Option<StartError>>) -> Result<T, StartError> {
    open().map_err(|error| error.unwrap_or_else(|| StartError::InUse(data.root().display().to_string())))
}

/// A server that is bound and ready to run.
pub struct Application {
    port: u16,
    public_url: String,
    server: Server,
    demo: Option<(BoardId, BoardLinks)>,
    /// Become `true` once the event store and the access records are closed.
    store_closed: watch::Receiver<bool>,
    access_closed: watch::Receiver<bool>,
    boards: Arc<Boards>,
    /// The event store's directory, and when to tidy it as the server stops (ADR 0008).
    events_dir: std::path::PathBuf,
    tidy_at_stop: Option<TidyPolicy>,
    /// What the store said of its events outside chunks when the stop began.
    tidy_estimate: Arc<std::sync::Mutex<Option<TidyEstimate>>>,
}

/// Stops a running server the way SIGTERM does: connections are closed with 1001 at once,
/// commands are refused with `shutting_down`, appends on their way finish.
#[derive(Clone, Debug)]
pub struct StopHandle {
    server: ServerHandle,
    /// Weak, so a handle kept by someone does not keep the store open after the server stopped.
    boards: Weak<Boards>,
    /// Where the stop leaves the store's [`TidyEstimate`] for [`Application::run_until_stopped`].
    tidy_estimate: Arc<std::sync::Mutex<Option<TidyEstimate>>>,
}

impl StopHandle {
    /// Stops the server and waits until it has stopped taking requests.
    pub async fn stop(&self) {
        tracing::info!("stopping: closing the WebSockets and finishing the appends on their way");
        if let Some(boards) = self.boards.upgrade() {
            *self.tidy_estimate.lock().unwrap_or_else(std::sync::PoisonError::into_inner) =
                boards.engine().store().tidy_estimate();
            boards.stop();
        }
        self.server.stop(true).await;
    }
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("port", &self.port)
            .field("public_url", &self.public_url)
            .finish_non_exhaustive()
    }
}

impl Application {
    pub async fn build(config: Config) -> Result<Self, StartError> {
        let data = DataDir::new(&config.data_dir);
        let options = match config.compaction {
            Some(quiet) => StoreOptions { compaction: true, compaction_quiet: quiet, ..StoreOptions::default() },
            None => StoreOptions::default(),
        };
        let engine = open_engine_with(&data, options)?;
        report_quarantine(&engine, &data);
        let access = Arc::new(open_access(&data)?);
        let mut demo_board = None;
        let no_boards = engine.store().boards().map(|boards| boards.is_empty()).unwrap_or(false);
        if config.create_demo && no_boards {
            // The engine's own `execute` blocks until each append is durable: not on this runtime.
            let demo_engine = engine.clone();
            let board = actix_web::rt::task::spawn_blocking(move || demo_engine.create_demo_board(crate::clock::now()))
                .await
                .map_err(|error| StartError::Demo(error.into()))?
                .map_err(|error| StartError::Demo(error.into()))?;
            access.register_board(board)?;
            demo_board = Some(board);
        }
        let listener =
            TcpListener::bind(&config.bind).map_err(|source| StartError::Bind { bind: config.bind.clone(), source })?;
        let address = listener.local_addr().map_err(|source| StartError::Bind { bind: config.bind.clone(), source })?;
        let public_url = config.public_url.clone().unwrap_or_else(|| format!("http://{address}"));
        let own_origins = own_origins(&config, &public_url, address);
        let store_closed = engine.store().closed();
        let events_dir = data.events();
        let tidy_at_stop = config.tidy_at_stop;
        let access_closed = access.closed();
        let boards = Arc::new(Boards::new(engine, Arc::new(Metrics::default()), config.max_commands_per_second));
        let boards_held = Arc::clone(&boards);
        let workers = if config.workers == 0 {
            std::thread::available_parallelism().map_or(2, usize::from)
        } else {
            config.workers
        };
        let state = web::Data::new(AppState {
            boards,
            access,
            config,
            public_url: public_url.clone(),
            own_origins,
            // Ten wrong join codes at once, then one every ten seconds: about 9,000 a day against
            // 887 million codes (see docs/protocol.md).
            guesses: Default::default(),
            activity: Default::default(),
            search: Default::default(),
        });
        let demo = match demo_board {
            Some(board) => Some((
                board,
                routes::boards::board_links(&state, board)
                    .map_err(|error| StartError::Demo(anyhow::anyhow!("{error}")))?,
            )),
            None => None,
        };
        let server = HttpServer::new(move || {
            App::new()
                .wrap(routes::security_headers())
                .wrap(tracing_actix_web::TracingLogger::<crate::telemetry::RequestSpan>::new())
                .app_data(state.clone())
                .configure(routes::configure)
        })
        .workers(workers)
        // Small messages (a `changed`, then an `ack`) must not wait for the client's delayed
        // acknowledgement, which Nagle's algorithm would make them do (about 40 ms).
        .tcp_nodelay(true)
        // SIGINT and SIGTERM are handled in `run_until_stopped`, which closes the WebSockets
        // first; what is still open after this long is dropped.
        .disable_signals()
        .shutdown_timeout(5)
        .listen(listener)
        .map_err(|source| StartError::Bind { bind: address.to_string(), source })?
        .run();
        Ok(Self {
            port: address.port(),
            public_url,
            server,
            demo,
            store_closed,
            access_closed,
            boards: boards_held,
            events_dir,
            tidy_at_stop,
            tidy_estimate: Arc::default(),
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's address for links, e.g. `http://127.0.0.1:8080`.
    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// Stops the server from another task: `handle().stop(true).await`. This stops the HTTP
    /// server alone; open WebSockets keep it waiting. [`Application::stop_handle`] stops it as
    /// SIGTERM does.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Stops the server from another task as SIGTERM does (see [`StopHandle`]).
    pub fn stop_handle(&self) -> StopHandle {
        StopHandle {
            server: self.server.handle(),
            boards: Arc::downgrade(&self.boards),
            tidy_estimate: Arc::clone(&self.tidy_estimate),
        }
    }

    /// The demo board made at start-up, with its links.
    pub fn demo(&self) -> Option<&(BoardId, BoardLinks)> {
        self.demo.as_ref()
    }

    /// Serves until stopped, then waits (a bounded time) until every board task and worker has
    /// let go of the event store and the access records and both are closed: the store's writer
    /// has answered every queued append and the data directory is free to open again.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.run_until_stopped_telling(|_| {}).await
    }

    /// [`Application::run_until_stopped`], telling `tell` what the tidying at the stop does.
    pub async fn run_until_stopped_telling(self, tell: impl Fn(Tidying) + Send + 'static) -> std::io::Result<()> {
        let stopper = self.stop_handle();
        let signals = tokio::spawn(async move {
            if stop_signal().await {
                stopper.stop().await;
            }
        });
        let Self {
            server, mut store_closed, mut access_closed, boards, events_dir, tidy_at_stop, tidy_estimate, ..
        } = self;
        drop(boards);
        let result = server.await;
        signals.abort();
        let closed = async {
            // An error means the sender is gone, which happens only after it said `true`.
            let _ = store_closed.wait_for(|closed| *closed).await;
            let _ = access_closed.wait_for(|closed| *closed).await;
        };
        if tokio::time::timeout(Duration::from_secs(10), closed).await.is_err() {
            tracing::warn!("the data directory was still held 10 s after the server stopped");
            return result;
        }
        let estimate = *tidy_estimate.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let (Some(policy), Some(estimate)) = (tidy_at_stop, estimate) {
            // Blocking, and the last thing the process does: a service manager that loses
            // patience and kills it loses nothing (the swap is one step at the end).
            let _ = actix_web::rt::task::spawn_blocking(move || tidy(&events_dir, policy, estimate, &tell)).await;
        }
        result
    }
}

/// What the tidying of the event store at a clean stop does (ADR 0008).
#[derive(Debug)]
pub enum Tidying {
    /// It starts: this many events are outside chunks, in a file of this many bytes.
    Starting { estimate: TidyEstimate, db_bytes: u64 },
    /// It is done.
    Done { report: RewriteReport, elapsed: Duration },
    /// It did not happen; the store is as it was.
    Failed(String),
}

/// Rewrites the stopped store with its older events in chunks (ADR 0008) when `policy` says it
/// is worth it, so boards load faster at the next start; says what it does in the log and to
/// `tell`.
fn tidy(events_dir: &std::path::Path, policy: TidyPolicy, estimate: TidyEstimate, tell: &dyn Fn(Tidying)) {
    let db_bytes = std::fs::metadata(events_dir.join("db")).map(|metadata| metadata.len()).unwrap_or(u64::MAX);
    if let Err(why) = policy.decide(estimate, db_bytes) {
        tracing::info!(
            outside_chunks = estimate.outside_chunks,
            events = estimate.events,
            "not tidying the event store: {why}"
        );
        return;
    }
    tracing::info!(
        outside_chunks = estimate.outside_chunks,
        events = estimate.events,
        megabytes = db_bytes / 1_000_000,
        "tidying the event store"
    );
    tell(Tidying::Starting { estimate, db_bytes });
    let started = std::time::Instant::now();
    match crate::store::sled_store::rewrite(events_dir) {
        Ok(report) => {
            let elapsed = started.elapsed();
            tracing::info!(
                boards = report.boards,
                events = report.events,
                chunked_events = report.chunked_events,
                megabytes_before = report.bytes_before / 1_000_000,
                megabytes_after = report.bytes_after / 1_000_000,
                elapsed_ms = elapsed.as_millis() as u64,
                "tidied the event store"
            );
            tell(Tidying::Done { report, elapsed });
        }
        Err(error) => {
            tracing::warn!(%error, "the event store was not tidied; it is as it was");
            tell(Tidying::Failed(error.to_string()));
        }
    }
}

/// Waits for SIGINT or SIGTERM; false when they cannot be listened for (the server then runs
/// until stopped through its handle).
async fn stop_signal() -> bool {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut interrupt), Ok(mut terminate)) = (signal(SignalKind::interrupt()), signal(SignalKind::terminate()))
        else {
            tracing::error!("cannot listen for SIGINT and SIGTERM");
            return false;
        };
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
        true
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await.is_ok()
    }
}

/// The origins WebSockets are accepted from: the public URL's, the allowlist, and, when no public
/// URL is configured and the server listens on a loopback address, that port's loopback names
/// (a browser on the same machine may call it `localhost`).
fn own_origins(config: &Config, public_url: &str, address: std::net::SocketAddr) -> Vec<String> {
    use crate::routes::ws::origin_of;
    let mut origins = vec![origin_of(public_url)];
    origins.extend(config.allowed_origins.iter().map(|origin| origin_of(origin)));
    if config.public_url.is_none() {
        let port = address.port();
        if address.ip().is_loopback() {
            origins.extend([
                format!("http://localhost:{port}"),
                format!("http://127.0.0.1:{port}"),
                format!("http://[::1]:{port}"),
            ]);
        } else if address.ip().is_unspecified() {
            tracing::warn!(
                "listening on {address} without --public-url: links name {public_url} and browsers elsewhere cannot open \
                 WebSockets; set --public-url to the address people use"
            );
        }
    }
    origins
}
