//! The words of an export, in the board's language.

use kipina_proto::{CardStatus, Language, Phase};

/// Headings, column names and labels for one language.
#[derive(Debug, PartialEq, Eq)]
pub struct Words {
    pub summary: &'static str,
    pub exported: &'static str,
    pub participants: &'static str,
    pub sessions: &'static str,
    pub session: &'static str,
    pub date: &'static str,
    pub phase: &'static str,
    pub results: &'static str,
    pub top_cards: &'static str,
    pub rank: &'static str,
    pub column: &'static str,
    pub title: &'static str,
    pub body: &'static str,
    pub author: &'static str,
    pub labels: &'static str,
    pub status: &'static str,
    pub votes: &'static str,
    pub likes: &'static str,
    pub comments: &'static str,
    pub comment: &'static str,
    pub comment_count: &'static str,
    pub created: &'static str,
    pub updated: &'static str,
    pub cards: &'static str,
    pub group_of: &'static str,
    pub statements: &'static str,
    pub statement: &'static str,
    pub current_wording: &'static str,
    pub history: &'static str,
    pub version: &'static str,
    pub adopted: &'static str,
    pub reason: &'static str,
    pub open_proposals: &'static str,
    pub rounds: &'static str,
    pub round: &'static str,
    pub budget: &'static str,
    pub per_card: &'static str,
    pub hidden: &'static str,
    pub current: &'static str,
    pub anonymous: &'static str,
    pub erased: &'static str,
    pub archived: &'static str,
    pub reply: &'static str,
    pub text: &'static str,
    /// A number of dots: after 1, after any other number ("1 ääni", "5 ääntä").
    dot_counts: [&'static str; 2],
    statuses: [&'static str; 6],
    phases: [&'static str; 5],
}

impl Words {
    pub fn of(language: Language) -> &'static Words {
        match language {
            Language::Fi => &FI,
            Language::Sv => &SV,
            Language::En => &EN,
        }
    }

    pub fn status(&self, status: CardStatus) -> &'static str {
        let index = match status {
            CardStatus::New => 0,
            CardStatus::UnderReview => 1,
            CardStatus::Selected => 2,
            CardStatus::InProgress => 3,
            CardStatus::Done => 4,
            CardStatus::Declined => 5,
        };
        self.statuses[index]
    }

    /// `count` dots in words, with the number's grammatical form: "1 ääni", "5 ääntä", "0 ääntä".
    pub fn dots(&self, count: u32) -> String {
        let word = if count == 1 { self.dot_counts[0] } else { self.dot_counts[1] };
        format!("{count} {word}")
    }

    pub fn phase(&self, phase: Option<Phase>) -> &'static str {
        match phase {
            None => "–",
            Some(phase) => self.phases[Phase::ALL.iter().position(|p| *p == phase).unwrap_or(0)],
        }
    }
}

static FI: Words = Words {
    summary: "Yhteenveto",
    exported: "Viety",
    participants: "Osallistujia",
    sessions: "Tilaisuudet",
    session: "Tilaisuus",
    date: "Päivä",
    phase: "Vaihe",
    results: "Tulokset",
    top_cards: "Eniten ääniä saaneet",
    rank: "Sija",
    column: "Sarake",
    title: "Otsikko",
    body: "Teksti",
    author: "Kirjoittaja",
    labels: "Tunnisteet",
    status: "Tila",
    votes: "Äänet",
    likes: "Tykkäykset",
    comments: "Kommentit",
    comment: "Kommentti",
    comment_count: "Kommentteja",
    created: "Luotu",
    updated: "Muokattu",
    cards: "Kortit",
    group_of: "Ryhmä",
    statements: "Julkilausumat",
    statement: "Julkilausuma",
    current_wording: "Nykyinen muotoilu",
    history: "Versiohistoria",
    version: "Versio",
    adopted: "Hyväksytty",
    reason: "Perustelu",
    open_proposals: "Avoimet ehdotukset",
    rounds: "Äänestyskierrokset",
    round: "Kierros",
    budget: "Ääniä/hlö",
    per_card: "Enintään/kortti",
    hidden: "piilotettu",
    current: "käynnissä",
    anonymous: "Nimetön",
    erased: "(poistettu)",
    archived: "arkistoitu",
    reply: "vastaus",
    text: "Muotoilu",
    dot_counts: ["ääni", "ääntä"],
    statuses: ["Uusi", "Tarkastelussa", "Valittu valmisteluun", "Työn alla", "Toteutettu", "Ei jatkoon"],
    phases: ["Ideointi", "Keskustelu", "Äänestys", "Tulokset", "Päättynyt"],
};

static SV: Words = Words {
    summary: "Sammanfattning",
    exported: "Exporterad",
    participants: "Deltagare",
    sessions: "Tillfällen",
    session: "Tillfälle",
    date: "Datum",
    phase: "Fas",
    results: "Resultat",
    top_cards: "Flest röster",
    rank: "Plats",
    column: "Kolumn",
    title: "Rubrik",
    body: "Text",
    author: "Skribent",
    labels: "Etiketter",
    status: "Status",
    votes: "Röster",
    likes: "Gillningar",
    comments: "Kommentarer",
    comment: "Kommentar",
    comment_count: "Kommentarer",
    created: "Skapad",
    updated: "Ändrad",
    cards: "Kort",
    group_of: "Grupp",
    statements: "Ställningstaganden",
    statement: "Ställningstagande",
    current_wording: "Nuvarande lydelse",
    history: "Versionshistorik",
    version: "Version",
    adopted: "Antagen",
    reason: "Motivering",
    open_proposals: "Öppna förslag",
    rounds: "Röstningsomgångar",
    round: "Omgång",
    budget: "Röster/person",
    per_card: "Högst/kort",
    hidden: "dold",
    current: "pågår",
    anonymous: "Anonym",
    erased: "(raderad)",
    archived: "arkiverad",
    reply: "svar",
    text: "Lydelse",
    dot_counts: ["röst", "röster"],
    statuses: ["Ny", "Granskas", "Vald för beredning", "Pågår", "Genomförd", "Går inte vidare"],
    phases: ["Idéer", "Diskussion", "Röstning", "Resultat", "Avslutad"],
};

static EN: Words = Words {
    summary: "Summary",
    exported: "Exported",
    participants: "Participants",
    sessions: "Sessions",
    session: "Session",
    date: "Date",
    phase: "Phase",
    results: "Results",
    top_cards: "Most votes",
    rank: "Rank",
    column: "Column",
    title: "Title",
    body: "Text",
    author: "Author",
    labels: "Labels",
    status: "Status",
    votes: "Votes",
    likes: "Likes",
    comments: "Comments",
    comment: "Comment",
    comment_count: "Comments",
    created: "Created",
    updated: "Updated",
    cards: "Cards",
    group_of: "Group",
    statements: "Statements",
    statement: "Statement",
    current_wording: "Current wording",
    history: "Version history",
    version: "Version",
    adopted: "Adopted",
    reason: "Reason",
    open_proposals: "Open proposals",
    rounds: "Vote rounds",
    round: "Round",
    budget: "Dots/person",
    per_card: "Max/card",
    hidden: "hidden",
    current: "running",
    anonymous: "Anonymous",
    erased: "(erased)",
    archived: "archived",
    reply: "reply",
    text: "Wording",
    dot_counts: ["vote", "votes"],
    statuses: ["New", "Under review", "Selected", "In progress", "Done", "Declined"],
    phases: ["Ideas", "Discussion", "Voting", "Results", "Closed"],
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_of_dots_takes_the_form_its_number_needs() {
        let fi = Words::of(Language::Fi);
        assert_eq!((fi.dots(1), fi.dots(5), fi.dots(0)), ("1 ääni".into(), "5 ääntä".into(), "0 ääntä".into()));
        assert_eq!(
            (Words::of(Language::Sv).dots(1), Words::of(Language::Sv).dots(2)),
            ("1 röst".into(), "2 röster".into())
        );
        assert_eq!(
            (Words::of(Language::En).dots(1), Words::of(Language::En).dots(3)),
            ("1 vote".into(), "3 votes".into())
        );
    }
}
