/**
 * Layout at a camp (issue 15): a 360×800 phone shows the first card in the top half of the
 * screen in every phase, and a 1366×768 laptop shows at least four ordinary cards per column.
 */
import { type Page } from '@playwright/test';
import { addCard, boardView, command, createBoard, expect, expectConnected, joinBoard, test, PHONE } from './helpers';


/** The top of the first card (or, in the results, the first ranked item) in CSS pixels. */
async function firstCardTop(page: Page): Promise<number> {
  const first = page.locator('[data-testid="card"], [data-testid="ranked-card"]').first();
  await expect(first).toBeVisible();
  const box = await first.boundingBox();
  if (!box) throw new Error('the first card has no box');
  return box.y;
}

test('on a 360×800 phone the first card starts in the top half of the screen in every phase', async ({ open }) => {
  const created = await createBoard({ title: 'Kesäleirin ideat ja äänestys', name: 'Fasilitaattori' });
  const view = await boardView(created.session);
  const voted = await addCard(created.session, view.columns[0]!.id, 'Ensimmäinen');
  for (const [index, column] of view.columns.entries()) {
    await addCard(created.session, column.id, `Kortti ${index + 1}`, 'Pidempi kuvaus kortista, jotta se vie tilaa.');
  }
  await command(created.session, { type: 'set_board_options', options: { anonymous: true, participants_may_group: false } });
  const session = crypto.randomUUID();
  await command(created.session, { type: 'create_session', session, name: 'Lauantain työpaja', date: '2026-06-13', anonymous: false });
  const pekka = await joinBoard(created.links.participant, 'Pekka');
  // Something new since Pekka's last visit, so that notice shows too.
  await addCard(created.session, view.columns[0]!.id, 'Uusi kortti');
  const context = await open({ ...PHONE, session: pekka, title: 'Kesäleirin ideat ja äänestys' });
  const page = await context.newPage();
  await page.goto(`/b/${created.session.board}`);
  await expectConnected(page);

  const tops: Record<string, number> = { none: await firstCardTop(page) };
  await command(created.session, { type: 'start_session', session });
  for (const phase of ['ideate', 'discuss', 'vote', 'results', 'closed'] as const) {
    if (phase === 'vote') {
      await command(created.session, { type: 'start_vote_round', settings: { vote_budget: 5, votes_per_card: 3 }, hidden: true });
    }
    if (phase === 'results') {
      await command(created.session, { type: 'cast_vote', card: voted });
      await command(created.session, { type: 'reveal_votes' });
    }
    await command(created.session, { type: 'set_phase', session, phase });
    await expect(page.getByTestId('phase-status')).toHaveCount(phase === 'closed' ? 0 : 1);
    if (phase !== 'closed') await expect(page.getByTestId('phase')).toHaveText(new RegExp(phase === 'vote' ? 'Äänestys' : '.'));
    tops[phase] = await firstCardTop(page);
  }
  console.log('phone first card tops', JSON.stringify(tops));
  for (const [phase, top] of Object.entries(tops)) expect(top, `first card in phase ${phase}`).toBeLessThan(400);
});

/** How many cards of each ordinary column are wholly inside both their column's list and the window. */
async function visibleCardsPerColumn(page: Page): Promise<Record<string, number>> {
  return page.getByTestId('column').evaluateAll((columns) => {
    const found: Record<string, number> = {};
    for (const column of columns) {
      if (column.classList.contains('column-statement')) continue;
      const rect = column.getBoundingClientRect();
      if (rect.right > window.innerWidth || rect.left < 0) continue;
      const list = column.querySelector('.card-list')?.getBoundingClientRect() ?? rect;
      const bottom = Math.min(list.bottom, window.innerHeight);
      const cards = [...column.querySelectorAll('[data-testid="card"]')].filter((card) => {
        const box = card.getBoundingClientRect();
        return box.top >= list.top - 1 && box.bottom <= bottom + 1;
      });
      found[column.querySelector('.column-title')?.textContent?.trim() ?? '?'] = cards.length;
    }
    return found;
  });
}

test('on a 1366×768 laptop each column shows at least four cards, and the navigator reaches every column', async ({ open }) => {
  const created = await createBoard({ title: 'Leiri: Leader-periaatteet', name: 'Fasilitaattori' });
  const view = await boardView(created.session);
  const bodies = ['', 'Lyhyt perustelu kortille.', 'Vähän pidempi kuvaus siitä, mitä tällä tarkoitetaan ja miksi.'];
  for (const column of view.columns) {
    for (let index = 0; index < 6; index++) {
      await addCard(created.session, column.id, `${column.title}: idea ${index + 1}`, bodies[index % bodies.length]);
    }
  }
  for (const title of ['Visio', 'Missio']) {
    await command(created.session, { type: 'add_statement', column: crypto.randomUUID(), title, text: `${title}: kylät elävät, kun ihmiset tekevät yhdessä.` });
  }
  const session = crypto.randomUUID();
  await command(created.session, { type: 'create_session', session, name: 'Lauantai', date: '2026-06-13', anonymous: false });
  await command(created.session, { type: 'start_session', session });
  await command(created.session, { type: 'set_phase', session, phase: 'discuss' });
  const context = await open({ viewport: { width: 1366, height: 768 }, session: created.session, title: 'Leiri' });
  const page = await context.newPage();
  await page.goto(`/b/${created.session.board}`);
  await expectConnected(page);
  await expect(page.getByTestId('card').first()).toBeVisible();

  const shown = await visibleCardsPerColumn(page);
  console.log('1366×768 cards visible per column', JSON.stringify(shown));
  expect(Object.keys(shown).length, 'some ordinary column is on screen').toBeGreaterThan(0);
  for (const [title, count] of Object.entries(shown)) expect(count, `cards visible in ${title}`).toBeGreaterThanOrEqual(4);

  // The statements are at the far end of the strip: the navigator brings one into view.
  const navigator = page.getByRole('navigation', { name: 'Sarakkeet' });
  await navigator.getByRole('button', { name: 'Missio' }).click();
  await expect(page.getByTestId('column').filter({ has: page.getByRole('heading', { name: 'Missio', exact: true }) })).toBeInViewport({ ratio: 0.5 });
});

test('on a phone the facilitator’s first card is in the top half too, and the notes can be put away until they change', async ({ open }) => {
  const created = await createBoard({ title: 'Kesäleirin ideat ja äänestys', name: 'Fasilitaattori' });
  const view = await boardView(created.session);
  await addCard(created.session, view.columns[0]!.id, 'Ensimmäinen');
  const session = crypto.randomUUID();
  await command(created.session, { type: 'create_session', session, name: 'Lauantain työpaja', date: '2026-06-13', anonymous: false });
  await command(created.session, { type: 'start_session', session });
  await command(created.session, { type: 'start_vote_round', settings: { vote_budget: 5, votes_per_card: 3 }, hidden: true });
  await command(created.session, { type: 'set_phase', session, phase: 'vote' });
  const page = await (await open({ ...PHONE, session: created.session })).newPage();
  await page.goto(`/b/${created.session.board}`);
  await expectConnected(page);
  const before = await firstCardTop(page);
  expect(before, 'the facilitator’s first card').toBeLessThan(400);

  const hiddenNote = page.getByTestId('votes-hidden-notice');
  await expect(hiddenNote).toBeVisible();
  await page.getByTestId('notices-dismiss').tap();
  await expect(hiddenNote).toBeHidden();
  expect(await firstCardTop(page)).toBeLessThan(before);
  // The phase moves on: the notes are different now, so they show again.
  await command(created.session, { type: 'set_phase', session, phase: 'discuss' });
  await expect(page.getByTestId('phase')).toHaveText('Keskustelu');
  await expect(page.getByTestId('notices').getByText('Keskusteluvaiheessa ei äänestetä.')).toBeVisible();
});
