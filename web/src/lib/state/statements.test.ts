import { describe, expect, it } from 'vitest';
import { describeCommand } from '../describe';
import { locale } from '../i18n/index.svelte';
import { MemoryStore } from '../storage';
import { BoardState } from './board.svelte';
import { Outbox } from './outbox.svelte';
import { ranking } from './results';
import { describeStale, resolveStale } from './stale';
import { FreshVersion, currentVersion, pendingProposals, versionsAfter } from './statements.svelte';
import { ME, OTHER, boardView, card, column, proposal, round, statement, version } from '../../test/fixtures';

const VISION_1 = 'Olemme elinvoiman kasvattaja.';
const VISION_2 = 'Olemme rohkea elinvoiman kasvattaja.';

/** A board with a vision at version 1 and two competing proposals on it (mine and someone else's). */
function setUp() {
  const board = new BoardState('b1');
  board.me = ME;
  board.applySnapshot(
    boardView(10, {
      columns: [column('c1', ['k1']), statement('s1', [version(1, VISION_1)], ['p-mine', 'p-other'])],
      cards: [
        card('k1', 'c1'),
        proposal('p-mine', 's1', 1, { body: VISION_2, title: 'Rohkeutta' }),
        proposal('p-other', 's1', 1, { author: OTHER, body: 'Olemme kasvattaja.', title: 'Lyhyemmin' }),
      ],
    }),
  );
  let next = 0;
  const outbox = new Outbox({ store: new MemoryStore(), key: 'k', newId: () => `cmd-${++next}` });
  const sent: { id: string; type: string; base?: number }[] = [];
  outbox.attach((id, command) => {
    sent.push({ id, type: command.type, ...('base_version' in command ? { base: command.base_version } : {}) });
    return true;
  });
  return { board, outbox, sent };
}

/** What the server sends when a facilitator adopts `p-mine` as version 2. */
function adoptMine(board: BoardState, seq: number) {
  const adopted = version(2, VISION_2, {
    reason: 'Rohkeutta',
    proposal: 'p-mine',
    diff: [
      { kind: 'same', text: 'Olemme ' },
      { kind: 'added', text: 'rohkea ' },
      { kind: 'same', text: 'elinvoiman kasvattaja.' },
    ],
  });
  return board.applyChanged(seq, seq, [
    { kind: 'column', value: statement('s1', [version(1, VISION_1), adopted], ['p-other']) },
    { kind: 'card', value: proposal('p-mine', 's1', 1, { body: VISION_2, title: 'Rohkeutta', adoptedAs: 2 }) },
    { kind: 'card', value: proposal('p-other', 's1', 1, { author: OTHER, body: 'Olemme kasvattaja.', title: 'Lyhyemmin', outdated: true }) },
  ]);
}

describe('statements on the board', () => {
  it('reads the current wording, and the versions after a proposal’s base', () => {
    const { board } = setUp();
    const vision = board.columns.get('s1');
    expect(currentVersion(vision)?.number).toBe(1);
    expect(currentVersion(board.columns.get('c1'))).toBeUndefined();
    expect(board.cardsOf(vision!).map((found) => found.id)).toEqual(['p-mine', 'p-other']);

    expect(adoptMine(board, 11)).toBe('applied');
    const after = board.columns.get('s1')!;
    expect(currentVersion(after)?.text).toBe(VISION_2);
    expect(versionsAfter(after.statement!, 1).map((found) => found.number)).toEqual([2]);
    expect(versionsAfter(after.statement!, 2)).toEqual([]);
  });

  it('an adopted proposal leaves the open ones and the other is outdated, as the server says', () => {
    const { board } = setUp();
    adoptMine(board, 11);
    const open = board.cardsOf(board.columns.get('s1')!);
    expect(open.map((found) => [found.id, found.proposal?.outdated])).toEqual([['p-other', true]]);
    // The adopted card is still known (its dialog may be open), with the version it became.
    expect(board.cards.get('p-mine')?.proposal?.adopted_as).toBe(2);
  });

  it('lists one’s own proposals that the server has not shown yet, waiting or refused', () => {
    const { board, outbox } = setUp();
    outbox.add({ type: 'propose_wording', card: 'p-new', statement: 's1', text: 'Uusi', reason: 'Syy', base_version: 1 });
    outbox.add({ type: 'propose_wording', card: 'p-mine', statement: 's1', text: VISION_2, reason: 'Rohkeutta', base_version: 1 });
    outbox.add({ type: 'add_card', card: 'k9', column: 'c1', title: 'Kortti', body: '' });
    outbox.add({ type: 'propose_wording', card: 'p-elsewhere', statement: 's2', text: 'Muu', reason: 'Syy', base_version: 1 });
    expect(pendingProposals(outbox.entries, 's1', board.cards).map((entry) => entry.command.type === 'propose_wording' && entry.command.card)).toEqual([
      'p-new',
    ]);
    outbox.refused('cmd-1', { code: 'same_wording', message: 'the same as the current version' });
    expect(pendingProposals(outbox.entries, 's1', board.cards).map((entry) => entry.status)).toEqual(['failed']);
  });

  it('ranks proposals with the other cards, under their statement', () => {
    const { board } = setUp();
    board.applyChanged(11, 11, [
      { kind: 'card', value: proposal('p-other', 's1', 1, { author: OTHER, vote_total: 3 }) },
      { kind: 'card', value: card('k1', 'c1', { vote_total: 1 }) },
    ]);
    const result = ranking({ round: round(1), cards: board.cards, columns: board.activeColumns });
    expect(result.overall.map((item) => [item.card.id, item.votes, item.rank])).toEqual([
      ['p-other', 3, 1],
      ['k1', 1, 2],
    ]);
    expect(result.byColumn.map((entry) => [entry.column.id, entry.items.map((item) => item.card.id)])).toEqual([
      ['c1', ['k1']],
      ['s1', ['p-other']],
    ]);
  });
});

describe('a proposal written while the statement moved on', () => {
  it('is stale, shows my wording and the current one, and keeping mine proposes it on the current version', () => {
    const { board, outbox, sent } = setUp();
    outbox.add({ type: 'propose_wording', card: 'p-late', statement: 's1', text: 'Minun muotoiluni', reason: 'Syy', base_version: 1 });
    adoptMine(board, 11);
    outbox.refused('cmd-1', { code: 'stale_version', message: 'statement: expected version 1, found 2' });
    expect(outbox.stale.map((entry) => entry.id)).toEqual(['cmd-1']);
    // While the person decides, the stale proposal is not also listed as pending in the column.
    expect(pendingProposals(outbox.entries, 's1', board.cards)).toEqual([]);

    const stale = describeStale(outbox.stale[0]!, board);
    expect(stale?.kind).toBe('statement');
    expect(stale?.mine).toEqual({ body: 'Minun muotoiluni' });
    expect(stale?.current).toEqual({ body: VISION_2 });
    resolveStale(outbox, stale!, 'mine');
    expect(sent).toEqual([
      { id: 'cmd-1', type: 'propose_wording', base: 1 },
      { id: 'cmd-2', type: 'propose_wording', base: 2 },
    ]);
  });

  it('a stale rebase can be kept on the newest version, but not once the proposal was adopted', () => {
    const { board, outbox } = setUp();
    outbox.add({ type: 'rebase_proposal', card: 'p-other', text: 'Päivitetty', base_version: 1 });
    adoptMine(board, 11);
    outbox.refused('cmd-1', { code: 'stale_version', message: 'statement: expected version 1, found 2' });
    const stale = describeStale(outbox.stale[0]!, board);
    expect(stale?.keepMine).toEqual({ type: 'rebase_proposal', card: 'p-other', text: 'Päivitetty', base_version: 2 });

    board.applyChanged(12, 12, [{ kind: 'card', value: proposal('p-other', 's1', 2, { author: OTHER, adoptedAs: 3 }) }]);
    expect(describeStale(outbox.stale[0]!, board)?.keepMine).toBeUndefined();
  });

  it('an outdated adoption is refused and kept as failed with the server’s reason', () => {
    const { board, outbox } = setUp();
    adoptMine(board, 11);
    outbox.add({ type: 'adopt_proposal', card: 'p-other' });
    outbox.refused('cmd-1', { code: 'proposal_outdated', message: 'based on version 1, the statement is at 2' });
    expect(outbox.failed.map((entry) => entry.error?.code)).toEqual(['proposal_outdated']);
  });

  it('says what each statement command does, in the list of unsent ones', () => {
    const { board } = setUp();
    locale.set('fi');
    expect(describeCommand({ type: 'add_statement', column: 's9', title: 'Visio', text: '' }, board)).toBe('Uusi julkilausuma ”Visio”');
    expect(
      describeCommand({ type: 'propose_wording', card: 'p9', statement: 's1', text: 'Uusi muotoilu', reason: 'Syy', base_version: 1 }, board),
    ).toBe('Muotoiluehdotus ”Uusi muotoilu”');
    expect(describeCommand({ type: 'adopt_proposal', card: 'p-mine' }, board)).toBe(`Muotoilun ”${VISION_2}” hyväksyminen`);
  });
});

describe('FreshVersion', () => {
  function clock() {
    const timers: { run: () => void; ms: number }[] = [];
    const schedule = (run: () => void, ms: number) => {
      const timer = { run, ms };
      timers.push(timer);
      return () => timers.splice(timers.indexOf(timer), 1);
    };
    return { timers, schedule };
  }

  it('does not call the version a page first sees new', () => {
    const { timers, schedule } = clock();
    const fresh = new FreshVersion(schedule, 1000);
    fresh.observe(3);
    fresh.observe(3);
    expect(fresh.number).toBeNull();
    expect(timers).toEqual([]);
  });

  it('shows a newly adopted version for a while, then no longer', () => {
    const { timers, schedule } = clock();
    const fresh = new FreshVersion(schedule, 1000);
    fresh.observe(undefined);
    fresh.observe(1);
    fresh.observe(2);
    expect(fresh.number).toBe(2);
    expect(timers.map((timer) => timer.ms)).toEqual([1000]);
    timers[0]!.run();
    expect(fresh.number).toBeNull();
  });

  it('a second adoption restarts the while, and stopping leaves no timer', () => {
    const { timers, schedule } = clock();
    const fresh = new FreshVersion(schedule, 1000);
    fresh.observe(1);
    fresh.observe(2);
    fresh.observe(3);
    expect(fresh.number).toBe(3);
    expect(timers).toHaveLength(1);
    fresh.stop();
    expect(timers).toHaveLength(0);
  });
});
