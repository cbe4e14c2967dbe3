import { t, type MessageKey } from '../i18n/index.svelte';
import type { ActivityItem } from '../proto/ActivityItem';
import type { CardView } from '../proto/CardView';
import type { ColumnView } from '../proto/ColumnView';
import type { LabelView } from '../proto/LabelView';
import type { ParticipantView } from '../proto/ParticipantView';
import type { SessionView } from '../proto/SessionView';

/** Where a sentence finds the board's current names and titles (the live board has them all). */
export interface Names {
  participant(id: string): ParticipantView | undefined;
  card(id: string): CardView | undefined;
  column(id: string): ColumnView | undefined;
  session(id: string): SessionView | undefined;
  label(id: string): LabelView | undefined;
}

/** A board's maps as `Names`. */
export function namesOf(board: {
  participants: ReadonlyMap<string, ParticipantView>;
  cards: ReadonlyMap<string, CardView>;
  columns: ReadonlyMap<string, ColumnView>;
  sessions: ReadonlyMap<string, SessionView>;
  labels: ReadonlyMap<string, LabelView>;
}): Names {
  return {
    participant: (id) => board.participants.get(id),
    card: (id) => board.cards.get(id),
    column: (id) => board.columns.get(id),
    session: (id) => board.sessions.get(id),
    label: (id) => board.labels.get(id),
  };
}

function excerpt(text: string, max = 60): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? flat.slice(0, max - 1) + '…' : flat;
}

/** Who did it: a name, "Nimetön" when that is kept from the reader, or an erased participant. */
export function actorName(item: ActivityItem, names: Names): string {
  if (item.actor === null) return t('activity.anonymous');
  return names.participant(item.actor)?.display_name ?? t('activity.erasedPerson');
}

/** The message of an item: its kind's, or one of the few variants that read differently. */
export function sentenceKey(item: ActivityItem): MessageKey {
  if (item.kind === 'vote_cast' && item.actor === null) return 'activity.variants.voteCastAnonymous';
  if (item.kind === 'vote_withdrawn' && item.actor === null) return 'activity.variants.voteWithdrawnAnonymous';
  if (item.kind === 'reaction_added' && item.comment !== null) return 'activity.variants.reactionOnComment';
  if (item.kind === 'vote_round_started' && item.hidden === true) return 'activity.variants.hiddenRound';
  return `activity.kinds.${item.kind}`;
}

/**
 * An item as a sentence in the reader's language, with the board's current names and titles:
 * "Aino lisäsi kortin «Kyläkoulu» sarakkeeseen «Ideat»".
 */
export function activitySentence(item: ActivityItem, names: Names): string {
  const erased = t('activity.erased');
  const cardTitle = (id: string | null) => {
    const title = id === null ? null : names.card(id)?.title;
    return title === null || title === undefined ? erased : excerpt(title);
  };
  const text = t(sentenceKey(item), {
    actor: actorName(item, names),
    card: cardTitle(item.card),
    group: cardTitle(item.grouped_into),
    column: (item.column === null ? undefined : names.column(item.column)?.title) ?? erased,
    session: (item.session === null ? undefined : names.session(item.session)?.name) ?? erased,
    label: (item.label === null ? undefined : names.label(item.label)?.name) ?? erased,
    participant:
      (item.participant === null ? undefined : names.participant(item.participant)?.display_name) ?? t('activity.erasedPerson'),
    phase: item.phase === null ? '' : t(`activity.phaseInto.${item.phase}`),
    status: item.status === null ? '' : t(`status.${item.status}`),
    role: item.role === null ? '' : t(`roles.${item.role}`),
    language: item.language === null ? '' : t(`activity.languages.${item.language}`),
    version: item.version ?? '',
    round: item.round ?? '',
  });
  return text.charAt(0).toLocaleUpperCase() + text.slice(1);
}

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['minute', 60],
  ['hour', 60 * 60],
  ['day', 24 * 60 * 60],
  ['week', 7 * 24 * 60 * 60],
  ['month', 30 * 24 * 60 * 60],
  ['year', 365 * 24 * 60 * 60],
];

/** "5 minuuttia sitten", "eilen": how long ago `at` was at `now`, in the language of `tag`. */
export function relativeTime(at: number, now: number, tag: string): string {
  const seconds = Math.round((at - now) / 1000);
  if (Math.abs(seconds) < 45) return t('activity.justNow');
  const format = new Intl.RelativeTimeFormat(tag, { numeric: 'auto' });
  let unit: Intl.RelativeTimeFormatUnit = 'minute';
  let size = 60;
  for (const [candidate, length] of UNITS) {
    if (Math.abs(seconds) >= length * 0.75 || candidate === 'minute') {
      unit = candidate;
      size = length;
    }
  }
  return format.format(Math.round(seconds / size), unit);
}
