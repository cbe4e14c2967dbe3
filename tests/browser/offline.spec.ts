/**
 * B goes offline while A keeps writing; B types a card while offline (kept, shown as
 * pending); back online, B's card is sent and acknowledged and both show the same board.
 */
import { test } from '@playwright/test';
import {
  addCardUI,
  boardShape,
  card,
  cardTitles,
  column,
  commentCount,
  createBoard,
  expect,
  expectConnected,
  joinBoard,
  newContext,
  openBoard,
} from './helpers';

test('offline and back: B’s typed card is kept and sent, and both boards end up the same', async ({ browser }) => {
  // Setup over HTTP: the board, and B as a participant.
  const created = await createBoard({ title: 'Verkostotapaaminen', name: 'Aino' });
  const sessionB = await joinBoard(created.links.participant, 'Bertta');
  const contextA = await newContext(browser, { session: created.session });
  const contextB = await newContext(browser, { session: sessionB });
  const a = await contextA.newPage();
  const b = await contextB.newPage();
  await openBoard(a, created.session.board);
  await openBoard(b, sessionB.board);

  await addCardUI(a, 'Alhaalta ylöspäin', 'Ennen katkosta');
  await expect(card(b, 'Ennen katkosta')).toBeVisible();

  // B loses the network.
  await contextB.setOffline(true);
  const badgeB = b.getByTestId('connection');
  await expect(badgeB).toHaveAttribute('data-state', /^(offline|reconnecting)$/);
  await expect(badgeB).toHaveText(/Ei yhteyttä|Yhdistetään uudelleen…/);

  // A keeps writing: two cards and a comment.
  await addCardUI(a, 'Monialaisuus', 'Kirjaston ja koulun yhteishanke');
  await addCardUI(a, 'Verkostoituminen', 'Naapurikylien yhteinen tapahtumakalenteri');
  await card(a, 'Ennen katkosta').getByRole('button', { name: 'Ennen katkosta', exact: true }).click();
  const dialogA = a.getByRole('dialog', { name: 'Ennen katkosta' });
  await dialogA.getByLabel('Kommentti').fill('Kommentti katkon aikana');
  await dialogA.getByRole('button', { name: 'Lähetä kommentti' }).click();
  await expect(dialogA.getByTestId('comment')).toHaveCount(1);
  await dialogA.getByRole('button', { name: 'Sulje' }).click();
  await expect(a.getByTestId('card')).toHaveCount(3);

  // B sees none of it while offline.
  await expect(b.getByTestId('card')).toHaveCount(1);
  await expect(commentCount(card(b, 'Ennen katkosta'))).toHaveText('0');

  // B types a card while offline: it is kept and shown as waiting.
  const offlineTitle = 'Kirjoitettu ilman verkkoa';
  const target = column(b, 'Innovatiivisuus');
  await target.getByRole('button', { name: 'Lisää kortti sarakkeeseen Innovatiivisuus' }).click();
  await target.getByLabel('Otsikko').fill(offlineTitle);
  await target.getByLabel('Kuvaus').fill('Tämä odottaa yhteyttä');
  await target.getByRole('button', { name: 'Tallenna' }).click();
  const pending = target.getByTestId('card-pending');
  await expect(pending).toHaveCount(1);
  await expect(pending.locator('.card-title')).toHaveText(offlineTitle);
  await expect(pending).toContainText('Odottaa lähetystä…');
  await expect(badgeB).toContainText('1 muutos odottaa lähetystä');
  await expect(b.getByTestId('card')).toHaveCount(1);
  // Still offline: nothing has reached A.
  await expect(a.getByTestId('card')).toHaveCount(3);
  await target.getByRole('button', { name: 'Peruuta' }).click();

  // Back online: B reconnects, catches up, and its card is sent and acknowledged.
  await contextB.setOffline(false);
  await expectConnected(b, 30_000);
  await expect(b.getByTestId('card-pending')).toHaveCount(0, { timeout: 15_000 });
  await expect(card(b, offlineTitle)).toBeVisible();
  await expect(card(a, offlineTitle)).toBeVisible();
  await expect(badgeB).not.toContainText('odottaa lähetystä');
  await expect(b.getByTestId('unsent')).toHaveCount(0);

  // Exactly the same board on both screens.
  const expected = [
    'Ennen katkosta',
    'Kirjaston ja koulun yhteishanke',
    offlineTitle,
    'Naapurikylien yhteinen tapahtumakalenteri',
  ].sort();
  await expect.poll(() => cardTitles(b)).toEqual(expected);
  await expect.poll(() => cardTitles(a)).toEqual(expected);
  await expect(commentCount(card(b, 'Ennen katkosta'))).toHaveText('1');
  const shapeA = await boardShape(a);
  await expect.poll(() => boardShape(b)).toEqual(shapeA);

  // The card was stored once, not twice (a retried command is not applied again): a reload shows the same.
  await b.reload();
  await expectConnected(b);
  await expect.poll(() => cardTitles(b)).toEqual(expected);

  await contextA.close();
  await contextB.close();
});
