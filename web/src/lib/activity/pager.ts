import type { ActivityGroup } from '../proto/ActivityGroup';
import type { ActivityItem } from '../proto/ActivityItem';
import type { ActivityPage } from '../proto/ActivityPage';
import type { ParticipantId } from '../proto/ParticipantId';

/** Every group, in the order the filter offers them. */
export const GROUPS: readonly ActivityGroup[] = ['cards', 'comments', 'votes', 'statements', 'facilitation', 'people'];

/** What the feed is narrowed to: no groups means every group. */
export interface ActivityFilters {
  groups: ActivityGroup[];
  actor: ParticipantId | null;
}

/**
 * The pages of the feed read so far, newest first. A change of filters starts over with a new
 * `generation`, so a page that arrives for the old filters is dropped rather than mixed in.
 */
export interface Pager {
  filters: ActivityFilters;
  items: ActivityItem[];
  /** The cursor for the next, older page; null before the first page and at the end. */
  before: number | null;
  /** Whether the first page has arrived. */
  started: boolean;
  /** Nothing older is left. */
  done: boolean;
  generation: number;
}

export const PAGE_SIZE = 30;

export function newPager(filters: ActivityFilters = { groups: [], actor: null }, generation = 0): Pager {
  return { filters, items: [], before: null, started: false, done: false, generation };
}

/** The same feed under other filters: empty again, waiting for its first page. */
export function withFilters(pager: Pager, filters: ActivityFilters): Pager {
  return newPager(filters, pager.generation + 1);
}

/** Selects or deselects one group. */
export function toggleGroup(filters: ActivityFilters, group: ActivityGroup): ActivityFilters {
  const groups = filters.groups.includes(group)
    ? filters.groups.filter((found) => found !== group)
    : GROUPS.filter((found) => found === group || filters.groups.includes(found));
  return { ...filters, groups };
}

/** The query of a page: the next older one, or (`newest`) the newest one. */
export function pageQuery(pager: Pager, options: { newest?: boolean; limit?: number } = {}): string {
  const query = new URLSearchParams();
  query.set('limit', String(options.limit ?? PAGE_SIZE));
  if (!options.newest && pager.before !== null) query.set('before', String(pager.before));
  if (pager.filters.groups.length > 0) query.set('kinds', pager.filters.groups.join(','));
  if (pager.filters.actor !== null) query.set('actor', pager.filters.actor);
  return query.toString();
}

/** Adds an older page (asked for in `generation`) at the end. */
export function receiveOlder(pager: Pager, page: ActivityPage, generation: number): Pager {
  if (generation !== pager.generation) return pager;
  const oldest = pager.items[pager.items.length - 1]?.seq ?? Infinity;
  const items = [...pager.items, ...page.items.filter((item) => item.seq < oldest)];
  return { ...pager, items, before: page.before, started: true, done: page.before === null };
}

/** Adds what is newer than the newest item shown from a fresh first page, at the top. */
export function receiveNewer(pager: Pager, page: ActivityPage, generation: number): Pager {
  if (generation !== pager.generation) return pager;
  if (!pager.started) return receiveOlder(pager, page, generation);
  const newest = pager.items[0]?.seq ?? 0;
  const fresh = page.items.filter((item) => item.seq > newest);
  if (fresh.length === 0) return pager;
  return { ...pager, items: [...fresh, ...pager.items] };
}
