//! The server's configuration: from flags and `KIPINA_*` variables (see `cli`), or built
//! directly by tests with [`Config::for_tests`].

use std::path::PathBuf;
use std::time::Duration;

/// Everything `Application::build` needs.
#[derive(Clone, Debug)]
pub struct Config {
    /// The data directory (event log, keys, snapshots, access records).
    pub data_dir: PathBuf,
    /// Where to listen, e.g. `127.0.0.1:8080`; port 0 picks a free port.
    pub bind: String,
    /// The address people use to reach the server, for links (e.g. `https://kipina.example.fi`).
    /// Defaults to `http://` plus the bound address.
    pub public_url: Option<String>,
    /// Origins besides the server's own that may open WebSockets.
    pub allowed_origins: Vec<String>,
    /// Create the demo board when the data directory has no boards.
    pub create_demo: bool,
    /// Commands one participant may send per second, over all their connections and HTTP
    /// (bursts of twice as many).
    pub max_commands_per_second: u32,
    /// How often the server pings each WebSocket.
    pub heartbeat_interval: Duration,
    /// How long a WebSocket may stay silent before it is closed.
    pub client_timeout: Duration,
    /// HTTP worker threads (0: one per core).
    pub workers: usize,
    /// Whether the event store rewrites settled events into chunks (ADR 0008; off by default),
    /// and how long it must have written nothing before it does
    /// ([`crate::store::StoreOptions::compaction_quiet`]).
    pub compaction: Option<Duration>,
    /// Whether the server rewrites its event store with older events in chunks when it stops
    /// cleanly and enough have gathered (ADR 0008), and when that is. On by default; off in
    /// tests unless a test turns it on.
    pub tidy_at_stop: Option<crate::store::TidyPolicy>,
}

impl Config {
    /// Production defaults for `data_dir`.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            bind: "127.0.0.1:8080".into(),
            public_url: None,
            allowed_origins: Vec::new(),
            create_demo: true,
            max_commands_per_second: 20,
            heartbeat_interval: Duration::from_secs(10),
            client_timeout: Duration::from_secs(30),
            workers: 0,
            compaction: None,
            tidy_at_stop: Some(crate::store::TidyPolicy::default()),
        }
    }

    /// A server on a free loopback port with no demo board, for tests.
    pub fn for_tests(data_dir: impl Into<PathBuf>) -> Self {
        Self { bind: "127.0.0.1:0".into(), create_demo: false, workers: 2, tidy_at_stop: None, ..Self::new(data_dir) }
    }
}
