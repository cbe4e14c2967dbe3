/**
 * What a facilitator and phones hit at a real camp (issue 15): coming back with the join code,
 * the vote buttons at the cap and with no dots left, and removing a duplicate participant.
 */
import { devices, type BrowserContext, type Page } from '@playwright/test';
import { addCard, boardView, card, column, command, createBoard, dots, expect, expectConnected, test, type Created } from './helpers';

const PHONE = {
  viewport: { width: 360, height: 800 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
  userAgent: devices['Pixel 5'].userAgent,
};

async function joinWithCode(page: Page, code: string, name: string): Promise<void> {
  await page.goto('/');
  const form = page.getByTestId('join-code-form');
  await form.getByLabel('Liittymiskoodi').fill(code);
  await form.getByLabel('Nimesi').fill(name);
  await form.getByRole('button', { name: 'Liity' }).click();
  await expectConnected(page);
}

/** A board in its vote phase with one card, and a round of `budget` dots, `cap` per card. */
async function votingBoard(budget: number, cap: number): Promise<{ created: Created; first: string }> {
  const created = await createBoard({ title: 'Leirin äänestys', name: 'Fasilitaattori' });
  const view = await boardView(created.session);
  const target = view.columns[0]!.id;
  await addCard(created.session, target, 'Kyläkoulu iltakäyttöön');
  await command(created.session, { type: 'start_vote_round', settings: { vote_budget: budget, votes_per_card: cap }, hidden: false });
  return { created, first: view.columns[0]!.title };
}

test('coming back with the join code is the same participant, with the same dots, cards and notifications', async ({ open }) => {
  const { created, first } = await votingBoard(2, 2);
  const context: BrowserContext = await open(PHONE);
  const page = await context.newPage();
  await joinWithCode(page, created.links.join_code, 'Aino');

  // Aino spends her dots and writes a card of her own; the facilitator mentions her.
  const shared = card(column(page, first), 'Kyläkoulu iltakäyttöön');
  await shared.getByRole('button', { name: 'Anna ääni' }).tap();
  await shared.getByRole('button', { name: 'Anna ääni' }).tap();
  await expect(dots(shared)).toHaveText('2 ääntä, joista sinun 2');
  await expect(page.getByTestId('votes-left')).toContainText('Ääniä jäljellä: 0/2');
  const view = await boardView(created.session);
  const aino = view.participants.find((found) => found.display_name === 'Aino')!;
  const cardId = view.cards[0]!.id;
  await command(created.session, { type: 'add_comment', comment: crypto.randomUUID(), card: cardId, body: 'Mitä mieltä @Aino?', reply_to: null });
  await expect(page.getByTestId('unread-count')).toHaveText('1');

  // The logo goes home; the same code and name again.
  await page.locator('.brand').click();
  await expect(page).toHaveURL(/\/$/);
  await joinWithCode(page, created.links.join_code, 'Aino');

  const votesLeft = page.getByTestId('votes-left');
  await expect(votesLeft).toContainText('Ääniä jäljellä: 0/2');
  await expect(dots(card(column(page, first), 'Kyläkoulu iltakäyttöön'))).toHaveText('2 ääntä, joista sinun 2');
  await expect(page.getByTestId('unread-count')).toHaveText('1');
  const after = await boardView(created.session);
  expect(after.participants.map((found) => found.display_name).sort()).toEqual(['Aino', 'Fasilitaattori']);
  expect(after.participants.find((found) => found.display_name === 'Aino')!.id).toBe(aino.id);
});

test('the vote "+" is off at the card cap and with no dots left, and says why beside it', async ({ open }) => {
  const { created, first } = await votingBoard(3, 2);
  const view = await boardView(created.session);
  const column0 = view.columns[0]!.id;
  await addCard(created.session, column0, 'Toinen kortti');
  const context = await open(PHONE);
  const page = await context.newPage();
  await joinWithCode(page, created.links.join_code, 'Eero');

  const one = card(column(page, first), 'Kyläkoulu iltakäyttöön');
  const two = card(column(page, first), 'Toinen kortti');
  const plus = one.getByTestId('vote-plus');
  await expect(one.getByTestId('vote-minus')).toBeDisabled();
  await plus.tap();
  await plus.tap();
  await expect(dots(one)).toHaveText('2 ääntä, joista sinun 2');
  await expect(plus).toBeDisabled();
  await expect(one.getByTestId('vote-why')).toHaveText('Enintään 2 ääntä kortille');
  await expect(one.getByTestId('vote-minus')).toBeEnabled();

  await two.getByTestId('vote-plus').tap();
  await expect(page.getByTestId('votes-left')).toContainText('Ääniä jäljellä: 0/3');
  await expect(two.getByTestId('vote-plus')).toBeDisabled();
  await expect(two.getByTestId('vote-why')).toHaveText('Kaikki 3 ääntäsi on käytetty');

  // A refusal the page could not foresee (a tap in flight when the facilitator lowered the
  // budget) is told on the card, never as an unsent message at the top.
  await command(created.session, { type: 'start_vote_round', settings: { vote_budget: 1, votes_per_card: 1 }, hidden: false });
  await expect(page.getByTestId('votes-left')).toContainText('Ääniä jäljellä: 1/1');
  await one.getByTestId('vote-plus').tap();
  await expect(page.getByTestId('votes-left')).toContainText('Ääniä jäljellä: 0/1');
  // Press the disabled "+" the way a page a moment behind the server would.
  await two.getByTestId('vote-plus').evaluate((button: HTMLButtonElement) => {
    button.disabled = false;
    button.click();
  });
  await expect(two.getByTestId('vote-why')).toHaveText('Olet käyttänyt kaikki äänesi.');
  await expect(page.getByTestId('unsent')).toHaveCount(0);
  await page.reload();
  await expectConnected(page);
  await expect(page.getByTestId('unsent')).toHaveCount(0);
});
