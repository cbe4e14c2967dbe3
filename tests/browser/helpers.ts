/**
 * Shared pieces of the browser tests: the server's address, HTTP API calls for setting data
 * up (only where the UI is not what a test is about), contexts that already hold a session,
 * and locators for columns and cards by their visible titles.
 */
import {
  devices,
  test as base,
  expect,
  type Browser,
  type BrowserContext,
  type BrowserContextOptions,
  type Locator,
  type Page,
} from '@playwright/test';
import { randomUUID } from 'node:crypto';

export { expect };

/** A 360×800 phone (a Pixel 5's browser), as most people at a camp hold. */
export const PHONE = {
  viewport: { width: 360, height: 800 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
  userAgent: devices['Pixel 5'].userAgent,
};

export type ContextOptions = BrowserContextOptions & { session?: Session; title?: string };

/**
 * The tests' `test`: `open(options)` makes a fresh browser context (a separate "browser" with
 * its own storage) on the server, closed after the test whatever its outcome.
 */
export const test = base.extend<{ open: (options?: ContextOptions) => Promise<BrowserContext> }>({
  open: async ({ browser }, use) => {
    const made: BrowserContext[] = [];
    await use(async (options) => {
      const context = await newContext(browser, options);
      made.push(context);
      return context;
    });
    for (const context of made) await context.close().catch(() => {});
  },
});

/** The server that global-setup.ts started. */
export function serverUrl(): string {
  const url = process.env.KIPINA_URL;
  if (!url) throw new Error('KIPINA_URL is not set: the tests run through playwright.config.ts, whose global setup starts kipina');
  return url;
}

// ---------------------------------------------------------------------------------------------
// The HTTP API (docs/protocol.md), for setting data up.

export type Template = 'empty' | 'leader_principles' | 'strengths_offer_wishes' | 'idea_funnel';

export interface Session {
  board: string;
  participant: string;
  role: 'facilitator' | 'participant' | 'observer';
  token: string;
}

export interface Links {
  facilitator: string;
  participant: string;
  observer: string;
  join_code: string;
}

export interface Created {
  session: Session;
  links: Links;
}

export interface ColumnView {
  id: string;
  title: string;
  archived: boolean;
  cards: string[];
}

export interface BoardView {
  id: string;
  seq: number;
  info: { title: string; settings: { vote_budget: number; votes_per_card: number } };
  columns: ColumnView[];
  cards: { id: string; title: string | null; column: string }[];
  participants: { id: string; display_name: string; role: string; removed: boolean }[];
}

async function call<T>(method: string, path: string, body?: unknown, token?: string): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token !== undefined) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(serverUrl() + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

export function createBoard(options: {
  title: string;
  name?: string;
  template?: Template;
  language?: 'fi' | 'sv' | 'en';
  description?: string;
}): Promise<Created> {
  return call('POST', '/api/boards', {
    title: options.title,
    description: options.description ?? '',
    language: options.language ?? 'fi',
    facilitator_name: options.name ?? 'Fasilitaattori',
    template: options.template ?? 'leader_principles',
  });
}

/** Joins with a link (whole URL or path) or a join code. */
export function joinBoard(invitation: string, name: string): Promise<Session> {
  const path = invitation.startsWith('http') ? new URL(invitation).pathname : invitation;
  return call('POST', '/api/join', { invitation: path, display_name: name });
}

export function boardView(session: Session): Promise<BoardView> {
  return call('GET', `/api/boards/${session.board}`, undefined, session.token);
}

export function boardLinks(session: Session): Promise<Links> {
  return call('GET', `/api/boards/${session.board}/links`, undefined, session.token);
}

/** Sends one command over HTTP; throws when the server refuses it. */
export function command(session: Session, body: Record<string, unknown>): Promise<{ command_id: string; outcome: unknown }> {
  return call('POST', `/api/boards/${session.board}/commands`, { command_id: randomUUID(), command: body }, session.token);
}

/** Adds a card over HTTP and returns its id. */
export async function addCard(session: Session, column: string, title: string, body = ''): Promise<string> {
  const card = randomUUID();
  await command(session, { type: 'add_card', card, column, title, body });
  return card;
}

export async function addComment(session: Session, card: string, body: string): Promise<string> {
  const comment = randomUUID();
  await command(session, { type: 'add_comment', comment, card, reply_to: null, body });
  return comment;
}

/** Runs `tasks` with at most `limit` of them at once. */
export async function inParallel<T>(limit: number, tasks: (() => Promise<T>)[]): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  async function worker(): Promise<void> {
    while (next < tasks.length) {
      const index = next++;
      results[index] = await tasks[index]!();
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}

// ---------------------------------------------------------------------------------------------
// Browser contexts.

/**
 * A fresh context (own storage: a different "browser") on the server. With `session`, it
 * already holds that session in localStorage, as the client keeps it after joining.
 */
export async function newContext(browser: Browser, options: ContextOptions = {}): Promise<BrowserContext> {
  const { session, title, ...rest } = options;
  const origin = serverUrl();
  return browser.newContext({
    baseURL: origin,
    locale: 'fi-FI',
    timezoneId: 'Europe/Helsinki',
    ...rest,
    ...(session
      ? {
          storageState: {
            cookies: [],
            origins: [
              {
                origin,
                localStorage: [
                  { name: `kipina.session.${session.board}`, value: JSON.stringify({ ...session, ...(title ? { title } : {}) }) },
                ],
              },
            ],
          },
        }
      : {}),
  });
}

/** Opens a board in `page` and waits until it is connected and shows its columns. */
export async function openBoard(page: Page, board: string): Promise<void> {
  await page.goto(`/b/${board}`);
  await expectConnected(page);
  await expect(page.getByTestId('column').first()).toBeVisible();
}

export async function expectConnected(page: Page, timeout = 15_000): Promise<void> {
  await expect(page.getByTestId('connection')).toHaveAttribute('data-state', 'connected', { timeout });
}

// ---------------------------------------------------------------------------------------------
// Locators and readings of the board.

/** A column by its exact title. */
export function column(page: Page, title: string): Locator {
  return page.getByTestId('column').filter({ has: page.getByRole('heading', { name: title, exact: true }) });
}

/** A (server-confirmed) card by its exact title. */
export function card(scope: Page | Locator, title: string): Locator {
  // `has` is matched inside each card, so it is built from the page, not from `scope`.
  const page = 'mainFrame' in scope ? scope : scope.page();
  return scope.getByTestId('card').filter({ has: page.getByRole('button', { name: title, exact: true }) });
}

/** The card titles a page shows, sorted (per-viewer text such as "your dots" left out). */
export async function cardTitles(page: Page): Promise<string[]> {
  const titles = await page.getByTestId('card').locator('.card-title').allInnerTexts();
  return titles.map((title) => title.trim()).sort();
}

/** Each column's title and its cards' titles in order, with each card's comment count. */
export async function boardShape(page: Page): Promise<{ column: string; cards: string[] }[]> {
  return page.getByTestId('column').evaluateAll((columns) =>
    columns.map((element) => ({
      column: element.querySelector('.column-title')?.textContent?.trim() ?? '',
      cards: [...element.querySelectorAll('[data-testid="card"]')].map((found) => {
        const title = found.querySelector('.card-title')?.textContent?.trim() ?? '';
        const comments = found.querySelector('.card-actions > button.chip-button:not(.like-button) .count')?.textContent?.trim();
        return `${title} [${comments ?? '?'}]`;
      }),
    })),
  );
}

/** Adds a card through the UI: "Lisää kortti" in the column, title (and description), save, close. */
export async function addCardUI(page: Page, columnTitle: string, title: string, body = ''): Promise<void> {
  const target = column(page, columnTitle);
  await target.getByRole('button', { name: `Lisää kortti sarakkeeseen ${columnTitle}` }).click();
  await target.getByLabel('Otsikko').fill(title);
  if (body) await target.getByLabel('Kuvaus').fill(body);
  await target.getByRole('button', { name: 'Tallenna' }).click();
  // The form stays open for the next card, emptied; it is closed here.
  await expect(target.getByLabel('Otsikko')).toHaveValue('');
  await target.getByRole('button', { name: 'Peruuta' }).click();
}

/** The dots shown on a card, as the screen-reader text says them (e.g. "1 ääni"). */
export function dots(cardLocator: Locator): Locator {
  return cardLocator.locator('.dots .visually-hidden');
}

/** The number on a card's "Kommentit" button. */
export function commentCount(cardLocator: Locator): Locator {
  return cardLocator.locator('.card-actions > button.chip-button:not(.like-button) .count');
}

export const LEADER_COLUMNS = [
  'Alhaalta ylöspäin',
  'Paikallinen kumppanuus',
  'Monialaisuus',
  'Verkostoituminen',
  'Alueperusteisuus',
  'Alueiden välinen ja kansainvälinen yhteistyö',
  'Innovatiivisuus',
];
