/**
 * Moving a card with the keyboard alone: Tab to the card's "Siirrä…", Enter, arrow keys in
 * the "Siirrä kortti" dialog, Enter on "Siirrä". The other browser sees the card move.
 */
import type { Locator, Page } from '@playwright/test';
import { addCard, boardView, card, column, createBoard, expect, joinBoard, openBoard, test } from './helpers';

/** Presses Tab until `target` has the focus (at most `limit` times), as a keyboard user would. */
async function tabTo(page: Page, target: Locator, limit = 80): Promise<number> {
  const handle = await target.elementHandle();
  for (let presses = 1; presses <= limit; presses++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate((element) => document.activeElement === element, handle)) return presses;
  }
  throw new Error(`Tab did not reach ${target} in ${limit} presses`);
}

test('a card moves to another column by keyboard alone, and the other browser sees it', async ({ open }) => {
  const created = await createBoard({ title: 'Siirtotesti', name: 'Fanni' });
  const mover = await joinBoard(created.links.participant, 'Kalle');
  const view = await boardView(created.session);
  const [first, second] = view.columns;
  await addCard(mover, first!.id, 'Siirrettävä kortti');
  await addCard(created.session, second!.id, 'Toisen sarakkeen kortti');

  const contextK = await open({ session: mover });
  const contextF = await open({ session: created.session });
  const k = await contextK.newPage();
  const f = await contextF.newPage();
  await openBoard(k, mover.board);
  await openBoard(f, created.session.board);
  await expect(card(column(f, 'Alhaalta ylöspäin'), 'Siirrettävä kortti')).toBeVisible();

  // The participant may move only their own card: "Siirrä…" is on it, not on the other one.
  const moving = card(k, 'Siirrettävä kortti');
  await expect(card(k, 'Toisen sarakkeen kortti').getByRole('button', { name: 'Siirrä…' })).toHaveCount(0);
  const moveButton = moving.getByRole('button', { name: 'Siirrä…' });
  await expect(moveButton).toBeVisible();

  // Keyboard only from here on.
  await k.locator('body').click({ position: { x: 1, y: 1 } });
  await tabTo(k, moveButton);
  await k.keyboard.press('Enter');

  const dialog = k.getByRole('dialog', { name: 'Siirrä kortti' });
  await expect(dialog).toBeVisible();
  const columnSelect = dialog.getByLabel('Sarake');
  const placeSelect = dialog.getByLabel('Paikka');
  await expect(columnSelect).toBeFocused();
  await expect(columnSelect.locator('option:checked')).toHaveText('Alhaalta ylöspäin');

  // Down two columns with the arrow keys: "Monialaisuus".
  await k.keyboard.press('ArrowDown');
  await k.keyboard.press('ArrowDown');
  await expect(columnSelect.locator('option:checked')).toHaveText('Monialaisuus');
  await expect(placeSelect.locator('option:checked')).toHaveText('1 (ainoa kortti)');

  await k.keyboard.press('Tab');
  await expect(placeSelect).toBeFocused();
  await k.keyboard.press('Tab');
  await expect(dialog.getByRole('button', { name: 'Siirrä', exact: true })).toBeFocused();
  await k.keyboard.press('Enter');
  await expect(dialog).toBeHidden();

  // Moved, on both screens.
  for (const page of [k, f]) {
    await expect(card(column(page, 'Monialaisuus'), 'Siirrettävä kortti')).toBeVisible();
    await expect(card(column(page, 'Alhaalta ylöspäin'), 'Siirrettävä kortti')).toHaveCount(0);
  }
  await expect(k.getByTestId('unsent')).toHaveCount(0);

  // A second move by keyboard, before another card in the same column.
  await tabTo(k, card(column(k, 'Monialaisuus'), 'Siirrettävä kortti').getByRole('button', { name: 'Siirrä…' }));
  await k.keyboard.press('Enter');
  await expect(columnSelect).toBeFocused();
  await k.keyboard.press('ArrowUp');
  await expect(columnSelect.locator('option:checked')).toHaveText('Paikallinen kumppanuus');
  await k.keyboard.press('Tab');
  await expect(placeSelect).toBeFocused();
  // Place 1 is first, before "Toisen sarakkeen kortti"; place 2 is last.
  await expect(placeSelect.locator('option')).toHaveText(['1 (ylimmäksi)', '2 (alimmaksi)']);
  await k.keyboard.press('Home');
  await expect(placeSelect.locator('option:checked')).toHaveText('1 (ylimmäksi)');
  await k.keyboard.press('Tab');
  await k.keyboard.press('Enter');
  await expect(dialog).toBeHidden();
  for (const page of [k, f]) {
    await expect(column(page, 'Paikallinen kumppanuus').getByTestId('card').locator('.card-title')).toHaveText([
      'Siirrettävä kortti',
      'Toisen sarakkeen kortti',
    ]);
  }

});

/**
 * After a keyboard move the card is drawn anew in its new column; the focus must follow it
 * rather than fall back to <body>, or a keyboard user starts again from the top (WCAG 2.4.3).
 */
test('after a keyboard move the focus stays on the moved card', async ({ open }) => {
  const created = await createBoard({ title: 'Fokustesti', name: 'Fanni' });
  const view = await boardView(created.session);
  await addCard(created.session, view.columns[0]!.id, 'Fokuskortti');
  const context = await open({ session: created.session });
  const page = await context.newPage();
  await openBoard(page, created.session.board);

  await page.locator('body').click({ position: { x: 1, y: 1 } });
  await tabTo(page, card(page, 'Fokuskortti').getByRole('button', { name: 'Siirrä…' }));
  await page.keyboard.press('Enter');
  const dialog = page.getByRole('dialog', { name: 'Siirrä kortti' });
  await expect(dialog.getByLabel('Sarake')).toBeFocused();
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Enter');
  await expect(dialog).toBeHidden();
  const moved = card(column(page, 'Paikallinen kumppanuus'), 'Fokuskortti');
  await expect(moved).toBeVisible();

  const focusInCard = await moved.evaluate((element) => element.contains(document.activeElement));
  expect(focusInCard, 'the focus is inside the moved card').toBe(true);
});

test('drag and drop moves a card on a laptop, and the other browser sees it', async ({ open }) => {
  const created = await createBoard({ title: 'Raahaus', name: 'Fanni' });
  const view = await boardView(created.session);
  await addCard(created.session, view.columns[0]!.id, 'Raahattava kortti');
  await addCard(created.session, view.columns[2]!.id, 'Monialainen kortti');
  const contextF = await open({ session: created.session, viewport: { width: 1440, height: 900 } });
  const contextO = await open({ session: await joinBoard(created.links.participant, 'Olli') });
  const f = await contextF.newPage();
  const o = await contextO.newPage();
  await openBoard(f, created.session.board);
  await openBoard(o, created.session.board);

  const dragged = card(f, 'Raahattava kortti');
  await expect(dragged).toHaveAttribute('draggable', 'true');
  // Dropped on the upper part of the existing card: it goes first in that column.
  await dragged.dragTo(card(column(f, 'Monialaisuus'), 'Monialainen kortti'), { targetPosition: { x: 20, y: 5 } });

  for (const page of [f, o]) {
    await expect(column(page, 'Monialaisuus').getByTestId('card').locator('.card-title')).toHaveText([
      'Raahattava kortti',
      'Monialainen kortti',
    ]);
    await expect(column(page, 'Alhaalta ylöspäin').getByTestId('card')).toHaveCount(0);
  }
});
