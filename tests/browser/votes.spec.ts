/**
 * Dot voting at the edges: the budget and the per-card cap are the server's rules. The page
 * turns "+" off from what the server sent (budget, dots used, cap, the card's own dots) and says
 * why beside it; nothing ends up as an unsent message.
 */
import { addCard, boardView, card, createBoard, dots, expect, joinBoard, openBoard, test } from './helpers';

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
