import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../storage';
import { BoardState } from './board.svelte';
import { Outbox } from './outbox.svelte';
import { describeStale, resolveStale } from './stale';
import { ME, boardView, card, comment } from '../../test/fixtures';

function setUp() {
  const board = new BoardState('b1');
  board.me = ME;
  board.applySnapshot(boardView(10));
  let next = 0;
  const outbox = new Outbox({ store: new MemoryStore(), key: 'k', newId: () => `cmd-${++next}` });
  const sent: { id: string; type: string; base?: number }[] = [];
  outbox.attach((id, command) => {
    sent.push({ id, type: command.type, ...('base_version' in command ? { base: command.base_version } : {}) });
    return true;
  });
  return { board, outbox, sent };
}

describe('a stale edit', () => {
  it('shows my version and the current one, and keeping mine resends on the current version with a new id', () => {
    const { board, outbox, sent } = setUp();
    // I started editing at version 1 …
    outbox.add({ type: 'edit_card', card: 'k1', title: 'Minun otsikko', body: 'Minun teksti', base_version: 1 });
    // … someone else's edit made it version 2 first.
    board.applyChanged(11, 11, [{ kind: 'card', value: card('k1', 'c1', { title: 'Heidän otsikko', body: 'Heidän teksti', text_version: 2 }) }]);
    outbox.refused('cmd-1', { code: 'stale_version', message: 'someone changed this card first' });

    const stale = describeStale(outbox.stale[0]!, board);
    expect(stale?.mine).toEqual({ title: 'Minun otsikko', body: 'Minun teksti' });
    expect(stale?.current).toEqual({ title: 'Heidän otsikko', body: 'Heidän teksti' });

    resolveStale(outbox, stale!, 'mine');
    expect(sent).toEqual([
      { id: 'cmd-1', type: 'edit_card', base: 1 },
      { id: 'cmd-2', type: 'edit_card', base: 2 },
    ]);
    expect(outbox.entries.map((entry) => [entry.id, entry.status])).toEqual([['cmd-2', 'waiting']]);
    const resent = outbox.entries[0]?.command;
    expect(resent?.type === 'edit_card' && resent.title).toBe('Minun otsikko');
  });

  it('taking theirs drops my edit and sends nothing', () => {
    const { board, outbox, sent } = setUp();
    outbox.add({ type: 'edit_card', card: 'k1', title: 'Minun', body: '', base_version: 1 });
    board.applyChanged(11, 11, [{ kind: 'card', value: card('k1', 'c1', { title: 'Heidän', text_version: 2 }) }]);
    outbox.refused('cmd-1', { code: 'stale_version', message: '' });
    resolveStale(outbox, describeStale(outbox.stale[0]!, board)!, 'theirs');
    expect(outbox.entries).toEqual([]);
    expect(sent).toHaveLength(1);
    expect(board.cards.get('k1')?.title).toBe('Heidän');
  });

  it('works for comments too', () => {
    const { board, outbox } = setUp();
    board.applyChanged(11, 11, [{ kind: 'comment', value: comment('m1', 'k1', { body: 'Heidän', text_version: 4 }) }]);
    outbox.add({ type: 'edit_comment', comment: 'm1', body: 'Minun', base_version: 3 });
    outbox.refused('cmd-1', { code: 'stale_version', message: '' });
    const stale = describeStale(outbox.stale[0]!, board);
    expect(stale?.kind).toBe('comment');
    expect(stale?.keepMine).toEqual({ type: 'edit_comment', comment: 'm1', body: 'Minun', base_version: 4 });
  });

  it('cannot keep mine when the card is gone, only drop it', () => {
    const { board, outbox } = setUp();
    outbox.add({ type: 'edit_card', card: 'k1', title: 'Minun', body: '', base_version: 1 });
    board.applyChanged(11, 11, [{ kind: 'card', value: card('k1', 'c1', { archived: true, text_version: 2 }) }]);
    outbox.refused('cmd-1', { code: 'stale_version', message: '' });
    const stale = describeStale(outbox.stale[0]!, board)!;
    expect(stale.keepMine).toBeUndefined();
    resolveStale(outbox, stale, 'mine');
    expect(outbox.entries).toEqual([]);
  });
});
