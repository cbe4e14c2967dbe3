/**
 * Statements drafted together, in three browsers: a facilitator adds a vision in the UI; two
 * participants propose competing wordings (the form starts from the current wording) and vote;
 * the facilitator adopts one; both participants see the new version live with its word
 * difference (<ins>/<del>, and words for screen readers); the other proposal is outdated, its
 * author rebases it on the new version, and it can then be adopted. And proposing follows the
 * board's gates: disabled with the reason said. A wording written while another is adopted is
 * kept and proposed again on the new version.
 */
import type { Locator, Page } from '@playwright/test';
import { randomUUID } from 'node:crypto';
import { column, command, createBoard, expect, expectConnected, joinBoard, test } from './helpers';

const FIRST = 'Kylämme on hyvä paikka elää';
const BOLDER = 'Kylämme on rohkea paikka elää ja tehdä';
const SHORTER = 'Kylämme on hyvä paikka';
const SHORTER_REBASED = 'Kylämme on rohkea paikka';

/** An open proposal on a page, by its wording. */
function proposalCard(page: Page, wording: string): Locator {
  return page.locator('[data-proposal="true"]').filter({ has: page.getByRole('button', { name: wording, exact: true }) });
}

async function openStatementBoard(page: Page, board: string): Promise<void> {
  await page.goto(`/b/${board}`);
  await expectConnected(page);
}

/** "Ehdota uutta muotoilua": the form starts from the current wording; the wording and a reason are sent. */
async function propose(page: Page, statement: string, current: string, wording: string, reason: string): Promise<void> {
  const target = column(page, statement);
  await target.getByRole('button', { name: `Ehdota uutta muotoilua: ${statement}` }).click();
  const field = target.getByLabel('Uusi muotoilu');
  await expect(field).toBeFocused();
  await expect(field).toHaveValue(current);
  await field.fill(wording);
  await target.getByLabel('Perustelu (lyhyesti)').fill(reason);
  await target.getByRole('button', { name: 'Lähetä ehdotus' }).click();
  await expect(proposalCard(page, wording)).toBeVisible();
}

test('two wordings proposed and voted; one adopted reaches everyone live with its difference; the other is rebased', async ({
  open,
}) => {
  test.setTimeout(90_000);
  const created = await createBoard({ title: 'Linjaukset', name: 'Fanni', template: 'empty' });
  const facilitator = created.session;
  const aino = await joinBoard(created.links.participant, 'Aino');
  const pekka = await joinBoard(created.links.participant, 'Pekka');

  // The facilitator adds the vision in the UI.
  const facilitatorPage = await (await open({ session: facilitator })).newPage();
  await openStatementBoard(facilitatorPage, facilitator.board);
  await facilitatorPage.getByRole('button', { name: 'Lisää julkilausuma' }).click();
  await expect(facilitatorPage.getByLabel('Julkilausuman nimi')).toBeFocused();
  await facilitatorPage.getByLabel('Julkilausuman nimi').fill('Visio');
  await facilitatorPage.getByLabel('Ensimmäinen muotoilu (voi olla tyhjä)').fill(FIRST);
  await facilitatorPage.getByTestId('add-statement').getByRole('button', { name: 'Lisää julkilausuma' }).click();
  const facilitatorVision = column(facilitatorPage, 'Visio');
  await expect(facilitatorVision.getByTestId('statement-text')).toHaveText(FIRST);
  await expect(facilitatorVision.getByTestId('statement-current')).toContainText('versio 1');
  await expect(facilitatorVision.getByTestId('statement-current')).toContainText('kirjoittanut Fanni');

  // Two participants in their own browsers see it and propose competing wordings.
  const ainoPage = await (await open({ session: aino })).newPage();
  const pekkaPage = await (await open({ session: pekka })).newPage();
  await openStatementBoard(ainoPage, aino.board);
  await openStatementBoard(pekkaPage, pekka.board);
  await expect(column(ainoPage, 'Visio').getByTestId('statement-text')).toHaveText(FIRST);
  await propose(ainoPage, 'Visio', FIRST, BOLDER, 'Rohkeutta ja tekemistä');
  await propose(pekkaPage, 'Visio', FIRST, SHORTER, 'Lyhyemmin');
  for (const page of [ainoPage, pekkaPage, facilitatorPage]) {
    await expect(page.locator('[data-proposal="true"]')).toHaveCount(2);
    await expect(proposalCard(page, BOLDER)).toContainText('perustuu versioon 1');
    await expect(proposalCard(page, BOLDER).getByTestId('proposal-reason')).toHaveText('Perustelu: Rohkeutta ja tekemistä');
  }

  // Both vote, with the same controls as any card: the bolder wording gets two dots, the shorter one.
  await proposalCard(ainoPage, BOLDER).getByRole('button', { name: 'Anna ääni' }).click();
  await proposalCard(pekkaPage, BOLDER).getByRole('button', { name: 'Anna ääni' }).click();
  await proposalCard(pekkaPage, SHORTER).getByRole('button', { name: 'Anna ääni' }).click();
  await expect(proposalCard(facilitatorPage, BOLDER).locator('.dots .visually-hidden')).toHaveText('2 ääntä');
  await expect(proposalCard(facilitatorPage, SHORTER).locator('.dots .visually-hidden')).toHaveText('1 ääni');
  await expect(ainoPage.getByTestId('votes-left')).toContainText('4/5');

  // The facilitator adopts the bolder wording, after a confirmation.
  await proposalCard(facilitatorPage, BOLDER).getByRole('button', { name: 'Hyväksy tämä muotoilu' }).click();
  await expect(proposalCard(facilitatorPage, BOLDER)).toContainText('Hyväksytäänkö tämä muotoilu versioksi 2?');
  await proposalCard(facilitatorPage, BOLDER).getByRole('button', { name: 'Hyväksy', exact: true }).click();

  // Both participants see version 2 live, its difference highlighted, in words for screen readers too.
  for (const page of [ainoPage, pekkaPage]) {
    const vision = column(page, 'Visio');
    const text = vision.getByTestId('statement-text');
    await expect(vision.getByTestId('statement-fresh')).toHaveText('Uusi versio 2');
    await expect(text.locator('ins')).toHaveText(['rohkea', 'ja tehdä']);
    await expect(text.locator('del')).toHaveText(['hyvä']);
    await expect(text).toContainText('poistettu: hyvä');
    await expect(text).toContainText('lisätty: rohkea');
    await expect(vision.getByTestId('statement-current')).toContainText('versio 2');
    await expect(vision.getByTestId('statement-current')).toContainText('ehdottanut Aino');
    await expect(vision.getByRole('status')).toContainText('Visio: versio 2 hyväksytty.');
    // The adopted proposal leaves the open ones; the other is outdated, as the server says.
    await expect(page.locator('[data-proposal="true"]')).toHaveCount(1);
    await expect(proposalCard(page, SHORTER).getByTestId('proposal-outdated')).toHaveText('Vanhentunut — päivitä');
  }
  // The history keeps both versions, the newest with its difference and reason.
  const ainoVision = column(ainoPage, 'Visio');
  await ainoVision.getByText('Historia (2 versiota)').click();
  const versions = ainoVision.getByTestId('statement-version');
  await expect(versions).toHaveCount(2);
  await expect(versions.first()).toContainText('Versio 2');
  await expect(versions.first()).toContainText('Perustelu: Rohkeutta ja tekemistä');
  await expect(versions.first().locator('ins')).toHaveText(['rohkea', 'ja tehdä']);
  await expect(versions.last()).toContainText(FIRST);

  // Only the author (and facilitators) may rebase; the facilitator cannot adopt it while outdated.
  await expect(proposalCard(ainoPage, SHORTER).getByRole('button', { name: 'Päivitä uusimpaan versioon' })).toHaveCount(0);
  const outdatedAdopt = proposalCard(facilitatorPage, SHORTER).getByRole('button', { name: 'Hyväksy tämä muotoilu' });
  await expect(outdatedAdopt).toBeDisabled();
  await expect(proposalCard(facilitatorPage, SHORTER)).toContainText('ehdotus on päivitettävä ennen kuin sen voi hyväksyä');

  // Pekka rebases his wording on version 2: the dialog shows what changed, and his wording to edit.
  await proposalCard(pekkaPage, SHORTER).getByRole('button', { name: 'Päivitä uusimpaan versioon' }).click();
  const dialog = pekkaPage.getByRole('dialog', { name: 'Päivitä ehdotus versioon 2' });
  await expect(dialog.getByTestId('statement-version')).toHaveCount(1);
  await expect(dialog.getByTestId('statement-version').locator('ins')).toHaveText(['rohkea', 'ja tehdä']);
  const field = dialog.getByLabel('Muotoilu versioon 2 pohjautuen');
  await expect(field).toHaveValue(SHORTER);
  await field.fill(SHORTER_REBASED);
  await dialog.getByRole('button', { name: 'Tallenna päivitetty muotoilu' }).click();
  await expect(dialog).toBeHidden();

  for (const page of [pekkaPage, ainoPage, facilitatorPage]) {
    const rebased = proposalCard(page, SHORTER_REBASED);
    await expect(rebased).toContainText('perustuu versioon 2');
    await expect(rebased.getByTestId('proposal-outdated')).toHaveCount(0);
    // The dot it had stays with it.
    await expect(rebased.locator('.dots .visually-hidden')).toHaveText(/^1 ääni\b/);
  }

  // Now it can be adopted: version 3.
  await proposalCard(facilitatorPage, SHORTER_REBASED).getByRole('button', { name: 'Hyväksy tämä muotoilu' }).click();
  await proposalCard(facilitatorPage, SHORTER_REBASED).getByRole('button', { name: 'Hyväksy', exact: true }).click();
  for (const page of [ainoPage, pekkaPage]) {
    const vision = column(page, 'Visio');
    await expect(vision.getByTestId('statement-fresh')).toHaveText('Uusi versio 3');
    await expect(vision.getByTestId('statement-text').locator('del')).toHaveText(['elää ja tehdä']);
    await expect(page.locator('[data-proposal="true"]')).toHaveCount(0);
  }
  await expect(column(ainoPage, 'Visio').getByText('Historia (3 versiota)')).toBeVisible();
});

test('proposing follows the board’s gates: disabled with the reason, and open again when the phase allows', async ({ open }) => {
  const created = await createBoard({ title: 'Linjaukset vaiheittain', name: 'Fanni', template: 'empty' });
  const facilitator = created.session;
  const participant = await joinBoard(created.links.participant, 'Aino');
  await command(facilitator, { type: 'add_statement', column: randomUUID(), title: 'Missio', text: FIRST });
  const session = randomUUID();
  await command(facilitator, { type: 'create_session', session, name: 'Kevät', date: '2026-05-12', anonymous: false });
  await command(facilitator, { type: 'start_session', session });
  await command(facilitator, { type: 'set_phase', session, phase: 'discuss' });

  const page = await (await open({ session: participant })).newPage();
  await openStatementBoard(page, participant.board);
  const mission = column(page, 'Missio');
  const button = mission.getByRole('button', { name: 'Ehdota uutta muotoilua: Missio' });
  await expect(button).toBeDisabled();
  await expect(mission.getByTestId('propose-why')).toHaveText('Keskusteluvaiheessa ei ehdoteta muotoiluja.');
  await expect(button).toHaveAccessibleDescription('Keskusteluvaiheessa ei ehdoteta muotoiluja.');

  await command(facilitator, { type: 'set_phase', session, phase: 'ideate' });
  await expect(button).toBeEnabled();
  await expect(mission.getByTestId('propose-why')).toHaveCount(0);
});

test('a wording written while another one is adopted is not lost: both shown, and it is proposed on the new version', async ({
  open,
}) => {
  const created = await createBoard({ title: 'Linjaukset samaan aikaan', name: 'Fanni', template: 'empty' });
  const facilitator = created.session;
  const aino = await joinBoard(created.links.participant, 'Aino');
  const pekka = await joinBoard(created.links.participant, 'Pekka');
  const vision = randomUUID();
  await command(facilitator, { type: 'add_statement', column: vision, title: 'Visio', text: FIRST });
  const bolder = randomUUID();
  await command(aino, { type: 'propose_wording', card: bolder, statement: vision, text: BOLDER, reason: 'Rohkeutta', base_version: 1 });

  // Pekka starts from version 1 …
  const page = await (await open({ session: pekka })).newPage();
  await openStatementBoard(page, pekka.board);
  const target = column(page, 'Visio');
  await target.getByRole('button', { name: 'Ehdota uutta muotoilua: Visio' }).click();
  await target.getByLabel('Uusi muotoilu').fill(SHORTER);
  await target.getByLabel('Perustelu (lyhyesti)').fill('Lyhyemmin');
  // … while the facilitator adopts Aino's wording as version 2: the form says so.
  await command(facilitator, { type: 'adopt_proposal', card: bolder });
  await expect(target.getByTestId('propose-form')).toContainText('Versio 2 hyväksyttiin sillä aikaa, kun kirjoitit.');
  await target.getByRole('button', { name: 'Lähetä ehdotus' }).click();

  // The server refuses the wording on version 1; nothing is lost, both texts are shown.
  const stale = page.getByRole('dialog', { name: 'Joku muutti tätä ensin' });
  await expect(stale).toContainText('Julkilausumasta hyväksyttiin uusi versio');
  await expect(stale.getByTestId('stale-mine').locator('.version-body')).toHaveText(SHORTER);
  await expect(stale.getByTestId('stale-theirs').locator('.version-body')).toHaveText(BOLDER);
  await stale.getByRole('button', { name: 'Pidä minun versioni' }).click();
  await expect(stale).toBeHidden();
  await expect(proposalCard(page, SHORTER)).toContainText('perustuu versioon 2');
  await expect(proposalCard(page, SHORTER).getByTestId('proposal-outdated')).toHaveCount(0);
  await expect(page.getByTestId('unsent')).toHaveCount(0);
});
