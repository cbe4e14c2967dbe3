import { describe, expect, it } from 'vitest';
import { BoardState } from './board.svelte';
import { ME, OTHER, boardView, card, column, comment, participant } from '../../test/fixtures';

function loaded(seq = 10): BoardState {
  const board = new BoardState('b1');
  board.me = ME;
  board.applySnapshot(boardView(seq));
  return board;
}

describe('BoardState', () => {
  it('takes everything from a snapshot', () => {
    const board = loaded(10);
    expect(board.seq).toBe(10);
    expect(board.info?.title).toBe('Leaderin kulmakivet');
    expect(board.activeColumns.map((found) => found.id)).toEqual(['c1', 'c2']);
    expect(board.cardsOf(board.columns.get('c1')!).map((found) => found.id)).toEqual(['k1', 'k2']);
  });

  it('applies a changed message that follows the last sequence seen', () => {
    const board = loaded(10);
    const result = board.applyChanged(11, 12, [
      { kind: 'card', value: card('k3', 'c2', { title: 'Kylätalo' }) },
      { kind: 'column', value: column('c2', ['k3']) },
      { kind: 'card', value: card('k1', 'c1', { title: 'Uusi otsikko', text_version: 2 }) },
    ]);
    expect(result).toBe('applied');
    expect(board.seq).toBe(12);
    expect(board.cards.get('k1')?.title).toBe('Uusi otsikko');
    expect(board.cardsOf(board.columns.get('c2')!).map((found) => found.title)).toEqual(['Kylätalo']);
  });

  it('replaces the column order and hides archived columns and cards', () => {
    const board = loaded(10);
    board.applyChanged(11, 11, [
      { kind: 'column', value: column('c1', ['k1', 'k2'], { archived: true }) },
      { kind: 'column_order', value: ['c2'] },
    ]);
    expect(board.activeColumns.map((found) => found.id)).toEqual(['c2']);
    expect(board.archivedColumns.map((found) => found.id)).toEqual(['c1']);
    board.applyChanged(12, 12, [
      { kind: 'column', value: column('c1', ['k1', 'k2'], { archived: false }) },
      { kind: 'column_order', value: ['c2', 'c1'] },
      { kind: 'card', value: card('k2', 'c1', { archived: true }) },
    ]);
    expect(board.activeColumns.map((found) => found.id)).toEqual(['c2', 'c1']);
    expect(board.cardsOf(board.columns.get('c1')!).map((found) => found.id)).toEqual(['k1']);
  });

  it('reports a gap and changes nothing when changes were missed', () => {
    const board = loaded(10);
    const result = board.applyChanged(12, 13, [{ kind: 'card', value: card('k1', 'c1', { title: 'Myöhässä' }) }]);
    expect(result).toBe('gap');
    expect(board.seq).toBe(10);
    expect(board.cards.get('k1')?.title).toBe('Card k1');
  });

  it('reports a gap for changes that come before any snapshot', () => {
    const board = new BoardState('b1');
    expect(board.applyChanged(1, 1, [])).toBe('gap');
    expect(board.loaded).toBe(false);
  });

  it('ignores a duplicate or old changed message', () => {
    const board = loaded(10);
    board.applyChanged(11, 11, [{ kind: 'card', value: card('k1', 'c1', { title: 'Uusin', text_version: 3 }) }]);
    const again = board.applyChanged(11, 11, [{ kind: 'card', value: card('k1', 'c1', { title: 'Vanha', text_version: 2 }) }]);
    const older = board.applyChanged(5, 9, [{ kind: 'card', value: card('k1', 'c1', { title: 'Vanhempi' }) }]);
    expect(again).toBe('old');
    expect(older).toBe('old');
    expect(board.seq).toBe(11);
    expect(board.cards.get('k1')?.title).toBe('Uusin');
  });

  it('replaces everything on a later snapshot', () => {
    const board = loaded(10);
    board.applySnapshot(boardView(50, { cards: [card('k9', 'c2')], columns: [column('c2', ['k9'])] }));
    expect(board.seq).toBe(50);
    expect(board.cards.has('k1')).toBe(false);
    expect(board.activeColumns.map((found) => found.id)).toEqual(['c2']);
  });

  it('counts the dots left from the budget and the votes the server says are used', () => {
    const board = loaded(10);
    expect(board.votesLeft).toBe(5);
    board.applyChanged(11, 11, [
      { kind: 'participant', value: participant(ME, { votes_used: 2 }) },
      { kind: 'card', value: card('k1', 'c1', { vote_total: 3, votes: [{ participant: ME, dots: 2 }, { participant: OTHER, dots: 1 }] }) },
    ]);
    expect(board.votesLeft).toBe(3);
    expect(board.myDots(board.cards.get('k1')!)).toBe(2);
  });

  it('offers card controls exactly as the permissions the server sends allow', () => {
    const board = loaded(10);
    const mine = card('k1', 'c1', { author: ME });
    const theirs = card('k2', 'c1', { author: OTHER });
    const as = (permissions: { contribute: boolean; change_any_card: boolean; facilitate: boolean }) =>
      board.applyChanged((board.seq ?? 0) + 1, (board.seq ?? 0) + 1, [{ kind: 'participant', value: participant(ME, { permissions }) }]);
    as({ contribute: true, change_any_card: false, facilitate: false });
    expect([board.mayChange(mine), board.mayChange(theirs), board.isFacilitator]).toEqual([true, false, false]);
    as({ contribute: true, change_any_card: true, facilitate: true });
    expect([board.mayChange(mine), board.mayChange(theirs), board.isFacilitator]).toEqual([true, true, true]);
    as({ contribute: false, change_any_card: false, facilitate: false });
    expect([board.mayChange(mine), board.mayContribute]).toEqual([false, false]);
  });

  it('builds comment threads one level deep, tombstones included', () => {
    const board = loaded(10);
    board.applyChanged(11, 11, [
      { kind: 'comment', value: comment('m1', 'k1') },
      { kind: 'comment', value: comment('m2', 'k1', { reply_to: 'm1' }) },
      { kind: 'comment', value: comment('m3', 'k1', { deleted: true, body: null }) },
      { kind: 'card', value: card('k1', 'c1', { comments: ['m1', 'm2', 'm3'] }) },
    ]);
    const threads = board.threadOf(board.cards.get('k1')!);
    expect(threads.map((thread) => thread.comment.id)).toEqual(['m1', 'm3']);
    expect(threads[0]?.replies.map((reply) => reply.id)).toEqual(['m2']);
    expect(threads[1]?.comment.body).toBeNull();
  });
});
