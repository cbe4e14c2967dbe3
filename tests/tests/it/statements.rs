//! Drafting a vision together over the real protocol: two competing wordings, votes, the
//! facilitator adopts one, and every browser gets the new version with its difference live.

use kipina_proto::ErrorCode;
use kipina_proto::view::DiffKind;
use kipina_proto::{CardId, ColumnId, Command};
use kipina_tests::{TestServer, Workshop, WsClient, card_in, column_in};

const DRAFT: &str = "Olemme paikallisyhteisöjen elinvoiman kasvattaja.";
const BOLDER: &str = "Olemme paikallisyhteisöjen elinvoiman kasvattaja, rajoja ylittävä rohkea uudistaja.";
const SHORTER: &str = "Olemme kylien elinvoiman kasvattaja.";

#[tokio::test]
async fn an_adopted_wording_reaches_everyone_with_its_difference_and_outdates_the_other() {
    let server = TestServer::start().await;
    let workshop = Workshop::open(&server).await;
    let aino = workshop.participant(&server, "Aino").await;
    let eero = workshop.participant(&server, "Eero").await;
    let mut ainos = WsClient::connect_and_settle(&server, workshop.board, &aino.token, None).await;
    let mut eeros = WsClient::connect_and_settle(&server, workshop.board, &eero.token, None).await;
    let vision = ColumnId(uuid::Uuid::now_v7());
    let add = Command::AddStatement { column: vision, title: "Visio".into(), text: DRAFT.into() };
    server.http_applied(workshop.board, &workshop.facilitator.token, &add).await;

    let (bolder, shorter) = (CardId(uuid::Uuid::now_v7()), CardId(uuid::Uuid::now_v7()));
    let propose = |card, text: &str| Command::ProposeWording {
        card,
        statement: vision,
        text: text.into(),
        reason: "Parempi".into(),
        base_version: 1,
    };
    ainos.applied(propose(bolder, BOLDER)).await;
    eeros.applied(propose(shorter, SHORTER)).await;
    ainos.applied(Command::CastVote { card: bolder }).await;
    eeros.applied(Command::CastVote { card: bolder }).await;
    assert_eq!(eeros.refused(propose(CardId(uuid::Uuid::now_v7()), DRAFT)).await, ErrorCode::SameWording);

    let (_, head) = server
        .http_applied(workshop.board, &workshop.facilitator.token, &Command::AdoptProposal { card: bolder })
        .await;
    for client in [&mut ainos, &mut eeros] {
        let message = client.expect_changed_through(head).await;
        let column = column_in(&message, vision).expect("the statement changed");
        let statement = column.statement.as_ref().expect("it is a statement");
        let current = statement.versions.last().expect("versions");
        assert_eq!((current.number, current.text.as_deref()), (2, Some(BOLDER)));
        assert_eq!(current.proposal, Some(bolder));
        let added: String =
            current.diff.iter().filter(|span| span.kind == DiffKind::Added).map(|span| span.text.as_str()).collect();
        assert_eq!(added, "kasvattaja, rajoja ylittävä rohkea uudistaja.");
        assert_eq!(column.cards, vec![shorter], "the adopted proposal left the open ones");
        let other = card_in(&message, shorter).and_then(|card| card.proposal.clone()).expect("Eero's proposal changed");
        assert!(other.outdated, "Eero's wording was based on version 1");
    }
    let proposal = |base_version| Command::RebaseProposal { card: shorter, text: SHORTER.into(), base_version };
    let adopt = Command::AdoptProposal { card: shorter };
    let refused = server
        .http_command(workshop.board, Some(&workshop.facilitator.token), kipina_tests::new_command_id(), &adopt)
        .await;
    assert_eq!(
        refused.err().map(|(status, body)| (status, body.code)),
        Some((409, ErrorCode::ProposalOutdated.to_owned()))
    );
    eeros.applied(proposal(2)).await;
    server.http_applied(workshop.board, &workshop.facilitator.token, &adopt).await;
    let view = server.board(workshop.board, &aino.token).await;
    let statement = view.columns.iter().find_map(|column| column.statement.as_ref()).expect("the statement");
    assert_eq!(statement.versions.iter().map(|version| version.number).collect::<Vec<_>>(), vec![1, 2, 3]);
}
