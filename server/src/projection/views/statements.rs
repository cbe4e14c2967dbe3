//! A column and its statement: every adopted wording, who proposed it (unless anonymous), and
//! what changed from the wording before, word by word.

use super::Viewer;
use kipina_domain::{BoardState, Column};
use kipina_proto::view::{ColumnView, DiffKind, DiffSpan, StatementVersionView, StatementView};

pub fn column_view(state: &BoardState, column: &Column, viewer: Viewer) -> ColumnView {
    ColumnView {
        id: column.id,
        title: column.title.clone(),
        text_version: column.text_version,
        archived: column.archived,
        cards: column.cards.clone(),
        statement: column.statement.as_ref().map(|statement| statement_view(state, statement, viewer)),
    }
}

fn statement_view(state: &BoardState, statement: &kipina_domain::Statement, viewer: Viewer) -> StatementView {
    let mut previous = "";
    let versions = statement
        .versions
        .iter()
        .map(|version| {
            let text = version.text.as_text();
            let anonymous = version_is_anonymous(state, version);
            // An erased wording has no difference to show, and the next one is compared with the
            // last wording that can still be read.
            let diff = text.map(|text| word_diff(previous, text)).unwrap_or_default();
            if let Some(text) = text {
                previous = text;
            }
            StatementVersionView {
                number: version.number,
                text: text.map(str::to_owned),
                author: (!anonymous || viewer.is(version.author)).then_some(version.author),
                anonymous,
                reason: version.reason.as_ref().and_then(|reason| reason.as_text()).map(str::to_owned),
                adopted_at: version.adopted_at,
                adopted_seq: version.adopted_seq,
                session: version.session,
                proposal: version.proposal,
                diff,
            }
        })
        .collect();
    StatementView { versions }
}

/// A wording is as anonymous as the proposal it came from.
pub(crate) fn version_is_anonymous(state: &BoardState, version: &kipina_domain::StatementVersion) -> bool {
    version.proposal.and_then(|card| state.cards.get(&card)).is_some_and(|card| state.card_is_anonymous(card))
}

/// `new` against `old`, word by word, in runs of the same kind.
pub fn word_diff(old: &str, new: &str) -> Vec<DiffSpan> {
    let mut spans: Vec<DiffSpan> = Vec::new();
    for change in similar::TextDiff::from_words(old, new).iter_all_changes() {
        let kind = match change.tag() {
            similar::ChangeTag::Equal => DiffKind::Same,
            similar::ChangeTag::Insert => DiffKind::Added,
            similar::ChangeTag::Delete => DiffKind::Removed,
        };
        match spans.last_mut() {
            Some(last) if last.kind == kind => last.text.push_str(change.value()),
            _ => spans.push(DiffSpan { kind, text: change.value().to_owned() }),
        }
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::word_diff;
    use kipina_proto::view::DiffKind;

    #[test]
    fn a_new_wording_is_compared_with_the_last_word_by_word() {
        let spans = |old, new| word_diff(old, new).into_iter().map(|span| (span.kind, span.text)).collect::<Vec<_>>();
        assert_eq!(
            spans("Olemme elinvoiman kasvattaja.", "Olemme rohkea elinvoiman uudistaja."),
            vec![
                (DiffKind::Same, "Olemme ".to_owned()),
                (DiffKind::Added, "rohkea ".to_owned()),
                (DiffKind::Same, "elinvoiman ".to_owned()),
                (DiffKind::Removed, "kasvattaja.".to_owned()),
                (DiffKind::Added, "uudistaja.".to_owned()),
            ]
        );
        assert_eq!(spans("", "Visio"), vec![(DiffKind::Added, "Visio".to_owned())]);
    }
}
