//! `kipina-bench memory`: the resident memory of a server process holding 50 boards of 500 cards
//! each, with comments and votes (made by the real engine, see `dataset`), every board loaded
//! (each one's view read over HTTP, which starts its task from its snapshot and log). The
//! baseline is the same server over the same data directory before any board is loaded: the
//! difference, divided by the cards, is what a card costs in memory (with its share of comments,
//! votes and participants). sled's own page cache is part of the process, and so of both figures.

use crate::child::{ChildServer, get_ok};
use crate::dataset::{self, DatasetSpec};
use crate::summary::{Row, Section, Stats};
use anyhow::Context as _;
use kipina_server::data_dir::DataDir;
use serde::Serialize;
use serde_json::json;

/// What to run.
#[derive(Clone, Debug, Serialize)]
pub struct MemoryOptions {
    pub boards: usize,
    pub cards_per_board: usize,
    pub comments_per_card: usize,
    pub votes_per_card: usize,
    /// Server processes started, each measured once.
    pub rounds: usize,
}

impl MemoryOptions {
    pub fn full() -> Self {
        Self { boards: 50, cards_per_board: 500, comments_per_card: 2, votes_per_card: 2, rounds: 3 }
    }

    pub fn quick() -> Self {
        Self { boards: 5, cards_per_board: 50, comments_per_card: 2, votes_per_card: 2, rounds: 1 }
    }
}

const MIB: f64 = 1024.0 * 1024.0;

pub async fn run(options: &MemoryOptions) -> anyhow::Result<Section> {
    let scratch = tempfile::tempdir().context("a temporary directory")?;
    let data = DataDir::new(scratch.path().join("data"));
    let spec = DatasetSpec {
        boards: options.boards,
        participants: 20,
        cards_per_board: options.cards_per_board,
        comments_per_card: options.comments_per_card,
        votes_per_card: options.votes_per_card,
        withdraw_votes: false,
        events_per_board: None,
    };
    let generating = data.clone();
    let dataset = tokio::task::spawn_blocking(move || dataset::generate(&generating, spec)).await??;
    crate::progress(&format!(
        "memory: made {} boards, {} events in {:.1} s",
        dataset.boards.len(),
        dataset.events,
        dataset.seconds_to_make
    ));
    let tokens = dataset::issue_tokens(&data, &dataset.boards)?;
    let cards: usize = dataset.boards.iter().map(|board| board.cards).sum();
    let http = reqwest::Client::builder().no_proxy().build()?;

    let mut idle = Vec::new();
    let mut loaded = Vec::new();
    let mut peak = Vec::new();
    for _ in 0..options.rounds {
        let server = ChildServer::start(data.root()).await?;
        let base = server.base_url();
        get_ok(&http, &format!("{base}/health"), None).await?;
        idle.push(server.resident_memory()?.0 as f64 / MIB);
        for (made, token) in dataset.boards.iter().zip(&tokens) {
            let body = get_ok(&http, &format!("{base}/api/boards/{}", made.board), Some(token)).await?;
            let view: kipina_proto::view::BoardView = serde_json::from_str(&body).context("a board's view")?;
            anyhow::ensure!(view.cards.len() == made.cards, "a board was served with {} cards", view.cards.len());
        }
        let (resident, high_water) = server.resident_memory()?;
        loaded.push(resident as f64 / MIB);
        peak.push(high_water as f64 / MIB);
        server.stop().await?;
    }
    let per_card_kib: Vec<f64> =
        loaded.iter().zip(&idle).map(|(loaded, idle)| (loaded - idle) * 1024.0 / cards as f64).collect();
    let case = format!("{} boards x {}", options.boards, options.cards_per_board);
    let rows = vec![
        Row::new("memory", &case, "resident, all loaded", "MiB")
            .kipina(Stats::lower_is_better(&loaded))
            .baseline("same server, no board loaded", Stats::lower_is_better(&idle)),
        Row::new("memory", &case, "per card", "KiB").kipina(Stats::lower_is_better(&per_card_kib)),
    ];
    let details = json!({
        "options": options,
        "cards": cards,
        "events": dataset.events,
        "seconds_to_make": dataset.seconds_to_make,
        "idle_resident_mib": idle,
        "loaded_resident_mib": loaded,
        "peak_resident_mib": peak,
        "per_card_kib": per_card_kib,
    });
    Ok(Section { benchmark: "memory", rows, details })
}
