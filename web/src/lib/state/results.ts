/**
 * A vote round's outcome as a ranking to show: the cards and groups that got dots, most first,
 * overall and per column. The numbers are the server's: an ended round's `results`, or the
 * current round's totals on the cards (which the server leaves out while the votes are hidden).
 */
import type { CardId } from '../proto/CardId';
import type { CardView } from '../proto/CardView';
import type { ColumnView } from '../proto/ColumnView';
import type { RoundView } from '../proto/RoundView';

export interface RankedCard {
  card: CardView;
  votes: number;
  /** 1-based; cards with as many dots share a place. */
  rank: number;
}

export interface ColumnRanking {
  column: ColumnView;
  items: RankedCard[];
}

export interface Ranking {
  /** The current round's votes are hidden: there is nothing to rank yet. */
  hidden: boolean;
  overall: RankedCard[];
  /** Active columns in board order, each with its ranked cards (columns without dots too). */
  byColumn: ColumnRanking[];
  /** The most dots any card got (the length of the longest bar). */
  most: number;
}

export interface RankingInput {
  round: RoundView;
  cards: ReadonlyMap<CardId, CardView>;
  /** Active columns in board order. */
  columns: readonly ColumnView[];
}

/** Gives places by the server's rule (`places` in server/src/live/views.rs): equal dots share a
 * place, the next one skips (1, 2, 2, 4). */
function ranked(items: { card: CardView; votes: number }[]): RankedCard[] {
  let place = 0;
  return items.map((item, index) => {
    if (index === 0 || items[index - 1]!.votes !== item.votes) place = index + 1;
    return { ...item, rank: place };
  });
}

export function ranking({ round, cards, columns }: RankingInput): Ranking {
  const hidden = round.current && round.hidden && !round.revealed;
  let found: { card: CardView; votes: number; place?: number }[] = [];
  if (round.current) {
    if (!hidden) {
      // Board order first, so cards with as many dots keep the order people see them in.
      const order = new Map<CardId, number>();
      for (const column of columns) for (const id of column.cards) order.set(id, order.size);
      for (const card of cards.values()) {
        if (card.archived || card.group !== null || card.vote_total === null || card.vote_total <= 0) continue;
        found.push({ card, votes: card.vote_total });
      }
      const place = (card: CardView) => order.get(card.id) ?? Number.MAX_SAFE_INTEGER;
      found.sort((a, b) => b.votes - a.votes || place(a.card) - place(b.card));
    }
  } else {
    // The server sends an ended round's results most first, each with its place.
    found = round.results.flatMap((result) => {
      const card = cards.get(result.card);
      return card && result.votes > 0 ? [{ card, votes: result.votes, place: result.place }] : [];
    });
  }
  // An ended round's places are the server's (the exports rank by the same rule); the current
  // round's totals change with every dot, so its places are given here by that rule.
  const overall = round.current
    ? ranked(found)
    : found.map(({ card, votes, place }) => ({ card, votes, rank: place ?? 0 }));
  const byColumn = columns.map((column) => ({
    column,
    items: ranked(found.filter((item) => item.card.column === column.id).map(({ card, votes }) => ({ card, votes }))),
  }));
  return { hidden, overall, byColumn, most: found[0]?.votes ?? 0 };
}
