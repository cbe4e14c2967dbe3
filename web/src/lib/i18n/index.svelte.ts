import i18next from 'i18next';
import type { Failure } from '../api';
import type { Language } from '../proto/Language';
import { browserStore } from '../storage';
import { en, type Messages } from './en';
import { fi } from './fi';
import { sv } from './sv';

export const LANGUAGES: readonly Language[] = ['fi', 'sv', 'en'];
export const dictionaries: Record<Language, Messages> = { fi, sv, en };

/** The BCP 47 tags used for dates: Finnish, Swedish as written in Finland, and English. */
const LOCALE_TAGS: Record<Language, string> = { fi: 'fi-FI', sv: 'sv-FI', en: 'en-GB' };
const STORAGE_KEY = 'kipina.language';

/** `a.b.c` paths of every string, with i18next's plural suffixes folded away. */
type Paths<T, P extends string = ''> = {
  [K in keyof T & string]: T[K] extends string ? `${P}${K}` : Paths<T[K], `${P}${K}.`>;
}[keyof T & string];
type Unplural<K extends string> = K extends `${infer Base}_${'one' | 'other'}` ? Base : K;
export type MessageKey = Unplural<Paths<Messages>>;

export function isLanguage(value: unknown): value is Language {
  return value === 'fi' || value === 'sv' || value === 'en';
}

function initialLanguage(): Language {
  const saved = browserStore().getItem(STORAGE_KEY);
  return isLanguage(saved) ? saved : 'fi';
}

const startLanguage = initialLanguage();
let current = $state<Language>(startLanguage);

void i18next.init({
  resources: {
    fi: { translation: fi },
    sv: { translation: sv },
    en: { translation: en },
  },
  lng: startLanguage,
  fallbackLng: 'fi',
  initAsync: false,
  interpolation: { escapeValue: false },
  returnNull: false,
});

export const locale = {
  get current(): Language {
    return current;
  },
  get tag(): string {
    return LOCALE_TAGS[current];
  },
  set(language: Language): void {
    current = language;
    try {
      browserStore().setItem(STORAGE_KEY, language);
    } catch {
      // not kept, still used
    }
    if (typeof document !== 'undefined') document.documentElement.lang = language;
  },
};

/** A translated string in the current language (reactive: re-read when the language changes). */
export function t(key: MessageKey, options?: Record<string, unknown>): string {
  return i18next.t(key, { ...options, lng: current });
}

/** Whether a translation exists (for server error codes). */
export function has(key: string): boolean {
  return i18next.exists(key, { lng: current });
}

/**
 * A failure in the reader's language. Every server `ErrorCode` has a translation (the type of
 * `en.errors` requires it); the client's own `http_{status}` and `aborted` fall back to the message.
 */
export function errorText(error: Failure): string {
  const key = `errors.${error.code}`;
  return has(key) ? i18next.t(key, { lng: current }) : error.message;
}

const dateFormats = new Map<string, Intl.DateTimeFormat>();

/** A time (ms since the epoch) as a date and time in the current language's format. */
export function formatDate(ms: number): string {
  const tag = LOCALE_TAGS[current];
  let format = dateFormats.get(tag);
  if (!format) {
    format = new Intl.DateTimeFormat(tag, { dateStyle: 'medium', timeStyle: 'short' });
    dateFormats.set(tag, format);
  }
  return format.format(new Date(ms));
}

const dayFormats = new Map<string, Intl.DateTimeFormat>();

/** A calendar day written `YYYY-MM-DD` (a session's date) in the current language's format. */
export function formatDay(day: string): string {
  const [year, month, date] = day.split('-').map(Number);
  if (!year || !month || !date) return day;
  const tag = LOCALE_TAGS[current];
  let format = dayFormats.get(tag);
  if (!format) {
    format = new Intl.DateTimeFormat(tag, { dateStyle: 'medium' });
    dayFormats.set(tag, format);
  }
  return format.format(new Date(year, month - 1, date));
}

/** Today in this browser's time zone, as `YYYY-MM-DD`. */
export function today(now: Date = new Date()): string {
  const pad = (value: number) => String(value).padStart(2, '0');
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

/** The machine-readable form of a time, for `<time datetime>`. */
export function isoDate(ms: number): string {
  return new Date(ms).toISOString();
}
