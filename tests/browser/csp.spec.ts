/**
 * The Content-Security-Policy holds for the whole client: going through the home page, the join
 * page and the board (card dialog, move dialog, share dialog with its QR code, presence list,
 * language switch; the facilitator's controls, the results and the presentation view with the
 * server's QR code; statements: adding one, a proposal, an adopted version's highlighted
 * difference, the history, a statement on the projector; exports downloaded from the
 * facilitator's controls, a Trello import from the home page with its report on the new board,
 * a backup restored onto another server) raises no `securitypolicyviolation` event and logs no
 * console error.
 */
import type { ConsoleMessage, Page } from '@playwright/test';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { addCard, boardView, command, createBoard, expect, expectConnected, joinBoard, test } from './helpers';
import { removeKipina, startKipina } from './server';

const TRELLO_FIXTURE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'server', 'tests', 'fixtures', 'trello-kylatoimikunta.json');

interface Problems {
  violations: string[];
  console: string[];
  pageErrors: string[];
  failedResponses: string[];
}

/** Starts listening on a page before anything loads in it. */
async function watch(page: Page): Promise<Problems> {
  const problems: Problems = { violations: [], console: [], pageErrors: [], failedResponses: [] };
  await page.exposeFunction('__kipinaCspViolation', (text: string) => problems.violations.push(text));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      const report = (window as unknown as { __kipinaCspViolation: (text: string) => void }).__kipinaCspViolation;
      report(`${event.violatedDirective} blocked ${event.blockedURI || '(inline)'} at ${event.sourceFile}:${event.lineNumber}`);
    });
  });
  page.on('console', (message: ConsoleMessage) => {
    if (message.type() === 'error') problems.console.push(`${message.text()} (${message.location().url})`);
  });
  page.on('pageerror', (error) => problems.pageErrors.push(String(error)));
  page.on('response', (response) => {
    if (response.status() >= 400) problems.failedResponses.push(`${response.status()} ${response.url()}`);
  });
  return problems;
}

/** Fails the test with everything found, per person. */
function expectClean(found: [string, Problems][]): void {
  for (const [who, problems] of found) {
    for (const [kind, list] of Object.entries(problems)) if (list.length > 0) console.log(`${who} ${kind}:\n  ${list.join('\n  ')}`);
    expect(problems.violations, `CSP violations (${who})`).toEqual([]);
    expect(problems.pageErrors, `uncaught errors (${who})`).toEqual([]);
    expect(problems.console, `console errors (${who})`).toEqual([]);
    expect(problems.failedResponses, `failed requests (${who})`).toEqual([]);
  }
}

test('no CSP violations and no console errors across the client', async ({ open }) => {
  const created = await createBoard({ title: 'CSP-testi', name: 'Fanni' });
  const view = await boardView(created.session);
  await addCard(created.session, view.columns[0]!.id, 'Kortti ennestään', 'Kuvaus');

  const context = await open();
  const page = await context.newPage();
  const problems = await watch(page);

  // Home: the policy is sent with the page.
  const home = await page.goto('/');
  const policy = home?.headers()['content-security-policy'] ?? '';
  expect(policy).toContain("script-src 'self'");
  expect(policy).toContain("style-src 'self'");
  expect(policy).not.toContain('unsafe-inline');
  await expect(page.getByTestId('create-board-form')).toBeVisible();

  // The join page, then the board.
  await page.goto(created.links.participant);
  await page.getByTestId('join-form').getByLabel('Nimesi').fill('Pertti');
  await page.getByTestId('join-form').getByRole('button', { name: 'Liity' }).click();
  await expectConnected(page);
  await expect(page.getByTestId('card')).toHaveCount(1);

  // Add a card, open it, comment, vote; the move dialog; the presence list; another language.
  const first = page.getByTestId('column').first();
  await first.getByRole('button', { name: /^Lisää kortti sarakkeeseen/ }).click();
  await first.getByLabel('Otsikko').fill('Oma kortti');
  await first.getByRole('button', { name: 'Tallenna' }).click();
  await expect(page.getByTestId('card')).toHaveCount(2);
  await first.getByRole('button', { name: 'Peruuta' }).click();
  await page.getByRole('button', { name: 'Oma kortti', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Oma kortti' });
  await dialog.getByLabel('Kommentti').fill('Kommentti CSP-testistä');
  await dialog.getByRole('button', { name: 'Lähetä kommentti' }).click();
  await expect(dialog.getByTestId('comment')).toHaveCount(1);
  await dialog.getByRole('button', { name: 'Anna ääni' }).click();
  await expect(page.getByTestId('votes-left')).toContainText('4/5');
  await dialog.getByRole('button', { name: 'Siirrä…' }).click();
  const move = page.getByRole('dialog', { name: 'Siirrä kortti' });
  await expect(move).toBeVisible();
  await move.getByRole('button', { name: 'Peruuta' }).click();
  await expect(move).toBeHidden();
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  await page.locator('.presence summary').click();
  await expect(page.locator('.presence-panel')).toBeVisible();
  await page.getByLabel('Kieli', { exact: true }).selectOption('en');
  await expect(page.getByTestId('connection')).toHaveText('Connected');
  await page.getByLabel('Language', { exact: true }).selectOption('fi');

  // The facilitator's share dialog shows the server's QR code as a data: image.
  const facilitator = await open({ session: created.session });
  const facilitatorPage = await facilitator.newPage();
  const facilitatorProblems = await watch(facilitatorPage);
  await facilitatorPage.goto(`/b/${created.session.board}`);
  await expectConnected(facilitatorPage);
  await facilitatorPage.getByRole('button', { name: 'Jaa linkit' }).click();
  await expect(facilitatorPage.getByRole('img', { name: 'Osallistujalinkin QR-koodi' })).toBeVisible();
  await expect(facilitatorPage.getByTestId('join-code')).toHaveText(/^[A-Z0-9]{6}$/);
  const menu = facilitatorPage.getByRole('button', { name: /^Sarakkeen toiminnot/ }).first();
  await facilitatorPage.keyboard.press('Escape');
  await menu.click();
  await expect(facilitatorPage.getByRole('dialog', { name: /^Sarake: / })).toBeVisible();
  await facilitatorPage.keyboard.press('Escape');

  // The facilitator's controls (loaded on demand), a session in its results phase with bars
  // sized through the CSSOM, then the projector with the server's QR code as a data: image.
  await facilitatorPage.getByRole('button', { name: 'Ohjaus' }).click();
  await expect(facilitatorPage.getByTestId('facilitation')).toBeVisible();
  const session = crypto.randomUUID();
  await command(created.session, { type: 'create_session', session, name: 'CSP-työpaja', date: '2026-06-01', anonymous: false });
  await command(created.session, { type: 'start_session', session });
  await command(created.session, { type: 'set_phase', session, phase: 'results' });
  // A new phase starts without a countdown: the timer goes after it.
  await command(created.session, { type: 'start_timer', seconds: 120 });
  await expect(facilitatorPage.getByTestId('ranking-overall').getByTestId('ranked-card')).toHaveCount(1);
  const bar = facilitatorPage.getByTestId('ranking-overall').locator('.ranking-fill').first();
  expect(await bar.evaluate((element) => element.getBoundingClientRect().width)).toBeGreaterThan(0);
  // Exports: fetched with the token, saved through an object URL and an <a download>.
  for (const name of ['Yhteenveto (Markdown)', 'Työkirja (Excel)']) {
    const [saved] = await Promise.all([
      facilitatorPage.waitForEvent('download'),
      facilitatorPage.getByTestId('export').getByRole('button', { name }).click(),
    ]);
    expect(await saved.failure()).toBeNull();
  }
  await facilitatorPage.getByRole('link', { name: 'Esitysnäkymä' }).first().click();
  await expect(facilitatorPage.getByTestId('join-qr')).toBeVisible();
  await expect(facilitatorPage.getByTestId('present-ranking')).toBeVisible();
  await expect(facilitatorPage.getByTestId('countdown')).toBeVisible();

  expectClean([
    ['participant', problems],
    ['facilitator', facilitatorProblems],
  ]);
});

test('statements: no CSP violations or console errors, from adding one to a new version on the projector', async ({ open }) => {
  const created = await createBoard({ title: 'CSP-linjaukset', name: 'Fanni', template: 'empty' });
  const participant = await joinBoard(created.links.participant, 'Pertti');

  // The facilitator adds a statement in the UI (the statement's components load on demand).
  const facilitatorPage = await (await open({ session: created.session })).newPage();
  const facilitatorProblems = await watch(facilitatorPage);
  await facilitatorPage.goto(`/b/${created.session.board}`);
  await expectConnected(facilitatorPage);
  await facilitatorPage.getByRole('button', { name: 'Lisää julkilausuma' }).click();
  await facilitatorPage.getByLabel('Julkilausuman nimi').fill('Palvelulupaus');
  await facilitatorPage.getByLabel('Ensimmäinen muotoilu (voi olla tyhjä)').fill('Autamme kyliä.');
  await facilitatorPage.getByTestId('add-statement').getByRole('button', { name: 'Lisää julkilausuma' }).click();
  await expect(facilitatorPage.getByTestId('statement-text')).toHaveText('Autamme kyliä.');

  // A participant proposes a wording, opens the history and the proposal.
  const page = await (await open({ session: participant })).newPage();
  const problems = await watch(page);
  await page.goto(`/b/${participant.board}`);
  await expectConnected(page);
  await page.getByRole('button', { name: 'Ehdota uutta muotoilua: Palvelulupaus' }).click();
  await page.getByLabel('Uusi muotoilu').fill('Autamme kyliä ja yrittäjiä.');
  await page.getByLabel('Perustelu (lyhyesti)').fill('Yrittäjät mukaan');
  await page.getByRole('button', { name: 'Lähetä ehdotus' }).click();
  await expect(page.locator('[data-proposal="true"]')).toHaveCount(1);
  await page.getByRole('button', { name: 'Autamme kyliä ja yrittäjiä.', exact: true }).click();
  await expect(page.getByRole('dialog', { name: 'Ehdotus: Palvelulupaus' })).toBeVisible();
  await page.keyboard.press('Escape');

  // Adopted: the new version's difference (and its highlight's animation) on both screens.
  await facilitatorPage.getByRole('button', { name: 'Hyväksy tämä muotoilu' }).click();
  await facilitatorPage.getByRole('button', { name: 'Hyväksy', exact: true }).click();
  await expect(page.getByTestId('statement-text').locator('ins')).toHaveText(['kyliä ja yrittäjiä.']);
  await page.getByText('Historia (2 versiota)').click();
  await expect(page.getByTestId('statement-version')).toHaveCount(2);

  // The projector.
  await facilitatorPage.goto(`/b/${created.session.board}/present`);
  await expect(facilitatorPage.getByTestId('present-statement')).toContainText('Autamme kyliä ja yrittäjiä.');
  await expect(facilitatorPage.getByTestId('join-qr')).toBeVisible();

  expectClean([
    ['participant', problems],
    ['facilitator', facilitatorProblems],
  ]);
});

test('exports and imports: no CSP violations or console errors, from a Trello upload to a restored backup', async ({ open }) => {
  // A Trello export uploaded on the home page; the new board with the report.
  const page = await (await open()).newPage();
  const problems = await watch(page);
  await page.goto('/');
  const trello = page.getByTestId('trello-import-form');
  await trello.getByLabel('Trellon JSON-tiedosto').setInputFiles(TRELLO_FIXTURE);
  await trello.getByLabel('Nimesi').fill('Fanni');
  await trello.getByRole('button', { name: 'Tuo taulu' }).click();
  await expectConnected(page);
  await expect(page.getByTestId('import-report')).toBeVisible();
  await page.getByRole('button', { name: 'Ohjaus' }).click();
  const [saved] = await Promise.all([
    page.waitForEvent('download'),
    page.getByTestId('export').getByRole('button', { name: 'Varmuuskopio (JSON)' }).click(),
  ]);
  const backup = await saved.path();
  await page.getByTestId('import-report').getByRole('button', { name: 'Selvä, piilota raportti' }).click();
  await expect(page.getByTestId('import-report')).toHaveCount(0);

  // The backup restored onto another server, and the restored board opened.
  const server = await startKipina('kipina-csp-restore-');
  try {
    const restorePage = await (await open({ baseURL: server.url })).newPage();
    const restoreProblems = await watch(restorePage);
    await restorePage.goto('/');
    const form = restorePage.getByTestId('restore-form');
    await form.getByLabel('Varmuuskopiotiedosto (JSON)').setInputFiles(backup);
    await form.getByRole('button', { name: 'Palauta' }).click();
    await form.getByRole('link', { name: 'Avaa palautettu taulu fasilitaattorina' }).click();
    await restorePage.getByTestId('join-form').getByLabel('Nimesi').fill('Fanni');
    await restorePage.getByTestId('join-form').getByRole('button', { name: 'Liity' }).click();
    await expectConnected(restorePage);
    await expect(restorePage.getByTestId('column')).toHaveCount(3);
    await restorePage.close();
    expectClean([
      ['importer', problems],
      ['restorer', restoreProblems],
    ]);
  } finally {
    await removeKipina(server);
  }
});

test('the CSP listener itself works: an inline style is reported', async ({ open }) => {
  // Guards the test above against a listener that never fires.
  const context = await open();
  const page = await context.newPage();
  const problems = await watch(page);
  await page.goto('/');
  await expect(page.getByTestId('create-board-form')).toBeVisible();
  await page.evaluate(() => {
    const style = document.createElement('style');
    style.textContent = 'body { outline: 1px solid red; }';
    document.head.append(style);
  });
  await expect.poll(() => problems.violations.length).toBeGreaterThan(0);
  expect(problems.violations[0]).toContain('style-src');
});
