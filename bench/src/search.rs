//! `kipina-bench search`: search on a board at the card limit (10,000 cards, each with
//! comments) written in Finnish with the words of the source texts (`search_words.txt`, as often
//! as they occur there, a third of them with an ending added), made by the real engine.
//!
//! Measured, each over repeated rounds:
//! - what the first search costs the board's task (copying its texts out) and building the
//!   index from them, against lower-casing the same texts (what a scan needs);
//! - what a search right after a change costs: on the board's task, comparing the board with
//!   the index's whole segment (against copying every text out, as a first search does), and
//!   off it, updating the index with the changed documents and searching, against building the
//!   index from scratch;
//! - query latency in-process for several query shapes (an accent-less word, the prefix of an
//!   inflected form, two words, a short prefix, a miss), against a naive scan of the same texts
//!   (lower case and `str::contains`, every word, no folding: it misses "ääniä" for "aania");
//! - the same queries end to end over HTTP on a real server (token check, the board's task,
//!   JSON), and a search right after a change (the index is updated first).

use crate::server_thread::{ServerThread, Started};
use crate::summary::{Row, Section, Stats, millis};
use anyhow::{Context as _, bail};
use kipina_domain::{BoardState, Context, Fact, decide, evolve};
use kipina_proto::search::SearchResults;
use kipina_proto::{BoardId, CardId, ColumnId, Command, CommandId, CommentId, Language, ParticipantId, Role};
use kipina_server::access::AccessStore;
use kipina_server::config::Config;
use kipina_server::data_dir::DataDir;
use kipina_server::engine::{Engine, Executed};
use kipina_server::projection::views::Viewer;
use kipina_server::search::{Changes, Corpus, Index, Query};
use kipina_server::startup::Application;
use serde::Serialize;
use serde_json::json;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// What to run.
#[derive(Clone, Debug, Serialize)]
pub struct SearchOptions {
    pub cards: usize,
    pub comments_per_card: usize,
    /// Index builds measured.
    pub build_rounds: usize,
    /// Rounds of each query, in-process and over HTTP.
    pub query_rounds: usize,
    /// Searches right after a change, over HTTP.
    pub change_rounds: usize,
}

impl SearchOptions {
    pub fn full() -> Self {
        Self { cards: 10_000, comments_per_card: 3, build_rounds: 10, query_rounds: 300, change_rounds: 20 }
    }

    pub fn quick() -> Self {
        Self { cards: 500, comments_per_card: 2, build_rounds: 2, query_rounds: 20, change_rounds: 3 }
    }
}

/// The query shapes: a name for the table and the query.
const QUERIES: [(&str, &str); 5] = [
    // An accent-less word: "aania" for "ääniä".
    ("no accents", "aania"),
    // The start of inflected forms and compounds: "kehittämisen", "kehittämistyö".
    ("prefix", "kehittämis"),
    ("two words", "leader hankkeen"),
    ("short prefix", "ke"),
    ("miss", "qwertyuiop"),
];

/// Workshop words that the source texts lack, with how often they are written.
const EVERYDAY: [(&str, u32); 8] = [
    ("ääniä", 3),
    ("äänestys", 3),
    ("kylä", 4),
    ("kylän", 4),
    ("kylässä", 3),
    ("kylätalo", 2),
    ("talkoot", 2),
    ("nuorille", 2),
];

/// Case endings and clitics added to drawn words (not always grammatical, but as varied).
const ENDINGS: [&str; 14] =
    ["n", "a", "ssa", "sta", "lla", "lta", "lle", "ksi", "t", "ni", "mme", "kin", "han", "ineen"];

/// Words with their weights, and a way to draw them as often as they occur.
struct Words {
    words: Vec<&'static str>,
    /// Running totals of the weights.
    cumulative: Vec<u64>,
}

impl Words {
    fn load() -> Self {
        let listed =
            include_str!("search_words.txt").lines().filter(|line| !line.starts_with('#')).filter_map(|line| {
                let (word, count) = line.rsplit_once(' ')?;
                Some((word, count.parse::<u32>().ok()?))
            });
        let mut words = Vec::new();
        let mut cumulative = Vec::new();
        let mut total = 0u64;
        for (word, count) in listed.chain(EVERYDAY) {
            total += u64::from(count);
            words.push(word);
            cumulative.push(total);
        }
        Self { words, cumulative }
    }

    fn draw(&self, random: &mut Random) -> &'static str {
        let total = self.cumulative.last().copied().unwrap_or(1);
        let at = random.next() % total;
        let index = self.cumulative.partition_point(|sum| *sum <= at);
        self.words[index.min(self.words.len() - 1)]
    }

    /// A word, a third of the time with a case ending or a clitic added, so the board has as
    /// many different word forms as Finnish text has (the source texts alone have 2,200).
    fn draw_inflected(&self, random: &mut Random, into: &mut String) {
        into.push_str(self.draw(random));
        if random.next().is_multiple_of(3) {
            into.push_str(ENDINGS[(random.next() % ENDINGS.len() as u64) as usize]);
        }
    }

    /// A sentence of `from..=to` words: capitalised, a comma now and then, a full stop.
    fn sentence(&self, random: &mut Random, from: u64, to: u64) -> String {
        let count = from + random.next() % (to - from + 1);
        let mut text = String::new();
        let mut word = String::new();
        for number in 0..count {
            word.clear();
            self.draw_inflected(random, &mut word);
            if number == 0 {
                let mut letters = word.chars();
                if let Some(first) = letters.next() {
                    text.extend(first.to_uppercase());
                    text.push_str(letters.as_str());
                }
            } else {
                text.push_str(if random.next().is_multiple_of(9) { ", " } else { " " });
                text.push_str(&word);
            }
        }
        text.push('.');
        text
    }
}

/// SplitMix64: the same board on every run, without a dependency.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut mixed = self.0;
        mixed = (mixed ^ (mixed >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        mixed = (mixed ^ (mixed >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        mixed ^ (mixed >> 31)
    }
}

/// The board that was made, its state and a participant who searches it.
struct Made {
    board: BoardId,
    state: BoardState,
    searcher: ParticipantId,
    /// A card to comment on.
    card: CardId,
    events: u64,
    seconds: f64,
}

/// Makes the board through the engine (sealed personal text, durable appends, snapshots).
fn make_board(data: &DataDir, options: &SearchOptions) -> anyhow::Result<Made> {
    let started = Instant::now();
    let engine = Engine::open(data).context("opening the data directory")?;
    let board = BoardId(Uuid::now_v7());
    let facilitator = ParticipantId(Uuid::now_v7());
    let mut state = BoardState::default();
    let run = |state: &mut BoardState, actor: ParticipantId, command: Command| -> anyhow::Result<()> {
        let context = Context { actor, at: kipina_server::clock::now() };
        let name = command.name();
        match engine.execute(board, state, CommandId(Uuid::now_v7()), context, &command) {
            Ok(Executed::Appended { .. }) => Ok(()),
            Ok(other) => bail!("{name} was answered {other:?}"),
            Err(error) => bail!("{name} failed: {error}"),
        }
    };
    let create = Command::CreateBoard {
        title: "Leader-ryhmien tulevaisuusleiri".into(),
        description: "Kesäkuun ja marraskuun leirien ideat ja keskustelut.".into(),
        language: Language::Fi,
        facilitator_name: "Fanni Fasilitaattori".into(),
    };
    run(&mut state, facilitator, create)?;
    let columns: Vec<ColumnId> = (0..7).map(|_| ColumnId(Uuid::now_v7())).collect();
    for (number, column) in columns.iter().enumerate() {
        run(
            &mut state,
            facilitator,
            Command::AddColumn { column: *column, title: format!("Periaate {}", number + 1) },
        )?;
    }
    let people: Vec<ParticipantId> = (0..40).map(|_| ParticipantId(Uuid::now_v7())).collect();
    for (number, person) in people.iter().enumerate() {
        let join = Command::Join { display_name: format!("Osallistuja {number}"), role: Role::Participant };
        run(&mut state, *person, join)?;
    }
    let words = Words::load();
    let mut random = Random(2016);
    for number in 0..options.cards {
        let card = CardId(Uuid::now_v7());
        let author = people[number % people.len()];
        let add = Command::AddCard {
            card,
            column: columns[number % columns.len()],
            title: words.sentence(&mut random, 3, 8).trim_end_matches('.').to_owned(),
            body: format!("{} {}", words.sentence(&mut random, 8, 20), words.sentence(&mut random, 5, 15)),
        };
        run(&mut state, author, add)?;
        for comment in 0..options.comments_per_card {
            let commenter = people[(number + 1 + comment) % people.len()];
            let body = words.sentence(&mut random, 6, 25);
            let add = Command::AddComment { comment: CommentId(Uuid::now_v7()), card, reply_to: None, body };
            run(&mut state, commenter, add)?;
        }
    }
    let events = state.version;
    drop(engine);
    let card = state.cards.keys().next().copied().context("the board has cards")?;
    Ok(Made { board, state, searcher: people[0], card, events, seconds: started.elapsed().as_secs_f64() })
}

/// The naive baseline: every document's texts lower-cased once, each query scanned with
/// `str::contains` for every word.
struct Naive {
    documents: Vec<Vec<String>>,
}

impl Naive {
    fn of(corpus: &Corpus) -> Self {
        Self {
            documents: corpus
                .documents
                .iter()
                .map(|document| document.texts.iter().map(|text| text.text.to_lowercase()).collect())
                .collect(),
        }
    }

    fn search(&self, query: &str) -> usize {
        let words: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
        self.documents
            .iter()
            .filter(|texts| words.iter().all(|word| texts.iter().any(|text| text.contains(word.as_str()))))
            .count()
    }
}

fn times<T>(rounds: usize, mut run: impl FnMut() -> T) -> (Vec<Duration>, T) {
    let mut durations = Vec::with_capacity(rounds);
    let mut last = None;
    for _ in 0..rounds.max(1) {
        let started = Instant::now();
        let value = std::hint::black_box(run());
        durations.push(started.elapsed());
        last = Some(value);
    }
    // unwrap-free: at least one round ran.
    (durations, last.expect("a round ran"))
}

/// What one query shape found and took.
#[derive(Debug, Serialize)]
struct QueryFigures {
    shape: &'static str,
    query: &'static str,
    total: u32,
    naive_total: usize,
    in_process_ms: Stats,
    naive_ms: Stats,
    http_ms: Option<Stats>,
}

pub async fn run(options: &SearchOptions) -> anyhow::Result<Section> {
    let scratch = tempfile::tempdir().context("a temporary directory")?;
    let data = DataDir::new(scratch.path().join("data"));
    let making = data.clone();
    let making_options = options.clone();
    let made = tokio::task::spawn_blocking(move || make_board(&making, &making_options)).await??;
    crate::progress(&format!(
        "search: made a board of {} cards and {} comments ({} events) in {:.1} s",
        made.state.cards.len(),
        made.state.comments.len(),
        made.events,
        made.seconds
    ));

    // The index: copying the texts out (on the board's task) and building it (off the task).
    let (corpus_times, corpus) = times(options.build_rounds, || Corpus::of(&made.state));
    // The build takes its corpus, as the server's does: the copies are made before the clock runs.
    let mut copies: Vec<Corpus> = (0..options.build_rounds.max(1)).map(|_| corpus.clone()).collect();
    let (build_times, index) =
        times(options.build_rounds, || Index::build(copies.pop().unwrap_or_else(|| corpus.clone())));
    let (lower_times, naive) = times(options.build_rounds, || Naive::of(&corpus));
    let documents = index.documents();
    let terms = index.terms();
    let text_bytes: usize =
        corpus.documents.iter().flat_map(|document| &document.texts).map(|text| text.text.len()).sum();

    let mut figures = Vec::new();
    for (shape, text) in QUERIES {
        let (in_process, found) = times(options.query_rounds, || {
            let query = Query::parse(text, index.language())
                .map(|query| index.search(&query, Viewer::Participant(made.searcher), 20));
            query.map(|results| results.total).unwrap_or(0)
        });
        let (naive_times, naive_total) = times(options.query_rounds, || naive.search(text));
        figures.push(QueryFigures {
            shape,
            query: text,
            total: found,
            naive_total,
            in_process_ms: Stats::of_durations(&in_process),
            naive_ms: Stats::of_durations(&naive_times),
            http_ms: None,
        });
    }
    let after_change = measure_updates(&made, &index, options)?;
    drop(index);

    let http = measure_http(&data, &made, options, &mut figures).await?;
    drop(scratch);

    let case = format!("{} cards", made.state.cards.len());
    let corpus_stats = Stats::of_durations(&corpus_times);
    let build_stats = Stats::of_durations(&build_times);
    let mut rows = vec![
        Row::new("search", &case, "texts copied (on task)", "ms").kipina(corpus_stats),
        Row::new("search", &case, "index built", "ms")
            .kipina(build_stats)
            .baseline("lower-case the same texts", Stats::of_durations(&lower_times)),
    ];
    for figure in &figures {
        let case = format!("{} ({})", figure.shape, figure.total);
        rows.push(
            Row::new("search", &case, "query in-process", "ms")
                .kipina(figure.in_process_ms)
                .baseline(format!("naive scan ({} found)", figure.naive_total), figure.naive_ms)
                .target("p99 < 10 ms", figure.in_process_ms.p99 < 10.0),
        );
    }
    for figure in &figures {
        if let Some(stats) = figure.http_ms {
            let case = format!("{} ({})", figure.shape, figure.total);
            rows.push(
                Row::new("search", &case, "query over HTTP", "ms")
                    .kipina(stats)
                    .baseline("in-process", figure.in_process_ms)
                    .target("p99 < 50 ms", stats.p99 < 50.0),
            );
        }
    }
    let updated_and_searched = Stats::lower_is_better(&after_change.updated_and_searched_ms);
    rows.push(
        Row::new("search", &case, "changes found (on task)", "ms")
            .kipina(Stats::lower_is_better(&after_change.found_ms))
            .baseline("texts copied (on task)", corpus_stats),
    );
    rows.push(
        Row::new("search", &case, "index updated, searched", "ms")
            .kipina(updated_and_searched)
            .baseline("index built", build_stats),
    );
    let http_after_change = Stats::lower_is_better(&http.after_change_ms);
    rows.push(
        Row::new("search", &case, "HTTP after a change", "ms")
            .kipina(http_after_change)
            .baseline("found+updated+searched in-proc", {
                let sums: Vec<f64> = after_change
                    .found_ms
                    .iter()
                    .zip(&after_change.updated_and_searched_ms)
                    .map(|(found, updated)| found + updated)
                    .collect();
                Stats::lower_is_better(&sums)
            })
            .target("p99 < 250 ms", http_after_change.p99 < 250.0),
    );
    rows.push(Row::new("search", &case, "HTTP first (loads)", "ms").kipina(Stats::lower_is_better(&[http.first_ms])));
    let details = json!({
        "options": options,
        "cards": made.state.cards.len(),
        "comments": made.state.comments.len(),
        "events": made.events,
        "seconds_to_make": made.seconds,
        "documents": documents,
        "terms": terms,
        "text_bytes": text_bytes,
        "queries": figures,
        "after_change_found_ms": after_change.found_ms,
        "after_change_updated_and_searched_ms": after_change.updated_and_searched_ms,
        "after_change_documents_changed": after_change.changed,
        "http_first_ms": http.first_ms,
        "http_after_change_ms": http.after_change_ms,
    });
    Ok(Section { benchmark: "search", rows, details })
}

/// A search right after a change, in-process, each round after one more comment.
struct AfterChange {
    /// Comparing the board with the index's whole segment (what the board's task does).
    found_ms: Vec<f64>,
    /// Updating the index with the changed documents and running the query (off the task).
    updated_and_searched_ms: Vec<f64>,
    /// The documents changed since the whole segment, in the last round.
    changed: usize,
}

/// As the HTTP rounds do: a comment, then a search, `change_rounds` times, the index updated
/// each time from the segment built first (as the server's is until a compaction).
fn measure_updates(made: &Made, index: &Index, options: &SearchOptions) -> anyhow::Result<AfterChange> {
    let mut state = made.state.clone();
    let base = index.main();
    let mut figures = AfterChange { found_ms: Vec::new(), updated_and_searched_ms: Vec::new(), changed: 0 };
    for round in 0..options.change_rounds.max(1) {
        let context = Context { actor: made.searcher, at: kipina_server::clock::now() };
        let command = Command::AddComment {
            comment: CommentId(Uuid::now_v7()),
            card: made.card,
            reply_to: None,
            body: format!("Kylätalon talkoisiin tarvitaan ääniä ja ihmisiä, kierros {round}."),
        };
        let events = decide(&state, &context, &command).map_err(|error| anyhow::anyhow!("a comment: {error:?}"))?;
        for event in events {
            let fact = Fact { seq: state.version + 1, at: context.at, actor: context.actor, event };
            evolve(&mut state, &fact);
        }
        let started = Instant::now();
        let changes = Changes::between(std::sync::Arc::clone(base), &state);
        figures.found_ms.push(millis(started.elapsed()));
        figures.changed = changes.changed();
        let started = Instant::now();
        let updated = Index::update(changes);
        let found = Query::parse(QUERIES[0].1, updated.language())
            .map(|query| updated.search(&query, Viewer::Participant(made.searcher), 20).total)
            .unwrap_or(0);
        std::hint::black_box(found);
        figures.updated_and_searched_ms.push(millis(started.elapsed()));
    }
    Ok(figures)
}

/// What the HTTP part measured besides the query shapes.
struct HttpFigures {
    first_ms: f64,
    after_change_ms: Vec<f64>,
}

async fn start_kipina(path: PathBuf) -> anyhow::Result<Started> {
    let mut config = Config::for_tests(path);
    config.max_commands_per_second = 100_000;
    let app = Application::build(config).await.context("building the Kipinä server")?;
    let (port, handle) = (app.port(), app.handle());
    Ok(Started { port, handle, serve: Box::pin(app.run_until_stopped()) })
}

async fn measure_http(
    data: &DataDir,
    made: &Made,
    options: &SearchOptions,
    figures: &mut [QueryFigures],
) -> anyhow::Result<HttpFigures> {
    let token = {
        let access = AccessStore::open(&data.root().join("access")).context("opening the access records")?;
        access.issue_token(made.board, made.searcher).context("issuing a token")?
    };
    let path = data.root().to_path_buf();
    let server = ServerThread::start("kipina-server", move || start_kipina(path)).await?;
    let result = drive_http(&server, made, options, figures, &token).await;
    let stopped = server.stop(result.is_ok()).await;
    let figures = result?;
    stopped?;
    Ok(figures)
}

async fn drive_http(
    server: &ServerThread,
    made: &Made,
    options: &SearchOptions,
    figures: &mut [QueryFigures],
    token: &str,
) -> anyhow::Result<HttpFigures> {
    let client = reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(60)).build()?;
    let base = format!("{}/api/boards/{}/search", server.base_url(), made.board);
    let search = |query: &str| {
        let url = reqwest::Url::parse_with_params(&base, &[("q", query), ("limit", "20")]);
        let client = client.clone();
        async move {
            let response = client.get(url?).bearer_auth(token).send().await?;
            let status = response.status();
            let body = response.bytes().await?;
            if !status.is_success() {
                bail!("the search answered {status}: {}", String::from_utf8_lossy(&body));
            }
            Ok::<SearchResults, anyhow::Error>(serde_json::from_slice(&body)?)
        }
    };
    // The first search loads the board (snapshot and log) and builds its index.
    let started = Instant::now();
    search(QUERIES[0].1).await?;
    let first_ms = millis(started.elapsed());
    for figure in figures.iter_mut() {
        let mut durations = Vec::with_capacity(options.query_rounds);
        for _ in 0..options.query_rounds.max(1) {
            let started = Instant::now();
            let results = search(figure.query).await?;
            durations.push(started.elapsed());
            if results.total != figure.total {
                bail!("{:?} found {} over HTTP but {} in-process", figure.query, results.total, figure.total);
            }
        }
        figure.http_ms = Some(Stats::of_durations(&durations));
    }
    // A change, then a search: the index is updated before the answer.
    let commands = format!("{}/api/boards/{}/commands", server.base_url(), made.board);
    let mut after_change_ms = Vec::new();
    for round in 0..options.change_rounds.max(1) {
        // A comment, since the board already holds as many cards as a board may.
        let command = Command::AddComment {
            comment: CommentId(Uuid::now_v7()),
            card: made.card,
            reply_to: None,
            body: format!("Kylätalon talkoisiin tarvitaan ääniä ja ihmisiä, kierros {round}."),
        };
        let request = kipina_proto::api::CommandRequest { command_id: CommandId(Uuid::now_v7()), command };
        let response = client.post(&commands).bearer_auth(token).json(&request).send().await?;
        if !response.status().is_success() {
            bail!("adding a card answered {}", response.status());
        }
        let started = Instant::now();
        search(QUERIES[0].1).await?;
        after_change_ms.push(millis(started.elapsed()));
    }
    Ok(HttpFigures { first_ms, after_change_ms })
}
