import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../storage';
import type { Command } from '../proto/Command';
import { Outbox, outboxKey } from './outbox.svelte';

function ids() {
  let next = 0;
  return () => `id-${++next}`;
}

function makeOutbox(store = new MemoryStore(), options: { window?: number; newId?: () => string } = {}) {
  let now = 0;
  const timers: { at: number; run: () => void }[] = [];
  const outbox = new Outbox({
    store,
    key: outboxKey('b1'),
    newId: options.newId ?? ids(),
    now: () => now,
    schedule: (run, ms) => {
      const timer = { at: now + ms, run };
      timers.push(timer);
      return () => timers.splice(timers.indexOf(timer), 1);
    },
    window: options.window ?? 8,
    perSecond: 10,
    burst: 20,
  });
  const advance = (ms: number) => {
    now += ms;
    for (const timer of timers.filter((found) => found.at <= now)) {
      timers.splice(timers.indexOf(timer), 1);
      timer.run();
    }
  };
  return { outbox, store, advance };
}

const vote: Command = { type: 'cast_vote', card: 'k1' };
const addCard = (title: string): Command => ({ type: 'add_card', card: `card-${title}`, column: 'c1', title, body: '' });

describe('Outbox', () => {
  it('keeps commands in storage until they are answered', () => {
    const { outbox, store } = makeOutbox();
    outbox.add(addCard('a'));
    outbox.add(vote);
    const again = new Outbox({ store, key: outboxKey('b1') });
    expect(again.entries.map((entry) => entry.id)).toEqual(['id-1', 'id-2']);
    expect(again.entries.map((entry) => entry.command.type)).toEqual(['add_card', 'cast_vote']);
    outbox.acknowledged('id-1');
    expect(new Outbox({ store, key: outboxKey('b1') }).entries.map((entry) => entry.id)).toEqual(['id-2']);
  });

  it('sends nothing without a connection, then everything in order', () => {
    const { outbox } = makeOutbox();
    outbox.add(addCard('a'));
    outbox.add(addCard('b'));
    const sent: string[] = [];
    outbox.attach((id) => {
      sent.push(id);
      return true;
    });
    expect(sent).toEqual(['id-1', 'id-2']);
    outbox.add(vote);
    expect(sent).toEqual(['id-1', 'id-2', 'id-3']);
  });

  it('sends unanswered commands again with the same ids after a reconnect', () => {
    const { outbox } = makeOutbox();
    const first: string[] = [];
    outbox.attach((id) => (first.push(id), true));
    outbox.add(addCard('a'));
    outbox.add(addCard('b'));
    outbox.add(vote);
    outbox.acknowledged('id-1');
    outbox.detach();
    outbox.add(addCard('offline'));
    const second: string[] = [];
    outbox.attach((id) => (second.push(id), true));
    expect(first).toEqual(['id-1', 'id-2', 'id-3']);
    expect(second).toEqual(['id-2', 'id-3', 'id-4']);
  });

  it('keeps no more than a window of commands unanswered', () => {
    const { outbox } = makeOutbox(new MemoryStore(), { window: 2 });
    const sent: string[] = [];
    outbox.attach((id) => (sent.push(id), true));
    for (let index = 0; index < 4; index++) outbox.add(vote);
    expect(sent).toEqual(['id-1', 'id-2']);
    outbox.acknowledged('id-1');
    expect(sent).toEqual(['id-1', 'id-2', 'id-3']);
  });

  it('paces a long queue below the server rate limit', () => {
    const { outbox, advance } = makeOutbox(new MemoryStore(), { window: 100 });
    for (let index = 0; index < 30; index++) outbox.add(vote);
    const sent: string[] = [];
    outbox.attach((id) => (sent.push(id), true));
    expect(sent).toHaveLength(20);
    advance(500);
    expect(sent).toHaveLength(25);
    advance(500);
    expect(sent).toHaveLength(30);
  });

  it('removes a command when it is acknowledged', () => {
    const { outbox } = makeOutbox();
    outbox.add(vote);
    expect(outbox.acknowledged('id-1')?.command).toEqual(vote);
    expect(outbox.entries).toEqual([]);
  });

  it('keeps a refused command as failed, with the server answer, and sends it no more', () => {
    const { outbox, store } = makeOutbox();
    const sent: string[] = [];
    outbox.attach((id) => (sent.push(id), true));
    outbox.add(addCard('x'));
    outbox.refused('id-1', { code: 'text_too_long', message: 'too long' });
    expect(outbox.failed.map((entry) => [entry.id, entry.error?.code])).toEqual([['id-1', 'text_too_long']]);
    expect(outbox.waiting).toEqual([]);
    outbox.detach();
    outbox.attach((id) => (sent.push(id), true));
    expect(sent).toEqual(['id-1']);
    expect(new Outbox({ store, key: outboxKey('b1') }).failed).toHaveLength(1);
  });

  it('retries a refused command as a new command, or drops it', () => {
    const { outbox } = makeOutbox();
    const sent: string[] = [];
    outbox.attach((id) => (sent.push(id), true));
    outbox.add(addCard('y'));
    outbox.add(addCard('x'));
    outbox.refused('id-1', { code: 'forbidden', message: 'no' });
    outbox.refused('id-2', { code: 'text_too_long', message: 'too long' });
    outbox.retry('id-1');
    expect(sent).toEqual(['id-1', 'id-2', 'id-3']);
    expect(outbox.entries.map((entry) => [entry.id, entry.status])).toEqual([
      ['id-2', 'failed'],
      ['id-3', 'waiting'],
    ]);
    outbox.drop('id-2');
    expect(outbox.entries.map((entry) => entry.id)).toEqual(['id-3']);
  });

  it('tells a refused dot where it was tapped and keeps nothing unsent, even after a reload', () => {
    const { outbox, store } = makeOutbox();
    outbox.attach(() => true);
    outbox.add(vote);
    outbox.refused('id-1', { code: 'vote_cap_reached', message: 'at most 2 of your dots on one card' });
    expect(outbox.entries).toEqual([]);
    expect(outbox.lastRefusal).toEqual({ id: 'id-1', command: vote, error: { code: 'vote_cap_reached', message: 'at most 2 of your dots on one card' } });
    expect(new Outbox({ store, key: outboxKey('b1') }).entries).toEqual([]);
    outbox.add(vote);
    expect(outbox.lastRefusal).toBeNull();
  });

  it('forgets a refused dot an older client kept as unsent', () => {
    const store = new MemoryStore();
    store.setItem(
      outboxKey('b1'),
      JSON.stringify([{ id: 'old', command: vote, status: 'failed', error: { code: 'vote_budget_exhausted', message: 'no' }, at: 1 }]),
    );
    expect(new Outbox({ store, key: outboxKey('b1') }).entries).toEqual([]);
  });

  it('sends a rate-limited command again later with the same id', () => {
    const { outbox, advance } = makeOutbox();
    const sent: string[] = [];
    outbox.attach((id) => (sent.push(id), true));
    outbox.add(vote);
    outbox.refused('id-1', { code: 'rate_limited', message: 'slow down' });
    expect(outbox.waiting.map((entry) => entry.id)).toEqual(['id-1']);
    expect(sent).toEqual(['id-1']);
    advance(1000);
    expect(sent).toEqual(['id-1', 'id-1']);
  });

  it('marks a stale edit for the person to choose, and does not resend it', () => {
    const { outbox } = makeOutbox();
    outbox.attach(() => true);
    outbox.add({ type: 'edit_card', card: 'k1', title: 'Minun', body: '', base_version: 1 });
    outbox.refused('id-1', { code: 'stale_version', message: 'someone changed this card first' });
    expect(outbox.stale.map((entry) => entry.id)).toEqual(['id-1']);
    expect(outbox.waiting).toEqual([]);
  });

  it('ignores answers about commands it does not hold', () => {
    const { outbox } = makeOutbox();
    outbox.add(vote);
    expect(outbox.acknowledged('someone-else')).toBeUndefined();
    expect(outbox.refused('someone-else', { code: 'forbidden', message: '' })).toBeUndefined();
    expect(outbox.entries).toHaveLength(1);
  });

  it('survives damaged storage', () => {
    const store = new MemoryStore();
    store.setItem(outboxKey('b1'), '{not json');
    expect(new Outbox({ store, key: outboxKey('b1') }).entries).toEqual([]);
    store.setItem(outboxKey('b1'), JSON.stringify([{ id: 1 }, { id: 'ok', command: vote, status: 'waiting', at: 0 }]));
    expect(new Outbox({ store, key: outboxKey('b1') }).entries.map((entry) => entry.id)).toEqual(['ok']);
  });
});
