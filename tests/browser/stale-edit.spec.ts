/**
 * A stale edit: two people edit the same card from the same version. The second save is
 * refused as stale; the second person sees both versions and keeps theirs; both screens agree.
 */
import { addCard, boardView, card, command, createBoard, expect, joinBoard, openBoard, test } from './helpers';

test('a stale edit shows both versions, and “Pidä minun versioni” wins on both screens', async ({ open }) => {
  const created = await createBoard({ title: 'Hankeideat', name: 'Fanni' });
  const author = await joinBoard(created.links.participant, 'Pertti');
  const view = await boardView(created.session);
  await addCard(author, view.columns[0]!.id, 'Alkuperäinen otsikko', 'Alkuperäinen kuvaus');

  // The facilitator (who may edit any card) and the card's author, each in their own browser.
  const contextF = await open({ session: created.session });
  const contextP = await open({ session: author });
  const f = await contextF.newPage();
  const p = await contextP.newPage();
  await openBoard(f, created.session.board);
  await openBoard(p, author.board);

  // Both open the card and start editing the same version.
  async function startEditing(page: typeof f) {
    await card(page, 'Alkuperäinen otsikko').getByRole('button', { name: 'Alkuperäinen otsikko', exact: true }).click();
    await page.getByRole('dialog', { name: 'Alkuperäinen otsikko' }).getByRole('button', { name: 'Muokkaa' }).click();
    // The dialog is named by the card's title, which changes: it is found by its content.
    const dialog = page.getByRole('dialog').filter({ has: page.getByTestId('card-dialog') });
    await expect(dialog.getByLabel('Otsikko')).toHaveValue('Alkuperäinen otsikko');
    return dialog;
  }
  const dialogF = await startEditing(f);
  const dialogP = await startEditing(p);

  // The facilitator saves first.
  await dialogF.getByLabel('Otsikko').fill('Fannin otsikko');
  await dialogF.getByLabel('Kuvaus').fill('Fannin kuvaus');
  await dialogF.getByRole('button', { name: 'Tallenna' }).click();
  await expect(card(f, 'Fannin otsikko')).toBeVisible();
  await expect(card(p, 'Fannin otsikko')).toBeVisible();
  // The author's form still holds what the author is typing: nothing is overwritten under them.
  await expect(dialogP.getByLabel('Otsikko')).toHaveValue('Alkuperäinen otsikko');
  await expect(dialogP.getByRole('heading', { level: 2 }).first()).toHaveText('Fannin otsikko');

  // The author saves an edit based on the old version: refused as stale, both versions shown.
  await dialogP.getByLabel('Otsikko').fill('Pertin otsikko');
  await dialogP.getByLabel('Kuvaus').fill('Pertin kuvaus');
  await dialogP.getByRole('button', { name: 'Tallenna' }).click();

  const stale = p.getByRole('dialog', { name: 'Joku muutti tätä ensin' });
  await expect(stale).toBeVisible();
  await expect(stale.getByTestId('stale-mine').locator('.version-title')).toHaveText('Pertin otsikko');
  await expect(stale.getByTestId('stale-mine').locator('.version-body')).toHaveText('Pertin kuvaus');
  await expect(stale.getByTestId('stale-theirs').locator('.version-title')).toHaveText('Fannin otsikko');
  await expect(stale.getByTestId('stale-theirs').locator('.version-body')).toHaveText('Fannin kuvaus');
  // Nothing was overwritten yet.
  await expect(card(f, 'Fannin otsikko')).toBeVisible();
  await expect(card(p, 'Fannin otsikko')).toBeVisible();
  // The facilitator's screen gets no dialog: the refusal is only the author's.
  await expect(f.getByRole('dialog', { name: 'Joku muutti tätä ensin' })).toHaveCount(0);

  await stale.getByRole('button', { name: 'Pidä minun versioni' }).click();
  await expect(stale).toBeHidden();

  // The author's version is now the card's, on both screens.
  for (const page of [p, f]) {
    const found = card(page, 'Pertin otsikko');
    await expect(found).toBeVisible();
    await expect(found.locator('.card-body')).toHaveText('Pertin kuvaus');
    await expect(card(page, 'Fannin otsikko')).toHaveCount(0);
  }
  await expect(dialogF.getByRole('heading', { level: 2 }).first()).toHaveText('Pertin otsikko');
  await expect(dialogP.getByRole('heading', { level: 2 }).first()).toHaveText('Pertin otsikko');
  await expect(p.getByTestId('unsent')).toHaveCount(0);
  await expect(p.getByTestId('connection')).not.toContainText('odottaa');

});

test('“Pidä nykyinen versio” drops the stale edit and keeps the other person’s text', async ({ open }) => {
  const created = await createBoard({ title: 'Hankeideat 2', name: 'Fanni' });
  const author = await joinBoard(created.links.participant, 'Pertti');
  const view = await boardView(created.session);
  const cardId = await addCard(author, view.columns[0]!.id, 'Vanha otsikko', 'Vanha kuvaus');
  const context = await open({ session: author });
  const page = await context.newPage();
  await openBoard(page, author.board);

  await card(page, 'Vanha otsikko').getByRole('button', { name: 'Vanha otsikko', exact: true }).click();
  const dialog = page.getByRole('dialog').filter({ has: page.getByTestId('card-dialog') });
  await dialog.getByRole('button', { name: 'Muokkaa' }).click();
  await dialog.getByLabel('Otsikko').fill('Pertin muutos');

  // Meanwhile the facilitator edits the same version (over HTTP here).
  await command(created.session, { type: 'edit_card', card: cardId, title: 'Fannin muutos', body: 'Fannin kuvaus', base_version: 1 });
  await expect(card(page, 'Fannin muutos')).toBeVisible();

  await dialog.getByRole('button', { name: 'Tallenna' }).click();
  const stale = page.getByRole('dialog', { name: 'Joku muutti tätä ensin' });
  await expect(stale.getByTestId('stale-mine').locator('.version-title')).toHaveText('Pertin muutos');
  await expect(stale.getByTestId('stale-theirs').locator('.version-title')).toHaveText('Fannin muutos');
  await stale.getByRole('button', { name: 'Pidä nykyinen versio' }).click();
  await expect(stale).toBeHidden();
  await expect(card(page, 'Fannin muutos')).toBeVisible();
  await expect(card(page, 'Pertin muutos')).toHaveCount(0);
  await expect(page.getByTestId('unsent')).toHaveCount(0);
  const stored = await boardView(author);
  expect(stored.cards.map((found) => found.title)).toEqual(['Fannin muutos']);
});
