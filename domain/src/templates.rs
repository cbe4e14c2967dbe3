//! Board templates: the columns a new board starts with, in the board's language. A template
//! is only a list of `AddColumn` commands; nothing about it is remembered afterwards.

use kipina_proto::{BoardTemplate, Language};

/// The column titles of `template` in `language`.
pub fn columns(template: BoardTemplate, language: Language) -> &'static [&'static str] {
    match (template, language) {
        (BoardTemplate::Empty, _) => &[],
        (BoardTemplate::LeaderPrinciples, Language::Fi) => &[
            "Alhaalta ylöspäin",
            "Paikallinen kumppanuus",
            "Monialaisuus",
            "Verkostoituminen",
            "Alueperusteisuus",
            "Alueiden välinen ja kansainvälinen yhteistyö",
            "Innovatiivisuus",
        ],
        (BoardTemplate::LeaderPrinciples, Language::Sv) => &[
            "Underifrån och upp",
            "Lokalt partnerskap",
            "Sektorsövergripande",
            "Nätverkande",
            "Områdesbaserat",
            "Interregionalt och internationellt samarbete",
            "Innovation",
        ],
        (BoardTemplate::LeaderPrinciples, Language::En) => &[
            "Bottom-up",
            "Local partnership",
            "Multi-sectoral",
            "Networking",
            "Area-based",
            "Inter-territorial and international cooperation",
            "Innovation",
        ],
        (BoardTemplate::StrengthsOfferWishes, Language::Fi) => {
            &["Vahvuudet", "Mitä voimme tarjota", "Kokemuksia ja toiveita"]
        }
        (BoardTemplate::StrengthsOfferWishes, Language::Sv) => {
            &["Styrkor", "Vad vi kan erbjuda", "Erfarenheter och önskemål"]
        }
        (BoardTemplate::StrengthsOfferWishes, Language::En) => {
            &["Strengths", "What we can offer", "Experiences and wishes"]
        }
        (BoardTemplate::IdeaFunnel, Language::Fi) => {
            &["Ideat", "Karsinta", "Valittu valmisteluun", "Rahoituspäätös", "Seuranta"]
        }
        (BoardTemplate::IdeaFunnel, Language::Sv) => {
            &["Idéer", "Gallring", "Vald för beredning", "Finansieringsbeslut", "Uppföljning"]
        }
        (BoardTemplate::IdeaFunnel, Language::En) => {
            &["Ideas", "Screening", "Selected for preparation", "Funding decision", "Follow-up"]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_has_the_same_columns_in_every_language() {
        for template in
            [BoardTemplate::LeaderPrinciples, BoardTemplate::StrengthsOfferWishes, BoardTemplate::IdeaFunnel]
        {
            let finnish = columns(template, Language::Fi).len();
            assert!(finnish > 0);
            assert_eq!(columns(template, Language::Sv).len(), finnish);
            assert_eq!(columns(template, Language::En).len(), finnish);
        }
        assert_eq!(columns(BoardTemplate::LeaderPrinciples, Language::Fi).len(), 7);
        assert!(columns(BoardTemplate::Empty, Language::Fi).is_empty());
    }
}
