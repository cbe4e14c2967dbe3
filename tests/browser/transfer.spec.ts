/**
 * Exports and imports in the browser: a facilitator downloads every format from the facilitation
 * panel (and the files are read back), a participant has no export controls; a Trello export
 * uploaded on the home page opens as a new board with its lists and the report of what stayed
 * behind; a file that is not a Trello export is refused and creates nothing; a backup restored
 * onto the server that has its board says so, and onto a fresh server gives the facilitator link
 * that opens the restored board.
 */
import type { Download, Locator, Page } from '@playwright/test';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { addCard, boardView, command, createBoard, expect, expectConnected, joinBoard, openBoard, serverUrl, test } from './helpers';
import { listBoards, removeKipina, startKipina, stopKipina } from './server';

const here = path.dirname(fileURLToPath(import.meta.url));
const TRELLO_FIXTURE = path.resolve(here, '..', '..', 'server', 'tests', 'fixtures', 'trello-kylatoimikunta.json');

const FORMATS = [
  { name: 'Yhteenveto (Markdown)', extension: 'md' },
  { name: 'Korttitaulukko (CSV, Excel)', extension: 'csv' },
  { name: 'Työkirja (Excel)', extension: 'xlsx' },
  { name: 'Raportti (Word)', extension: 'docx' },
  { name: 'Varmuuskopio (JSON)', extension: 'json' },
] as const;

/** Clicks one of the export buttons and waits for the browser's download. */
async function download(page: Page, exports: Locator, name: string): Promise<{ file: Download; bytes: Buffer }> {
  const [file] = await Promise.all([page.waitForEvent('download'), exports.getByRole('button', { name, exact: true }).click()]);
  const where = await file.path();
  expect(await file.failure()).toBeNull();
  return { file, bytes: await readFile(where) };
}

/** The facilitation panel's export section, opened. */
async function exportSection(page: Page): Promise<Locator> {
  await page.getByRole('button', { name: 'Ohjaus' }).click();
  const exports = page.getByTestId('export');
  await expect(exports.getByRole('heading', { name: 'Vie tulokset' })).toBeVisible();
  return exports;
}

test('a facilitator downloads every format, also of one session; a participant has no export controls', async ({ open }) => {
  const created = await createBoard({ title: 'Kylän ideat', name: 'Fanni' });
  const participant = await joinBoard(created.links.participant, 'Pertti');
  const view = await boardView(created.session);
  await addCard(participant, view.columns[0]!.id, 'Lähiruoka kouluihin', 'Paikalliset tuottajat mukaan');
  await addCard(participant, view.columns[1]!.id, '=1+1 ei ole kaava');
  const session = crypto.randomUUID();
  await command(created.session, { type: 'create_session', session, name: 'Kevään työpaja', date: '2026-05-12', anonymous: false });

  const page = await (await open({ session: created.session })).newPage();
  await openBoard(page, created.session.board);
  const exports = await exportSection(page);
  for (const format of FORMATS) {
    await expect(exports.getByRole('button', { name: format.name, exact: true })).toBeEnabled();
  }

  const files = new Map<string, { file: Download; bytes: Buffer }>();
  for (const format of FORMATS) {
    const found = await download(page, exports, format.name);
    // The server's file name: the board's title in plain letters, the date, the extension.
    expect(found.file.suggestedFilename()).toMatch(new RegExp(`^Kylan-ideat-\\d{4}-\\d{2}-\\d{2}\\.${format.extension}$`));
    await expect(exports.getByRole('status')).toHaveText(`Ladattu: ${found.file.suggestedFilename()}`);
    files.set(format.extension, found);
  }

  // CSV: a byte order mark for Excel, the header in the board's language (Finnish), the cards;
  // a cell that would run as a formula is neutralised.
  const csv = files.get('csv')!.bytes;
  expect([...csv.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
  const csvText = csv.subarray(3).toString('utf8');
  expect(csvText.split(/\r?\n/)[0]).toMatch(/^Sarake,Otsikko,Teksti,Kirjoittaja,/);
  expect(csvText).toContain('Lähiruoka kouluihin');
  expect(csvText).toContain("'=1+1 ei ole kaava");
  // Markdown: the summary.
  const markdown = files.get('md')!.bytes.toString('utf8');
  expect(markdown.startsWith('# Yhteenveto')).toBe(true);
  expect(markdown).toContain('Lähiruoka kouluihin');
  // The workbook and the Word report are Office Open XML zips.
  const xlsx = files.get('xlsx')!.bytes;
  expect(xlsx.subarray(0, 2).toString('latin1')).toBe('PK');
  expect(xlsx.includes('xl/workbook.xml')).toBe(true);
  const docx = files.get('docx')!.bytes;
  expect(docx.subarray(0, 2).toString('latin1')).toBe('PK');
  expect(docx.includes('word/document.xml')).toBe(true);
  // The backup: the board's whole event log, names included.
  const log = JSON.parse(files.get('json')!.bytes.toString('utf8')) as { format: string; board: string; commands: unknown[] };
  expect(log.format).toBe('kipina-log');
  expect(log.board).toBe(created.session.board);
  expect(log.commands.length).toBeGreaterThan(3);
  expect(files.get('json')!.bytes.toString('utf8')).toContain('Pertti');

  // One session: the summary says which.
  await exports.getByLabel('Mitä viedään').selectOption({ label: 'Kevään työpaja · 12.5.2026' });
  await expect(exports.getByText('Varmuuskopiossa on aina koko taulu.')).toBeVisible();
  const one = await download(page, exports, 'Yhteenveto (Markdown)');
  expect(one.bytes.toString('utf8')).toContain('Kevään työpaja');

  // A participant: no facilitation button, no export section; the server refuses them too.
  const participantPage = await (await open({ session: participant })).newPage();
  await openBoard(participantPage, participant.board);
  await expect(participantPage.getByRole('button', { name: 'Ohjaus' })).toHaveCount(0);
  await expect(participantPage.getByTestId('export')).toHaveCount(0);
  await expect(participantPage.getByRole('button', { name: 'Yhteenveto (Markdown)' })).toHaveCount(0);
  const refused = await fetch(`${serverUrl()}/api/boards/${participant.board}/export?format=csv`, {
    headers: { Authorization: `Bearer ${participant.token}` },
  });
  expect(refused.status).toBe(403);
});

test('a Trello export uploaded on the home page opens as a new board with its lists and the report', async ({ open }) => {
  const page = await (await open()).newPage();
  await page.goto('/');
  const form = page.getByTestId('trello-import-form');
  await expect(form.getByRole('heading', { name: 'Tuo Trello-taulu' })).toBeVisible();

  // Nothing is sent without a file or a name.
  await form.getByRole('button', { name: 'Tuo taulu' }).click();
  await expect(form.getByRole('alert')).toHaveText('Valitse ensin tiedosto.');
  await form.getByLabel('Trellon JSON-tiedosto').setInputFiles(TRELLO_FIXTURE);
  await form.getByRole('button', { name: 'Tuo taulu' }).click();
  await expect(form.getByRole('alert')).toHaveText('Kirjoita nimesi: sinusta tulee uuden taulun fasilitaattori.');
  await expect(form.getByLabel('Nimesi')).toBeFocused();

  await form.getByLabel('Nimesi').fill('Fanni Fasilitaattori');
  const [answer] = await Promise.all([
    page.waitForResponse((response) => response.url().includes('/api/import/trello')),
    form.getByRole('button', { name: 'Tuo taulu' }).click(),
  ]);
  expect(answer.status()).toBe(201);

  // The new board opens, stored as a created board is (the uploader its facilitator), with the
  // lists in Trello's order (the closed one archived).
  await expect(page).toHaveURL(/\/b\/[0-9a-f-]{36}$/);
  const board = new URL(page.url()).pathname.split('/')[2]!;
  const stored = await page.evaluate((key) => JSON.parse(localStorage.getItem(key) ?? 'null'), `kipina.session.${board}`);
  expect(stored).toMatchObject({ board, role: 'facilitator' });
  expect(stored.token).toMatch(/^kp_/);
  await expectConnected(page);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Kylätoimikunta 2026');
  await expect(page.getByTestId('column').locator('.column-title')).toHaveText(['Ideat', 'Työn alla', 'Tehty']);
  await expect(page.getByRole('button', { name: 'Yhteinen rantasauna', exact: true })).toBeVisible();
  await expect(page.locator('.role-note')).toContainText('Fanni Fasilitaattori · fasilitaattori');
  await expect(page.getByRole('button', { name: 'Ohjaus' })).toBeVisible();

  // The report: what came along, and every line of what did not (in English, said as English).
  const report = page.getByTestId('import-report');
  await expect(report.getByRole('heading', { name: 'Tuotu Trellosta' })).toBeVisible();
  await expect(report.getByTestId('import-report-summary')).toHaveText(
    /^Mukaan tuli \d+ saraketta, 5 korttia, 3 kommenttia, 4 tunnistetta, 3 tykkäystä\.$/,
  );
  const lines = report.getByTestId('not-imported').getByRole('listitem');
  await expect(lines.filter({ hasText: /^1 attachments?: .*not copied$/ })).toHaveCount(1);
  await expect(lines.filter({ hasText: /^1 custom field: / })).toHaveCount(1);
  await expect(lines.first()).toHaveAttribute('lang', 'en');

  // It stays until dismissed, also over a reload; then it is gone for good.
  await page.reload();
  await expectConnected(page);
  await expect(report).toBeVisible();
  await report.getByRole('button', { name: 'Selvä, piilota raportti' }).focus();
  await page.keyboard.press('Enter');
  await expect(report).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Taulu', exact: true })).toBeFocused();
  await page.reload();
  await expectConnected(page);
  await expect(page.getByTestId('column')).toHaveCount(3);
  await expect(report).toHaveCount(0);

  // The home page lists it among this browser's boards.
  await page.goto('/');
  await expect(page.getByRole('link', { name: 'Kylätoimikunta 2026' })).toBeVisible();
});

test('a JSON file that is not a Trello export shows the error and creates no board', async ({ open }) => {
  // A server of its own, so that its boards can be counted afterwards.
  const server = await startKipina('kipina-not-trello-');
  try {
    const context = await open({ baseURL: server.url });
    const page = await context.newPage();
    await page.goto('/');
    const form = page.getByTestId('trello-import-form');
    await form.getByLabel('Trellon JSON-tiedosto').setInputFiles({
      name: 'ostoslista.json',
      mimeType: 'application/json',
      buffer: Buffer.from(JSON.stringify({ name: 'Ostoslista', items: ['maito', 'leipä'] })),
    });
    await form.getByLabel('Nimesi').fill('Fanni');
    const [answer] = await Promise.all([
      page.waitForResponse((response) => response.url().includes('/api/import/trello')),
      form.getByRole('button', { name: 'Tuo taulu' }).click(),
    ]);
    expect(answer.status()).toBe(400);
    const error = form.getByTestId('trello-error');
    await expect(error).toContainText('Tiedosto ei ole Trellon JSON-vienti. Taulua ei luotu.');
    await expect(error).toContainText('Palvelimen viesti (englanniksi):');
    await expect(form.getByRole('button', { name: 'Tuo taulu' })).toBeEnabled();
    // Still home; nothing kept in the browser; and the server holds no board.
    await expect(page).toHaveURL(`${server.url}/`);
    const kept = await page.evaluate(() => Object.keys(localStorage).filter((key) => key.startsWith('kipina.session.')));
    expect(kept).toEqual([]);
    await context.close();
    await stopKipina(server.pid);
    expect(listBoards(server.data)).toEqual([]);
  } finally {
    await removeKipina(server);
  }
});

test('a backup uploaded to the server that has the board says it exists; on a fresh server it is restored', async ({ open }) => {
  const created = await createBoard({ title: 'Varmuuskopioitava', name: 'Fanni' });
  const view = await boardView(created.session);
  await addCard(created.session, view.columns[0]!.id, 'Kylätalon remontti');

  const context = await open({ session: created.session });
  const page = await context.newPage();
  await openBoard(page, created.session.board);
  const backup = await download(page, await exportSection(page), 'Varmuuskopio (JSON)');
  const backupPath = await backup.file.path();

  // The same server: the board is there, nothing changes.
  await page.goto('/');
  const form = page.getByTestId('restore-form');
  await form.getByLabel('Varmuuskopiotiedosto (JSON)').setInputFiles(backupPath);
  const [answer] = await Promise.all([
    page.waitForResponse((response) => response.url().includes('/api/import/log')),
    form.getByRole('button', { name: 'Palauta' }).click(),
  ]);
  expect(answer.status()).toBe(409);
  const error = form.getByTestId('restore-error');
  await expect(error).toContainText(
    'Tämä taulu on jo tällä palvelimella, joten varmuuskopiota ei palautettu eikä mitään muutettu. Avaa taulu sen omilla linkeillä.',
  );
  await expect(form.getByTestId('restore-result')).toHaveCount(0);
  // This browser holds a session for it: a link to it.
  await error.getByRole('link', { name: 'Avaa taulu' }).click();
  await expectConnected(page);
  await expect(page.getByRole('button', { name: 'Kylätalon remontti', exact: true })).toBeVisible();

  // Another server, without the board: restored with its history, opened by its facilitator link.
  const server = await startKipina('kipina-restore-');
  try {
    const other = await open({ baseURL: server.url });
    const otherPage = await other.newPage();
    await otherPage.goto('/');
    const restore = otherPage.getByTestId('restore-form');
    await restore.getByLabel('Varmuuskopiotiedosto (JSON)').setInputFiles(backupPath);
    await restore.getByRole('button', { name: 'Palauta' }).click();
    await expect(restore.getByTestId('restore-status')).toHaveText(/^Taulu on palautettu historioineen \(\d+ tapahtumaa\)\.$/);
    const result = restore.getByTestId('restore-result');
    await expect(result).toContainText('Vanhat kirjautumiset eivät toimi palautetulla taululla');
    const link = await result.getByLabel('Fasilitaattorilinkki').inputValue();
    expect(link).toMatch(new RegExp(`^${server.url}/join/${created.session.board}/f/`));
    await result.getByRole('link', { name: 'Avaa palautettu taulu fasilitaattorina' }).click();
    await otherPage.getByTestId('join-form').getByLabel('Nimesi').fill('Fanni uudelleen');
    await otherPage.getByTestId('join-form').getByRole('button', { name: 'Liity' }).click();
    await expectConnected(otherPage);
    await expect(otherPage.getByRole('heading', { level: 1 })).toHaveText('Varmuuskopioitava');
    await expect(otherPage.getByRole('button', { name: 'Kylätalon remontti', exact: true })).toBeVisible();
    await expect(otherPage.getByRole('button', { name: 'Ohjaus' })).toBeVisible();
    await other.close();
    await stopKipina(server.pid);
    expect(listBoards(server.data).map((line) => line.split(/\s+/)[0])).toEqual([created.session.board]);
  } finally {
    await removeKipina(server);
  }
});
