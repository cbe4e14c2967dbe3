//! The fuzzers' committed corpus (`fuzz/corpus/`), replayed on every test run: each input that
//! once found new behaviour (or a bug) goes through the same functions the fuzz targets call.
//! Growing it: `cd fuzz && cargo +nightly fuzz run ws_message -- -max_total_time=60` (and
//! `trello_file`), then `cargo +nightly fuzz cmin <target>`; see `docs/reliability.md`.

use std::path::Path;

fn replay(target: &str, run: fn(&[u8])) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus").join(target);
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|error| panic!("{}: {error}", dir.display())) {
        let path = entry.expect("a corpus entry").path();
        let bytes = std::fs::read(&path).expect("a corpus file");
        let outcome = std::panic::catch_unwind(|| run(&bytes));
        assert!(outcome.is_ok(), "{} makes {target} panic", path.display());
        count += 1;
    }
    count
}

#[test]
fn every_websocket_input_in_the_corpus_is_answered_without_a_panic() {
    let inputs = replay("ws_message", kipina_server::fuzzing::ws_message);
    assert!(inputs >= 7, "the corpus has {inputs} inputs");
}

#[test]
fn every_trello_file_in_the_corpus_is_imported_or_refused_without_a_panic() {
    let inputs = replay("trello_file", kipina_server::fuzzing::trello_file);
    assert!(inputs >= 3, "the corpus has {inputs} inputs");
}
