/**
 * Switching the language: Suomi (the default) → Svenska → English → Suomi, on the board page
 * and on the home page. Visible strings follow; the board's own content (column titles) does not.
 */
import type { Page } from '@playwright/test';
import { en } from '../../web/src/lib/i18n/en';
import { fi } from '../../web/src/lib/i18n/fi';
import { sv } from '../../web/src/lib/i18n/sv';
import { addCard, addComment, boardView, column, command, createBoard, expect, openBoard, test } from './helpers';

interface Expected {
  value: 'fi' | 'sv' | 'en';
  name: string;
  languageLabel: string;
  connected: string;
  addCard: string;
  addCardTo: string;
  share: string;
  votesLeft: string;
  comments: string;
  move: string;
}

const LANGUAGES: Expected[] = [
  {
    value: 'fi',
    name: 'Suomi',
    languageLabel: 'Kieli',
    connected: 'Yhteys kunnossa',
    addCard: 'Lisää kortti',
    addCardTo: 'Lisää kortti sarakkeeseen Alhaalta ylöspäin',
    share: 'Jaa linkit',
    votesLeft: 'Ääniä jäljellä: 5/5',
    comments: 'Kommentit',
    move: 'Siirrä…',
  },
  {
    value: 'sv',
    name: 'Svenska',
    languageLabel: 'Språk',
    connected: 'Ansluten',
    addCard: 'Lägg till kort',
    addCardTo: 'Lägg till kort i Alhaalta ylöspäin',
    share: 'Dela länkar',
    votesLeft: 'Prickar kvar: 5/5',
    comments: 'Kommentarer',
    move: 'Flytta…',
  },
  {
    value: 'en',
    name: 'English',
    languageLabel: 'Language',
    connected: 'Connected',
    addCard: 'Add card',
    addCardTo: 'Add card to Alhaalta ylöspäin',
    share: 'Share links',
    votesLeft: 'Dots left: 5 of 5',
    comments: 'Comments',
    move: 'Move…',
  },
];

async function expectLanguage(page: Page, expected: Expected): Promise<void> {
  await expect(page.locator('html')).toHaveAttribute('lang', expected.value);
  const select = page.getByLabel(expected.languageLabel, { exact: true });
  await expect(select).toHaveValue(expected.value);
  await expect(page.getByTestId('connection')).toHaveText(expected.connected);
  await expect(page.getByRole('button', { name: expected.share })).toBeVisible();
  await expect(page.getByTestId('votes-left')).toHaveText(`● ${expected.votesLeft}`);
  const first = column(page, 'Alhaalta ylöspäin');
  const add = first.getByRole('button', { name: expected.addCardTo, exact: true });
  await expect(add).toBeVisible();
  await expect(add).toHaveText(`+ ${expected.addCard}`);
  await expect(first.getByTestId('card').getByRole('button', { name: new RegExp(`^${expected.comments}`) })).toBeVisible();
  await expect(first.getByTestId('card').getByRole('button', { name: expected.move })).toBeVisible();
}

test('the UI switches between Suomi, Svenska and English, and back', async ({ open }) => {
  const created = await createBoard({ title: 'Kielitesti', name: 'Fanni' });
  const view = await boardView(created.session);
  await addCard(created.session, view.columns[0]!.id, 'Kortti kielitestiin');
  const context = await open({ session: created.session });
  const page = await context.newPage();
  await openBoard(page, created.session.board);

  const [fi, sv, en] = LANGUAGES as [Expected, Expected, Expected];
  await expectLanguage(page, fi);

  for (const [from, to] of [
    [fi, sv],
    [sv, en],
  ] as const) {
    await page.getByLabel(from.languageLabel, { exact: true }).selectOption({ label: to.name });
    await expectLanguage(page, to);
    // The board's content is the board's: its column titles stay as written.
    await expect(page.getByTestId('column').first().locator('.column-title')).toHaveText('Alhaalta ylöspäin');
  }

  // Dates follow the language too (the card's creation time in its dialog).
  await page.getByRole('button', { name: 'Kortti kielitestiin', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Kortti kielitestiin' });
  const englishDate = await dialog.locator('time').first().innerText();
  await expect(dialog.getByRole('heading', { name: /^Comments/ })).toBeVisible();
  await dialog.getByRole('button', { name: 'Close' }).click();

  // The choice is remembered in this browser.
  await page.reload();
  await expectLanguage(page, en);

  await page.getByLabel(en.languageLabel, { exact: true }).selectOption({ label: fi.name });
  await expectLanguage(page, fi);
  await page.getByRole('button', { name: 'Kortti kielitestiin', exact: true }).click();
  const finnishDate = await page.getByRole('dialog', { name: 'Kortti kielitestiin' }).locator('time').first().innerText();
  expect(finnishDate).not.toBe(englishDate);
  await page.keyboard.press('Escape');

  // The home page follows the same choice.
  await page.goto('/');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Kipinä – työpajan taulu');
  await page.getByLabel('Kieli', { exact: true }).selectOption({ label: 'Svenska' });
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Kipinä – workshopens tavla');
  await expect(page.getByTestId('create-board-form').getByRole('button', { name: 'Skapa tavla' })).toBeVisible();
  await expect(page.getByTestId('join-code-form').getByRole('button', { name: 'Gå med' })).toBeVisible();
  await page.getByLabel('Språk', { exact: true }).selectOption({ label: 'English' });
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Kipinä – the workshop board');
  await expect(page.getByTestId('create-board-form').getByRole('button', { name: 'Create board' })).toBeVisible();
  await expect(page.getByTestId('join-code-form').getByRole('button', { name: 'Join' })).toBeVisible();
  await page.getByLabel('Language', { exact: true }).selectOption({ label: 'Suomi' });
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Kipinä – työpajan taulu');
  await expect(page.getByTestId('create-board-form').getByRole('button', { name: 'Luo taulu' })).toBeVisible();
  await expect(page.getByTestId('join-code-form').getByRole('button', { name: 'Liity' })).toBeVisible();
});

/** Every Finnish UI string (placeholders left out) that differs from its Swedish and English twins. */
function finnishOnlyStrings(): string[] {
  const found: string[] = [];
  function walk(fiNode: unknown, svNode: unknown, enNode: unknown): void {
    if (typeof fiNode === 'string') {
      if (fiNode.includes('{{') || fiNode.length < 4) return;
      if (fiNode === svNode || fiNode === enNode) return;
      found.push(fiNode);
      return;
    }
    if (typeof fiNode === 'object' && fiNode !== null) {
      for (const [key, value] of Object.entries(fiNode)) {
        walk(value, (svNode as Record<string, unknown> | undefined)?.[key], (enNode as Record<string, unknown> | undefined)?.[key]);
      }
    }
  }
  walk(fi, sv, en);
  return found;
}

test('no Finnish UI string is left on the page in Swedish or English', async ({ open }) => {
  const created = await createBoard({ title: 'Käännöstesti', name: 'Fanni' });
  const view = await boardView(created.session);
  const cardId = await addCard(created.session, view.columns[0]!.id, 'Kortti');
  await addComment(created.session, cardId, 'Kommentti');
  // A running session with a countdown and a hidden round, so the phase bar and its notices show.
  const session = crypto.randomUUID();
  await command(created.session, { type: 'create_session', session, name: 'Istunto', date: '2026-06-01', anonymous: false });
  await command(created.session, { type: 'start_session', session });
  await command(created.session, { type: 'start_timer', seconds: 300 });
  await command(created.session, { type: 'start_vote_round', settings: { vote_budget: 5, votes_per_card: 3 }, hidden: true });
  const context = await open({ session: created.session });
  const page = await context.newPage();
  const finnish = finnishOnlyStrings();
  expect(finnish.length).toBeGreaterThan(100);

  for (const language of ['Svenska', 'English']) {
    await page.goto('/');
    await page.locator('#language-switch').selectOption({ label: language });
    // Including the import and restore forms, loaded after the page.
    await expect(page.getByTestId('import-panel')).toBeVisible();
    const homeText = await page.locator('body').innerText();
    expect(finnish.filter((text) => homeText.includes(text)), `Finnish left on the home page in ${language}`).toEqual([]);

    await openBoard(page, created.session.board);
    await page.getByRole('button', { name: 'Kortti', exact: true }).click();
    await expect(page.getByTestId('card-dialog')).toBeVisible();
    await expect(page.getByTestId('comment')).toHaveCount(1);
    // The board's own content (its title, column titles, cards, names) is left out.
    const boardText = await page.locator('body').innerText();
    const content = new Set(['Käännöstesti', 'Kortti', 'Kommentti', 'Fanni', 'Istunto', ...view.columns.map((found) => found.title)]);
    const left = finnish.filter((text) => boardText.includes(text) && !content.has(text));
    expect(left, `Finnish left on the board page in ${language}`).toEqual([]);

    // The facilitator's controls, and the results view.
    await page.keyboard.press('Escape');
    await page.locator('[aria-controls="facilitation-panel"]').click();
    await expect(page.getByTestId('facilitation')).toBeVisible();
    await page.locator('.view-switch button').nth(1).click();
    await expect(page.getByTestId('results-hidden')).toBeVisible();
    const controlsText = await page.locator('body').innerText();
    const leftInControls = finnish.filter((text) => controlsText.includes(text) && !content.has(text));
    expect(leftInControls, `Finnish left in the controls and results in ${language}`).toEqual([]);
    await page.locator('[aria-controls="facilitation-panel"]').click();
    await expect(page.getByTestId('facilitation')).toHaveCount(0);
  }
});
