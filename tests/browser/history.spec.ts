/**
 * Between camps in the browser: the history view's timeline moved to the end of a session shows
 * the board without a card added later, and "back to now" shows it again; on a 360 px phone the
 * timeline fits. The activity panel lists, as a sentence, a card another participant added —
 * also one added while the panel is open — and narrows to a group; the share dialog's feed
 * address serves the same activity as Atom.
 */
import AxeBuilder from '@axe-core/playwright';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { devices, type Page } from '@playwright/test';
import { addCard, boardView, card, command, createBoard, expect, joinBoard, openBoard, test, type Session } from './helpers';

const SCREENSHOTS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'test-results', 'screenshots');

/** Collects Content-Security-Policy violations and uncaught errors on a page (see csp.spec.ts). */
async function watch(page: Page): Promise<string[]> {
  const problems: string[] = [];
  await page.exposeFunction('__kipinaHistoryViolation', (text: string) => problems.push(text));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      const report = (window as unknown as { __kipinaHistoryViolation: (text: string) => void }).__kipinaHistoryViolation;
      report(`${event.violatedDirective} blocked ${event.blockedURI || '(inline)'}`);
    });
  });
  page.on('pageerror', (error) => problems.push(String(error)));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });
  return problems;
}

/** No axe violation (WCAG 2.2 AA and best practice) in what `selector` holds. */
async function expectAccessible(page: Page, selector: string, what: string): Promise<void> {
  const results = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'])
    .include(selector)
    .analyze();
  const found = results.violations.map((violation) => `${violation.id}: ${violation.nodes.map((node) => node.target.join(' ')).join(', ')}`);
  expect(found, `axe violations in ${what}`).toEqual([]);
  expect(results.passes.length, `axe checked something in ${what}`).toBeGreaterThan(5);
}

/** A board whose summer camp ended after one card; another card came after the camp. */
async function campBoard(): Promise<{ facilitator: Session; aino: Session; column: string }> {
  const created = await createBoard({ title: 'Leirien välissä', name: 'Fanni', template: 'empty' });
  const facilitator = created.session;
  const column = randomUUID();
  await command(facilitator, { type: 'add_column', column, title: 'Ideat' });
  const aino = await joinBoard(created.links.participant, 'Aino');
  const session = randomUUID();
  await command(facilitator, { type: 'create_session', session, name: 'Kesäleiri', date: '2026-06-12', anonymous: false });
  await command(facilitator, { type: 'start_session', session });
  await addCard(aino, column, 'Leirillä kirjattu');
  await command(facilitator, { type: 'set_phase', session, phase: 'closed' });
  await addCard(aino, column, 'Leirin jälkeen');
  return { facilitator, aino, column };
}

test('the timeline at the end of a session lacks the later card; back to now shows it', async ({ open }) => {
  const { facilitator } = await campBoard();
  const view = await boardView(facilitator);
  const page = await (await open({ session: facilitator })).newPage();
  const problems = await watch(page);
  await openBoard(page, facilitator.board);
  await expect(card(page, 'Leirin jälkeen')).toBeVisible();
  // Opening the board for the first time records how far the facilitator has seen it: one
  // personal event more in the log (not a change to the board, not in the activity feed).
  const head = view.seq + 1;
  await expect.poll(async () => (await boardView(facilitator)).seq).toBe(head);

  await page.getByRole('button', { name: 'Historia' }).click();
  const history = page.getByTestId('history');
  await expect(history.getByRole('heading', { name: 'Taulu sellaisena kuin se oli' })).toBeVisible();
  const cards = history.getByTestId('history-card');
  // It opens at now: both cards.
  await expect(cards).toHaveCount(2);
  await expect(history.getByTestId('history-step')).toHaveText(`Tapahtuma ${head} / ${head}`);

  // To the end of the camp: the card written after it is not there.
  await history.getByRole('button', { name: 'Työpajan Kesäleiri loppu' }).click();
  await expect(cards).toHaveCount(1);
  await expect(cards.locator('.card-title')).toHaveText('Leirillä kirjattu');
  await expect(history.getByTestId('history-step')).toHaveText(`Tapahtuma ${view.seq - 1} / ${head}`);
  await expect(history.getByTestId('history-slider')).toHaveValue(String(view.seq - 1));
  await expect(history.getByTestId('history-date')).toContainText('Tilanne ');
  await expect(history.getByTestId('history-card').first()).toContainText('Aino');
  await expectAccessible(page, '[data-testid="history"]', 'the history view');

  // The slider by keyboard: one step on is now again.
  await history.getByTestId('history-slider').focus();
  await page.keyboard.press('ArrowRight');
  await expect(cards).toHaveCount(2);
  await page.keyboard.press('Home');
  await expect(cards).toHaveCount(0);
  await expect(history.getByTestId('history-step')).toHaveText(`Tapahtuma 1 / ${head}`);

  await history.getByRole('button', { name: 'Takaisin nykyhetkeen' }).click();
  await expect(history).toBeHidden();
  await expect(card(page, 'Leirin jälkeen')).toBeVisible();
  await expect(card(page, 'Leirillä kirjattu')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Historia' })).toBeFocused();
  expect(problems, 'no CSP violation (the session marks are placed through the CSSOM) and no error').toEqual([]);
});

test('on a 360 px phone the history fits and goes back to now', async ({ open }) => {
  const { aino } = await campBoard();
  const context = await open({
    session: aino,
    viewport: { width: 360, height: 800 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    userAgent: devices['Pixel 5'].userAgent,
  });
  const page = await context.newPage();
  await openBoard(page, aino.board);
  await page.getByRole('button', { name: 'Historia' }).tap();
  const history = page.getByTestId('history');
  await history.getByRole('button', { name: 'Työpajan Kesäleiri loppu' }).tap();
  await expect(history.getByTestId('history-card')).toHaveCount(1);
  for (const part of [history.getByTestId('history-slider'), history.getByRole('button', { name: 'Takaisin nykyhetkeen' })]) {
    const box = await part.boundingBox();
    expect(box, 'shown').not.toBeNull();
    expect(box!.x).toBeGreaterThanOrEqual(0);
    expect(box!.x + box!.width, 'within the phone').toBeLessThanOrEqual(360);
  }
  await page.screenshot({ path: path.join(SCREENSHOTS, 'history-phone-360x800.png') });
  await expectAccessible(page, '[data-testid="history"]', 'the history view on a phone');
  await history.getByRole('button', { name: 'Takaisin nykyhetkeen' }).tap();
  await expect(card(page, 'Leirin jälkeen')).toBeVisible();
});

test('the activity panel lists what another participant did, as a sentence, live', async ({ open }) => {
  const { facilitator, aino, column } = await campBoard();
  const page = await (await open({ session: facilitator })).newPage();
  await openBoard(page, facilitator.board);
  await page.getByRole('button', { name: 'Tapahtumat' }).click();
  const panel = page.getByTestId('activity');
  const items = panel.getByTestId('activity-item');
  await expect(items.first()).toContainText('Aino lisäsi kortin «Leirin jälkeen» sarakkeeseen «Ideat»');
  await expect(items.first().locator('time')).toHaveText(/juuri nyt|minuutti/);
  await expect(panel.getByText('Fanni päätti työpajan «Kesäleiri»')).toBeVisible();
  await expect(panel.getByText('Aino liittyi tauluun roolissa osallistuja')).toBeVisible();

  // Added while the panel is open: it comes on top.
  await addCard(aino, column, 'Kolmas idea');
  await expect(items.first()).toContainText('Aino lisäsi kortin «Kolmas idea» sarakkeeseen «Ideat»');

  // Only cards: three items, newest first.
  await panel.getByRole('button', { name: 'Kortit' }).click();
  await expect(panel.getByRole('button', { name: 'Kortit' })).toHaveAttribute('aria-pressed', 'true');
  await expect(items).toHaveCount(3);
  await expect(items.nth(2)).toContainText('«Leirillä kirjattu»');
  await page.screenshot({ path: path.join(SCREENSHOTS, 'activity-panel.png') });
  await expectAccessible(page, '.dialog', 'the activity panel');
  await page.keyboard.press('Escape');
  await expect(panel).toBeHidden();

  // The share dialog offers the Atom feed's address; a feed reader gets the same activity there.
  await page.getByRole('button', { name: 'Jaa linkit' }).click();
  const address = await page.getByLabel('Tapahtumasyöte (Atom) syötteenlukijoille').inputValue();
  const feed = await fetch(address);
  expect(feed.status).toBe(200);
  expect(feed.headers.get('content-type')).toBe('application/atom+xml; charset=utf-8');
  const xml = await feed.text();
  expect(xml).toContain('<title>Aino lisäsi kortin «Kolmas idea» sarakkeeseen «Ideat»</title>');
});
