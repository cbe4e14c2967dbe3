/**
 * Search: a participant types an accent-less word and finds a comment written with ä, its match
 * marked; choosing it opens the comment's card. On a 360 px phone an observer (the observer
 * link, not joined) searches too, and the results fit the screen. The dialog with its results
 * has no axe-core violation, and results are text: markup in a card never becomes elements.
 */
import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { addCard, addComment, boardView, createBoard, expect, expectConnected, joinBoard, openBoard, test } from './helpers';

/** axe-core's findings in the open search dialog (WCAG 2.2 AA and best practice). */
async function violations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'])
    .include('dialog[open]')
    .analyze();
  expect(results.passes.length).toBeGreaterThan(5);
  return results.violations.map((violation) => `${violation.id}: ${violation.nodes.map((node) => node.target.join(' ')).join(', ')}`);
}

test('“aania” finds the comment with “ääniä”, marked, and opens its card', async ({ open }) => {
  const created = await createBoard({ title: 'Kylän kesä', name: 'Fanni' });
  const aino = await joinBoard(created.links.participant, 'Aino');
  const view = await boardView(created.session);
  const columns = view.columns.map((column) => column.id);
  const yard = await addCard(created.session, columns[0]!, 'Kylätalon piha', 'Keinut ja hiekkalaatikko.');
  await addCard(created.session, columns[1]!, 'Äänentoisto juhliin');
  await addCard(aino, columns[2]!, 'Lähiruokapiiri');
  await addComment(aino, yard, 'Lapsilta kuului iloisia ääniä kylätalon pihalla.');

  const context = await open({ session: aino });
  const page = await context.newPage();
  await openBoard(page, aino.board);

  await page.getByRole('button', { name: 'Hae', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Hae taululta' });
  const field = dialog.getByLabel('Hakusanat');
  await expect(field).toBeFocused();
  await field.pressSequentially('aania');

  await expect(dialog.getByRole('status')).toHaveText('1 osuma');
  const hits = dialog.getByTestId('search-hit');
  await expect(hits).toHaveCount(1);
  const hit = hits.first();
  await expect(hit.locator('.search-kind')).toHaveText('Kommentti');
  await expect(hit.locator('.search-hit-title')).toHaveText('Kylätalon piha');
  await expect(hit.locator('.search-hit-snippet')).toHaveText('Lapsilta kuului iloisia ääniä kylätalon pihalla.');
  // The match is marked as text, word for word as written.
  await expect(hit.locator('mark')).toHaveText(['ääniä']);
  expect(await violations(page)).toEqual([]);

  await hit.click();
  await expect(dialog).toHaveCount(0);
  const cardDialog = page.getByRole('dialog', { name: 'Kylätalon piha' });
  await expect(cardDialog).toBeVisible();
  await expect(cardDialog.getByText('Lapsilta kuului iloisia ääniä kylätalon pihalla.')).toBeVisible();

  // Closing the card returns to the board; the search keeps its words for the next look.
  await cardDialog.getByRole('button', { name: 'Sulje' }).click();
  await page.getByRole('button', { name: 'Hae', exact: true }).click();
  await expect(page.getByRole('dialog', { name: 'Hae taululta' }).getByLabel('Hakusanat')).toHaveValue('aania');
});

test('an observer searches on a 360 px phone', async ({ open }) => {
  const created = await createBoard({ title: 'Leiri', name: 'Fanni' });
  const view = await boardView(created.session);
  const column = view.columns[0]!.id;
  await addCard(created.session, column, 'Kylätalon remontti', 'Talkoot pidetään toukokuussa kylätalolla.');
  await addCard(created.session, column, 'Kyläkoulun kerhotila');
  await addCard(created.session, column, 'Nuorisotila');

  const context = await open({ viewport: { width: 360, height: 800 }, hasTouch: true, isMobile: true });
  const page = await context.newPage();
  await page.goto(created.links.observer);
  await page.getByRole('button', { name: 'Vain lukeminen' }).click();
  await expectConnected(page);

  await page.getByRole('button', { name: 'Hae', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Hae taululta' });
  // "kylä" is the start of both "Kylätalon" and "Kyläkoulun".
  await dialog.getByLabel('Hakusanat').fill('kylä');
  await expect(dialog.getByRole('status')).toHaveText('2 osumaa');
  await expect(dialog.getByTestId('search-hit').locator('.search-hit-title')).toHaveText([
    'Kylätalon remontti',
    'Kyläkoulun kerhotila',
  ]);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  const box = await dialog.boundingBox();
  expect(box && box.x >= 0 && box.x + box.width <= 360).toBe(true);
  expect(await violations(page)).toEqual([]);

  await dialog.getByLabel('Hakusanat').fill('ei löydy mitään');
  await expect(dialog.getByRole('status')).toHaveText('Ei osumia.');
});

test('results are text: markup in a card is shown as written and never runs', async ({ open }) => {
  const created = await createBoard({ title: 'Merkit', name: 'Fanni' });
  const view = await boardView(created.session);
  const title = '<img src=x onerror="window.__ran=1"><b>Kylätalo</b>';
  await addCard(created.session, view.columns[0]!.id, title);

  const context = await open({ session: created.session });
  const page = await context.newPage();
  await openBoard(page, created.session.board);
  await page.getByRole('button', { name: 'Hae', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Hae taululta' });
  await dialog.getByLabel('Hakusanat').fill('kylatalo');
  const hit = dialog.getByTestId('search-hit');
  await expect(hit.locator('.search-hit-title')).toHaveText(title);
  // Only the word is marked; the markup around it is text, not elements.
  await expect(hit.locator('mark')).toHaveText(['Kylätalo']);
  await expect(dialog.locator('img, b')).toHaveCount(0);
  expect(await page.evaluate(() => (window as unknown as { __ran?: number }).__ran)).toBeUndefined();
});
