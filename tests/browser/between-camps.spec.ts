/**
 * Between camps: a participant leaves, others add cards and mention her, and when she comes
 * back exactly those are highlighted and she is notified; she answers with an @mention picked
 * from the suggestions.
 */
import { randomUUID } from 'node:crypto';
import { addCard, addComment, boardView, card, command, createBoard, expect, expectConnected, joinBoard, test, type Session } from './helpers';

interface Own {
  seen_through: number;
  notifications_read_through: number;
}

/** What the server tells `session` about themselves (their "seen" mark). */
async function ownOf(session: Session): Promise<Own | null> {
  const view = (await boardView(session)) as unknown as { participants: { id: string; own: Own | null }[] };
  return view.participants.find((found) => found.id === session.participant)?.own ?? null;
}

async function notificationsOf(session: Session): Promise<{ kind: string }[]> {
  const view = (await boardView(session)) as unknown as { notifications: { kind: string }[] };
  return view.notifications;
}

test('coming back shows what is new since the last visit and who mentioned you', async ({ open }) => {
  const created = await createBoard({ title: 'Kylien kehittämisryhmä' });
  const facilitator = created.session;
  const board = await boardView(facilitator);
  const ideas = board.columns[0]!.id;
  const pirjo = await joinBoard(created.links.participant, 'Pirjo Päivärinta');
  const eero = await joinBoard(created.links.participant, 'Eero');
  const old = await addCard(eero, ideas, 'Kesäteatterin katsomo');

  // Pirjo's first visit: nothing is new, and the server now remembers where she got to.
  const context = await open({ session: pirjo });
  let page = await context.newPage();
  await page.goto(`/b/${pirjo.board}`);
  await expectConnected(page);
  await expect(card(page, 'Kesäteatterin katsomo')).toBeVisible();
  await expect(page.locator('[data-new="true"]')).toHaveCount(0);
  await expect(page.getByTestId('new-since')).toHaveCount(0);
  await expect.poll(async () => (await ownOf(pirjo))?.seen_through ?? 0).toBeGreaterThan(0);
  await page.close();

  // While she is away: two new cards, and Eero mentions her on the old one.
  await addCard(eero, ideas, 'Kyläkoulun iltakäyttö');
  await addCard(facilitator, ideas, 'Nuorisotila');
  await addComment(eero, old, 'Mitä mieltä @Pirjo Päivärinta? Katsomo tarvitsee katoksen.');

  page = await context.newPage();
  await page.goto(`/b/${pirjo.board}`);
  await expectConnected(page);
  await expect(page.getByTestId('new-since')).toContainText('3 uutta asiaa viime käyntisi jälkeen');
  const fresh = page.getByTestId('card').and(page.locator('[data-new="true"]'));
  await expect(fresh.locator('.card-title')).toHaveText(['Kyläkoulun iltakäyttö', 'Nuorisotila']);
  await expect(card(page, 'Kesäteatterin katsomo')).not.toHaveAttribute('data-new', 'true');
  await expect(card(page, 'Kesäteatterin katsomo').getByTestId('new-comments')).toHaveText('1 uusi kommentti');
  await expect(page.getByTestId('column-new').first()).toHaveText('3 uutta');

  // The bell: one unread notification, saying who mentioned her and where.
  await expect(page.getByTestId('unread-count')).toHaveText('1');
  await page.getByTestId('notifications-button').click();
  const list = page.getByRole('dialog', { name: 'Ilmoitukset' });
  await expect(list.getByTestId('notification')).toHaveText([/Eero mainitsi sinut kortilla ”Kesäteatterin katsomo”/]);
  await list.getByTestId('notification').click();
  const dialog = page.getByTestId('card-dialog');
  await expect(dialog.getByTestId('comment')).toHaveAttribute('data-new', 'true');
  await expect(dialog.locator('mark.mention')).toHaveText('@Pirjo Päivärinta');
  await expect(page.getByTestId('unread-count')).toHaveCount(0);
  await expect.poll(async () => (await ownOf(pirjo))?.notifications_read_through ?? 0).toBeGreaterThan(0);

  // She answers Eero, picking his name from the suggestions, and follows nothing new by hand:
  // commenting follows the card.
  const field = dialog.getByLabel('Kommentti', { exact: true });
  await field.click();
  await field.pressSequentially('Hyvä ajatus @ee');
  const suggestions = page.getByRole('listbox', { name: 'Mainitse osallistuja' });
  await expect(suggestions.getByRole('option')).toHaveText(['@Eero']);
  await field.press('Enter');
  await expect(field).toHaveValue('Hyvä ajatus @Eero ');
  await field.pressSequentially('kiitos!');
  await dialog.getByRole('button', { name: 'Lähetä kommentti' }).click();
  await expect(dialog.getByTestId('comment')).toHaveCount(2);
  await expect(dialog.getByTestId('follow')).toHaveAttribute('aria-pressed', 'true');
  await expect.poll(async () => (await notificationsOf(eero)).map((found) => found.kind)).toEqual(['mentioned']);
  await page.keyboard.press('Escape');

  // Marking everything seen clears the highlights here and for her next visit.
  await page.getByRole('button', { name: 'Merkitse kaikki nähdyiksi' }).click();
  await expect(page.locator('[data-new="true"]')).toHaveCount(0);
  const marked = (await boardView(pirjo)).seq;
  await expect.poll(async () => (await ownOf(pirjo))?.seen_through ?? 0).toBeGreaterThanOrEqual(marked - 1);
  await page.reload();
  await expectConnected(page);
  await expect(card(page, 'Nuorisotila')).toBeVisible();
  await expect(page.locator('[data-new="true"]')).toHaveCount(0);

  // Something that arrives while she is here is seen as it arrives: it is not "new since your
  // last visit" (issue 15).
  await command(eero, { type: 'add_card', card: randomUUID(), column: ideas, title: 'Talkoopäivä', body: '' });
  await expect(card(page, 'Talkoopäivä')).toBeVisible();
  await expect(card(page, 'Talkoopäivä')).not.toHaveAttribute('data-new', 'true');
  await expect(page.getByTestId('new-since')).toHaveCount(0);
});
