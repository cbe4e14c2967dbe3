import { describe, expect, it } from 'vitest';
import { ranking } from './results';
import { card, column, round } from '../../test/fixtures';
import type { CardView } from '../proto/CardView';

function cardsOf(...list: CardView[]): Map<string, CardView> {
  return new Map(list.map((found) => [found.id, found]));
}

const columns = [column('c1', ['k1', 'k2', 'g1']), column('c2', ['k3', 'k4'])];

describe('ranking a vote round', () => {
  it('ranks the current round from the totals on the cards, overall and per column', () => {
    const cards = cardsOf(
      card('k1', 'c1', { vote_total: 2 }),
      card('k2', 'c1', { vote_total: 0 }),
      card('g1', 'c1', { vote_total: 5, is_group: true, members: ['m1', 'm2'] }),
      card('m1', 'c1', { group: 'g1', vote_total: 0 }),
      card('m2', 'c1', { group: 'g1', vote_total: 0 }),
      card('k3', 'c2', { vote_total: 2 }),
      card('k4', 'c2', { vote_total: 3 }),
    );
    const result = ranking({ round: round(1), cards, columns });
    expect(result.hidden).toBe(false);
    expect(result.overall.map((item) => [item.card.id, item.votes, item.rank])).toEqual([
      ['g1', 5, 1],
      ['k4', 3, 2],
      // As many dots: board order decides who is listed first, and they share the place.
      ['k1', 2, 3],
      ['k3', 2, 3],
    ]);
    expect(result.most).toBe(5);
    expect(result.byColumn.map((entry) => [entry.column.id, entry.items.map((item) => item.card.id)])).toEqual([
      ['c1', ['g1', 'k1']],
      ['c2', ['k4', 'k3']],
    ]);
    expect(result.byColumn[1]!.items.map((item) => item.rank)).toEqual([1, 2]);
  });

  it('has nothing to rank while the current round is hidden', () => {
    const cards = cardsOf(card('k1', 'c1', { vote_total: null, votes: [{ participant: 'p-me', dots: 2 }] }));
    const result = ranking({ round: round(2, { hidden: true }), cards, columns });
    expect(result.hidden).toBe(true);
    expect(result.overall).toEqual([]);
    expect(result.most).toBe(0);
  });

  it('ranks a revealed round like an open one', () => {
    const cards = cardsOf(card('k1', 'c1', { vote_total: 1 }), card('k3', 'c2', { vote_total: 4 }));
    const result = ranking({ round: round(2, { hidden: true, revealed: true }), cards, columns });
    expect(result.hidden).toBe(false);
    expect(result.overall.map((item) => item.card.id)).toEqual(['k3', 'k1']);
  });

  it('ranks an ended round from its results, in the server’s order, whatever the cards show now', () => {
    const cards = cardsOf(
      card('k1', 'c1', { vote_total: null }),
      card('k2', 'c1', { vote_total: null }),
      card('k3', 'c2', { vote_total: null, archived: true }),
    );
    const ended = round(1, {
      current: false,
      hidden: true,
      results: [
        { card: 'k2', votes: 4, place: 1 },
        { card: 'k3', votes: 4, place: 1 },
        { card: 'k1', votes: 1, place: 3 },
        { card: 'gone', votes: 1, place: 3 },
      ],
    });
    const result = ranking({ round: ended, cards, columns });
    expect(result.hidden).toBe(false);
    expect(result.overall.map((item) => [item.card.id, item.rank])).toEqual([
      ['k2', 1],
      ['k3', 1],
      ['k1', 3],
    ]);
    expect(result.byColumn[0]!.items.map((item) => item.card.id)).toEqual(['k2', 'k1']);
  });
});
