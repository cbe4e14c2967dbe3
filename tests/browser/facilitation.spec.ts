/**
 * A facilitator runs a workshop session with two participants, each in a browser of their own:
 * plan and start a session, ideas in the ideation phase, no new cards in the discussion phase
 * (and the reason shown), cards grouped and ungrouped, a hidden vote round (each sees only their
 * own dots), the reveal, the results; then the presentation view on a 1920×1080 projector, whose
 * QR code is read back from a screenshot. And a countdown on a phone whose clock is wrong.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import jsQR from 'jsqr';
import { PNG } from 'pngjs';
import type { Locator, Page, TestInfo } from '@playwright/test';
import {
  addCardUI,
  boardLinks,
  boardView,
  card,
  column,
  command,
  createBoard,
  dots,
  expect,
  joinBoard,
  openBoard,
  test,
} from './helpers';

const SCREENSHOTS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'test-results', 'screenshots');

const PHONE = { viewport: { width: 360, height: 800 }, isMobile: true, hasTouch: true };

async function shoot(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file });
  await testInfo.attach(name, { path: file, contentType: 'image/png' });
}

/** The countdown's `m:ss` in seconds. */
function seconds(text: string): number {
  const [minutes, secs] = text.trim().split(':').map(Number);
  return (minutes ?? 0) * 60 + (secs ?? 0);
}

/** The facilitator's controls, opened when closed. */
async function controls(page: Page): Promise<Locator> {
  const toggle = page.getByRole('button', { name: 'Ohjaus' });
  if ((await toggle.getAttribute('aria-expanded')) !== 'true') await toggle.click();
  const panel = page.getByTestId('facilitation');
  await expect(panel).toBeVisible();
  return panel;
}

/** The titles and dot counts of a ranking, top first. */
async function rankingOf(list: Locator): Promise<string[]> {
  const rows = list.getByTestId('ranked-card');
  const titles = await rows.locator('.ranking-title').allInnerTexts();
  const votes = await rows.getByTestId('ranked-votes').allInnerTexts();
  return titles.map((title, index) => `${title.trim()}: ${votes[index]?.trim()}`);
}

/** The widths of a ranking's bars, top first. */
async function barWidths(list: Locator): Promise<number[]> {
  return list.locator('.ranking-fill').evaluateAll((bars) => bars.map((bar) => bar.getBoundingClientRect().width));
}

test('a facilitator runs a session: ideas, discussion, a hidden vote, the reveal, results and the projector', async ({ open }, testInfo) => {
  test.setTimeout(120_000);
  const created = await createBoard({ title: 'Kylien kevät', name: 'Fanni', template: 'strengths_offer_wishes' });
  const aino = await joinBoard(created.links.participant, 'Aino');
  const bertta = await joinBoard(created.links.participant, 'Bertta');
  const board = created.session.board;

  const f = await (await open({ session: created.session, viewport: { width: 1366, height: 900 } })).newPage();
  const a = await (await open({ session: aino })).newPage();
  const b = await (await open({ session: bertta, ...PHONE })).newPage();
  for (const page of [f, a, b]) await openBoard(page, board);

  // The facilitator plans a session (today by default) and starts it.
  const panel = await controls(f);
  await panel.getByRole('button', { name: 'Suunnittele työpaja' }).click();
  await panel.getByLabel('Nimi', { exact: true }).fill('Kevään työpaja');
  await expect(panel.getByLabel('Päivämäärä')).toHaveValue(/^\d{4}-\d{2}-\d{2}$/);
  await panel.getByRole('button', { name: 'Tallenna työpaja' }).click();
  await panel.getByRole('button', { name: 'Aloita: Kevään työpaja' }).click();
  for (const page of [f, a, b]) {
    await expect(page.getByTestId('phase')).toHaveText('Ideointi');
    await expect(page.getByTestId('phase-status')).toContainText('Kevään työpaja');
  }
  await expect(panel.getByRole('button', { name: 'Ideointi' })).toHaveAttribute('aria-current', 'step');

  // Ideas in the ideation phase, from both participants.
  await addCardUI(a, 'Vahvuudet', 'Kyläkoulu etäpisteeksi');
  await addCardUI(a, 'Vahvuudet', 'Kylätalon kahvila');
  await addCardUI(a, 'Kokemuksia ja toiveita', 'Nuorten oma tila');
  await addCardUI(b, 'Mitä voimme tarjota', 'Yhteinen tapahtumakalenteri');
  await expect(f.getByTestId('card')).toHaveCount(4);

  // Discussion: no new cards, and the participant is told why.
  await panel.getByRole('button', { name: 'Seuraava: Keskustelu' }).click();
  await expect(b.getByTestId('phase')).toHaveText('Keskustelu');
  const addB = column(b, 'Vahvuudet').getByRole('button', { name: 'Lisää kortti sarakkeeseen Vahvuudet' });
  await expect(addB).toBeDisabled();
  const why = 'Keskusteluvaiheessa ei lisätä eikä muokata kortteja.';
  await expect(column(b, 'Vahvuudet').getByTestId('add-card-why')).toHaveText(why);
  await expect(addB).toHaveAccessibleDescription(why);
  // Her own card cannot be moved now either, for the same reason.
  const moveB = card(b, 'Yhteinen tapahtumakalenteri').getByRole('button', { name: 'Siirrä…' });
  await expect(moveB).toBeDisabled();
  await expect(moveB).toHaveAccessibleDescription(`Yhteinen tapahtumakalenteri ${why}`);
  // The facilitator may still add cards; comments stay open for everyone.
  await expect(column(f, 'Vahvuudet').getByRole('button', { name: 'Lisää kortti sarakkeeseen Vahvuudet' })).toBeEnabled();

  // The facilitator groups two similar cards, ungroups them, and groups them again.
  await f.getByRole('button', { name: 'Ryhmittele kortteja' }).click();
  await card(f, 'Kyläkoulu etäpisteeksi').getByRole('checkbox', { name: 'Valitse: Kyläkoulu etäpisteeksi' }).check();
  await card(f, 'Kylätalon kahvila').getByRole('checkbox', { name: 'Valitse: Kylätalon kahvila' }).check();
  const bar = f.getByTestId('grouping-bar');
  await expect(bar).toContainText('2 korttia valittu');
  await bar.getByLabel('Ryhmän otsikko').fill('Kylän tilat');
  await bar.getByRole('button', { name: 'Tee ryhmä' }).click();
  const groupOnB = b.locator('[data-testid="card"][data-group="true"]');
  await expect(groupOnB).toHaveCount(1);
  await expect(groupOnB.locator('.card-title')).toHaveText('Kylän tilat');
  await expect(groupOnB.getByTestId('group-member')).toHaveCount(2);
  await expect(groupOnB.getByTestId('group-member').locator('.member-open')).toHaveText(['Kyläkoulu etäpisteeksi', 'Kylätalon kahvila']);
  await expect(b.getByTestId('card')).toHaveCount(3);

  const groupOnF = f.locator('[data-testid="card"][data-group="true"]');
  await groupOnF.getByRole('button', { name: 'Pura ryhmä' }).click();
  await expect(groupOnB).toHaveCount(0);
  await expect(b.getByTestId('card')).toHaveCount(4);
  await expect(card(b, 'Kyläkoulu etäpisteeksi')).toBeVisible();

  await f.getByRole('button', { name: 'Ryhmittele kortteja' }).click();
  await card(f, 'Kyläkoulu etäpisteeksi').getByRole('checkbox', { name: 'Valitse: Kyläkoulu etäpisteeksi' }).check();
  await card(f, 'Kylätalon kahvila').getByRole('checkbox', { name: 'Valitse: Kylätalon kahvila' }).check();
  await bar.getByLabel('Ryhmän otsikko').fill('Kylän tilat');
  await bar.getByRole('button', { name: 'Tee ryhmä' }).click();
  await expect(groupOnB).toHaveCount(1);

  // A member opened from the group's dialog stays open (the group's dialog closing after it
  // once closed both).
  await groupOnB.getByRole('button', { name: 'Kylän tilat', exact: true }).click();
  const groupDialog = b.getByRole('dialog', { name: 'Kylän tilat' });
  await groupDialog.getByRole('button', { name: 'Kylätalon kahvila' }).click();
  const memberDialog = b.getByRole('dialog', { name: 'Kylätalon kahvila' });
  await expect(memberDialog.getByTestId('card-dialog')).toBeVisible();
  await expect(groupDialog).toHaveCount(0);
  await expect(memberDialog.getByTestId('card-dialog')).toBeVisible();
  await memberDialog.getByRole('button', { name: 'Sulje' }).first().click();
  await expect(memberDialog).toHaveCount(0);

  // Voting: a hidden round of 3 dots, at most 2 per card.
  await panel.getByRole('button', { name: 'Seuraava: Äänestys' }).click();
  await expect(a.getByTestId('phase')).toHaveText('Äänestys');
  await panel.getByRole('button', { name: 'Uusi äänestyskierros' }).click();
  await panel.getByLabel('Ääniä osallistujaa kohden').fill('3');
  await panel.getByLabel('Enintään yhdelle kortille').fill('2');
  await expect(panel.getByLabel('Piilota äänet, kunnes paljastan ne')).toBeChecked();
  await panel.getByRole('button', { name: 'Aloita kierros' }).click();
  await expect(panel.getByTestId('round-summary')).toContainText('Kierros 2: 3 ääntä kullekin, enintään 2 kortille');
  for (const page of [a, b]) {
    await expect(page.getByTestId('votes-left')).toContainText('Ääniä jäljellä: 3/3');
    await expect(page.getByTestId('votes-hidden-notice')).toHaveText('Äänet ovat piilossa, kunnes fasilitaattori paljastaa ne.');
  }

  // Aino: two dots on the group, one on the youth space. Bertta: one on the group, two on the calendar.
  const groupOnA = a.locator('[data-testid="card"][data-group="true"]');
  await groupOnA.getByRole('button', { name: 'Anna ääni' }).click();
  await expect(a.getByTestId('votes-left')).toContainText('2/3');
  await groupOnA.getByRole('button', { name: 'Anna ääni' }).click();
  await expect(a.getByTestId('votes-left')).toContainText('1/3');
  await card(a, 'Nuorten oma tila').getByRole('button', { name: 'Anna ääni' }).click();
  await expect(a.getByTestId('votes-left')).toContainText('0/3');

  await groupOnB.getByRole('button', { name: 'Anna ääni' }).click();
  await expect(b.getByTestId('votes-left')).toContainText('2/3');
  const calendarOnB = card(b, 'Yhteinen tapahtumakalenteri');
  await calendarOnB.getByRole('button', { name: 'Anna ääni' }).click();
  await expect(b.getByTestId('votes-left')).toContainText('1/3');
  await calendarOnB.getByRole('button', { name: 'Anna ääni' }).click();
  await expect(b.getByTestId('votes-left')).toContainText('0/3');

  await shoot(f, testInfo, 'facilitation-vote-laptop');
  await shoot(b, testInfo, 'facilitation-hidden-votes-phone');
  expect(await b.evaluate(() => document.documentElement.scrollWidth - window.innerWidth), 'sideways scrolling on the phone').toBeLessThanOrEqual(0);

  // Bertta sees her own dots and nothing of Aino's: no totals anywhere.
  await expect(dots(groupOnB)).toHaveText('Äänimäärä piilotettu; sinun äänesi: 1');
  await expect(dots(calendarOnB)).toHaveText('Äänimäärä piilotettu; sinun äänesi: 2');
  await expect(dots(card(b, 'Nuorten oma tila'))).toHaveText('Äänimäärä piilotettu');
  await expect(groupOnB.locator('.dots')).toContainText('piilotettu');
  for (const text of await b.locator('.dots').allInnerTexts()) expect(text).not.toMatch(/^\s*●\s*\d/);
  // The facilitator sees no totals either while the votes are hidden.
  await expect(dots(groupOnF)).toHaveText('Äänimäärä piilotettu');

  // The reveal: everyone sees the totals.
  await panel.getByRole('button', { name: 'Paljasta äänet' }).click();
  await expect(dots(groupOnB)).toHaveText('3 ääntä, joista sinun 1');
  await expect(dots(card(b, 'Nuorten oma tila'))).toHaveText('1 ääni');
  await expect(dots(card(a, 'Yhteinen tapahtumakalenteri'))).toHaveText('2 ääntä');
  await expect(dots(groupOnF)).toHaveText('3 ääntä');
  await expect(b.getByTestId('votes-hidden-notice')).toHaveCount(0);

  // Results: everyone's view turns to the ranking, most dots first, with bars to match.
  await panel.getByRole('button', { name: 'Seuraava: Tulokset' }).click();
  const expected = ['Kylän tilat: 3 ääntä', 'Yhteinen tapahtumakalenteri: 2 ääntä', 'Nuorten oma tila: 1 ääni'];
  for (const page of [f, a, b]) {
    await expect(page.getByTestId('phase')).toHaveText('Tulokset');
    const overall = page.getByTestId('ranking-overall');
    await expect(overall.getByTestId('ranked-card')).toHaveCount(3);
    expect(await rankingOf(overall)).toEqual(expected);
  }
  const widths = await barWidths(a.getByTestId('ranking-overall'));
  expect(widths[0]!).toBeGreaterThan(widths[1]!);
  expect(widths[1]!).toBeGreaterThan(widths[2]!);
  expect(widths[2]!).toBeGreaterThan(0);
  await shoot(b, testInfo, 'facilitation-results-phone');
  expect(await b.evaluate(() => document.documentElement.scrollWidth - window.innerWidth), 'sideways scrolling on the phone').toBeLessThanOrEqual(0);
  // Per column too.
  const results = a.getByTestId('results');
  await expect(results.getByRole('heading', { name: 'Vahvuudet' })).toBeVisible();
  // The first round (before this one) had no dots; it can be picked and read.
  await results.getByLabel('Äänestyskierros').selectOption({ label: 'Kierros 1' });
  await expect(results).toContainText('Ei vielä ääniä.');
  await results.getByLabel('Äänestyskierros').selectOption({ label: 'Kierros 2 (nykyinen) · Kevään työpaja' });
  await expect(results.getByTestId('ranked-card').first()).toContainText('Kylän tilat');

  // The projector: the facilitator opens the presentation view from the top bar.
  await panel.getByRole('button', { name: '5 min' }).click();
  await expect(f.getByTestId('countdown').first()).toBeVisible();
  await f.setViewportSize({ width: 1920, height: 1080 });
  await f.getByRole('link', { name: 'Esitysnäkymä' }).first().click();
  await expect(f).toHaveURL(new RegExp(`/b/${board}/present$`));
  const presentation = f.getByTestId('presentation');
  await expect(presentation.getByTestId('present-phase')).toHaveText('Tulokset');
  await expect(presentation.getByTestId('present-ranking').getByTestId('ranked-card')).toHaveCount(3);
  expect(await rankingOf(presentation.getByTestId('present-ranking'))).toEqual(expected);
  const links = await boardLinks(created.session);
  await expect(presentation.getByTestId('join-code')).toHaveText(links.join_code);
  const qr = presentation.getByTestId('join-qr');
  await expect(qr).toBeVisible();
  await expect(qr).toHaveAttribute('alt', 'Osallistujalinkin QR-koodi');
  // Nothing is wider than the projector.
  expect(await f.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
  await expect(presentation.getByTestId('countdown').locator('[role="timer"]')).toHaveText(/^[45]:\d\d$/);
  await shoot(f, testInfo, 'presentation');

  // The QR code on the screen reads back as the participant link.
  const png = PNG.sync.read(await qr.screenshot());
  const decoded = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
  expect(decoded?.data, 'the QR code could not be read from the screenshot').toBe(links.participant);

  // Back to the discussion: the projector shows one column at a time, changed by keys and buttons.
  await command(created.session, { type: 'set_phase', session: (await sessionId(created.session)), phase: 'discuss' });
  await expect(presentation.getByTestId('present-phase')).toHaveText('Keskustelu');
  const title = presentation.getByTestId('present-column');
  await expect(title).toHaveText('Vahvuudet');
  await expect(presentation.getByTestId('present-card')).toHaveCount(1);
  await expect(presentation.getByTestId('present-card')).toContainText(['Kylän tilat']);
  await expect(presentation.getByTestId('present-card').locator('li')).toHaveText(['Kyläkoulu etäpisteeksi', 'Kylätalon kahvila']);
  await f.keyboard.press('ArrowRight');
  await expect(title).toHaveText('Mitä voimme tarjota');
  await expect(presentation.getByTestId('present-card')).toHaveText([/Yhteinen tapahtumakalenteri/]);
  await presentation.getByRole('button', { name: 'Seuraava sarake' }).click();
  await expect(title).toHaveText('Kokemuksia ja toiveita');
  await expect(presentation.getByRole('button', { name: 'Seuraava sarake' })).toBeDisabled();
  await f.keyboard.press('ArrowLeft');
  await expect(title).toHaveText('Mitä voimme tarjota');
  await presentation.getByRole('button', { name: 'Edellinen sarake' }).click();
  await expect(title).toHaveText('Vahvuudet');
  await shoot(f, testInfo, 'presentation-columns');
});

async function sessionId(session: Parameters<typeof boardView>[0]): Promise<string> {
  const view = (await boardView(session)) as unknown as { info: { running_session: string | null } };
  if (!view.info.running_session) throw new Error('no session is running');
  return view.info.running_session;
}

test('the countdown is right on a phone whose clock runs ten minutes fast', async ({ open }) => {
  const created = await createBoard({ title: 'Ajastin', name: 'Fanni', template: 'strengths_offer_wishes' });
  const pekka = await joinBoard(created.links.participant, 'Pekka');
  const session = crypto.randomUUID();
  await command(created.session, { type: 'create_session', session, name: 'Aamupäivä', date: '2026-06-01', anonymous: false });
  await command(created.session, { type: 'start_session', session });
  await command(created.session, { type: 'start_timer', seconds: 300 });
  const view = (await boardView(created.session)) as unknown as { info: { timer_ends_at: number } };
  const endsAt = view.info.timer_ends_at;

  const context = await open({ session: pekka, ...PHONE });
  const page = await context.newPage();
  // This phone believes it is ten minutes later than it is.
  await page.clock.install({ time: Date.now() + 10 * 60_000 });
  await openBoard(page, pekka.board);
  expect(await page.evaluate(() => Date.now()) - Date.now()).toBeGreaterThan(9 * 60_000);

  const countdown = page.getByTestId('countdown').locator('[role="timer"]');
  await expect(countdown).toHaveText(/^\d+:\d\d$/);
  // Read the screen and the real time left at once, twice a second apart: it counts down.
  const first = seconds(await countdown.innerText());
  const left = (endsAt - Date.now()) / 1000;
  expect(Math.abs(first - left), `shown ${first} s, left ${left.toFixed(1)} s`).toBeLessThanOrEqual(3);
  await expect.poll(async () => seconds(await countdown.innerText()), { timeout: 5_000 }).toBeLessThan(first);

  // A minute more from the facilitator shows at once, also on the fast phone.
  await command(created.session, { type: 'extend_timer', seconds: 60 });
  await expect
    .poll(async () => Math.abs(seconds(await countdown.innerText()) - (endsAt + 60_000 - Date.now()) / 1000), { timeout: 5_000 })
    .toBeLessThanOrEqual(3);
});
