/**
 * axe-core scans: the home page, the board page with cards and a comment, the open card dialog,
 * the share dialog, and a facilitated session (controls, countdown, hidden votes, anonymous
 * authors, a group, the lock, grouping, results, the presentation view), and statements (a new
 * version's difference, the history, proposals with one outdated, the proposal and new-statement
 * forms, rebasing, adopting, results with proposals, a statement on the projector), and exports
 * and imports (the export section after a download, the home page's import and restore forms
 * with their errors, a Trello import's report on the new board, a restored backup's result).
 * No violation of any severity; every violation found is printed.
 */
import AxeBuilder from '@axe-core/playwright';
import type { Page, TestInfo } from '@playwright/test';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { addCard, addComment, boardView, card, command, createBoard, expect, expectConnected, joinBoard, openBoard, serverUrl, test } from './helpers';
import { removeKipina, startKipina } from './server';

const TRELLO_FIXTURE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'server', 'tests', 'fixtures', 'trello-kylatoimikunta.json');

const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'];

async function scan(page: Page, testInfo: TestInfo, name: string, include?: string): Promise<void> {
  let builder = new AxeBuilder({ page }).withTags(TAGS);
  if (include) builder = builder.include(include);
  const results = await builder.analyze();
  await testInfo.attach(`axe-${name}.json`, { body: JSON.stringify(results.violations, null, 2), contentType: 'application/json' });
  for (const violation of results.violations) {
    console.log(`axe ${name}: [${violation.impact}] ${violation.id}: ${violation.help} (${violation.helpUrl})`);
    for (const node of violation.nodes.slice(0, 5)) console.log(`    ${node.target.join(' ')} — ${node.failureSummary?.split('\n').join(' ')}`);
  }
  expect(
    results.violations.map(
      (violation) => `${violation.impact} ${violation.id}: ${violation.nodes.map((node) => node.target.join(' ')).join(', ')}`,
    ),
    `axe violations on ${name}`,
  ).toEqual([]);
  expect(results.passes.length, `axe checked something on ${name}`).toBeGreaterThan(5);
}

test('home page: no axe violations', async ({ open }, testInfo) => {
  const context = await open();
  const page = await context.newPage();
  await page.goto('/');
  await expect(page.getByTestId('create-board-form')).toBeVisible();
  // The import and restore forms are loaded after the page.
  await expect(page.getByTestId('import-panel')).toBeVisible();
  await scan(page, testInfo, 'home');
});

test('board page with cards and a comment: no axe violations', async ({ open }, testInfo) => {
  const created = await createBoard({ title: 'Saavutettavuus', name: 'Fanni' });
  const other = await joinBoard(created.links.participant, 'Pertti');
  const view = await boardView(created.session);
  const [first, second] = view.columns;
  const cardId = await addCard(other, first!.id, 'Lähiruoka kouluihin', 'Paikalliset tuottajat mukaan');
  await addCard(created.session, first!.id, 'Kylätalon remontti');
  await addCard(other, second!.id, 'Nuorten oma tila');
  const commentId = await addComment(created.session, cardId, 'Hyvä ajatus!');
  await command(other, { type: 'add_comment', comment: crypto.randomUUID(), card: cardId, reply_to: commentId, body: 'Kiitos!' });
  await command(other, { type: 'cast_vote', card: cardId });
  await command(created.session, { type: 'set_card_status', card: cardId, status: 'selected' });

  // A participant's view (vote and like controls, "Siirrä…" on own cards).
  const context = await open({ session: other });
  const page = await context.newPage();
  await openBoard(page, other.board);
  await expect(page.getByTestId('card')).toHaveCount(3);
  await scan(page, testInfo, 'board (participant)');

  await page.getByRole('button', { name: 'Lähiruoka kouluihin', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Lähiruoka kouluihin' });
  await expect(dialog.getByTestId('comment')).toHaveCount(2);
  await scan(page, testInfo, 'card dialog', 'dialog[open]');
  await dialog.getByRole('button', { name: 'Sulje' }).click();
  await expect(dialog).toBeHidden();

  // The same board on a phone-wide window.
  await page.setViewportSize({ width: 360, height: 800 });
  await expect(page.getByTestId('votes-left')).toBeVisible();
  await scan(page, testInfo, 'board (360 px)');

  // The facilitator's view (share button, column menus, the new-column form, the share dialog).
  const facilitator = await open({ session: created.session });
  const facilitatorPage = await facilitator.newPage();
  await openBoard(facilitatorPage, created.session.board);
  await expect(facilitatorPage.getByTestId('card')).toHaveCount(3);
  await scan(facilitatorPage, testInfo, 'board (facilitator)');
  await facilitatorPage.getByRole('button', { name: 'Jaa linkit' }).click();
  await expect(facilitatorPage.getByTestId('join-code')).toBeVisible();
  await expect(facilitatorPage.getByRole('img', { name: 'Osallistujalinkin QR-koodi' })).toBeVisible();
  await scan(facilitatorPage, testInfo, 'share dialog', 'dialog[open]');
});

test('a facilitated session: controls, hidden votes, anonymity, a group, the lock, results, projector: no axe violations', async ({
  open,
}, testInfo) => {
  test.setTimeout(90_000);
  const created = await createBoard({ title: 'Saavutettava työpaja', name: 'Fanni', template: 'strengths_offer_wishes' });
  const facilitator = created.session;
  const other = await joinBoard(created.links.participant, 'Pertti');
  const view = await boardView(facilitator);
  const [first, second] = view.columns;
  const school = await addCard(other, first!.id, 'Kyläkoulu etäpisteeksi', 'Valokuitu on valmiina');
  const hall = await addCard(facilitator, first!.id, 'Kylätalon kahvila');
  await addCard(other, second!.id, 'Yhteinen tapahtumakalenteri');
  const group = crypto.randomUUID();
  await command(facilitator, { type: 'group_cards', group, heading: 'Kylän tilat', cards: [school, hall] });
  await command(facilitator, { type: 'edit_card', card: school, title: 'Kyläkoulu etätyöpisteeksi', body: 'Valokuitu on valmiina', base_version: 1 });
  await command(facilitator, { type: 'set_board_options', options: { anonymous: true, participants_may_group: false } });
  const session = crypto.randomUUID();
  await command(facilitator, { type: 'create_session', session, name: 'Kevään työpaja', date: '2026-05-12', anonymous: false });
  await command(facilitator, { type: 'start_session', session });
  await command(facilitator, { type: 'set_phase', session, phase: 'vote' });
  await command(facilitator, { type: 'start_timer', seconds: 600 });
  await command(facilitator, { type: 'start_vote_round', settings: { vote_budget: 3, votes_per_card: 2 }, hidden: true });
  await command(other, { type: 'cast_vote', card: group });

  // A participant while the votes are hidden: the phase and countdown, notices, anonymous authors, a group.
  const context = await open({ session: other });
  const page = await context.newPage();
  await openBoard(page, other.board);
  await expect(page.getByTestId('countdown')).toBeVisible();
  await expect(page.getByTestId('votes-hidden-notice')).toBeVisible();
  await expect(page.getByTestId('group-member')).toHaveCount(2);
  await expect(page.getByText('Nimetön', { exact: true }).first()).toBeVisible();
  await scan(page, testInfo, 'board (participant, hidden vote)');
  await page.getByRole('button', { name: 'Kyläkoulu etätyöpisteeksi', exact: true }).click();
  await expect(page.getByRole('dialog')).toContainText('muokattu fasilitaattorin toimesta');
  await scan(page, testInfo, 'card dialog (grouped, moderated)', 'dialog[open]');
  await page.keyboard.press('Escape');
  await page.setViewportSize({ width: 360, height: 800 });
  expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
  await scan(page, testInfo, 'board (participant, hidden vote, 360 px)');

  // The facilitator's controls, with the forms open, and cards being picked for a group.
  const facilitatorContext = await open({ session: facilitator });
  const facilitatorPage = await facilitatorContext.newPage();
  await openBoard(facilitatorPage, facilitator.board);
  await facilitatorPage.getByRole('button', { name: 'Ohjaus' }).click();
  const panel = facilitatorPage.getByTestId('facilitation');
  await panel.getByRole('button', { name: 'Suunnittele työpaja' }).click();
  await panel.getByRole('button', { name: 'Uusi äänestyskierros' }).click();
  await expect(panel.getByTestId('new-round')).toBeVisible();
  // The export section, with a session to limit it to.
  await expect(panel.getByTestId('export').getByLabel('Mitä viedään')).toBeVisible();
  await scan(facilitatorPage, testInfo, 'board (facilitator, controls open)');
  await facilitatorPage.getByRole('button', { name: 'Ryhmittele kortteja' }).click();
  await card(facilitatorPage, 'Yhteinen tapahtumakalenteri').getByRole('checkbox').check();
  await expect(facilitatorPage.getByTestId('grouping-bar')).toContainText('1 kortti valittu');
  await scan(facilitatorPage, testInfo, 'board (facilitator, grouping)');
  await facilitatorPage.getByRole('button', { name: 'Valmis' }).click();

  // Locked, in the discussion phase: the participant's controls are disabled with the reasons.
  await command(facilitator, { type: 'set_phase', session, phase: 'discuss' });
  await command(facilitator, { type: 'set_locked', locked: true });
  await expect(page.getByTestId('locked-notice')).toBeVisible();
  await scan(page, testInfo, 'board (participant, locked)');
  await command(facilitator, { type: 'set_locked', locked: false });

  // The results, revealed.
  await command(facilitator, { type: 'reveal_votes' });
  await command(facilitator, { type: 'set_phase', session, phase: 'results' });
  await expect(page.getByTestId('ranking-overall')).toBeVisible();
  await page.setViewportSize({ width: 1280, height: 800 });
  await scan(page, testInfo, 'results (participant)');

  // The projector.
  await facilitatorPage.setViewportSize({ width: 1920, height: 1080 });
  await facilitatorPage.goto(`/b/${facilitator.board}/present`);
  await expect(facilitatorPage.getByTestId('present-ranking')).toBeVisible();
  await expect(facilitatorPage.getByTestId('join-qr')).toBeVisible();
  await scan(facilitatorPage, testInfo, 'presentation (results)');
  await command(facilitator, { type: 'set_phase', session, phase: 'discuss' });
  await expect(facilitatorPage.getByTestId('present-card')).toHaveCount(1);
  await scan(facilitatorPage, testInfo, 'presentation (a column)');
});

test('statements: the current wording, a new version’s difference, history, proposals (one outdated), the forms, rebase, results, projector: no axe violations', async ({
  open,
}, testInfo) => {
  test.setTimeout(90_000);
  const created = await createBoard({ title: 'Saavutettavat linjaukset', name: 'Fanni', template: 'empty' });
  const facilitator = created.session;
  const aino = await joinBoard(created.links.participant, 'Aino');
  const pekka = await joinBoard(created.links.participant, 'Pekka');
  const vision = crypto.randomUUID();
  await command(facilitator, { type: 'add_statement', column: vision, title: 'Visio', text: 'Kylämme on hyvä paikka elää.' });
  const bolder = crypto.randomUUID();
  const shorter = crypto.randomUUID();
  await command(aino, { type: 'propose_wording', card: bolder, statement: vision, text: 'Kylämme on rohkea paikka elää ja tehdä.', reason: 'Rohkeutta', base_version: 1 });
  await command(pekka, { type: 'propose_wording', card: shorter, statement: vision, text: 'Kylämme on hyvä paikka.', reason: 'Lyhyemmin', base_version: 1 });
  await command(pekka, { type: 'cast_vote', card: bolder });
  await command(aino, { type: 'cast_vote', card: shorter });
  await addComment(aino, shorter, 'Liian lyhyt?');

  // Pekka, the author of the proposal that the adoption leaves outdated, is looking when it happens.
  const page = await (await open({ session: pekka })).newPage();
  await page.goto(`/b/${pekka.board}`);
  await expect(page.locator('[data-proposal="true"]')).toHaveCount(2);
  await command(facilitator, { type: 'adopt_proposal', card: bolder });
  await expect(page.getByTestId('statement-fresh')).toBeVisible();
  await expect(page.getByTestId('proposal-outdated')).toBeVisible();
  await scan(page, testInfo, 'statement (participant, new version highlighted)');
  await page.getByText('Historia (2 versiota)').click();
  await page.getByRole('button', { name: 'Ehdota uutta muotoilua: Visio' }).click();
  await expect(page.getByTestId('propose-form')).toBeVisible();
  await scan(page, testInfo, 'statement (history and the proposal form open)');
  await page.setViewportSize({ width: 360, height: 800 });
  expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
  await scan(page, testInfo, 'statement (360 px)');
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.getByRole('button', { name: 'Peruuta' }).click();
  await page.getByRole('button', { name: 'Päivitä uusimpaan versioon' }).click();
  await expect(page.getByTestId('rebase-dialog')).toBeVisible();
  await scan(page, testInfo, 'rebase dialog', 'dialog[open]');
  await page.keyboard.press('Escape');
  await page.getByRole('button', { name: 'Kylämme on hyvä paikka.', exact: true }).click();
  await expect(page.getByRole('dialog', { name: 'Ehdotus: Visio' }).getByTestId('comment')).toHaveCount(1);
  await scan(page, testInfo, 'proposal dialog', 'dialog[open]');
  await page.keyboard.press('Escape');

  // The facilitator: adopt buttons (one disabled with the reason, one asking to confirm), and
  // the form for a new statement.
  await command(pekka, { type: 'propose_wording', card: crypto.randomUUID(), statement: vision, text: 'Kylämme on rohkea koti.', reason: 'Kodikkaammin', base_version: 2 });
  const facilitatorPage = await (await open({ session: facilitator })).newPage();
  await facilitatorPage.goto(`/b/${facilitator.board}`);
  await expect(facilitatorPage.locator('[data-proposal="true"]')).toHaveCount(2);
  await facilitatorPage.getByRole('button', { name: 'Hyväksy tämä muotoilu' }).last().click();
  await expect(facilitatorPage.getByText('Hyväksytäänkö tämä muotoilu versioksi 3?')).toBeVisible();
  await facilitatorPage.getByRole('button', { name: 'Lisää julkilausuma' }).click();
  await expect(facilitatorPage.getByTestId('add-statement')).toBeVisible();
  await scan(facilitatorPage, testInfo, 'statement (facilitator)');

  // The results list proposals by their wording; the projector shows the statement.
  await facilitatorPage.getByRole('button', { name: 'Tulokset' }).click();
  await expect(facilitatorPage.getByTestId('ranking-overall').getByTestId('ranked-card')).toHaveCount(2);
  await expect(facilitatorPage.getByTestId('ranking-overall')).toContainText('hyväksytty versioksi 2');
  await scan(facilitatorPage, testInfo, 'results with proposals');
  await facilitatorPage.setViewportSize({ width: 1920, height: 1080 });
  await facilitatorPage.goto(`/b/${facilitator.board}/present`);
  await expect(facilitatorPage.getByTestId('present-statement')).toBeVisible();
  await expect(facilitatorPage.getByTestId('present-card')).toHaveCount(2);
  await scan(facilitatorPage, testInfo, 'presentation (a statement)');
});

test('exports and imports: the export section, the import and restore forms with errors, a Trello report, a restored backup: no axe violations', async ({
  open,
}, testInfo) => {
  test.setTimeout(90_000);
  const created = await createBoard({ title: 'Saavutettava vienti', name: 'Fanni' });
  const view = await boardView(created.session);
  await addCard(created.session, view.columns[0]!.id, 'Kylätalon remontti');
  const session = crypto.randomUUID();
  await command(created.session, { type: 'create_session', session, name: 'Syksyn työpaja', date: '2026-09-01', anonymous: false });

  // The export section after a download (its status said), limited to a session.
  const facilitatorPage = await (await open({ session: created.session })).newPage();
  await openBoard(facilitatorPage, created.session.board);
  await facilitatorPage.getByRole('button', { name: 'Ohjaus' }).click();
  const exports = facilitatorPage.getByTestId('export');
  await exports.getByLabel('Mitä viedään').selectOption({ index: 1 });
  const [saved] = await Promise.all([
    facilitatorPage.waitForEvent('download'),
    exports.getByRole('button', { name: 'Korttitaulukko (CSV, Excel)' }).click(),
  ]);
  await expect(exports.getByRole('status')).toHaveText(`Ladattu: ${saved.suggestedFilename()}`);
  await scan(facilitatorPage, testInfo, 'export section', '[data-testid="export"]');
  await facilitatorPage.setViewportSize({ width: 360, height: 800 });
  expect(await facilitatorPage.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
  await scan(facilitatorPage, testInfo, 'export section (360 px)', '[data-testid="export"]');

  // The home page's forms with their errors: no file, no name, a backup of a board that is here.
  const page = await (await open({ session: created.session })).newPage();
  await page.goto('/');
  const trello = page.getByTestId('trello-import-form');
  await trello.getByRole('button', { name: 'Tuo taulu' }).click();
  await expect(trello.getByTestId('trello-error')).toBeVisible();
  const backup = await fetch(`${serverUrl()}/api/boards/${created.session.board}/export?format=json`, {
    headers: { Authorization: `Bearer ${created.session.token}` },
  });
  const backupBytes = Buffer.from(await backup.arrayBuffer());
  const restore = page.getByTestId('restore-form');
  await restore.getByLabel('Varmuuskopiotiedosto (JSON)').setInputFiles({ name: 'varmuuskopio.json', mimeType: 'application/json', buffer: backupBytes });
  await restore.getByRole('button', { name: 'Palauta' }).click();
  await expect(restore.getByTestId('restore-error')).toContainText('Tämä taulu on jo tällä palvelimella');
  await trello.getByLabel('Trellon JSON-tiedosto').setInputFiles(TRELLO_FIXTURE);
  await trello.getByRole('button', { name: 'Tuo taulu' }).click();
  await expect(trello.getByRole('alert')).toContainText('Kirjoita nimesi');
  await scan(page, testInfo, 'home (import errors)');
  await page.setViewportSize({ width: 360, height: 800 });
  expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
  await scan(page, testInfo, 'home (import errors, 360 px)');
  await page.setViewportSize({ width: 1280, height: 800 });

  // A Trello import's report on the new board.
  await trello.getByLabel('Nimesi').fill('Fanni');
  await trello.getByRole('button', { name: 'Tuo taulu' }).click();
  await expectConnected(page);
  await expect(page.getByTestId('import-report')).toBeVisible();
  await scan(page, testInfo, 'board with a Trello report');
  await page.setViewportSize({ width: 360, height: 800 });
  expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
  await scan(page, testInfo, 'board with a Trello report (360 px)');

  // A restored backup's result, on a server without the board.
  const server = await startKipina('kipina-axe-restore-');
  try {
    const restorePage = await (await open({ baseURL: server.url })).newPage();
    await restorePage.goto('/');
    const form = restorePage.getByTestId('restore-form');
    await form.getByLabel('Varmuuskopiotiedosto (JSON)').setInputFiles({ name: 'varmuuskopio.json', mimeType: 'application/json', buffer: backupBytes });
    await form.getByRole('button', { name: 'Palauta' }).click();
    await expect(form.getByTestId('restore-result')).toBeVisible();
    await scan(restorePage, testInfo, 'home (backup restored)');
    await restorePage.close();
  } finally {
    await removeKipina(server);
  }
});
