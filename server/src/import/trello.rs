//! Importing a Trello board from its JSON export (see `docs/` and the field guide the design
//! notes keep). The export is read whole and turned into a plan of ordinary commands first;
//! only a plan that is complete is executed, so malformed or non-Trello input creates nothing.
//!
//! Mapping: lists → columns (archived lists and cards stay archived), cards with their
//! description and checklists (as Markdown task lists, checked state kept), labels (colour and
//! name; unnamed labels keep their colour), position order, comments from `commentCard`
//! actions by their original author (a participant of that name, joined for the import) at
//! their original time, votes (`idMembersVoted`) as likes. What cannot come along — attachments,
//! custom fields, history beyond the export's ~1,000 actions — is listed in the report.

use crate::engine::Engine;
use kipina_domain::limits;
use kipina_domain::{BoardState, Fact};
use kipina_domain::{Context, decide, evolve};
use kipina_proto::{
    BoardId, CardId, ColumnId, Command, CommandId, CommentId, LabelId, Language, ParticipantId, ReactionTarget, Role,
    Timestamp,
};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Board {
    name: String,
    #[serde(default)]
    desc: String,
    lists: Vec<List>,
    cards: Vec<Card>,
    #[serde(default)]
    labels: Vec<Label>,
    #[serde(default)]
    members: Vec<Member>,
    #[serde(default)]
    checklists: Vec<Checklist>,
    #[serde(default)]
    actions: Vec<Action>,
    #[serde(default)]
    custom_fields: Vec<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct List {
    id: String,
    name: String,
    #[serde(default)]
    closed: bool,
    #[serde(default)]
    pos: f64,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Card {
    id: String,
    name: String,
    #[serde(default)]
    desc: String,
    #[serde(default)]
    closed: bool,
    id_list: String,
    #[serde(default)]
    pos: f64,
    #[serde(default)]
    id_labels: Vec<String>,
    #[serde(default)]
    id_members_voted: Vec<String>,
    #[serde(default)]
    attachments: Vec<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct Label {
    id: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    color: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Member {
    id: String,
    #[serde(default)]
    full_name: Option<String>,
    #[serde(default)]
    username: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Checklist {
    name: String,
    id_card: String,
    #[serde(default)]
    pos: f64,
    #[serde(default)]
    check_items: Vec<CheckItem>,
}

#[derive(Debug, Deserialize)]
struct CheckItem {
    name: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    pos: f64,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Action {
    #[serde(rename = "type")]
    kind: String,
    date: String,
    #[serde(default)]
    id_member_creator: Option<String>,
    #[serde(default)]
    data: serde_json::Value,
    #[serde(default)]
    member_creator: Option<Member>,
}

/// Why an import was refused; nothing was created.
#[derive(Debug, thiserror::Error)]
pub enum TrelloError {
    #[error("this is not a Trello board export: {0}")]
    NotTrello(String),
    #[error("the Trello board could not be imported: {0}")]
    Refused(String),
    #[error("the board could not be saved: {0}")]
    Store(String),
}

/// What an import did, and what it could not bring.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct TrelloReport {
    pub board: Option<BoardId>,
    pub columns: usize,
    pub cards: usize,
    pub comments: usize,
    pub labels: usize,
    pub likes: usize,
    /// One line per thing left behind or changed, in English (shown to the importer as is).
    pub not_imported: Vec<String>,
}

/// One step of the plan: who does what, when.
struct Step {
    actor: ParticipantId,
    at: Timestamp,
    command: Command,
}

/// Cuts `text` to at most `max` characters, noting it in the report.
fn fit(text: &str, max: usize, what: &str, report: &mut TrelloReport) -> String {
    let single: String = text.chars().filter(|c| !c.is_control() || matches!(c, '\n' | '\t')).collect();
    if single.chars().count() <= max {
        return single;
    }
    report.not_imported.push(format!("{what} was cut to {max} characters"));
    single.chars().take(max).collect()
}

/// A one-line text: line breaks and tabs become spaces.
fn line(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect::<String>().trim().to_owned()
}

/// Trello's colour names (and their `_light` / `_dark` shades) onto ours; no colour is gray.
fn color(trello: Option<&str>) -> &'static str {
    let base = trello.map(|name| name.split('_').next().unwrap_or(name));
    limits::LABEL_COLORS.iter().copied().find(|ours| Some(*ours) == base).unwrap_or("gray")
}

fn parse_date(date: &str) -> Option<Timestamp> {
    date.parse::<jiff::Timestamp>().ok().map(|at| Timestamp(at.as_millisecond()))
}

/// The plan under construction: the steps so far, the report, and who has joined.
struct Planner<'a> {
    steps: Vec<Step>,
    report: TrelloReport,
    people: HashMap<String, Member>,
    joined: BTreeMap<String, ParticipantId>,
    importer: ParticipantId,
    now: Timestamp,
    new_id: &'a mut dyn FnMut() -> Uuid,
}

impl Planner<'_> {
    fn id(&mut self) -> Uuid {
        (self.new_id)()
    }

    fn step(&mut self, actor: ParticipantId, at: Timestamp, command: Command) {
        self.steps.push(Step { actor, at, command });
    }

    /// What the importer does now.
    fn import(&mut self, command: Command) {
        let (importer, now) = (self.importer, self.now);
        self.step(importer, now, command);
    }

    fn fit(&mut self, text: &str, max: usize, what: &str) -> String {
        fit(text, max, what, &mut self.report)
    }

    /// The participant standing for a Trello member (or a comment's author who has left),
    /// joined under their name the first time they are needed.
    fn person(&mut self, id: &str) -> ParticipantId {
        if let Some(found) = self.joined.get(id) {
            return *found;
        }
        let name = self
            .people
            .get(id)
            .and_then(|member| {
                member.full_name.clone().filter(|name| !line(name).is_empty()).or(member.username.clone())
            })
            .map(|name| line(&name))
            .filter(|name| !name.is_empty())
            .unwrap_or_else(|| format!("Trello {}", id.chars().take(6).collect::<String>()));
        let participant = ParticipantId(self.id());
        let display_name = self.fit(&name, limits::DISPLAY_NAME, "a member's name");
        let now = self.now;
        self.step(participant, now, Command::Join { display_name, role: Role::Participant });
        self.joined.insert(id.to_owned(), participant);
        participant
    }
}

/// Reads a Trello export and plans the commands that rebuild it; nothing is written.
fn plan(
    bytes: &[u8],
    importer_name: &str,
    now: Timestamp,
    new_id: &mut dyn FnMut() -> Uuid,
) -> Result<(Vec<Step>, TrelloReport), TrelloError> {
    let board: Board = serde_json::from_slice(bytes).map_err(|error| TrelloError::NotTrello(error.to_string()))?;
    let importer = ParticipantId(new_id());
    // People: members, and authors of comments who are no longer members.
    let mut people: HashMap<String, Member> =
        board.members.iter().map(|member| (member.id.clone(), member.clone())).collect();
    for action in &board.actions {
        if let Some(creator) = &action.member_creator {
            people.entry(creator.id.clone()).or_insert_with(|| creator.clone());
        }
    }
    let mut plan = Planner {
        steps: Vec::new(),
        report: TrelloReport::default(),
        people,
        joined: BTreeMap::new(),
        importer,
        now,
        new_id,
    };

    let title = match line(&board.name) {
        name if name.is_empty() => "Trello".to_owned(),
        name => plan.fit(&name, limits::BOARD_TITLE, "the board's name"),
    };
    let description = plan.fit(&board.desc, limits::BOARD_DESCRIPTION, "the board's description");
    plan.import(Command::CreateBoard {
        title,
        description,
        language: Language::Fi,
        facilitator_name: importer_name.to_owned(),
    });

    if board.labels.len() > limits::MAX_LABELS {
        return Err(TrelloError::Refused(format!("{} labels, at most {}", board.labels.len(), limits::MAX_LABELS)));
    }
    let mut labels: HashMap<&str, LabelId> = HashMap::new();
    for label in &board.labels {
        let id = LabelId(plan.id());
        let name = plan.fit(&line(label.name.as_deref().unwrap_or("")), limits::LABEL_NAME, "a label's name");
        plan.import(Command::CreateLabel { label: id, name, color: color(label.color.as_deref()).to_owned() });
        labels.insert(label.id.as_str(), id);
    }
    plan.report.labels = labels.len();

    let mut lists: Vec<&List> = board.lists.iter().collect();
    lists.sort_by(|a, b| a.pos.total_cmp(&b.pos));
    if lists.len() > limits::MAX_COLUMNS {
        return Err(TrelloError::Refused(format!("{} lists, at most {}", lists.len(), limits::MAX_COLUMNS)));
    }
    let mut columns: HashMap<&str, ColumnId> = HashMap::new();
    for list in &lists {
        let id = ColumnId(plan.id());
        let title = match line(&list.name) {
            name if name.is_empty() => "(nimetön lista)".to_owned(),
            name => plan.fit(&name, limits::COLUMN_TITLE, "a list's name"),
        };
        plan.import(Command::AddColumn { column: id, title });
        columns.insert(list.id.as_str(), id);
    }
    plan.report.columns = columns.len();

    let list_order: HashMap<&str, usize> =
        lists.iter().enumerate().map(|(index, list)| (list.id.as_str(), index)).collect();
    let mut cards: Vec<&Card> = board.cards.iter().collect();
    cards.sort_by(|a, b| {
        let list = |card: &Card| list_order.get(card.id_list.as_str()).copied().unwrap_or(usize::MAX);
        list(a).cmp(&list(b)).then(a.pos.total_cmp(&b.pos))
    });
    if cards.len() > limits::MAX_CARDS {
        return Err(TrelloError::Refused(format!("{} cards, at most {}", cards.len(), limits::MAX_CARDS)));
    }
    // Who created each card, where the export still has it.
    let creators: HashMap<String, String> = board
        .actions
        .iter()
        .filter(|action| action.kind == "createCard")
        .filter_map(|action| {
            let card = action.data.get("card")?.get("id")?.as_str()?.to_owned();
            Some((card, action.id_member_creator.clone()?))
        })
        .collect();
    let mut card_ids: HashMap<&str, CardId> = HashMap::new();
    let mut attachments = 0;
    for card in &cards {
        let Some(column) = columns.get(card.id_list.as_str()).copied() else {
            plan.report.not_imported.push(format!("card {:?}: its list is not in the export", line(&card.name)));
            continue;
        };
        let id = CardId(plan.id());
        let author = match creators.get(&card.id) {
            Some(member) => plan.person(member),
            None => importer,
        };
        let mut body = card.desc.clone();
        let mut checklists: Vec<&Checklist> = board.checklists.iter().filter(|list| list.id_card == card.id).collect();
        checklists.sort_by(|a, b| a.pos.total_cmp(&b.pos));
        for checklist in checklists {
            if !body.is_empty() {
                body.push_str("\n\n");
            }
            body.push_str(&format!("{}\n", line(&checklist.name)));
            let mut items: Vec<&CheckItem> = checklist.check_items.iter().collect();
            items.sort_by(|a, b| a.pos.total_cmp(&b.pos));
            for item in items {
                let mark = if item.state == "complete" { "x" } else { " " };
                body.push_str(&format!("- [{mark}] {}\n", line(&item.name)));
            }
        }
        let title = match line(&card.name) {
            name if name.is_empty() => "(nimetön kortti)".to_owned(),
            name => plan.fit(&name, limits::CARD_TITLE, "a card's title"),
        };
        let body = plan.fit(body.trim_end(), limits::CARD_BODY, &format!("the text of card {title:?}"));
        plan.step(author, now, Command::AddCard { card: id, column, title, body });
        for label in &card.id_labels {
            if let Some(label) = labels.get(label.as_str()) {
                plan.import(Command::SetCardLabel { card: id, label: *label, on: true });
            }
        }
        for voter in &card.id_members_voted {
            let voter = plan.person(voter);
            plan.step(voter, now, Command::ToggleReaction { target: ReactionTarget::Card(id) });
            plan.report.likes += 1;
        }
        attachments += card.attachments.len();
        card_ids.insert(card.id.as_str(), id);
    }
    plan.report.cards = card_ids.len();

    let mut comments: Vec<&Action> = board.actions.iter().filter(|action| action.kind == "commentCard").collect();
    comments.sort_by(|a, b| a.date.cmp(&b.date));
    for action in comments {
        let card = action.data.get("card").and_then(|card| card.get("id")).and_then(|id| id.as_str());
        let Some(card) = card.and_then(|card| card_ids.get(card)).copied() else {
            plan.report.not_imported.push("a comment on a card that is not in the export".into());
            continue;
        };
        let text = action.data.get("text").and_then(|text| text.as_str()).unwrap_or_default();
        if text.trim().is_empty() {
            continue;
        }
        let author = match &action.id_member_creator {
            Some(member) => plan.person(member),
            None => importer,
        };
        let at = parse_date(&action.date).unwrap_or(now);
        let body = plan.fit(text, limits::COMMENT_BODY, "a comment");
        let comment = CommentId(plan.id());
        plan.step(author, at, Command::AddComment { comment, card, reply_to: None, body });
        plan.report.comments += 1;
    }

    // Archived cards and lists stay archived (after their cards were added).
    for card in cards.iter().filter(|card| card.closed) {
        if let Some(id) = card_ids.get(card.id.as_str()) {
            plan.import(Command::ArchiveCard { card: *id });
        }
    }
    for list in lists.iter().filter(|list| list.closed) {
        if let Some(id) = columns.get(list.id.as_str()) {
            plan.import(Command::ArchiveColumn { column: *id });
        }
    }

    if attachments > 0 {
        let noun = if attachments == 1 { "attachment" } else { "attachments" };
        plan.report
            .not_imported
            .push(format!("{attachments} {noun}: Trello keeps them behind its own login, so they were not copied"));
    }
    if !board.custom_fields.is_empty() {
        let count = board.custom_fields.len();
        let noun = if count == 1 { "custom field" } else { "custom fields" };
        plan.report.not_imported.push(format!("{count} {noun}: Kipinä cards have no custom fields"));
    }
    if board.actions.len() >= 1_000 {
        plan.report.not_imported.push(format!(
            "the export holds only the latest {} actions: older comments may be missing",
            board.actions.len()
        ));
    }
    Ok((plan.steps, plan.report))
}

/// Checks every step against the board's rules in memory; nothing is written.
fn check_steps(steps: &[Step]) -> Result<(), TrelloError> {
    let mut state = BoardState::default();
    for (index, step) in steps.iter().enumerate() {
        let context = Context { actor: step.actor, at: step.at };
        let events = decide(&state, &context, &step.command)
            .map_err(|error| TrelloError::Refused(format!("{} ({}): {error}", step.command.name(), index + 1)))?;
        for event in events {
            let fact = Fact { seq: state.version + 1, at: step.at, actor: step.actor, event };
            evolve(&mut state, &fact);
        }
    }
    Ok(())
}

/// Reads and plans an import and checks the plan against the rules, writing nothing: what an
/// import would bring, or why it would be refused. The fuzzing target for Trello files.
pub fn check(bytes: &[u8], importer_name: &str) -> Result<TrelloReport, TrelloError> {
    let mut next = 0u128;
    let mut counter = || {
        next += 1;
        Uuid::from_u128(next)
    };
    let (steps, report) = plan(bytes, importer_name, Timestamp(0), &mut counter)?;
    check_steps(&steps)?;
    Ok(report)
}

/// Imports a Trello export as a new board whose first facilitator is `importer_name`. Returns
/// the report (with the new board) and the facilitator.
pub fn import(
    engine: &Engine,
    bytes: &[u8],
    importer_name: &str,
    now: Timestamp,
) -> Result<(TrelloReport, ParticipantId), TrelloError> {
    let board = BoardId(Uuid::now_v7());
    let (steps, mut report) = plan(bytes, importer_name, now, &mut Uuid::now_v7)?;
    check_steps(&steps)?;
    let facilitator = steps.first().map(|step| step.actor).ok_or_else(|| TrelloError::Refused("empty plan".into()))?;
    let mut state = BoardState::default();
    for step in &steps {
        let context = Context { actor: step.actor, at: step.at };
        engine
            .execute(board, &mut state, CommandId(Uuid::now_v7()), context, &step.command)
            .map_err(|error| TrelloError::Store(error.to_string()))?;
    }
    report.board = Some(board);
    Ok((report, facilitator))
}
