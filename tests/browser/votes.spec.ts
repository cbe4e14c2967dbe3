/**
 * Dot voting at the edges: the budget and the per-card cap are the server's rules. The page
 * turns "+" off from what the server sent (budget, dots used, cap, the card's own dots) and says
 * why beside it; nothing ends up as an unsent message.
 */
import { randomUUID } from 'node:crypto';
import { addCard, addComment, boardView, card, command, commentCount, createBoard, dots, expect, joinBoard, openBoard, test } from './helpers';

test('votes past the per-card cap and the budget cannot be made, and the page says why', async ({ open }) => {
  const created = await createBoard({ title: 'Äänestys', name: 'Fanni' });
  const voter = await joinBoard(created.links.participant, 'Ville');
  const view = await boardView(created.session);
  await addCard(created.session, view.columns[0]!.id, 'Kortti A');
  await addCard(created.session, view.columns[1]!.id, 'Kortti B');
  const context = await open({ session: voter });
  const page = await context.newPage();
  await openBoard(page, voter.board);
  const votesLeft = page.getByTestId('votes-left');
  await expect(votesLeft).toContainText('Ääniä jäljellä: 5/5');

  // Three dots on one card (the default cap), then a fourth: refused.
  const a = card(page, 'Kortti A');
  const plusA = a.getByRole('button', { name: 'Anna ääni' });
  for (const left of [4, 3, 2]) {
    await plusA.click();
    await expect(votesLeft).toContainText(`Ääniä jäljellä: ${left}/5`);
  }
  await expect(dots(a)).toHaveText('3 ääntä, joista sinun 3');
  await expect(plusA).toBeDisabled();
  await expect(a.getByTestId('vote-why')).toHaveText('Enintään 3 ääntä kortille');
  await expect(votesLeft).toContainText('Ääniä jäljellä: 2/5');
  const unsent = page.getByTestId('unsent');
  await expect(unsent).toHaveCount(0);

  // Two on the other card use up the budget; "+" is then off everywhere, saying why.
  const b = card(page, 'Kortti B');
  const plusB = b.getByRole('button', { name: 'Anna ääni' });
  await plusB.click();
  await expect(votesLeft).toContainText('Ääniä jäljellä: 1/5');
  await plusB.click();
  await expect(votesLeft).toContainText('Ääniä jäljellä: 0/5');
  await expect(plusB).toBeDisabled();
  await expect(b.getByTestId('vote-why')).toHaveText('Kaikki 5 ääntäsi on käytetty');
  await expect(dots(b)).toHaveText('2 ääntä, joista sinun 2');

  // Taking a dot back frees one, and "+" is on again.
  await a.getByRole('button', { name: 'Peru ääni' }).click();
  await expect(votesLeft).toContainText('Ääniä jäljellä: 1/5');
  await plusB.click();
  await expect(votesLeft).toContainText('Ääniä jäljellä: 0/5');
  await expect(dots(b)).toHaveText('3 ääntä, joista sinun 3');
  await expect(unsent).toHaveCount(0);

  // What the server stored agrees.
  const stored = await boardView(voter);
  const totals = Object.fromEntries(
    (stored.cards as unknown as { title: string; vote_total: number }[]).map((found) => [found.title, found.vote_total]),
  );
  expect(totals).toEqual({ 'Kortti A': 2, 'Kortti B': 3 });
});

test('a group shows its cards’ likes and comments, and each card’s own, live', async ({ open }) => {
  const created = await createBoard({ title: 'Ryhmät', name: 'Fanni' });
  const voter = await joinBoard(created.links.participant, 'Ville');
  const view = await boardView(created.session);
  const ideas = view.columns[0]!.id;
  const first = await addCard(voter, ideas, 'Kyläkoulu etäpisteeksi');
  const second = await addCard(voter, ideas, 'Kylätalon kahvila');
  await command(voter, { type: 'toggle_reaction', target: { kind: 'card', id: first } });
  await command(created.session, { type: 'toggle_reaction', target: { kind: 'card', id: first } });
  await addComment(voter, second, 'Kahvila olisi kiva');
  const group = randomUUID();
  await command(created.session, { type: 'group_cards', group, heading: 'Kylän tilat', cards: [first, second] });

  const context = await open({ session: voter });
  const page = await context.newPage();
  await openBoard(page, voter.board);
  const grouped = page.locator('[data-testid="card"][data-group="true"]');
  await expect(grouped.locator('.card-title')).toHaveText('Kylän tilat');
  // The group's own counts include its cards' (it showed 0 and 0).
  await expect(grouped.locator('.like-button .count')).toHaveText('2');
  await expect(commentCount(grouped)).toHaveText('1');
  // Each card in the group says what it has.
  const members = grouped.getByTestId('group-member');
  await expect(members.nth(0).getByTestId('member-counts')).toHaveText('♥ 2 tykkäystä');
  await expect(members.nth(1).getByTestId('member-counts')).toHaveText('1 kommentti');

  // A new comment on a card in the group reaches the group at once.
  await addComment(created.session, first, 'Etätyöpiste kouluun');
  await expect(commentCount(grouped)).toHaveText('2');
  await expect(members.nth(0).getByTestId('member-counts')).toHaveText('♥ 2 tykkäystä 1 kommentti');
});
