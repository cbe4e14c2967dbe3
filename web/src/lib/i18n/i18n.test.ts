import { describe, expect, it } from 'vitest';
import { en } from './en';
import { fi } from './fi';
import { sv } from './sv';
import type { ErrorCode } from '../proto/ErrorCode';
import { errorText, formatDate, locale, t } from './index.svelte';

type Tree = { [key: string]: string | Tree };

function flatten(tree: Tree, prefix = ''): Map<string, string> {
  const found = new Map<string, string>();
  for (const [key, value] of Object.entries(tree)) {
    if (typeof value === 'string') found.set(prefix + key, value);
    else for (const [inner, text] of flatten(value, `${prefix}${key}.`)) found.set(inner, text);
  }
  return found;
}

const languages = { fi: flatten(fi), sv: flatten(sv), en: flatten(en) };
const variables = (text: string) => [...text.matchAll(/\{\{(\w+)\}\}/g)].map((match) => match[1]).sort();

describe('translations', () => {
  it('has every key in Finnish, Swedish and English', () => {
    const all = new Set([...languages.fi.keys(), ...languages.sv.keys(), ...languages.en.keys()]);
    for (const [name, strings] of Object.entries(languages)) {
      const missing = [...all].filter((key) => !strings.has(key));
      expect(missing, `missing in ${name}`).toEqual([]);
    }
  });

  it('has no empty strings', () => {
    for (const [name, strings] of Object.entries(languages)) {
      const empty = [...strings].filter(([, text]) => text.trim() === '').map(([key]) => key);
      expect(empty, `empty in ${name}`).toEqual([]);
    }
  });

  it('uses the same placeholders in every language', () => {
    for (const [key, text] of languages.en) {
      expect(variables(languages.fi.get(key) ?? ''), `fi ${key}`).toEqual(variables(text));
      expect(variables(languages.sv.get(key) ?? ''), `sv ${key}`).toEqual(variables(text));
    }
  });

  it('switches language, with plurals and placeholders', () => {
    locale.set('fi');
    expect(t('column.addCard')).toBe('Lisää kortti');
    expect(t('column.cards', { count: 1 })).toBe('1 kortti');
    expect(t('column.cards', { count: 3 })).toBe('3 korttia');
    locale.set('sv');
    expect(t('column.addCard')).toBe('Lägg till kort');
    locale.set('en');
    expect(t('column.cards', { count: 3 })).toBe('3 cards');
    locale.set('fi');
  });

  it('translates server errors by code, and shows the message for a code without a translation', () => {
    locale.set('fi');
    expect(errorText({ code: 'vote_budget_exhausted', message: 'all 5 of your dots are used' })).toBe(
      'Olet käyttänyt kaikki äänesi.',
    );
    expect(errorText({ code: 'http_502', message: 'Bad Gateway' })).toBe('Bad Gateway');
  });

  it('translates the statements’ refusals in every language', () => {
    const codes: ErrorCode[] = ['statement_column', 'not_a_statement', 'not_a_proposal', 'proposal_adopted', 'proposal_outdated', 'same_wording'];
    for (const language of ['fi', 'sv', 'en'] as const) {
      locale.set(language);
      for (const code of codes) expect(errorText({ code, message: 'untranslated' }), `${language} ${code}`).not.toBe('untranslated');
    }
    locale.set('fi');
    expect(errorText({ code: 'proposal_outdated', message: '' })).toBe('Ehdotus perustuu vanhempaan versioon: päivitä se ensin.');
  });

  it('formats dates in the chosen language', () => {
    const moment = Date.UTC(2016, 10, 24, 12, 0);
    locale.set('fi');
    const finnish = formatDate(moment);
    locale.set('en');
    const english = formatDate(moment);
    locale.set('fi');
    expect(finnish).toContain('2016');
    expect(finnish).not.toEqual(english);
  });
});
