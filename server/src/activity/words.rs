//! The Atom feed's sentences in the board's language ("Aino lisäsi kortin «Kyläkoulu»"). The web
//! client writes the same sentences from its own translations; these are for feed readers, which
//! get text, not ids.

use kipina_domain::BoardState;
use kipina_proto::activity::{ActivityItem, ActivityKind};
use kipina_proto::{CardStatus, Language, Phase, Role};

/// A sentence saying what `item` was, with the board's current names and titles.
pub fn sentence(state: &BoardState, item: &ActivityItem, language: Language) -> String {
    let pick = |texts: [&'static str; 3]| pick(language, texts);
    let template = pick(template(item));
    let erased = || pick(ERASED).to_owned();
    let person = |participant: Option<kipina_proto::ParticipantId>| {
        participant
            .and_then(|id| state.participants.get(&id))
            .and_then(|found| found.display_name.as_text())
            .map_or_else(erased, str::to_owned)
    };
    let actor = if item.actor.is_none() { pick(ANONYMOUS).to_owned() } else { person(item.actor) };
    let card_title = |card: Option<kipina_proto::CardId>| {
        card.and_then(|id| state.cards.get(&id))
            .and_then(|found| found.title.as_text())
            .map_or_else(erased, |title| excerpt(title, 80))
    };
    let column = item.column.and_then(|id| state.columns.get(&id)).map_or_else(erased, |found| found.title.clone());
    let session = item.session.and_then(|id| state.sessions.get(&id)).map_or_else(erased, |found| found.name.clone());
    let label = item.label.and_then(|id| state.labels.get(&id)).map_or_else(erased, |found| found.name.clone());
    let word = |words: Option<[&'static str; 3]>| words.map(pick).unwrap_or_default().to_owned();
    let phase = word(item.phase.map(phase_words));
    let status = word(item.status.map(status_words));
    let role = word(item.role.map(role_words));
    let board_language = word(item.language.map(language_words));
    let number = |value: Option<u32>| value.map(|value| value.to_string()).unwrap_or_default();
    let mut text = template.to_owned();
    for (placeholder, value) in [
        ("{actor}", actor),
        ("{card}", card_title(item.card)),
        ("{group}", card_title(item.grouped_into)),
        ("{column}", column),
        ("{session}", session),
        ("{label}", label),
        ("{participant}", person(item.participant)),
        ("{phase}", phase),
        ("{status}", status),
        ("{role}", role),
        ("{language}", board_language),
        ("{version}", number(item.version)),
        ("{round}", number(item.round)),
    ] {
        if text.contains(placeholder) {
            text = text.replace(placeholder, &value);
        }
    }
    text
}

/// Who did something anonymous, and what an erased name or text reads.
pub const ANONYMOUS: [&str; 3] = ["nimetön", "anonym", "anonymous"];
pub const ERASED: [&str; 3] = ["(poistettu)", "(raderad)", "(erased)"];

/// The Finnish, Swedish or English one of three words.
pub fn pick(language: Language, texts: [&'static str; 3]) -> &'static str {
    match language {
        Language::Fi => texts[0],
        Language::Sv => texts[1],
        Language::En => texts[2],
    }
}

/// The first `max` characters of a text on one line.
pub fn excerpt(text: &str, max: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > max {
        let mut short: String = flat.chars().take(max.saturating_sub(1)).collect();
        short.push('…');
        short
    } else {
        flat
    }
}

/// Finnish, Swedish and English.
fn template(item: &ActivityItem) -> [&'static str; 3] {
    use ActivityKind as K;
    let on_comment = item.comment.is_some();
    match item.kind {
        K::CardAdded => [
            "{actor} lisäsi kortin «{card}» sarakkeeseen «{column}»",
            "{actor} lade till kortet «{card}» i kolumnen «{column}»",
            "{actor} added the card “{card}” to “{column}”",
        ],
        K::CardEdited => [
            "{actor} muokkasi korttia «{card}»",
            "{actor} redigerade kortet «{card}»",
            "{actor} edited the card “{card}”",
        ],
        K::CardMoved => [
            "{actor} siirsi kortin «{card}» sarakkeeseen «{column}»",
            "{actor} flyttade kortet «{card}» till kolumnen «{column}»",
            "{actor} moved the card “{card}” to “{column}”",
        ],
        K::CardStatusSet => [
            "{actor} asetti kortin «{card}» tilaksi «{status}»",
            "{actor} satte kortets «{card}» status till «{status}»",
            "{actor} set the status of “{card}” to “{status}”",
        ],
        K::CardArchived => [
            "{actor} arkistoi kortin «{card}»",
            "{actor} arkiverade kortet «{card}»",
            "{actor} archived the card “{card}”",
        ],
        K::CardRestored => [
            "{actor} palautti kortin «{card}»",
            "{actor} återställde kortet «{card}»",
            "{actor} restored the card “{card}”",
        ],
        K::CardLabelled => [
            "{actor} lisäsi kortille «{card}» tunnisteen «{label}»",
            "{actor} gav kortet «{card}» etiketten «{label}»",
            "{actor} labelled “{card}” “{label}”",
        ],
        K::CardUnlabelled => [
            "{actor} poisti kortilta «{card}» tunnisteen «{label}»",
            "{actor} tog bort etiketten «{label}» från kortet «{card}»",
            "{actor} removed the label “{label}” from “{card}”",
        ],
        K::CardsGrouped => [
            "{actor} kokosi kortit ryhmäksi «{card}»",
            "{actor} samlade kort i gruppen «{card}»",
            "{actor} grouped cards as “{card}”",
        ],
        K::CardAddedToGroup => [
            "{actor} lisäsi kortin «{card}» ryhmään «{group}»",
            "{actor} lade kortet «{card}» i gruppen «{group}»",
            "{actor} added “{card}” to the group “{group}”",
        ],
        K::GroupDissolved => {
            ["{actor} purki ryhmän «{card}»", "{actor} löste upp gruppen «{card}»", "{actor} ungrouped “{card}”"]
        }
        K::CommentAdded => [
            "{actor} kommentoi korttia «{card}»",
            "{actor} kommenterade kortet «{card}»",
            "{actor} commented on “{card}”",
        ],
        K::CommentReplied => [
            "{actor} vastasi kommenttiin kortilla «{card}»",
            "{actor} svarade på en kommentar på kortet «{card}»",
            "{actor} replied to a comment on “{card}”",
        ],
        K::CommentEdited => [
            "{actor} muokkasi kommenttia kortilla «{card}»",
            "{actor} redigerade en kommentar på kortet «{card}»",
            "{actor} edited a comment on “{card}”",
        ],
        K::CommentDeleted => [
            "{actor} poisti kommentin kortilta «{card}»",
            "{actor} tog bort en kommentar på kortet «{card}»",
            "{actor} deleted a comment on “{card}”",
        ],
        K::VoteCast if item.actor.is_none() => {
            ["Kortti «{card}» sai äänen", "Kortet «{card}» fick en röst", "“{card}” got a dot"]
        }
        K::VoteCast => [
            "{actor} antoi äänen kortille «{card}»",
            "{actor} röstade på kortet «{card}»",
            "{actor} gave a dot to “{card}”",
        ],
        K::VoteWithdrawn if item.actor.is_none() => [
            "Kortilta «{card}» peruttiin ääni",
            "En röst på kortet «{card}» togs tillbaka",
            "A dot on “{card}” was taken back",
        ],
        K::VoteWithdrawn => [
            "{actor} perui äänensä kortilta «{card}»",
            "{actor} tog tillbaka sin röst på kortet «{card}»",
            "{actor} took back a dot from “{card}”",
        ],
        K::ReactionAdded if on_comment => [
            "{actor} tykkäsi kommentista kortilla «{card}»",
            "{actor} gillade en kommentar på kortet «{card}»",
            "{actor} liked a comment on “{card}”",
        ],
        K::ReactionAdded => {
            ["{actor} tykkäsi kortista «{card}»", "{actor} gillade kortet «{card}»", "{actor} liked “{card}”"]
        }
        K::ReactionRemoved => [
            "{actor} perui tykkäyksensä (kortti «{card}»)",
            "{actor} slutade gilla (kortet «{card}»)",
            "{actor} took back a like (“{card}”)",
        ],
        K::StatementAdded => [
            "{actor} lisäsi julkilausuman «{column}»",
            "{actor} lade till utlåtandet «{column}»",
            "{actor} added the statement “{column}”",
        ],
        K::WordingProposed => [
            "{actor} ehdotti uutta muotoilua julkilausumaan «{column}»",
            "{actor} föreslog en ny formulering av «{column}»",
            "{actor} proposed a new wording of “{column}”",
        ],
        K::ProposalRebased => [
            "{actor} päivitti muotoiluehdotuksen julkilausuman «{column}» versioon {version}",
            "{actor} uppdaterade ett förslag till version {version} av «{column}»",
            "{actor} updated a proposal to version {version} of “{column}”",
        ],
        K::ProposalAdopted => [
            "{actor} hyväksyi ehdotuksen: «{column}» sai uuden version {version}",
            "{actor} antog ett förslag: «{column}» fick version {version}",
            "{actor} adopted a proposal: “{column}” got version {version}",
        ],
        K::BoardCreated => ["{actor} loi taulun", "{actor} skapade tavlan", "{actor} created the board"],
        K::BoardEdited => [
            "{actor} muokkasi taulun nimeä tai kuvausta",
            "{actor} redigerade tavlans namn eller beskrivning",
            "{actor} edited the board's title or description",
        ],
        K::BoardLanguageSet => [
            "{actor} vaihtoi taulun kieleksi {language}",
            "{actor} bytte tavlans språk till {language}",
            "{actor} set the board's language to {language}",
        ],
        K::SettingsChanged => [
            "{actor} muutti äänestyksen asetuksia",
            "{actor} ändrade röstningens inställningar",
            "{actor} changed the voting settings",
        ],
        K::OptionsChanged => [
            "{actor} muutti taulun asetuksia",
            "{actor} ändrade tavlans inställningar",
            "{actor} changed the board's options",
        ],
        K::BoardLocked => ["{actor} lukitsi taulun", "{actor} låste tavlan", "{actor} locked the board"],
        K::BoardUnlocked => {
            ["{actor} avasi taulun lukituksen", "{actor} låste upp tavlan", "{actor} unlocked the board"]
        }
        K::SessionCreated => [
            "{actor} suunnitteli työpajan «{session}»",
            "{actor} planerade verkstaden «{session}»",
            "{actor} planned the session “{session}”",
        ],
        K::SessionStarted => [
            "{actor} aloitti työpajan «{session}»",
            "{actor} startade verkstaden «{session}»",
            "{actor} started the session “{session}”",
        ],
        K::PhaseSet => ["{actor} siirtyi {phase}", "{actor} gick över till {phase}", "{actor} moved to the {phase}"],
        K::SessionEnded => [
            "{actor} päätti työpajan «{session}»",
            "{actor} avslutade verkstaden «{session}»",
            "{actor} ended the session “{session}”",
        ],
        K::TimerStarted => ["{actor} asetti ajastimen", "{actor} ställde in timern", "{actor} set the timer"],
        K::TimerStopped => ["{actor} pysäytti ajastimen", "{actor} stoppade timern", "{actor} stopped the timer"],
        K::VoteRoundStarted if item.hidden == Some(true) => [
            "{actor} aloitti äänestyskierroksen {round} (äänet piilossa)",
            "{actor} startade röstningsomgång {round} (rösterna dolda)",
            "{actor} started voting round {round} (dots hidden)",
        ],
        K::VoteRoundStarted => [
            "{actor} aloitti äänestyskierroksen {round}",
            "{actor} startade röstningsomgång {round}",
            "{actor} started voting round {round}",
        ],
        K::VotesRevealed => [
            "{actor} paljasti kierroksen {round} äänet",
            "{actor} visade rösterna i omgång {round}",
            "{actor} revealed the dots of round {round}",
        ],
        K::ColumnAdded => [
            "{actor} lisäsi sarakkeen «{column}»",
            "{actor} lade till kolumnen «{column}»",
            "{actor} added the column “{column}”",
        ],
        K::ColumnRenamed => [
            "{actor} nimesi sarakkeen uudelleen: «{column}»",
            "{actor} bytte namn på kolumnen: «{column}»",
            "{actor} renamed a column: “{column}”",
        ],
        K::ColumnMoved => [
            "{actor} siirsi saraketta «{column}»",
            "{actor} flyttade kolumnen «{column}»",
            "{actor} moved the column “{column}”",
        ],
        K::ColumnArchived => [
            "{actor} arkistoi sarakkeen «{column}»",
            "{actor} arkiverade kolumnen «{column}»",
            "{actor} archived the column “{column}”",
        ],
        K::ColumnRestored => [
            "{actor} palautti sarakkeen «{column}»",
            "{actor} återställde kolumnen «{column}»",
            "{actor} restored the column “{column}”",
        ],
        K::LabelCreated => [
            "{actor} loi tunnisteen «{label}»",
            "{actor} skapade etiketten «{label}»",
            "{actor} created the label “{label}”",
        ],
        K::ParticipantJoined => [
            "{actor} liittyi tauluun roolissa {role}",
            "{actor} gick med i tavlan som {role}",
            "{actor} joined the board as {role}",
        ],
        K::ParticipantRenamed => ["{actor} vaihtoi nimeään", "{actor} bytte namn", "{actor} changed their name"],
        K::RoleChanged => [
            "{actor} antoi henkilölle {participant} roolin {role}",
            "{actor} gav {participant} rollen {role}",
            "{actor} made {participant} {role}",
        ],
        K::ParticipantErased => {
            ["Osallistujan tiedot poistettiin", "En deltagares uppgifter raderades", "A participant's data was erased"]
        }
        K::ParticipantRemoved => [
            "{actor} poisti osallistujan {participant} taululta",
            "{actor} tog bort {participant} från tavlan",
            "{actor} removed {participant} from the board",
        ],
    }
}

/// "Moved to …" in each language.
fn phase_words(phase: Phase) -> [&'static str; 3] {
    match phase {
        Phase::Ideate => ["ideointivaiheeseen", "idéfasen", "ideation phase"],
        Phase::Discuss => ["keskusteluvaiheeseen", "diskussionsfasen", "discussion phase"],
        Phase::Vote => ["äänestysvaiheeseen", "röstningsfasen", "voting phase"],
        Phase::Results => ["tulosvaiheeseen", "resultatfasen", "results phase"],
        Phase::Closed => ["päätösvaiheeseen", "den avslutade fasen", "closed phase"],
    }
}

fn status_words(status: CardStatus) -> [&'static str; 3] {
    match status {
        CardStatus::New => ["Uusi", "Ny", "New"],
        CardStatus::UnderReview => ["Arvioitavana", "Under bedömning", "Under review"],
        CardStatus::Selected => ["Valittu", "Vald", "Selected"],
        CardStatus::InProgress => ["Työn alla", "Pågår", "In progress"],
        CardStatus::Done => ["Valmis", "Klar", "Done"],
        CardStatus::Declined => ["Hylätty", "Avböjd", "Declined"],
    }
}

fn role_words(role: Role) -> [&'static str; 3] {
    match role {
        Role::Facilitator => ["fasilitaattori", "facilitator", "facilitator"],
        Role::Participant => ["osallistuja", "deltagare", "participant"],
        Role::Observer => ["katselija", "observatör", "observer"],
    }
}

fn language_words(language: Language) -> [&'static str; 3] {
    match language {
        Language::Fi => ["suomi", "finska", "Finnish"],
        Language::Sv => ["ruotsi", "svenska", "Swedish"],
        Language::En => ["englanti", "engelska", "English"],
    }
}
