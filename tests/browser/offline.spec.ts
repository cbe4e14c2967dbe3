/**
 * B goes offline while A keeps writing; B types a card while offline (kept, shown as
 * pending); back online, B's card is sent and acknowledged and both show the same board.
 */
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
  openBoard,
  test,
} from './helpers';

test('offline and back: B’s typed card is kept and sent, and both boards end up the same', async ({ open }) => {
  // Setup over HTTP: the board, and B as a participant.
  const created = await createBoard({ title: 'Verkostotapaaminen', name: 'Aino' });
  const sessionB = await joinBoard(created.links.participant, 'Bertta');
  const contextA = await open({ session: created.session });
  const contextB = await open({ session: sessionB });
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

  // And a comment typed offline: kept and shown as waiting as well.
  await card(b, 'Ennen katkosta').getByRole('button', { name: 'Ennen katkosta', exact: true }).click();
  const dialogB = b.getByRole('dialog', { name: 'Ennen katkosta' });
  await dialogB.getByLabel('Kommentti').fill('Kirjoitin tämän junassa');
  await dialogB.getByRole('button', { name: 'Lähetä kommentti' }).click();
  await expect(dialogB.getByTestId('comment-pending')).toHaveCount(1);
  await expect(dialogB.getByTestId('comment-pending')).toContainText('Kirjoitin tämän junassa');
  await expect(dialogB.getByTestId('comment')).toHaveCount(0);
  await expect(badgeB).toContainText('2 muutosta odottaa lähetystä');

  // Back online: B reconnects, catches up, and its card is sent and acknowledged.
  await contextB.setOffline(false);
  await expectConnected(b, 30_000);
  await expect(b.getByTestId('card-pending')).toHaveCount(0, { timeout: 15_000 });
  await expect(card(b, offlineTitle)).toBeVisible();
  await expect(card(a, offlineTitle)).toBeVisible();
  await expect(badgeB).not.toContainText('odottaa lähetystä');
  await expect(b.getByTestId('unsent')).toHaveCount(0);
  // The comment went too, and the one A wrote meanwhile arrived: both, in the order the server took them.
  await expect(dialogB.getByTestId('comment-pending')).toHaveCount(0);
  await expect(dialogB.getByTestId('comment').locator('.comment-body')).toHaveText([
    'Kommentti katkon aikana',
    'Kirjoitin tämän junassa',
  ]);
  await dialogB.getByRole('button', { name: 'Sulje' }).click();

  // Exactly the same board on both screens.
  const expected = [
    'Ennen katkosta',
    'Kirjaston ja koulun yhteishanke',
    offlineTitle,
    'Naapurikylien yhteinen tapahtumakalenteri',
  ].sort();
  await expect.poll(() => cardTitles(b)).toEqual(expected);
  await expect.poll(() => cardTitles(a)).toEqual(expected);
  await expect(commentCount(card(b, 'Ennen katkosta'))).toHaveText('2');
  await expect(commentCount(card(a, 'Ennen katkosta'))).toHaveText('2');
  const shapeA = await boardShape(a);
  await expect.poll(() => boardShape(b)).toEqual(shapeA);

  // The card was stored once, not twice (a retried command is not applied again): a reload shows the same.
  await b.reload();
  await expectConnected(b);
  await expect.poll(() => cardTitles(b)).toEqual(expected);

});

test('a card typed offline survives closing the page and is sent when the board is opened again', async ({ open }) => {
  const created = await createBoard({ title: 'Katkotesti', name: 'Aino' });
  const sessionB = await joinBoard(created.links.participant, 'Bertta');
  const contextA = await open({ session: created.session });
  const contextB = await open({ session: sessionB });
  const a = await contextA.newPage();
  let b = await contextB.newPage();
  await openBoard(a, created.session.board);
  await openBoard(b, sessionB.board);

  await contextB.setOffline(true);
  await expect(b.getByTestId('connection')).toHaveAttribute('data-state', /^(offline|reconnecting)$/);
  const target = column(b, 'Monialaisuus');
  await target.getByRole('button', { name: 'Lisää kortti sarakkeeseen Monialaisuus' }).click();
  await target.getByLabel('Otsikko').fill('Suljetun sivun kortti');
  await target.getByRole('button', { name: 'Tallenna' }).click();
  await expect(target.getByTestId('card-pending')).toHaveCount(1);

  // The page is closed while still offline; later the network is back and the board is opened again.
  await b.close();
  await contextB.setOffline(false);
  b = await contextB.newPage();
  await b.goto(`/b/${sessionB.board}`);
  await expectConnected(b);
  await expect(card(b, 'Suljetun sivun kortti')).toBeVisible();
  await expect(b.getByTestId('card-pending')).toHaveCount(0);
  await expect(card(a, 'Suljetun sivun kortti')).toBeVisible();
  await expect(a.getByTestId('card')).toHaveCount(1);
});
