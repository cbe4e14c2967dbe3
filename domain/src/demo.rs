//! The Finnish demo board, built as ordinary commands: "Leaderin kulmakivet", the seven Leader
//! principles as columns, with cards, comments, a reply, votes and a like from a few people,
//! drawn from the Leader2030 future work (the second future camp, November 2016). The camp is a
//! session run through its phases (ideas, discussion, a hidden vote that is then revealed,
//! results), and the next camp is planned. The board also holds the vision, mission and service
//! promise the Leader groups drafted in 2016–2017, with an earlier draft, adopted changes and an
//! open proposal.
//!
//! Ids come from the caller's generator, so this stays pure; the caller runs the steps through
//! `decide` (the engine, a test) exactly as if people had clicked.

use kipina_proto::{
    BoardSettings, CardId, CardStatus, ColumnId, Command, CommentId, LabelId, Language, ParticipantId, Phase,
    ReactionTarget, Role, SessionId, Timestamp,
};
use uuid::Uuid;

/// One command of the demo, with who gives it and when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoStep {
    pub actor: ParticipantId,
    pub at: Timestamp,
    pub command: Command,
}

/// The demo's people, so callers can show their links.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoBoard {
    pub facilitator: ParticipantId,
    pub steps: Vec<DemoStep>,
}

/// The title of the demo board.
pub const TITLE: &str = "Leaderin kulmakivet";

/// The seven Leader principles with what each means, from the Leader group's own description.
const PRINCIPLES: [(&str, &str); 7] = [
    (
        "Alhaalta ylöspäin",
        "Hankkeiden valmistelu ja päätösvalta rahoituksesta on paikallisilla, sillä he ovat kotiseutunsa parhaita asiantuntijoita.",
    ),
    ("Paikallinen kumppanuus", "Päätöksenteossa ovat mukana paikalliset yhteisöt, julkiset tahot ja alueen asukkaat."),
    (
        "Monialaisuus",
        "Toimijoiden yhteistyö ylittää eri sektorirajat ja toiminta perustuu kumppanuudelle ja vuorovaikutukselle.",
    ),
    ("Verkostoituminen", "Verkostoitumalla kootaan resursseja sekä paikallisesti että kansainvälisesti."),
    ("Alueperusteisuus", "Strategia laaditaan omalle alueelle laajalla yhteistyöllä."),
    ("Alueiden välinen ja kansainvälinen yhteistyö", "Yhteistyöllä vaihdetaan kokemuksia ja opitaan uutta."),
    ("Innovatiivisuus", "Tavoitteena on uusien toimintatapojen ja menetelmien kokeilu ja luominen."),
];

/// The Leader vision, mission and service promise for the new regions and municipalities, as
/// the Leader groups worded them (November 2016 and January 2017), and the drafts before them.
const VISION_DRAFT: &str = "Olemme paikallisyhteisöjen elinvoiman kasvattaja.";
const VISION: &str = "Olemme paikallisyhteisöjen elinvoiman kasvattaja, rajoja ylittävä rohkea uudistaja.";
const MISSION: &str = "Kokoamme yhteen ihmisten ja yhteisöjen voimavarat ja ideat paikallisen hyvinvoinnin \
    lisäämiseksi. Toimimme alustana, jossa muutetaan ideoiden kipinät toiminnan voimaksi. Toteutamme yhdessä \
    rakennettua strategiaa kestävästi ja pitkäjänteisesti.";
const MISSION_ALTERNATIVE: &str = "Kokoamme yhteen ihmisten ja yhteisöjen voimavarat ja ideat paikallisen \
    hyvinvoinnin lisäämiseksi. Toimimme alustana, jossa ideoiden kipinät muuttuvat toiminnan voimaksi. Toteutamme \
    yhdessä rakennettua strategiaa kestävästi ja pitkäjänteisesti.";
const PROMISE_DRAFT: &str = "Leader on osallistamisen ja elinvoiman asiantuntija.";
const PROMISE: &str = "Leader on osallistamisen ja elinvoiman asiantuntija ja kokeilualusta. Leader ryhmät \
    tarjoavat joustavaa ja ketterää kehittämistoimintaa, kattavia verkostoja yli rajojen, kumppanuutta ja palveluja.";

/// Idea cards written by participants: (principle index, author index, title, body).
const IDEAS: &[(usize, usize, &str, &str)] = &[
    (
        0,
        1,
        "Kyläillat ennen jokaista hakukierrosta",
        "Kerätään ideat kylistä ennen kuin strategiaa tarkennetaan. Matala kynnys: kahvit ja post-it-laput.",
    ),
    (0, 2, "Nuorten oma hankeraha", "Nuoret päättävät itse pienistä hankkeista, Leader-ryhmä neuvoo."),
    (
        1,
        3,
        "Kunnat mukaan hallitukseen kolmikantaisesti",
        "Yritykset, yhdistykset, kunnat ja asukkaat samassa pöydässä.",
    ),
    (
        2,
        1,
        "Yrittäjät ja yhdistykset samaan työpajaan",
        "Aloittavat yrittäjät hyötyvät yhdistysten verkostoista ja päinvastoin.",
    ),
    (
        3,
        2,
        "Leader-ryhmä on solmukohta",
        "Kaikki toimijat alueella tunnetaan. Osataan kohtauttaa, verkottaa ja verkostoitua.",
    ),
    (
        4,
        3,
        "Reuna-alueen kylät mukaan",
        "Ryhmät yhdessä kattavat lähes koko maakunnan alueen, reuna-alueen kyliä myöten.",
    ),
    (
        5,
        1,
        "Vertaisauditointiparit yli ELY-rajojen",
        "Opitaan toisilta ryhmiltä: auditointipari ei sijaitse oman ELY-keskuksen alueella.",
    ),
    (
        6,
        2,
        "Kokeilualusta maakunnalle",
        "Leader-ryhmät ovat oivallinen kumppani, jonka kanssa kokeilla ja testata uusia toimintatapoja.",
    ),
    (6, 3, "Ideoiden kipinät toiminnan voimaksi", "Pop up -osallistumista ja vankkaa kehittämistaitoa."),
];

/// Builds the demo. `new_id` makes every id; `now` is when its last step happens: the demo
/// "workshop" ran a minute a step up to then, so nothing in it is later than now (a version
/// adopted after the demo was made must not look older than the demo's own).
pub fn leader_cornerstones(mut new_id: impl FnMut() -> Uuid, now: Timestamp) -> DemoBoard {
    let minute = 60_000;
    let mut clock = 0;
    let mut steps = Vec::new();
    let mut step = |actor: ParticipantId, command: Command| {
        clock += minute;
        steps.push(DemoStep { actor, at: Timestamp(clock), command });
    };

    let facilitator = ParticipantId(new_id());
    // People are indexed as in `IDEAS`; the facilitator is person 0.
    let people = [facilitator, ParticipantId(new_id()), ParticipantId(new_id()), ParticipantId(new_id())];
    let names = ["Aino (fasilitaattori)", "Matti", "Liisa", "Kaisa"];

    step(
        facilitator,
        Command::CreateBoard {
            title: TITLE.into(),
            description:
                "Leader2030-tulevaisuustyö, toinen tulevaisuusleiri (marraskuu 2016): mitä Leaderin seitsemän \
                          periaatetta tarkoittavat meille uusissa maakunnissa? Lisää ideasi, kommentoi ja äänestä."
                    .into(),
            language: Language::Fi,
            facilitator_name: names[0].into(),
        },
    );
    step(facilitator, Command::ChangeSettings { settings: BoardSettings { vote_budget: 5, votes_per_card: 2 } });
    for (person, name) in people.iter().zip(names).skip(1) {
        step(*person, Command::Join { display_name: name.into(), role: Role::Participant });
    }

    let columns: Vec<ColumnId> = PRINCIPLES.iter().map(|_| ColumnId(new_id())).collect();
    for (column, (title, _)) in columns.iter().zip(PRINCIPLES) {
        step(facilitator, Command::AddColumn { column: *column, title: title.into() });
    }

    // Each column starts with the principle itself, written by the facilitator.
    for (column, (title, meaning)) in columns.iter().zip(PRINCIPLES) {
        let card = CardId(new_id());
        step(
            facilitator,
            Command::AddCard { card, column: *column, title: format!("Periaate: {title}"), body: meaning.into() },
        );
    }

    // The camp itself: ideas first.
    let camp = SessionId(new_id());
    step(
        facilitator,
        Command::CreateSession {
            session: camp,
            name: "Toinen tulevaisuusleiri".into(),
            date: "2016-11-21".into(),
            anonymous: false,
        },
    );
    step(facilitator, Command::StartSession { session: camp });

    // The vision and mission were worded at the camp: the vision from a first draft.
    let (vision, mission, promise) = (ColumnId(new_id()), ColumnId(new_id()), ColumnId(new_id()));
    step(facilitator, Command::AddStatement { column: vision, title: "Visio".into(), text: VISION_DRAFT.into() });
    step(facilitator, Command::AddStatement { column: mission, title: "Missio".into(), text: MISSION.into() });
    let bolder = CardId(new_id());
    step(
        people[2],
        Command::ProposeWording {
            card: bolder,
            statement: vision,
            text: VISION.into(),
            reason: "Rohkeus ja rajat ylittävä yhteistyö mukaan".into(),
            base_version: 1,
        },
    );
    step(facilitator, Command::AdoptProposal { card: bolder });

    let important = LabelId(new_id());
    step(facilitator, Command::CreateLabel { label: important, name: "Tärkeä".into(), color: "orange".into() });

    let mut idea_cards = Vec::new();
    for (principle, author, title, body) in IDEAS {
        let card = CardId(new_id());
        idea_cards.push(card);
        step(
            people[*author],
            Command::AddCard { card, column: columns[*principle], title: (*title).into(), body: (*body).into() },
        );
    }

    step(facilitator, Command::SetPhase { session: camp, phase: Phase::Discuss });
    let question = CommentId(new_id());
    step(
        people[2],
        Command::AddComment {
            comment: question,
            card: idea_cards[0],
            reply_to: None,
            body: "Miten tavoitetaan ne, jotka eivät tule kyläiltaan?".into(),
        },
    );
    step(
        people[1],
        Command::AddComment {
            comment: CommentId(new_id()),
            card: idea_cards[0],
            reply_to: Some(question),
            body: "Kysely kylien Facebook-ryhmissä ja koulujen kautta kotiin. @Kaisa, teitkö tällaisen viime vuonna?"
                .into(),
        },
    );
    step(
        people[3],
        Command::AddComment {
            comment: CommentId(new_id()),
            card: idea_cards[7],
            reply_to: None,
            body: "Tämä sopisi palvelulupaukseen uusille maakunnille.".into(),
        },
    );
    step(people[3], Command::ToggleReaction { target: ReactionTarget::Card(idea_cards[4]) });
    step(facilitator, Command::SetCardLabel { card: idea_cards[7], label: important, on: true });
    step(facilitator, Command::SetCardStatus { card: idea_cards[7], status: CardStatus::Selected });

    // A hidden vote: a few dots within the budget of 5 and the cap of 2 per card, then revealed.
    step(facilitator, Command::SetPhase { session: camp, phase: Phase::Vote });
    let settings = BoardSettings { vote_budget: 5, votes_per_card: 2 };
    step(facilitator, Command::StartVoteRound { settings, hidden: true });
    for (voter, card) in [(1, 7), (1, 7), (1, 0), (2, 0), (2, 4), (2, 7), (3, 2), (3, 7), (3, 8)] {
        step(people[voter], Command::CastVote { card: idea_cards[card] });
    }
    step(facilitator, Command::RevealVotes);
    step(facilitator, Command::SetPhase { session: camp, phase: Phase::Results });
    step(facilitator, Command::SetPhase { session: camp, phase: Phase::Closed });

    // January 2017: the service promise, from a draft to the wording the workshop agreed on.
    step(
        facilitator,
        Command::AddStatement { column: promise, title: "Palvelulupaus".into(), text: PROMISE_DRAFT.into() },
    );
    let agreed = CardId(new_id());
    step(
        people[3],
        Command::ProposeWording {
            card: agreed,
            statement: promise,
            text: PROMISE.into(),
            reason: "Työpajan esitysten pohjalta: mitä tarjoamme maakunnille ja kunnille".into(),
            base_version: 1,
        },
    );
    step(facilitator, Command::AdoptProposal { card: agreed });
    // An open proposal to vote on: the mission said a little differently.
    step(
        people[1],
        Command::ProposeWording {
            card: CardId(new_id()),
            statement: mission,
            text: MISSION_ALTERNATIVE.into(),
            reason: "Kipinä ensin: sujuvampi lukea ääneen".into(),
            base_version: 1,
        },
    );

    // Between camps the board stays open; the next camp is planned.
    step(
        facilitator,
        Command::CreateSession {
            session: SessionId(new_id()),
            name: "Kolmas tulevaisuusleiri".into(),
            date: "2017-06-08".into(),
            anonymous: false,
        },
    );

    let last = steps.last().map_or(0, |step: &DemoStep| step.at.millis());
    for step in &mut steps {
        step.at = Timestamp(now.millis() - (last - step.at.millis()));
    }
    DemoBoard { facilitator, steps }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BoardState, Context, Fact, decide, evolve};

    #[test]
    fn every_demo_step_is_accepted_and_builds_the_seven_principles_board() {
        let mut next = 0u128;
        let demo = leader_cornerstones(
            || {
                next += 1;
                Uuid::from_u128(next)
            },
            Timestamp(1_479_722_400_000),
        );
        let mut state = BoardState::default();
        for step in &demo.steps {
            let context = Context { actor: step.actor, at: step.at };
            let events = decide(&state, &context, &step.command)
                .unwrap_or_else(|error| panic!("{} refused: {error}", step.command.name()));
            assert!(!events.is_empty(), "{} changed nothing", step.command.name());
            for event in events {
                let fact = Fact { seq: state.version + 1, at: step.at, actor: step.actor, event };
                evolve(&mut state, &fact);
            }
        }
        assert_eq!(state.info.as_ref().map(|info| info.title.as_str()), Some(TITLE));
        let columns: Vec<&str> = state.column_order.iter().map(|id| state.columns[id].title.as_str()).collect();
        let mut expected: Vec<&str> = PRINCIPLES.map(|(title, _)| title).to_vec();
        expected.extend(["Visio", "Missio", "Palvelulupaus"]);
        assert_eq!(columns, expected);
        let wordings: Vec<Vec<&str>> = state
            .column_order
            .iter()
            .filter_map(|id| state.columns[id].statement.as_ref())
            .map(|statement| statement.versions.iter().filter_map(|version| version.text.as_text()).collect())
            .collect();
        assert_eq!(wordings, vec![vec![VISION_DRAFT, VISION], vec![MISSION], vec![PROMISE_DRAFT, PROMISE]]);
        let open: Vec<usize> = state.column_order.iter().map(|id| state.columns[id].cards.len()).skip(7).collect();
        assert_eq!(open, vec![0, 1, 0], "one proposal is open, on the mission");
        let vision = state.columns.values().find(|column| column.title == "Visio").and_then(|c| c.statement.as_ref());
        assert_eq!(vision.map(|statement| statement.versions[1].session.is_some()), Some(true), "adopted at the camp");
        assert_eq!(state.participants.len(), 4);
        // Everything happened by the time given, a minute a step, the last step then.
        assert_eq!(demo.steps.last().map(|step| step.at), Some(Timestamp(1_479_722_400_000)));
        assert!(demo.steps.windows(2).all(|pair| pair[1].at.millis() - pair[0].at.millis() == 60_000));
        let adopted = state.columns.values().filter_map(|column| column.statement.as_ref()).flat_map(|s| &s.versions);
        assert!(adopted.into_iter().all(|version| version.adopted_at <= Timestamp(1_479_722_400_000)));
        assert_eq!(state.cards.len(), PRINCIPLES.len() + IDEAS.len() + 3, "and three proposals");
        assert_eq!(state.comments.values().filter(|comment| comment.reply_to.is_some()).count(), 1);
        // Matti's reply mentions Kaisa, who is notified of it between camps.
        let kaisa =
            state.participants.values().find(|found| found.display_name.as_text() == Some("Kaisa")).map(|p| p.id);
        let mentioned: Vec<_> = state.comments.values().flat_map(|comment| comment.mentions.clone()).collect();
        assert_eq!(mentioned.first().copied(), kaisa);
        let kinds: Vec<_> =
            kaisa.and_then(|id| state.notifications.get(&id)).into_iter().flatten().map(|n| n.kind).collect();
        assert!(kinds.contains(&kipina_proto::view::NotificationKind::Mentioned), "{kinds:?}");
        let total_votes: u32 = state.cards.values().map(|card| card.vote_total()).sum();
        assert_eq!(total_votes, 9);
        assert_eq!(state.session_order.len(), 2);
        assert_eq!(state.running_session, None, "the camp is over and the board is open between camps");
        assert_eq!(state.sessions[&state.session_order[0]].phase, Some(kipina_proto::Phase::Closed));
        assert_eq!(state.rounds.len(), 2);
        assert!(state.rounds[1].revealed);
        assert_eq!(state.participants[&demo.facilitator].role, Role::Facilitator);
    }
}
