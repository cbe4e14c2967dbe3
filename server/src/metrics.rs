//! Prometheus metrics (`GET /metrics`): connections, events appended, append latency,
//! commands by outcome, fan-out queue drops (connections kicked for falling behind), and
//! connections the server let go of, by why.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabel {
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabel {
    pub reason: &'static str,
}

/// Why the server closed a connection that was not keeping up with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LetGo {
    /// Its outgoing queue was full (it was told to resync).
    FellBehind,
    /// A write to it did not finish within the write timeout: it stopped reading.
    NotReading,
    /// Nothing was heard from it within the client timeout.
    Silent,
}

impl LetGo {
    fn label(self) -> &'static str {
        match self {
            LetGo::FellBehind => "fell_behind",
            LetGo::NotReading => "not_reading",
            LetGo::Silent => "silent",
        }
    }
}

/// The server's metrics and their registry.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    pub connections: Gauge,
    pub events_appended: Counter,
    pub append_latency: Histogram,
    pub commands: Family<OutcomeLabel, Counter>,
    pub fanout_drops: Counter,
    pub reads_held_back: Counter,
    pub let_go: Family<ReasonLabel, Counter>,
    pub boards_damaged: Gauge,
    pub events_compacted: Gauge,
    pub events_outside_chunks: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::default();
        let connections = Gauge::default();
        let events_appended = Counter::default();
        // From 0.1 ms (one fsync on a fast disk) to about 3 s.
        let append_latency = Histogram::new(exponential_buckets(0.000_1, 2.0, 16));
        let commands = Family::<OutcomeLabel, Counter>::default();
        let fanout_drops = Counter::default();
        let reads_held_back = Counter::default();
        let let_go = Family::<ReasonLabel, Counter>::default();
        let boards_damaged = Gauge::default();
        let events_compacted = Gauge::default();
        let events_outside_chunks = Gauge::default();
        registry.register("kipina_connections", "Open WebSocket connections", connections.clone());
        registry.register("kipina_events_appended", "Events appended durably", events_appended.clone());
        registry.register(
            "kipina_append_latency_seconds",
            "Time from a command's arrival at its board to its events being durable",
            append_latency.clone(),
        );
        registry.register("kipina_commands", "Commands by outcome", commands.clone());
        registry.register(
            "kipina_fanout_queue_drops",
            "Connections dropped because their outgoing queue was full",
            fanout_drops.clone(),
        );
        registry.register(
            "kipina_connection_reads_held_back",
            "Times a connection stopped reading its client until the board answered the commands it holds \
             (a client sending faster than its commands are decided and its answers read)",
            reads_held_back.clone(),
        );
        registry.register(
            "kipina_connections_let_go",
            "Connections the server closed because they did not keep up: fell_behind (queue full), not_reading \
             (a write timed out), silent (no heartbeat)",
            let_go.clone(),
        );
        registry.register(
            "kipina_boards_damaged",
            "Boards in quarantine because their stored data is damaged (not served)",
            boards_damaged.clone(),
        );
        registry.register(
            "kipina_store_events_compacted",
            "Events the event store has rewritten into chunks since it started, so boards load faster",
            events_compacted.clone(),
        );
        registry.register(
            "kipina_store_events_outside_chunks",
            "Stored events not in chunks yet (about; -1 until the background check has counted them): a clean stop \
             tidies them into chunks once there are enough",
            events_outside_chunks.clone(),
        );
        Self {
            registry,
            connections,
            events_appended,
            append_latency,
            commands,
            fanout_drops,
            reads_held_back,
            let_go,
            boards_damaged,
            events_compacted,
            events_outside_chunks,
        }
    }
}

impl Metrics {
    /// The metrics in Prometheus text format.
    pub fn render(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }

    pub fn command(&self, outcome: &'static str) {
        self.commands.get_or_create(&OutcomeLabel { outcome }).inc();
    }

    pub fn let_go(&self, why: LetGo) {
        self.let_go.get_or_create(&ReasonLabel { reason: why.label() }).inc();
    }
}
