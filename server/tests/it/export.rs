//! Exports read back (Markdown parsed, CSV parsed, the workbook opened with calamine, the Word
//! document unzipped), the JSON log restored into a fresh data directory with identical state
//! and history, and Trello exports imported.

use kipina_domain::{BoardState, Context};
use kipina_proto::{
    BoardId, BoardSettings, CardId, Command, CommandId, ParticipantId, Phase, Role, SessionId, Timestamp,
};
use kipina_server::data_dir::DataDir;
use kipina_server::engine::Engine;
use kipina_server::export::{self, Format};
use kipina_server::import::trello;
use kipina_server::store::EventStore;
use std::io::Read;
use uuid::Uuid;

/// Dangerous first characters for spreadsheets, each in a card: in titles where a title may
/// hold it, in the text for tab and carriage return (titles are one line).
const INJECTIONS: [&str; 4] = ["=1+1", "+SUM(A1)", "-2+3", "@cmd"];
const SECRET_NAME: &str = "Salainen Sanna";

struct Fixture {
    _dir: tempfile::TempDir,
    engine: Engine,
    board: BoardId,
    anonymous_card: CardId,
}

fn run(engine: &Engine, board: BoardId, state: &mut BoardState, actor: ParticipantId, command: Command) {
    let context = Context { actor, at: Timestamp(1_800_000_000_000 + state.version as i64 * 1000) };
    engine
        .execute(board, state, CommandId(Uuid::now_v7()), context, &command)
        .unwrap_or_else(|error| panic!("{}: {error}", command.name()));
}

/// The demo board (statements, sessions, rounds, comments, labels, votes) and more: an
/// anonymous session's card, a group, cards starting with formula characters, an erased person.
fn board_with_everything() -> Fixture {
    let dir = tempfile::tempdir().unwrap(); // unwrap: tests need a directory
    let engine = Engine::open(&DataDir::new(dir.path())).unwrap(); // unwrap: fresh directory
    let board = engine.create_demo_board(Timestamp(1_479_722_400_000)).unwrap(); // unwrap: the demo is valid
    let mut state = engine.load(board).unwrap(); // unwrap: just written
    let facilitator = state.info.as_ref().map(|info| info.created_by).unwrap(); // unwrap: the board exists
    let column = state.column_order[0];
    let sanna = ParticipantId(Uuid::now_v7());
    let erased = ParticipantId(Uuid::now_v7());
    run(&engine, board, &mut state, sanna, Command::Join { display_name: SECRET_NAME.into(), role: Role::Participant });
    run(
        &engine,
        board,
        &mut state,
        erased,
        Command::Join { display_name: "Poistuva Paavo".into(), role: Role::Participant },
    );
    run(
        &engine,
        board,
        &mut state,
        erased,
        Command::AddCard { card: CardId(Uuid::now_v7()), column, title: "Paavon idea".into(), body: String::new() },
    );
    run(&engine, board, &mut state, erased, Command::EraseParticipant { participant: erased });
    let session = SessionId(Uuid::now_v7());
    run(
        &engine,
        board,
        &mut state,
        facilitator,
        Command::CreateSession { session, name: "Nimetön ilta".into(), date: "2026-11-23".into(), anonymous: true },
    );
    run(&engine, board, &mut state, facilitator, Command::StartSession { session });
    let anonymous_card = CardId(Uuid::now_v7());
    run(
        &engine,
        board,
        &mut state,
        sanna,
        Command::AddCard {
            card: anonymous_card,
            column,
            title: "Rohkea nimetön idea".into(),
            body: "Ääneen sanomaton".into(),
        },
    );
    for (index, title) in INJECTIONS.iter().enumerate() {
        let body = if index == 0 { "\tTAB".to_owned() } else { "\rCR".to_owned() };
        run(
            &engine,
            board,
            &mut state,
            facilitator,
            Command::AddCard { card: CardId(Uuid::now_v7()), column, title: (*title).into(), body },
        );
    }
    let (first, second) = (CardId(Uuid::now_v7()), CardId(Uuid::now_v7()));
    for card in [first, second] {
        run(
            &engine,
            board,
            &mut state,
            facilitator,
            Command::AddCard {
                card,
                column,
                title: "# Ryhmiteltävä [linkki](javascript:alert(1))".into(),
                body: String::new(),
            },
        );
    }
    run(
        &engine,
        board,
        &mut state,
        facilitator,
        Command::GroupCards { group: CardId(Uuid::now_v7()), heading: "Ryhmä".into(), cards: vec![first, second] },
    );
    run(&engine, board, &mut state, facilitator, Command::SetPhase { session, phase: Phase::Vote });
    run(
        &engine,
        board,
        &mut state,
        facilitator,
        Command::StartVoteRound { settings: BoardSettings { vote_budget: 3, votes_per_card: 2 }, hidden: false },
    );
    run(&engine, board, &mut state, sanna, Command::CastVote { card: anonymous_card });
    run(&engine, board, &mut state, facilitator, Command::SetPhase { session, phase: Phase::Closed });
    Fixture { _dir: dir, engine, board, anonymous_card }
}

fn export(fixture: &Fixture, format: Format) -> Vec<u8> {
    let state = fixture.engine.load(fixture.board).unwrap(); // unwrap: the board is there
    export::document(fixture.board, &state, format, None, Timestamp(1_800_000_000_000)).unwrap() // unwrap: test
}

fn unzip(bytes: &[u8], name: &str) -> String {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip file");
    let mut text = String::new();
    archive.by_name(name).expect("the part exists").read_to_string(&mut text).expect("UTF-8 XML");
    text
}

#[test]
fn the_json_log_restores_into_a_fresh_directory_with_the_same_state_and_history() {
    let fixture = board_with_everything();
    let log = export::log::export(&fixture.engine, fixture.board, Timestamp(1)).unwrap(); // unwrap: test
    let bytes = serde_json::to_vec(&log).unwrap(); // unwrap: plain data
    let text = String::from_utf8(bytes.clone()).unwrap(); // unwrap: JSON is UTF-8
    assert!(!text.contains("$sealed"), "the log travels opened");
    assert!(!text.contains("Poistuva Paavo") && text.contains("$erased"), "erased words stay erased");

    let other = tempfile::tempdir().unwrap(); // unwrap: test
    let fresh = Engine::open(&DataDir::new(other.path())).unwrap(); // unwrap: fresh directory
    let parsed = export::log::parse(&bytes).unwrap(); // unwrap: our own export
    let (board, head) = export::log::restore(&fresh, parsed).unwrap(); // unwrap: empty directory
    assert_eq!(board, fixture.board);
    let original_head = fixture.engine.store().head(fixture.board).unwrap(); // unwrap: test
    assert_eq!(head, original_head);
    assert_eq!(fresh.load(board).unwrap(), fixture.engine.load(board).unwrap(), "the same state"); // unwrap: test
    assert_eq!(
        fresh.history(board, 1, head).unwrap(),          // unwrap: test
        fixture.engine.history(board, 1, head).unwrap(), // unwrap: test
        "the same facts"
    );
    let ids = |engine: &Engine| {
        engine
            .store()
            .read(board, 1, 100_000)
            .unwrap()
            .into_iter()
            .map(|event| (event.seq, event.event_id, event.command_id))
            .collect::<Vec<_>>() // unwrap: test
    };
    assert_eq!(ids(&fresh), ids(&fixture.engine), "the same event and command ids");

    // Restoring again is refused, and a tampered or foreign file creates nothing.
    let again = export::log::restore(&fresh, export::log::parse(&bytes).unwrap()); // unwrap: test
    assert!(matches!(again, Err(export::log::ImportError::Exists(_))));
    let empty = tempfile::tempdir().unwrap(); // unwrap: test
    let nothing = Engine::open(&DataDir::new(empty.path())).unwrap(); // unwrap: test
    for bad in [&b"{\"format\":\"trello\"}"[..], b"not json", &text.replace("\"seq\":3,", "\"seq\":4,").into_bytes()] {
        assert!(export::log::parse(bad).is_err());
    }
    let sealed = text.replacen("{\"$personal\":", "{\"$sealed\":", 1);
    assert!(matches!(export::log::parse(sealed.as_bytes()), Err(export::log::ImportError::Invalid { .. })));
    assert!(nothing.store().boards().unwrap().is_empty()); // unwrap: test
}

#[test]
fn the_csv_has_a_bom_one_row_per_card_and_no_cell_a_spreadsheet_would_run() {
    let fixture = board_with_everything();
    let bytes = export(&fixture, Format::Csv);
    assert!(bytes.starts_with(export::table::BOM), "Excel needs the BOM to read ä and ö");
    let mut reader = csv::Reader::from_reader(&bytes[3..]);
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect(); // unwrap: test
    assert_eq!(header[0], "Sarake");
    let rows: Vec<Vec<String>> = reader.records().map(|row| row.unwrap().iter().map(str::to_owned).collect()).collect(); // unwrap: test
    let state = fixture.engine.load(fixture.board).unwrap(); // unwrap: test
    let on_board = state
        .column_order
        .iter()
        .filter_map(|id| state.columns.get(id))
        .flat_map(|column| &column.cards)
        .map(|card| 1 + state.cards[card].members.len())
        .sum::<usize>();
    assert_eq!(rows.len(), on_board, "one row per card on the board (proposals and a group's cards included)");
    for row in &rows {
        for cell in row {
            assert!(!cell.starts_with(['=', '+', '-', '@', '\t', '\r']), "a live formula: {cell:?}");
        }
    }
    for injection in INJECTIONS {
        assert!(rows.iter().any(|row| row[1] == format!("'{injection}")), "{injection} is kept, neutralised");
    }
    assert!(rows.iter().any(|row| row[2] == "'\tTAB") && rows.iter().any(|row| row[2] == "'\rCR"));
    let anonymous = rows.iter().find(|row| row[1] == "Rohkea nimetön idea").expect("the anonymous card");
    assert_eq!(anonymous[3], "Nimetön");
    assert!(!String::from_utf8_lossy(&bytes).contains(SECRET_NAME));
}

#[test]
fn the_workbook_opens_with_typed_cells_a_frozen_header_and_every_sheet() {
    use calamine::{Data, Reader, Xlsx};
    let fixture = board_with_everything();
    let bytes = export(&fixture, Format::Xlsx);
    let mut workbook: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes.clone())).expect("an xlsx file");
    assert_eq!(workbook.sheet_names(), vec!["Kortit", "Kommentit", "Äänestyskierrokset", "Julkilausumat"]);
    let cards = workbook.worksheet_range("Kortit").expect("the cards");
    let rows: Vec<&[Data]> = cards.rows().collect();
    assert_eq!(rows[0][1], Data::String("Otsikko".into()));
    let voted = rows.iter().find(|row| row[1] == Data::String("Rohkea nimetön idea".into())).expect("the card");
    assert_eq!(voted[6], Data::Float(1.0), "dots are numbers");
    assert!(matches!(voted[9], Data::DateTime(_)), "dates are dates: {:?}", voted[9]);
    assert_eq!(voted[3], Data::String("Nimetön".into()));
    assert!(rows.iter().any(|row| row[1] == Data::String("'=1+1".into())));
    let statements = workbook.worksheet_range("Julkilausumat").expect("the statements");
    let texts: Vec<String> = statements.rows().skip(1).map(|row| row[2].to_string()).collect();
    assert!(texts.iter().any(|text| text.contains("rajoja ylittävä rohkea uudistaja")), "{texts:?}");
    let sheet = unzip(&bytes, "xl/worksheets/sheet1.xml");
    assert!(sheet.contains("state=\"frozen\"") && sheet.contains("ySplit=\"1\""), "the header row is frozen");
    assert!(sheet.contains("<col "), "columns are sized");
    assert!(!String::from_utf8_lossy(&unzip(&bytes, "xl/sharedStrings.xml").into_bytes()).contains(SECRET_NAME));
}

#[test]
fn the_word_report_has_headings_statements_and_a_table_of_top_cards() {
    let fixture = board_with_everything();
    let bytes = export(&fixture, Format::Docx);
    let xml = unzip(&bytes, "word/document.xml");
    for expected in [
        "Leaderin kulmakivet",
        "Eniten ääniä saaneet",
        "Julkilausumat",
        "Palvelulupaus",
        "kokeilualusta",
        "Osallistujia: 5",
        "Rohkea nimetön idea",
    ] {
        assert!(xml.contains(expected), "the report says {expected:?}");
    }
    assert!(xml.contains("<w:tbl>"), "a table of the top cards");
    assert!(xml.contains("w:val=\"Heading1\""), "headings are headings");
    assert!(!xml.contains(SECRET_NAME));
    let _ = fixture.anonymous_card;
}

#[test]
fn the_markdown_summary_escapes_what_people_typed_and_names_no_anonymous_author() {
    use pulldown_cmark::{Event, Parser, Tag};
    let fixture = board_with_everything();
    let text = String::from_utf8(export(&fixture, Format::Markdown)).unwrap(); // unwrap: UTF-8
    assert!(text.starts_with("# Yhteenveto: Leaderin kulmakivet"));
    for expected in [
        "## Julkilausumat",
        "### Visio",
        "Versiohistoria",
        "~~",
        "Toinen tulevaisuusleiri",
        "## Tulokset",
        "Äänestyskierrokset",
    ] {
        assert!(text.contains(expected), "{expected:?} in\n{text}");
    }
    assert!(!text.contains(SECRET_NAME));
    // Typed Markdown stays text: no heading, link or HTML comes from a card's title.
    let mut headings = 0;
    for event in Parser::new(&text) {
        match event {
            Event::Start(Tag::Link { .. }) | Event::Html(_) | Event::InlineHtml(_) => panic!("user text became markup"),
            Event::Start(Tag::Heading { .. }) => headings += 1,
            _ => {}
        }
    }
    assert!(headings >= 5);
    assert!(text.contains("\\[linkki\\]"), "a typed link stays text");
}

#[test]
fn a_session_export_has_only_what_happened_in_it() {
    let fixture = board_with_everything();
    let state = fixture.engine.load(fixture.board).unwrap(); // unwrap: test
    let session = state.session_order.iter().copied().find(|id| state.sessions[id].name == "Nimetön ilta").unwrap(); // unwrap: made above
    let bytes =
        export::document(fixture.board, &state, Format::Markdown, Some(session), Timestamp(1_800_000_000_000)).unwrap(); // unwrap: test
    let text = String::from_utf8(bytes).unwrap(); // unwrap: test
    assert!(text.contains("Rohkea nimetön idea"));
    assert!(!text.contains("Kyläillat ennen jokaista hakukierrosta"), "cards from the 2016 camp are not in it");
    let unknown = export::document(fixture.board, &state, Format::Markdown, Some(SessionId(Uuid::nil())), Timestamp(0));
    assert!(matches!(unknown, Err(export::ExportError::NoSession)));
}

fn trello_fixture() -> Vec<u8> {
    std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/trello-kylatoimikunta.json")).unwrap() // unwrap: committed
}

#[test]
fn a_trello_board_comes_with_lists_cards_labels_checklists_comments_and_votes() {
    let dir = tempfile::tempdir().unwrap(); // unwrap: test
    let engine = Engine::open(&DataDir::new(dir.path())).unwrap(); // unwrap: test
    let (report, facilitator) =
        trello::import(&engine, &trello_fixture(), "Fanni", Timestamp(1_800_000_000_000)).unwrap(); // unwrap: valid export
    let board = report.board.expect("a board");
    let state = engine.load(board).unwrap(); // unwrap: test
    assert_eq!(state.info.as_ref().map(|info| info.title.as_str()), Some("Kylätoimikunta 2026"));
    assert_eq!(state.participants[&facilitator].role, Role::Facilitator);
    // Lists in position order; the closed list is archived with its card.
    let active: Vec<&str> = state.column_order.iter().map(|id| state.columns[id].title.as_str()).collect();
    assert_eq!(active, vec!["Ideat", "Työn alla", "Tehty"]);
    let old = state.columns.values().find(|column| column.title == "Vanha lista").expect("the closed list");
    assert!(old.archived);
    let card = |title: &str| {
        state.cards.values().find(|card| card.title.as_text() == Some(title)).unwrap_or_else(|| panic!("{title}"))
    };
    let ideas = state.columns.values().find(|column| column.title == "Ideat").expect("ideas");
    assert_eq!(ideas.cards, vec![card("Kyläbussi kauppaan").id, card("Yhteinen rantasauna").id], "cards by position");
    assert!(card("Joulumyyjäiset 2025").archived, "a closed card stays archived");
    // Checklists with their checked state, in position order, after the description.
    assert_eq!(
        card("Yhteinen rantasauna").body.as_text(),
        Some("Talkoilla kesäksi.\nLupa kunnalta.\n\nTehtävät\n- [x] Kysy maanomistajalta\n- [ ] Hae lupa")
    );
    // Labels: names and colours, the unnamed one keeps its colour, shades and none mapped.
    let labels: Vec<(String, String)> =
        state.labels.values().map(|label| (label.name.clone(), label.color.clone())).collect();
    for expected in [("Helppo", "green"), ("", "yellow"), ("Kiireellinen", "red"), ("Ilman väriä", "gray")] {
        assert!(labels.contains(&(expected.0.to_owned(), expected.1.to_owned())), "{expected:?} in {labels:?}");
    }
    assert_eq!(card("Yhteinen rantasauna").labels.len(), 2);
    // Votes as likes; the card's creator as its author; comments in date order with their
    // authors and times, including someone no longer among the members.
    let sauna = card("Yhteinen rantasauna");
    assert_eq!(sauna.likes.len(), 2);
    let name = |participant: &ParticipantId| state.participants[participant].display_name.as_text().map(str::to_owned);
    assert_eq!(name(&sauna.author).as_deref(), Some("Aino Ääkkönen"));
    let comments: Vec<(Option<String>, Option<&str>, i64)> = sauna
        .comments
        .iter()
        .map(|id| &state.comments[id])
        .map(|comment| (name(&comment.author), comment.body.as_text(), comment.created_at.millis()))
        .collect();
    assert_eq!(comments[0].0.as_deref(), Some("Pirkko Poismuuttanut"));
    assert_eq!(comments[0].1, Some("Hyvä idea! Sauna olisi kylän sydän."));
    assert_eq!(comments[0].2, 1_775_034_900_000, "2026-04-01T09:15:00Z");
    assert_eq!(comments[1].0.as_deref(), Some("Eero Mäkelä"));
    assert_eq!((report.cards, report.comments, report.labels, report.likes), (5, 3, 4, 3));
    assert!(report.not_imported.iter().any(|line| line.starts_with("1 attachment: ")), "{:?}", report.not_imported);
    assert!(report.not_imported.iter().any(|line| line.starts_with("1 custom field: ")));
}

#[test]
fn malformed_or_foreign_json_is_refused_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap(); // unwrap: test
    let engine = Engine::open(&DataDir::new(dir.path())).unwrap(); // unwrap: test
    let full = String::from_utf8(trello_fixture()).unwrap(); // unwrap: test
    let cases: Vec<Vec<u8>> = vec![
        b"{".to_vec(),
        b"[]".to_vec(),
        br#"{"format":"kipina-log","version":1}"#.to_vec(),
        br#"{"name":"Ei listoja","cards":[]}"#.to_vec(),
        full.replacen("\"idList\": \"list-ideas\"", "\"idList\": 7", 1).into_bytes(),
        full.as_bytes()[..full.len() / 2].to_vec(),
    ];
    for bytes in cases {
        let result = trello::import(&engine, &bytes, "Fanni", Timestamp(0));
        assert!(matches!(result, Err(trello::TrelloError::NotTrello(_))), "{result:?}");
    }
    assert!(engine.store().boards().unwrap().is_empty(), "nothing was created"); // unwrap: test
}

/// What people typed on a board made for one test: every text goes into the places an export
/// writes it (board, column, cards, a group, comments on a card and on a grouped card, a
/// statement and a proposal).
#[derive(Clone, Debug)]
struct Typed {
    board: String,
    description: String,
    column: String,
    title: String,
    body: String,
    comment: String,
    heading: String,
    statement: String,
}

impl Typed {
    fn all(text: &str) -> Typed {
        Typed {
            board: text.into(),
            description: text.into(),
            column: text.into(),
            title: text.into(),
            body: text.into(),
            comment: text.into(),
            heading: text.into(),
            statement: text.into(),
        }
    }
}

/// A board with `typed` in every place, made by its commands on `engine`; the single-line texts
/// must be single lines (the server refuses line breaks in titles).
fn board_with_text(engine: &Engine, typed: &Typed) -> BoardId {
    let board = BoardId(Uuid::now_v7());
    let facilitator = ParticipantId(Uuid::now_v7());
    let friend = ParticipantId(Uuid::now_v7());
    let mut state = BoardState::default();
    let mut run = |actor: ParticipantId, command: Command| run(engine, board, &mut state, actor, command);
    run(
        facilitator,
        Command::CreateBoard {
            title: typed.board.clone(),
            description: typed.description.clone(),
            language: kipina_proto::Language::Fi,
            facilitator_name: "Fanni".into(),
        },
    );
    run(friend, Command::Join { display_name: "Kaveri".into(), role: Role::Participant });
    let column = kipina_proto::ColumnId(Uuid::now_v7());
    run(facilitator, Command::AddColumn { column, title: typed.column.clone() });
    let (alone, first, second, group) =
        (CardId(Uuid::now_v7()), CardId(Uuid::now_v7()), CardId(Uuid::now_v7()), CardId(Uuid::now_v7()));
    for card in [alone, first, second] {
        run(friend, Command::AddCard { card, column, title: typed.title.clone(), body: typed.body.clone() });
    }
    run(
        friend,
        Command::AddComment {
            comment: kipina_proto::CommentId(Uuid::now_v7()),
            card: alone,
            reply_to: None,
            body: typed.comment.clone(),
        },
    );
    run(
        friend,
        Command::AddComment {
            comment: kipina_proto::CommentId(Uuid::now_v7()),
            card: second,
            reply_to: None,
            body: typed.comment.clone(),
        },
    );
    run(facilitator, Command::GroupCards { group, heading: typed.heading.clone(), cards: vec![first, second] });
    run(friend, Command::CastVote { card: alone });
    run(friend, Command::CastVote { card: group });
    run(friend, Command::ToggleReaction { target: kipina_proto::ReactionTarget::Card(second) });
    let statement = kipina_proto::ColumnId(Uuid::now_v7());
    run(
        facilitator,
        Command::AddStatement { column: statement, title: typed.column.clone(), text: typed.statement.clone() },
    );
    run(
        friend,
        Command::ProposeWording {
            card: CardId(Uuid::now_v7()),
            statement,
            text: format!("{} {}", typed.statement, typed.title),
            reason: typed.title.clone(),
            base_version: 1,
        },
    );
    board
}

/// The text of a Markdown document as a reader sees it, without its white space (which
/// Markdown may fold); and a panic when typed text became a link, an image or HTML.
fn markdown_words(markdown: &str) -> String {
    use pulldown_cmark::{Event, Options, Parser, Tag};
    let mut words = String::new();
    for event in Parser::new_ext(markdown, Options::ENABLE_STRIKETHROUGH) {
        match event {
            Event::Text(text) | Event::Code(text) => words.push_str(&text),
            Event::Start(Tag::Link { .. } | Tag::Image { .. }) | Event::Html(_) | Event::InlineHtml(_) => {
                panic!("typed text became markup: {event:?} in\n{markdown}")
            }
            _ => {}
        }
    }
    words.chars().filter(|c| !c.is_whitespace()).collect()
}

fn without_space(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Every document format of a board with `typed` everywhere: each is written, reads back, and
/// has the typed text in it.
fn every_format_reads_back(engine: &Engine, typed: &Typed) {
    use calamine::{Data, Reader, Xlsx};
    let board = board_with_text(engine, typed);
    let state = engine.load(board).unwrap(); // unwrap: just written
    let write = |format| {
        export::document(board, &state, format, None, Timestamp(1_800_000_000_000))
            .unwrap_or_else(|error| panic!("{} export failed: {error} for {typed:?}", format.name()))
    };

    let markdown = String::from_utf8(write(Format::Markdown)).expect("Markdown is UTF-8");
    let words = markdown_words(&markdown);
    for typed in [&typed.title, &typed.body, &typed.comment, &typed.heading, &typed.statement, &typed.column] {
        assert!(words.contains(&without_space(typed)), "{typed:?} is in the Markdown:\n{markdown}");
    }

    let csv = write(Format::Csv);
    let mut reader = csv::Reader::from_reader(&csv[3..]);
    let rows: Vec<csv::StringRecord> = reader.records().map(|row| row.expect("a CSV row")).collect();
    let titles = rows.iter().filter(|row| &row[1] == export::table::neutralise(&typed.title).as_ref()).count();
    assert!(titles >= 3, "the three cards are rows of the CSV: {rows:?}");
    assert!(rows.iter().any(|row| &row[2] == export::table::neutralise(&typed.body).as_ref()), "{rows:?}");

    let xlsx = write(Format::Xlsx);
    let mut workbook: Xlsx<_> = Xlsx::new(std::io::Cursor::new(xlsx)).expect("an xlsx file");
    let cards = workbook.worksheet_range("Kortit").expect("the cards");
    let title = Data::String(export::table::neutralise(&typed.title).into_owned());
    assert!(cards.rows().filter(|row| row[1] == title).count() >= 3, "the three cards are in the workbook");
    let comments = workbook.worksheet_range("Kommentit").expect("the comments");
    let comment = export::table::neutralise(&typed.comment).into_owned();
    assert_eq!(comments.rows().skip(1).filter(|row| row[3] == Data::String(comment.clone())).count(), 2);

    let docx = write(Format::Docx);
    let xml = unzip(&docx, "word/document.xml");
    assert!(xml.starts_with("<?xml"), "the Word document's XML");
}

/// A card text that once made the Markdown export fail with "Cannot preserve this event block".
const MARKUP: &str = "Vertaisoppimista <b>yli rajojen</b> & \"lainausmerkit\". ";

#[test]
fn html_looking_markup_and_odd_spacing_export_in_every_format() {
    let dir = tempfile::tempdir().unwrap(); // unwrap: test
    let engine = Engine::open(&DataDir::new(dir.path())).unwrap(); // unwrap: fresh directory
    for text in [MARKUP, MARKUP.trim_end(), " **tähti** ", "_ _", "a\u{a0}", "`koodi` [x](y) <!-- -->", "1. # > -"] {
        every_format_reads_back(&engine, &Typed::all(text));
    }
    let mut lines = Typed::all(MARKUP);
    for multi in ["eka\n\n  toka \r\nkolmas\rneljäs\n", "\n<b>\n</b>\n", "   \n\t"] {
        (lines.body, lines.comment, lines.statement, lines.description) =
            (multi.into(), format!("{multi}x"), format!("x{multi}y"), multi.into());
        every_format_reads_back(&engine, &lines);
    }
}

/// One line of text as people type or import it: anything printable, weighted towards what
/// means something in Markdown, HTML, CSV and spreadsheets.
fn a_line() -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::prelude::*;
    prop_oneof!["[ -~]{1,30}", "[a-zäö <>&\"'*_`#\\[\\]()!\\\\~|=+@.:;\u{a0}\u{3000}\u{200b}-]{1,30}", "\\PC{1,20}",]
        .prop_filter("a title is not blank", |text| !text.trim().is_empty())
}

/// Text that may span lines.
fn some_lines() -> impl proptest::strategy::Strategy<Value = String> {
    "[a-zäö <>&\"'*_`#\\[\\]()!\\\\~|=+@.:;\t\n\r\u{a0}-]{0,60}"
}

#[test]
fn any_typed_text_exports_in_every_format_and_reads_back() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};
    let dir = tempfile::tempdir().unwrap(); // unwrap: test
    let engine = Engine::open(&DataDir::new(dir.path())).unwrap(); // unwrap: fresh directory
    let typed = (a_line(), some_lines(), a_line(), a_line(), some_lines(), some_lines(), a_line(), some_lines())
        .prop_filter("a comment and a statement are not blank", |texts| {
            !texts.4.trim().is_empty() && !texts.5.trim().is_empty()
        })
        .prop_map(|(board, description, column, title, body, comment, heading, statement)| Typed {
            board,
            description,
            column,
            title,
            body: body.clone(),
            comment,
            heading,
            statement: if statement.trim().is_empty() { body } else { statement },
        });
    let mut runner = TestRunner::new(Config { cases: 48, failure_persistence: None, ..Config::default() });
    runner
        .run(&typed, |typed| {
            every_format_reads_back(&engine, &typed);
            Ok(())
        })
        .unwrap(); // unwrap: the failing case is in the panic
}

/// The texts of the first table in a Word document, cell by cell.
fn table_cells(xml: &str) -> Vec<String> {
    let table = &xml[xml.find("<w:tbl>").expect("a table")..xml.find("</w:tbl>").expect("the table ends")];
    table
        .split("</w:t>")
        .filter_map(|part| part.rfind('>').map(|at| part[at + 1..].to_owned()))
        .filter(|text| !text.is_empty())
        .collect()
}

#[test]
fn ties_share_a_place_in_every_format_and_dots_are_counted_in_finnish() {
    let dir = tempfile::tempdir().unwrap(); // unwrap: test
    let engine = Engine::open(&DataDir::new(dir.path())).unwrap(); // unwrap: fresh directory
    // A card and a group with one dot each: a tie for the first place.
    let board = board_with_text(&engine, &Typed::all("Tasapeli"));
    let state = engine.load(board).unwrap(); // unwrap: just written
    let write = |format| export::document(board, &state, format, None, Timestamp(1_800_000_000_000)).unwrap(); // unwrap: test
    let cells = table_cells(&unzip(&write(Format::Docx), "word/document.xml"));
    assert_eq!(
        cells,
        ["Sija", "Otsikko", "Sarake", "Äänet", "1", "Tasapeli", "Tasapeli", "1", "1", "Tasapeli", "Tasapeli", "1"],
        "the Word report ranks a tie as the results view does"
    );
    let markdown = String::from_utf8(write(Format::Markdown)).unwrap(); // unwrap: UTF-8
    assert!(!markdown.contains("äänet"), "no \"1 äänet\":\n{markdown}");
    assert_eq!(markdown.matches("1\\. Tasapeli — 1 ääni").count(), 2, "both share the first place:\n{markdown}");
    assert_eq!(markdown.matches("1\\. **Tasapeli** — Äänet: 1").count(), 2, "in the column too:\n{markdown}");
}

#[test]
fn every_card_of_a_group_and_every_comment_is_in_every_format_with_its_group() {
    use calamine::{Data, Reader, Xlsx};
    let dir = tempfile::tempdir().unwrap(); // unwrap: test
    let engine = Engine::open(&DataDir::new(dir.path())).unwrap(); // unwrap: fresh directory
    let typed = Typed {
        board: "Ryhmätaulu".into(),
        description: String::new(),
        column: "Ideat".into(),
        title: "Kyläkoulu".into(),
        body: "Iltakäyttöön".into(),
        comment: "Hyvä ajatus".into(),
        heading: "Kylän tilat".into(),
        statement: "Visio".into(),
    };
    // Three cards titled "Kyläkoulu": one alone, two in the group "Kylän tilat"; a comment on the
    // lone card and one on the second card of the group.
    let board = board_with_text(&engine, &typed);
    let state = engine.load(board).unwrap(); // unwrap: just written
    let write = |format| export::document(board, &state, format, None, Timestamp(1_800_000_000_000)).unwrap(); // unwrap: test

    let markdown = String::from_utf8(write(Format::Markdown)).unwrap(); // unwrap: UTF-8
    // The three cards and the open proposal, whose title is its reason.
    assert_eq!(markdown.matches("**Kyläkoulu**").count(), 4, "every card, not only the group's titles:\n{markdown}");
    assert_eq!(markdown.matches("Ryhmä: Kylän tilat").count(), 2, "each grouped card names its group:\n{markdown}");
    assert_eq!(markdown.matches("Kaveri: Hyvä ajatus").count(), 2, "the comment on the grouped card too:\n{markdown}");

    let csv = write(Format::Csv);
    let mut reader = csv::Reader::from_reader(&csv[3..]);
    assert_eq!(reader.headers().unwrap().get(11), Some("Ryhmä")); // unwrap: test
    let rows: Vec<csv::StringRecord> = reader.records().map(|row| row.unwrap()).collect(); // unwrap: test
    let cards: Vec<(&str, &str)> =
        rows.iter().filter(|row| &row[1] == "Kyläkoulu").map(|row| (&row[8], &row[11])).collect();
    let expected = vec![("1", ""), ("0", "Kylän tilat"), ("1", "Kylän tilat"), ("0", "")];
    assert_eq!(cards, expected, "comment counts and groups (the proposal last): {rows:?}");
    assert!(rows.iter().any(|row| &row[1] == "Kylän tilat"), "and the group itself");

    let mut workbook: Xlsx<_> = Xlsx::new(std::io::Cursor::new(write(Format::Xlsx))).expect("an xlsx file");
    let sheet = workbook.worksheet_range("Kortit").expect("the cards");
    let grouped = sheet.rows().filter(|row| row[11] == Data::String("Kylän tilat".into())).count();
    assert_eq!(grouped, 2, "the group's cards are rows naming their group");
    let comments = workbook.worksheet_range("Kommentit").expect("the comments");
    assert_eq!(comments.rows().skip(1).filter(|row| row[3] == Data::String("Hyvä ajatus".into())).count(), 2);

    let xml = unzip(&write(Format::Docx), "word/document.xml");
    // The three cards, the proposal, and the lone card again in the table of the most dots.
    assert_eq!(xml.matches(">Kyläkoulu<").count(), 5, "every card in the Word report");
    assert_eq!(xml.matches("Kaveri: Hyvä ajatus").count(), 2, "with its comments");
    assert_eq!(xml.matches("Ryhmä: Kylän tilat").count(), 2, "and its group");
}
