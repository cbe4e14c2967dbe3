import { describe, expect, it } from 'vitest';
import type { ActivityItem } from '../proto/ActivityItem';
import type { ActivityPage } from '../proto/ActivityPage';
import { newPager, pageQuery, receiveNewer, receiveOlder, toggleGroup, withFilters } from './pager';

function item(seq: number): ActivityItem {
  return {
    seq,
    at: seq * 1000,
    kind: 'card_added',
    group: 'cards',
    actor: 'p',
    anonymous: false,
    card: `c${seq}`,
    comment: null,
    column: null,
    grouped_into: null,
    session: null,
    participant: null,
    label: null,
    phase: null,
    status: null,
    role: null,
    language: null,
    version: null,
    round: null,
    hidden: null,
  };
}

const page = (seqs: number[], before: number | null, head = 100): ActivityPage => ({ items: seqs.map(item), before, head });

describe('the activity pager', () => {
  it('asks for older pages with the cursor the last one gave, until there are none', () => {
    let pager = newPager();
    expect(pageQuery(pager)).toBe('limit=30');
    pager = receiveOlder(pager, page([9, 8, 7], 7), pager.generation);
    expect(pageQuery(pager)).toBe('limit=30&before=7');
    expect(pager.done).toBe(false);
    pager = receiveOlder(pager, page([6, 5], null), pager.generation);
    expect(pager.items.map((found) => found.seq)).toEqual([9, 8, 7, 6, 5]);
    expect(pager.done).toBe(true);
    // A page that came twice adds nothing twice.
    pager = receiveOlder(pager, page([6, 5], null), pager.generation);
    expect(pager.items.map((found) => found.seq)).toEqual([9, 8, 7, 6, 5]);
  });

  it('starts over when the filters change, and drops a page meant for the old filters', () => {
    let pager = receiveOlder(newPager(), page([9, 8], 8), 0);
    const old = pager.generation;
    let filters = toggleGroup(pager.filters, 'votes');
    filters = toggleGroup(filters, 'cards');
    expect(filters.groups).toEqual(['cards', 'votes']);
    pager = withFilters(pager, { ...filters, actor: 'p-aino' });
    expect(pager.items).toEqual([]);
    expect(pageQuery(pager)).toBe('limit=30&kinds=cards%2Cvotes&actor=p-aino');
    expect(receiveOlder(pager, page([5], null), old)).toBe(pager);
    expect(toggleGroup(filters, 'cards').groups).toEqual(['votes']);
  });

  it('puts newer items on top when the board moves on', () => {
    let pager = receiveOlder(newPager(), page([9, 8], 8), 0);
    expect(pageQuery(pager, { newest: true })).toBe('limit=30');
    pager = receiveNewer(pager, page([11, 10, 9, 8], 8), 0);
    expect(pager.items.map((found) => found.seq)).toEqual([11, 10, 9, 8]);
    expect(pager.before).toBe(8);
    expect(receiveNewer(pager, page([11], null), 0)).toBe(pager);
  });
});
