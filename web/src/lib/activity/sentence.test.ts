import { afterEach, describe, expect, it } from 'vitest';
import { locale } from '../i18n/index.svelte';
import type { ActivityItem } from '../proto/ActivityItem';
import type { ParticipantView } from '../proto/ParticipantView';
import { card, column } from '../../test/fixtures';
import { activitySentence, namesOf, relativeTime } from './sentence';

const AINO = 'p-aino';
const ERASED = 'p-erased';

function person(id: string, display_name: string | null): ParticipantView {
  return {
    id,
    display_name,
    role: 'participant',
    permissions: { contribute: true, change_any_card: false, facilitate: false },
    erased: display_name === null,
    removed: false,
    joined_at: 0,
    votes_used: null,
    own: null,
  };
}

const names = namesOf({
  participants: new Map([
    [AINO, person(AINO, 'Aino')],
    [ERASED, person(ERASED, null)],
  ]),
  cards: new Map([
    ['c1', card('c1', 'ideas', { title: 'Kyläkoulu' })],
    ['c2', card('c2', 'ideas', { title: null })],
  ]),
  columns: new Map([['ideas', column('ideas', ['c1'], { title: 'Ideat' })]]),
  sessions: new Map(),
  labels: new Map(),
});

function item(overrides: Partial<ActivityItem>): ActivityItem {
  return {
    seq: 10,
    at: 1_800_000_000_000,
    kind: 'card_added',
    group: 'cards',
    actor: AINO,
    anonymous: false,
    card: null,
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
    ...overrides,
  };
}

afterEach(() => locale.set('fi'));

describe('activity sentences', () => {
  it('says who did what to which card, in Finnish', () => {
    locale.set('fi');
    expect(activitySentence(item({ card: 'c1', column: 'ideas' }), names)).toBe('Aino lisäsi kortin «Kyläkoulu» sarakkeeseen «Ideat»');
    expect(activitySentence(item({ kind: 'comment_added', group: 'comments', card: 'c1', comment: 'm1' }), names)).toBe(
      'Aino kommentoi korttia «Kyläkoulu»',
    );
    expect(activitySentence(item({ kind: 'phase_set', group: 'facilitation', phase: 'vote' }), names)).toBe(
      'Aino siirtyi äänestysvaiheeseen',
    );
    expect(activitySentence(item({ kind: 'proposal_adopted', group: 'statements', column: 'ideas', version: 3 }), names)).toBe(
      'Aino hyväksyi ehdotuksen: «Ideat» sai uuden version 3',
    );
  });

  it('names nobody for anonymous writing and hidden voters, and says erased for the erased', () => {
    locale.set('fi');
    expect(activitySentence(item({ actor: null, anonymous: true, card: 'c1', column: 'ideas' }), names)).toBe(
      'Nimetön lisäsi kortin «Kyläkoulu» sarakkeeseen «Ideat»',
    );
    expect(activitySentence(item({ kind: 'vote_cast', group: 'votes', actor: null, anonymous: true, card: 'c1' }), names)).toBe(
      'Kortti «Kyläkoulu» sai äänen',
    );
    expect(activitySentence(item({ kind: 'comment_added', actor: ERASED, card: 'c2' }), names)).toBe(
      'Poistettu osallistuja kommentoi korttia «poistettu»',
    );
  });

  it('follows the reader’s language', () => {
    locale.set('sv');
    expect(activitySentence(item({ card: 'c1', column: 'ideas' }), names)).toBe('Aino lade till kortet «Kyläkoulu» i kolumnen «Ideat»');
    locale.set('en');
    expect(activitySentence(item({ kind: 'participant_joined', group: 'people', role: 'participant' }), names)).toBe(
      'Aino joined the board as participant',
    );
    expect(activitySentence(item({ kind: 'vote_round_started', group: 'facilitation', round: 2, hidden: true }), names)).toBe(
      'Aino started voting round 2 (dots hidden)',
    );
  });
});

describe('relative times', () => {
  const now = 1_800_000_000_000;
  it('says how long ago, in the reader’s language', () => {
    locale.set('fi');
    expect(relativeTime(now - 10_000, now, 'fi-FI')).toBe('juuri nyt');
    expect(relativeTime(now - 5 * 60_000, now, 'fi-FI')).toBe('5 minuuttia sitten');
    expect(relativeTime(now - 3 * 3_600_000, now, 'fi-FI')).toBe('3 tuntia sitten');
    expect(relativeTime(now - 2 * 86_400_000, now, 'fi-FI')).toBe('toissa päivänä');
    expect(relativeTime(now - 3 * 7 * 86_400_000, now, 'en-GB')).toBe('3 weeks ago');
    expect(relativeTime(now - 400 * 86_400_000, now, 'sv-FI')).toBe('förra året');
  });
});
