/**
 * Two browsers on one board: A creates it through the UI and shares the participant link,
 * B joins with it; A adds a card, comments and votes, and B sees each change live.
 */
import {
  LEADER_COLUMNS,
  addCard,
  addCardUI,
  boardView,
  card,
  column,
  commentCount,
  createBoard,
  dots,
  expect,
  expectConnected,
  test,
} from './helpers';

test('B sees A’s card, comment and vote live', async ({ open }) => {
  const contextA = await open();
  const contextB = await open();
  const a = await contextA.newPage();
  const b = await contextB.newPage();

  // A creates the board through the home page's form.
  await a.goto('/');
  const form = a.getByTestId('create-board-form');
  await form.getByLabel('Taulun nimi').fill('Kylätoimikunnan työpaja');
  await form.getByLabel('Kuvaus (vapaaehtoinen)').fill('Ideoita kylän kehittämiseen');
  await expect(form.getByLabel('Taulun kieli')).toHaveValue('fi');
  await form.getByRole('radio', { name: /Leaderin seitsemän periaatetta/ }).check();
  await form.getByLabel('Nimesi').fill('Aino');
  await form.getByRole('button', { name: 'Luo taulu' }).click();

  await expect(a).toHaveURL(/\/b\/[0-9a-f-]{36}$/);
  await expectConnected(a);
  await expect(a.getByRole('heading', { level: 1 })).toHaveText('Kylätoimikunnan työpaja');
  await expect(a.getByTestId('column').locator('.column-title')).toHaveText(LEADER_COLUMNS);
  await expect(a.getByTestId('votes-left')).toContainText('Ääniä jäljellä: 5/5');

  // The share dialog gives the participant link.
  await a.getByRole('button', { name: 'Jaa linkit' }).click();
  const share = a.getByRole('dialog', { name: 'Kutsu taululle' });
  await expect(share.getByTestId('join-code')).toHaveText(/^[A-Z0-9]{6}$/);
  const participantLink = await share.getByLabel('Osallistujalinkki').inputValue();
  expect(participantLink).toMatch(/\/join\/[0-9a-f-]{36}\/p\//);
  await share.getByRole('button', { name: 'Sulje' }).click();
  await expect(share).toBeHidden();

  // B opens the link in another browser and joins with a name.
  await b.goto(participantLink);
  const joinForm = b.getByTestId('join-form');
  await expect(b.getByRole('heading', { level: 1 })).toHaveText('Kylätoimikunnan työpaja');
  await joinForm.getByLabel('Nimesi').fill('Bertta');
  await joinForm.getByRole('button', { name: 'Liity' }).click();
  await expect(b).toHaveURL(/\/b\/[0-9a-f-]{36}$/);
  await expectConnected(b);
  await expect(b.getByTestId('column').locator('.column-title')).toHaveText(LEADER_COLUMNS);
  await expect(b.getByTestId('votes-left')).toContainText('Ääniä jäljellä: 5/5');
  // A sees B arrive.
  await expect(a.locator('.presence summary')).toContainText('2 paikalla');

  // A adds a card: B sees it without reloading.
  const title = 'Kyläkauppa yhteiseksi olohuoneeksi';
  await addCardUI(a, 'Paikallinen kumppanuus', title, 'Kahvila ja kokoontumistila kaupan yhteyteen');
  await expect(card(column(a, 'Paikallinen kumppanuus'), title)).toBeVisible();
  const cardOnB = card(column(b, 'Paikallinen kumppanuus'), title);
  await expect(cardOnB).toBeVisible();
  await expect(cardOnB.locator('.card-body')).toHaveText('Kahvila ja kokoontumistila kaupan yhteyteen');
  await expect(cardOnB.locator('.card-meta')).toHaveText('Aino');

  // B opens the card and keeps it open; A comments on it.
  await cardOnB.getByRole('button', { name: title, exact: true }).click();
  const dialogB = b.getByRole('dialog', { name: title });
  await expect(dialogB.getByTestId('card-dialog')).toBeVisible();
  await expect(dialogB.getByText('Ei vielä kommentteja.')).toBeVisible();

  await card(a, title).getByRole('button', { name: title, exact: true }).click();
  const dialogA = a.getByRole('dialog', { name: title });
  const comment = 'Hyvä idea, kysytään kauppiaalta ensi viikolla.';
  await dialogA.getByLabel('Kommentti').fill(comment);
  await dialogA.getByRole('button', { name: 'Lähetä kommentti' }).click();
  await expect(dialogA.getByTestId('comment')).toHaveCount(1);
  await expect(dialogA.getByTestId('comment-pending')).toHaveCount(0);

  await expect(dialogB.getByTestId('comment')).toHaveCount(1);
  await expect(dialogB.getByTestId('comment').locator('.comment-body')).toHaveText(comment);
  await expect(dialogB.getByTestId('comment').locator('.comment-meta strong')).toHaveText('Aino');
  await expect(commentCount(cardOnB)).toHaveText('1');

  // A votes (in the open card): A's remaining dots go down, B sees the total go up.
  await dialogA.getByRole('button', { name: 'Anna ääni' }).click();
  await expect(a.getByTestId('votes-left')).toContainText('Ääniä jäljellä: 4/5');
  await expect(dots(dialogA)).toHaveText('1 ääni, joista sinun 1');
  await expect(dots(dialogB)).toHaveText('1 ääni');
  await expect(dots(cardOnB)).toHaveText('1 ääni');
  // B's own budget is B's own.
  await expect(b.getByTestId('votes-left')).toContainText('Ääniä jäljellä: 5/5');

  // A second dot and a like, live as well.
  await dialogA.getByRole('button', { name: 'Anna ääni' }).click();
  await expect(a.getByTestId('votes-left')).toContainText('Ääniä jäljellä: 3/5');
  await expect(dots(cardOnB)).toHaveText('2 ääntä');
  await dialogA.getByRole('button', { name: /Tykkää/ }).first().click();
  await expect(dialogA.getByRole('button', { name: /Tykkää/ }).first()).toHaveAttribute('aria-pressed', 'true');
  await expect(dialogB.locator('.like-button .count')).toHaveText('1');

  // B replies to A's comment; A sees the reply live, under the comment.
  await dialogB.getByTestId('comment').getByRole('button', { name: 'Vastaa' }).click();
  await dialogB.getByLabel('Vastauksesi').fill('Minä voin kysyä!');
  await dialogB.getByRole('button', { name: 'Lähetä vastaus' }).click();
  const replyOnA = dialogA.getByRole('list', { name: 'Vastaukset' }).getByTestId('comment');
  await expect(replyOnA).toHaveCount(1);
  await expect(replyOnA.locator('.comment-body')).toHaveText('Minä voin kysyä!');
  await expect(replyOnA.locator('.comment-meta strong')).toHaveText('Bertta');
  await expect(commentCount(card(a, title))).toHaveText('2');

  // Back in the same browser later, B is still the same participant: the link leads to the board.
  await b.goto(participantLink);
  await expect(b).toHaveURL(/\/b\/[0-9a-f-]{36}$/);
  await expectConnected(b);
  await expect(b.locator('.role-note')).toHaveText('Bertta · osallistuja');
  await expect(b.getByTestId('votes-left')).toContainText('Ääniä jäljellä: 5/5');
  await expect(a.locator('.presence summary')).toContainText('2 paikalla');

});

test('an observer link reads the board live without joining', async ({ open }) => {
  const created = await createBoard({ title: 'Projektorinäkymä', name: 'Fanni' });
  const view = await boardView(created.session);
  await addCard(created.session, view.columns[0]!.id, 'Ensimmäinen kortti');

  const context = await open();
  const page = await context.newPage();
  await page.goto(created.links.observer);
  await page.getByRole('button', { name: 'Vain lukeminen' }).click();
  await expect(page).toHaveURL(new RegExp(`/b/${created.session.board}$`));
  await expectConnected(page);
  await expect(page.locator('.role-note')).toHaveText('Vain luku');
  await expect(card(page, 'Ensimmäinen kortti')).toBeVisible();
  // Nothing to write with: no add-card buttons, no vote buttons, no budget.
  await expect(page.getByRole('button', { name: /^Lisää kortti/ })).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Anna ääni' })).toHaveCount(0);
  await expect(page.getByTestId('votes-left')).toHaveCount(0);

  // Changes still arrive live.
  await addCard(created.session, view.columns[1]!.id, 'Toinen kortti');
  await expect(card(column(page, 'Paikallinen kumppanuus'), 'Toinen kortti')).toBeVisible();
});
