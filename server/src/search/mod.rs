//! Search over one board: cards (title and body), proposals, comments and statements, by words,
//! with Finnish in mind.
//!
//! Words are folded (lower case, accents dropped: "aania" finds "ääniä") and a searched word
//! matches a text's word exactly, as its prefix (inflected forms: "kylä" finds "kylässä"), by the
//! Snowball stem of the searched word in the board's language ("hankkeen" finds "hanke"), or,
//! when it is long enough, inside a compound ("koulu" finds "kyläkoulun"). Every searched word
//! must match (AND). Hits are ranked by points per word — the field matched (card title, then
//! statement wording, card body, comment) and then the match's quality (exact, prefix, stem,
//! part) — then by how many of the document's words matched, the newest first on a tie; and
//! each comes with its matched text as highlighted spans.
//!
//! - `fold`: word boundaries and folding. `query`: a parsed query and how a word matches.
//! - `index`: a board's documents ([`Corpus`], gathered from the board state on the board's
//!   task, or only those that changed since an earlier index: [`Changes`]) and the index over
//!   them ([`Index`], built or updated and searched off it).
//! - `segment`: an inverted index over a list of documents ([`Segment`]), built whole; an index
//!   is one, or an earlier one with the changed documents in a second, small one.
//! - `highlight`: matched text as spans, cut to a window around the first match.
//! - `cache`: the indexes of the boards searched lately, each valid for one board version, the
//!   builds under way (one per board version, however many search at once), and each board's
//!   latest whole segment, which the next version's index is updated from.
//!
//! Erased and deleted text is never in a corpus, so it cannot be found; an anonymous author is
//! named only to that author, as in the board's views.

mod cache;
pub mod fold;
mod highlight;
mod index;
mod query;
mod segment;

pub use cache::{Building, Compaction, IndexCache, Slot};
pub use highlight::WINDOW_CHARS;
pub use index::{Changes, Corpus, Document, DocumentKey, Index, MAX_LIMIT};
pub use query::{MAX_QUERY_CHARS, MAX_QUERY_WORDS, Query, QueryError};
pub use segment::Segment;

/// How many hits an answer holds unless asked for fewer or more.
pub const DEFAULT_LIMIT: usize = 20;

#[cfg(test)]
mod tests {
    //! Search over boards built with real commands: folding, prefixes of inflected forms, AND,
    //! ranking, highlights, erased text and anonymous authors.

    use super::*;
    use crate::projection::views::Viewer;
    use kipina_domain::BoardState;
    use kipina_domain::testing::{
        ALICE, ALICES_CARD, BOB, BOBS_CARD, FACILITATOR, IDEAS, LATER, Scenario, add_comment, card, column, comment,
        session, with_cards, workshop,
    };
    use kipina_proto::search::{SearchField, SearchHit, SearchResults, SearchTarget, TextSpan};
    use kipina_proto::{BoardOptions, CardId, Command, Language};

    fn add(card: CardId, title: &str, body: &str) -> Command {
        Command::AddCard { card, column: IDEAS, title: title.into(), body: body.into() }
    }

    fn search_as(state: &BoardState, text: &str, viewer: Viewer) -> SearchResults {
        let index = Index::build(Corpus::of(state));
        let query = Query::parse(text, index.language()).unwrap_or_else(|error| panic!("{text:?}: {error}"));
        index.search(&query, viewer, MAX_LIMIT)
    }

    fn search(state: &BoardState, text: &str) -> SearchResults {
        search_as(state, text, Viewer::Observer)
    }

    fn targets(results: &SearchResults) -> Vec<SearchTarget> {
        results.hits.iter().map(|hit| hit.target).collect()
    }

    fn card_hit(card: CardId) -> SearchTarget {
        SearchTarget::Card { card, group: None }
    }

    fn highlighted(spans: &[TextSpan]) -> Vec<&str> {
        spans.iter().filter(|span| span.highlight).map(|span| span.text.as_str()).collect()
    }

    /// Cards and comments in Finnish.
    fn village() -> Scenario {
        with_cards()
            .given(ALICE, add(card(3), "Kylässä kuuluu lasten ääniä", "Leikkipuisto kylän keskelle."))
            .given(BOB, add(card(4), "Kylätalon remontti", "Talkoot keväällä, Åland-tyyliin."))
            .given(BOB, add_comment(comment(5), ALICES_CARD, "Kahvilaan tarvitaan ääniä ja ihmisiä."))
            .given(ALICE, add(card(6), "Kehittämishankkeen haku", "Hanke alkaa syksyllä."))
    }

    #[test]
    fn accents_and_case_fold_away() {
        let state = village().state().clone();
        let found = search(&state, "aania");
        assert_eq!(found.words, vec!["aania"]);
        assert_eq!(
            targets(&found),
            vec![card_hit(card(3)), SearchTarget::Comment { comment: comment(5), card: ALICES_CARD }]
        );
        assert_eq!(targets(&search(&state, "ÄÄNIÄ")), targets(&found));
        assert_eq!(targets(&search(&state, "aland")), vec![card_hit(card(4))]);
        assert_eq!(targets(&search(&state, "ÅLAND")), vec![card_hit(card(4))]);
    }

    #[test]
    fn inflected_forms_are_found_by_prefix_stem_and_compound_part() {
        let state = village().state().clone();
        // "kylä" is the start of "Kylässä", "kylän" and "Kylätalon".
        let kyla = targets(&search(&state, "kylä"));
        assert!(kyla.contains(&card_hit(card(3))) && kyla.contains(&card_hit(card(4))), "{kyla:?}");
        // The searched genitive "hankkeen" finds the nominative "Hanke" through its stem.
        let hanke = search(&state, "hankkeen");
        assert_eq!(targets(&hanke), vec![card_hit(card(6))]);
        // "talo" is a part of the compound "Kylätalon".
        let part = search(&state, "talo");
        assert_eq!(targets(&part), vec![card_hit(card(4))]);
        assert_eq!(highlighted(&part.hits[0].title), vec!["Kylätalon"]);
        // A stem shorter than four letters is not used: "ääniä" (voices) does not find
        // "äänestys" (a vote) through its stem "ään".
        let voices = workshop().given(ALICE, add(card(1), "Äänestys", "")).state().clone();
        assert!(search(&voices, "ääniä").hits.is_empty());
        assert!(search(&state, "kylx").hits.is_empty());
    }

    #[test]
    fn a_part_is_found_in_every_word_holding_it_at_either_end_of_the_word_list() {
        let state = workshop()
            .given(ALICE, add(card(1), "Aatalo", ""))
            .given(ALICE, add(card(2), "Talotalo", ""))
            .given(ALICE, add(card(3), "Zzztalo", ""))
            .given(ALICE, add(card(4), "Kylä", "Ei taloa"))
            .state()
            .clone();
        let found = search(&state, "talo");
        // "Talotalo" starts with the word (a prefix match, in a title) and comes first; "taloa"
        // too, but in a body; the others hold it inside, the newest first.
        assert_eq!(targets(&found), vec![card_hit(card(2)), card_hit(card(3)), card_hit(card(1)), card_hit(card(4))]);
        assert_eq!(found.hits[3].field, SearchField::Body);
        assert_eq!(highlighted(&found.hits[0].title), vec!["Talotalo"]);
    }

    #[test]
    fn every_word_must_match() {
        let state = village().state().clone();
        assert_eq!(targets(&search(&state, "kylä ääniä")), vec![card_hit(card(3))]);
        // The words may be in different fields of the same card.
        assert_eq!(targets(&search(&state, "remontti talkoot")), vec![card_hit(card(4))]);
        // But not in different things.
        assert!(search(&state, "remontti kahvilaan").hits.is_empty());
        assert_eq!(search(&state, "remontti kahvilaan").total, 0);
    }

    #[test]
    fn a_title_outranks_a_body_which_outranks_a_comment() {
        let state = workshop()
            .given(ALICE, add(card(1), "Muuta", "Kahvio kylätalolle"))
            .given(ALICE, add(card(2), "Kahvio", ""))
            .given(BOB, add_comment(comment(1), card(1), "Kahvio olisi hyvä"))
            .state()
            .clone();
        let found = search(&state, "kahvio");
        assert_eq!(
            targets(&found),
            vec![card_hit(card(2)), card_hit(card(1)), SearchTarget::Comment { comment: comment(1), card: card(1) }]
        );
        let fields: Vec<SearchField> = found.hits.iter().map(|hit| hit.field).collect();
        assert_eq!(fields, vec![SearchField::Title, SearchField::Body, SearchField::Comment]);
    }

    #[test]
    fn exact_outranks_prefix_then_more_matches_then_the_newest() {
        let state = workshop()
            .given(ALICE, add(card(1), "Kylätalo", ""))
            .given(ALICE, add(card(2), "Kylä", ""))
            .given(ALICE, add(card(3), "Kylä kylä", ""))
            .given(ALICE, add(card(4), "Kylä", ""))
            .state()
            .clone();
        assert_eq!(
            targets(&search(&state, "kylä")),
            vec![card_hit(card(3)), card_hit(card(4)), card_hit(card(2)), card_hit(card(1))]
        );
    }

    #[test]
    fn matches_are_highlighted_in_exact_spans() {
        let state = village().state().clone();
        let found = search(&state, "aania");
        let comment = &found.hits[1];
        assert_eq!(
            comment.snippet,
            vec![
                TextSpan { text: "Kahvilaan tarvitaan ".into(), highlight: false },
                TextSpan { text: "ääniä".into(), highlight: true },
                TextSpan { text: " ja ihmisiä.".into(), highlight: false },
            ]
        );
        // A comment's title is its card's title, for context.
        assert_eq!(comment.title, vec![TextSpan { text: "Kyläkahvila".into(), highlight: false }]);
        assert_eq!(
            found.hits[0].title,
            vec![
                TextSpan { text: "Kylässä kuuluu lasten ".into(), highlight: false },
                TextSpan { text: "ääniä".into(), highlight: true },
            ]
        );
        assert_eq!(
            found.hits[0].snippet,
            vec![TextSpan { text: "Leikkipuisto kylän keskelle.".into(), highlight: false }]
        );
    }

    #[test]
    fn erased_and_deleted_words_are_not_found() {
        let state = village()
            .given(BOB, add_comment(comment(7), card(3), "Poistettava kommentti"))
            .given(BOB, Command::DeleteComment { comment: comment(7) })
            .given(BOB, Command::EraseParticipant { participant: BOB })
            .state()
            .clone();
        // Bob's card "Kylätalon remontti" and comment "…ääniä…" were erased with him.
        assert!(search(&state, "remontti").hits.is_empty());
        assert_eq!(targets(&search(&state, "aania")), vec![card_hit(card(3))]);
        assert!(search(&state, "poistettava").hits.is_empty());
        // Nuorisotila was Bob's too.
        assert!(!targets(&search(&state, "nuorisotila")).contains(&card_hit(BOBS_CARD)));
    }

    fn anonymous_board() -> Scenario {
        with_cards()
            .given(
                FACILITATOR,
                Command::SetBoardOptions { options: BoardOptions { anonymous: true, participants_may_group: false } },
            )
            .given(ALICE, add(card(3), "Salainen kylätoive", ""))
            .given(ALICE, add_comment(comment(3), card(3), "Salainen kylätoive tarkemmin"))
    }

    #[test]
    fn an_anonymous_author_is_named_to_nobody_else() {
        let state = anonymous_board().state().clone();
        for viewer in [Viewer::Observer, Viewer::Participant(BOB), Viewer::Participant(FACILITATOR)] {
            let found = search_as(&state, "salainen", viewer);
            assert_eq!(found.hits.len(), 2);
            for hit in &found.hits {
                assert_eq!((hit.author, hit.anonymous), (None, true), "{viewer:?}");
            }
            let json = serde_json::to_string(&found).unwrap_or_default();
            assert!(!json.contains(&ALICE.to_string()), "{viewer:?} was told Alice wrote it: {json}");
        }
        let own = search_as(&state, "salainen", Viewer::Participant(ALICE));
        assert!(own.hits.iter().all(|hit: &SearchHit| hit.author == Some(ALICE)), "Alice sees that they are hers");
        // Before the board went anonymous, authors are named.
        let named = search_as(&state, "nuorisotila", Viewer::Participant(ALICE));
        assert_eq!(named.hits[0].author, None, "the board's option hides every author");
        let open = with_cards().state().clone();
        assert_eq!(search_as(&open, "nuorisotila", Viewer::Participant(ALICE)).hits[0].author, Some(BOB));
    }

    #[test]
    fn statements_proposals_archived_and_grouped_cards_are_found_and_marked() {
        let vision = column(10);
        let state = village()
            .given(
                FACILITATOR,
                Command::AddStatement {
                    column: vision,
                    title: "Visio".into(),
                    text: "Olemme paikallisyhteisöjen elinvoiman kasvattaja.".into(),
                },
            )
            .given(
                ALICE,
                Command::ProposeWording {
                    card: card(20),
                    statement: vision,
                    text: "Olemme rohkea elinvoiman uudistaja.".into(),
                    reason: "Lyhyempi".into(),
                    base_version: 1,
                },
            )
            .given(BOB, Command::ArchiveCard { card: card(4) })
            .given(
                BOB,
                Command::AddCard { card: card(7), column: LATER, title: "Kesäteatteri".into(), body: String::new() },
            )
            .given(FACILITATOR, Command::ArchiveColumn { column: LATER })
            .given(
                FACILITATOR,
                Command::GroupCards { group: card(30), heading: "Kylän lapset".into(), cards: vec![card(3), card(6)] },
            )
            .state()
            .clone();
        let found = search(&state, "elinvoiman");
        // Both match in a wording, exactly: the newer (the proposal) first.
        assert_eq!(
            targets(&found),
            vec![
                SearchTarget::Proposal { card: card(20), statement: vision },
                SearchTarget::Statement { statement: vision, version: 1 },
            ]
        );
        assert_eq!(found.hits.iter().map(|hit| hit.field).collect::<Vec<_>>(), vec![SearchField::Statement; 2]);
        assert_eq!(highlighted(&found.hits[0].title), vec!["elinvoiman"], "a proposal's title is its wording");
        assert_eq!(found.hits[0].snippet, vec![TextSpan { text: "Lyhyempi".into(), highlight: false }]);
        assert_eq!(found.hits[1].title, vec![TextSpan { text: "Visio".into(), highlight: false }]);
        assert_eq!(highlighted(&found.hits[1].snippet), vec!["elinvoiman"]);
        let archived = search(&state, "remontti");
        assert_eq!((targets(&archived), archived.hits[0].archived), (vec![card_hit(card(4))], true));
        let in_archived_column = search(&state, "kesateatteri");
        assert_eq!(
            (targets(&in_archived_column), in_archived_column.hits[0].archived),
            (vec![card_hit(card(7))], true)
        );
        let grouped = search(&state, "leikkipuisto");
        assert_eq!(targets(&grouped), vec![SearchTarget::Card { card: card(3), group: Some(card(30)) }]);
        assert!(!grouped.hits[0].archived);
        assert_eq!(targets(&search(&state, "lapset")), vec![card_hit(card(30))], "a group's title is searched");
    }

    #[test]
    fn the_limit_keeps_the_best_and_the_total_counts_all() {
        let mut scenario = workshop();
        for number in 0..60 {
            let title = if number == 42 { "Kylä".to_owned() } else { format!("Kyläidea {number}") };
            scenario = scenario.given(ALICE, add(card(100 + number), &title, ""));
        }
        let index = Index::build(Corpus::of(scenario.state()));
        let query = Query::parse("kylä", Language::Fi).expect("a query");
        let found = index.search(&query, Viewer::Observer, 5);
        assert_eq!((found.total, found.hits.len()), (60, 5));
        assert_eq!(found.hits[0].target, card_hit(card(142)), "the exact match first");
        // The newest of the equal prefix matches next.
        assert_eq!(found.hits[1].target, card_hit(card(159)));
        assert_eq!(index.search(&query, Viewer::Observer, 1_000).hits.len(), MAX_LIMIT);
        assert_eq!(found.seq, scenario.state().version);
    }

    #[test]
    fn cards_of_an_anonymous_session_are_anonymous_and_earlier_ones_are_not() {
        let state = with_cards()
            .given(
                FACILITATOR,
                Command::CreateSession {
                    session: session(1),
                    name: "Nimetön".into(),
                    date: "2026-06-12".into(),
                    anonymous: true,
                },
            )
            .given(FACILITATOR, Command::StartSession { session: session(1) })
            .given(ALICE, add(card(3), "Nimetön kylätoive", ""))
            .state()
            .clone();
        let found = search_as(&state, "kylätoive", Viewer::Participant(BOB));
        assert_eq!((found.hits[0].author, found.hits[0].anonymous), (None, true));
        assert_eq!(search_as(&state, "kylakahvila", Viewer::Participant(BOB)).hits[0].author, Some(ALICE));
    }

    /// The index of `state` updated from the whole segment of `before`'s, and how many
    /// documents it folded again.
    fn updated(before: &BoardState, state: &BoardState) -> (Index, usize) {
        let base = Index::build(Corpus::of(before));
        let changes = Changes::between(std::sync::Arc::clone(base.main()), state);
        let changed = changes.changed();
        (Index::update(changes), changed)
    }

    #[test]
    fn an_update_folds_only_the_documents_that_changed_and_leaves_out_what_went() {
        let before = village();
        let commented = before.clone().given(ALICE, add_comment(comment(8), card(4), "Talkoisiin tulee ääniä"));
        let (index, changed) = updated(before.state(), commented.state());
        assert_eq!(
            (changed, index.changed(), index.documents()),
            (1, 1, Corpus::of(commented.state()).documents.len())
        );
        let query = Query::parse("aania", Language::Fi).expect("a query");
        let found = index.search(&query, Viewer::Observer, MAX_LIMIT);
        assert_eq!(found, search(commented.state(), "aania"));
        assert_eq!(found.total, 3);

        // A card's new title is its comments' title too: the card and its comment changed.
        let renamed = commented.clone().given(
            ALICE,
            Command::EditCard { card: ALICES_CARD, title: "Kyläkahvio".into(), body: String::new(), base_version: 1 },
        );
        let (index, changed) = updated(commented.state(), renamed.state());
        assert_eq!(changed, 2);
        let query = Query::parse("kahvila", Language::Fi).expect("a query");
        assert_eq!(index.search(&query, Viewer::Observer, MAX_LIMIT).total, 1, "only the comment's own text");

        // What Bob wrote goes with him; of the rest, only Alice's comment on his card changed
        // (its card's title is gone).
        let erased = renamed.clone().given(BOB, Command::EraseParticipant { participant: BOB });
        let (index, changed) = updated(renamed.state(), erased.state());
        assert_eq!(changed, 1);
        let query = Query::parse("remontti", Language::Fi).expect("a query");
        assert_eq!(index.search(&query, Viewer::Observer, MAX_LIMIT).total, 0);
        assert_eq!(index.documents(), Corpus::of(erased.state()).documents.len());
    }
}
