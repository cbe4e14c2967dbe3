import { describe, expect, it } from 'vitest';
import { BoardState } from './board.svelte';
import { ME, OTHER, boardView, card, column, comment, openGates, participant, round, session } from '../../test/fixtures';
import mirrorCases from '../../test/mirror-cases.json';
import type { BoardView } from '../proto/BoardView';
import type { Change } from '../proto/Change';

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

  it('puts new cards where cards_inserted says, and applying it twice is harmless', () => {
    const board = loaded(10);
    const inserted = {
      kind: 'cards_inserted' as const,
      value: { column: 'c1', cards: [{ index: 0, card: 'k3' }, { index: 2, card: 'k4' }] },
    };
    board.applyChanged(11, 12, [
      { kind: 'card', value: card('k3', 'c1') },
      { kind: 'card', value: card('k4', 'c1') },
      inserted,
    ]);
    expect(board.columns.get('c1')?.cards).toEqual(['k3', 'k1', 'k4', 'k2']);
    // An overlapping changed (seen through 11, covering 11..=12) carries the same insertion.
    board.applyChanged(11, 13, [inserted]);
    expect(board.columns.get('c1')?.cards).toEqual(['k3', 'k1', 'k4', 'k2']);
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

  it('keeps sessions and rounds as the server replaces them, and finds the running session', () => {
    const board = loaded(10);
    expect(board.currentRound?.number).toBe(1);
    expect(board.runningSession).toBeUndefined();
    board.applyChanged(11, 12, [
      { kind: 'session', value: session('s1') },
      { kind: 'session', value: session('s2', { name: 'Toinen' }) },
    ]);
    expect([...board.sessions.keys()]).toEqual(['s1', 's2']);
    board.applyChanged(13, 13, [
      { kind: 'session', value: session('s1', { phase: 'ideate' }) },
      { kind: 'board', value: { ...board.info!, running_session: 's1', phase: 'ideate' } },
    ]);
    expect([...board.sessions.keys()]).toEqual(['s1', 's2']);
    expect(board.runningSession?.phase).toBe('ideate');

    board.applyChanged(14, 14, [
      { kind: 'round', value: round(2, { hidden: true }) },
      { kind: 'round', value: round(1, { current: false, results: [{ card: 'k1', votes: 2, place: 1 }] }) },
    ]);
    expect(board.rounds.map((found) => [found.number, found.current])).toEqual([
      [1, false],
      [2, true],
    ]);
    expect(board.currentRound?.number).toBe(2);
    expect(board.votesHidden).toBe(true);
    board.applyChanged(15, 15, [{ kind: 'round', value: round(2, { hidden: true, revealed: true }) }]);
    expect(board.votesHidden).toBe(false);
    expect(board.rounds).toHaveLength(2);
  });

  it('reads what this browser may do now from the gates of its role', () => {
    const board = loaded(10);
    const gates = openGates();
    gates.add_card = { facilitator: null, participant: 'phase_forbids' };
    gates.vote = { facilitator: 'phase_forbids', participant: 'phase_forbids' };
    board.applyChanged(11, 11, [{ kind: 'board', value: { ...board.info!, gates } }]);
    expect([board.gate('add_card'), board.gate('vote'), board.gate('comment'), board.gate('group')]).toEqual([
      'phase_forbids',
      'phase_forbids',
      null,
      'forbidden',
    ]);
    board.applyChanged(12, 12, [
      { kind: 'participant', value: participant(ME, { role: 'facilitator', permissions: { contribute: true, change_any_card: true, facilitate: true } }) },
    ]);
    expect([board.gate('add_card'), board.gate('vote'), board.gate('group')]).toEqual([null, 'phase_forbids', null]);
    board.me = null;
    expect(board.gate('comment')).toBe('read_only');
  });

  it('names authors, anonymous ones (also to themselves) and erased ones', () => {
    const board = loaded(10);
    board.applyChanged(11, 11, [{ kind: 'participant', value: participant('p-gone', { display_name: null, erased: true }) }]);
    expect(board.authorOf(card('k1', 'c1', { author: OTHER }))).toEqual({ kind: 'name', name: 'Name p-other', mine: false });
    expect(board.authorOf(card('k1', 'c1', { author: null, anonymous: true }))).toEqual({ kind: 'anonymous', mine: false });
    expect(board.authorOf(card('k1', 'c1', { author: ME, anonymous: true }))).toEqual({ kind: 'anonymous', mine: true });
    expect(board.authorOf(comment('m1', 'k1', { author: 'p-gone' }))).toEqual({ kind: 'erased' });
  });

  it('lists a group’s cards in the group’s order, and the groups in board order', () => {
    const board = loaded(10);
    board.applyChanged(11, 11, [
      { kind: 'card', value: card('g1', 'c1', { title: 'Ryhmä', is_group: true, members: ['k2', 'k1'] }) },
      { kind: 'card', value: card('k1', 'c1', { group: 'g1' }) },
      { kind: 'card', value: card('k2', 'c1', { group: 'g1' }) },
      { kind: 'column', value: column('c1', ['g1']) },
    ]);
    const group = board.cards.get('g1')!;
    expect(board.cardsOf(board.columns.get('c1')!).map((found) => found.id)).toEqual(['g1']);
    expect(board.membersOf(group).map((found) => found.id)).toEqual(['k2', 'k1']);
    expect(board.groups.map((found) => found.id)).toEqual(['g1']);
  });
});

/** The steps the Rust tests' fold (`proto/src/mirror.rs`) runs too: both must answer and end each alike. */
describe('the cases shared with the Rust fold', () => {
  type Step = {
    first_seq: number;
    last_seq: number;
    changes: Change[];
    answer: string;
    seq: number;
    notifications: number[];
    c1: string[];
    order: string[];
  };
  const cases = mirrorCases as unknown as { snapshot: BoardView; steps: Step[] };

  it('fold alike', () => {
    const board = new BoardState('b1');
    board.applySnapshot(cases.snapshot);
    const c1 = cases.snapshot.columns[0]!.id;
    cases.steps.forEach((step, number) => {
      const answer = board.applyChanged(step.first_seq, step.last_seq, step.changes);
      expect({ number, answer, seq: board.seq }).toEqual({ number, answer: step.answer, seq: step.seq });
      expect(board.notifications.map((found) => found.seq)).toEqual(step.notifications);
      expect(board.columns.get(c1)?.cards).toEqual(step.c1);
      expect(board.columnOrder).toEqual(step.order);
    });
  });
});
