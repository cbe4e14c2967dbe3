/**
 * Screenshots of a lively board on a phone (360×800) and on a projector (1920×1080), kept as
 * test artefacts in test-results/screenshots/ (not committed).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page, TestInfo } from '@playwright/test';
import { devices } from '@playwright/test';
import { addCard, addComment, boardView, command, createBoard, expect, joinBoard, openBoard, test, type Session } from './helpers';

const here = path.dirname(fileURLToPath(import.meta.url));
export const SCREENSHOTS = path.join(here, 'test-results', 'screenshots');

/** A board as a workshop leaves it after half an hour: cards in most columns, dots, comments. */
async function workshopBoard(): Promise<{ facilitator: Session; participant: Session }> {
  const created = await createBoard({
    title: 'Leader-ryhmän strategiatyöpaja',
    description: 'Mitä kylämme tarvitsevat seuraavalla ohjelmakaudella? Lisää ideasi ja äänestä kolmea parasta.',
    name: 'Fanni Fasilitaattori',
  });
  const people = [
    await joinBoard(created.links.participant, 'Aino Virtanen'),
    await joinBoard(created.links.participant, 'Mikko Korhonen'),
    await joinBoard(created.links.participant, 'Sanna Mäkinen'),
  ];
  const view = await boardView(created.session);
  const ids = view.columns.map((column) => column.id);
  const cards: [number, string, string][] = [
    [0, 'Kyläkyselyt ennen hankehakua', 'Kysytään asukkailta ensin, mitä he tarvitsevat.'],
    [0, 'Nuorisovaltuusto mukaan arviointiin', ''],
    [1, 'Yrittäjäyhdistysten yhteinen tapahtuma', 'Kerran vuodessa, vuorotellen eri kunnissa.'],
    [1, 'Seurakunta ja kyläyhdistys yhteistyöhön', ''],
    [2, 'Lähiruoka koulujen ruokalistalle', 'Maatilat, koulukeittiöt ja kunta saman pöydän ääreen.'],
    [3, 'Naapurikylien yhteinen tapahtumakalenteri', ''],
    [3, 'Kyläyhdistysten vertaisilta', 'Kokemusten vaihto kahdesti vuodessa.'],
    [4, 'Saariston palveluverkko', ''],
    [5, 'Ystävyyskylä Virosta', 'Vaihto-ohjelma nuorille ja yrittäjille.'],
    [6, 'Etätyöpisteet vanhoihin kouluihin', 'Valokuitu on jo valmiina monessa kylässä.'],
    [6, 'Kylätaksi sovelluksella', ''],
  ];
  const made: string[] = [];
  for (const [index, [column, title, body]] of cards.entries()) {
    made.push(await addCard(people[index % people.length]!, ids[column]!, title, body));
  }
  for (const [index, person] of people.entries()) {
    await command(person, { type: 'cast_vote', card: made[4]! });
    await command(person, { type: 'cast_vote', card: made[(index * 3 + 1) % made.length]! });
  }
  await command(people[0]!, { type: 'cast_vote', card: made[9]! });
  await command(people[1]!, { type: 'toggle_reaction', target: { kind: 'card', id: made[0]! } });
  await addComment(people[1]!, made[4]!, 'Tämä sopisi hyvin myös päiväkoteihin.');
  await addComment(people[2]!, made[4]!, 'Keittiöiden hankintasäännöt pitää selvittää ensin.');
  await addComment(created.session, made[9]!, 'Kunta voisi tarjota tilat maksutta.');
  await command(created.session, { type: 'set_card_status', card: made[4]!, status: 'selected' });
  return { facilitator: created.session, participant: people[0]! };
}

async function shoot(page: Page, testInfo: TestInfo, name: string, fullPage = false): Promise<void> {
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage });
  await testInfo.attach(name, { path: file, contentType: 'image/png' });
  console.log(`screenshot: ${path.relative(process.cwd(), file)}`);
}

test('screenshots of the board on a phone and on a projector', async ({ open }, testInfo) => {
  const { facilitator, participant } = await workshopBoard();

  // The phone: a participant's view.
  const phone = await open({
    session: participant,
    viewport: { width: 360, height: 800 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    userAgent: devices['Pixel 5'].userAgent,
  });
  const phonePage = await phone.newPage();
  await openBoard(phonePage, participant.board);
  await expect(phonePage.getByTestId('card')).toHaveCount(11);
  await expect(phonePage.getByTestId('votes-left')).toContainText('Ääniä jäljellä: 2/5');
  await shoot(phonePage, testInfo, 'board-phone-360x800');
  await shoot(phonePage, testInfo, 'board-phone-360x800-full', true);
  await phonePage.getByRole('button', { name: 'Lähiruoka koulujen ruokalistalle', exact: true }).click();
  await expect(phonePage.getByRole('dialog').getByTestId('comment')).toHaveCount(2);
  await shoot(phonePage, testInfo, 'card-dialog-phone-360x800');

  // The projector: the facilitator's screen.
  const projector = await open({ session: facilitator, viewport: { width: 1920, height: 1080 } });
  const projectorPage = await projector.newPage();
  await openBoard(projectorPage, facilitator.board);
  await expect(projectorPage.getByTestId('card')).toHaveCount(11);
  // On a projector the seven columns fit side by side without sideways scrolling of the page.
  const overflow = await projectorPage.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await shoot(projectorPage, testInfo, 'board-projector-1920x1080');
});

test('screenshots of statements: the history, a new version highlighted, proposals, the projector', async ({ open }, testInfo) => {
  const created = await createBoard({ title: 'Leader-ryhmän linjaukset', name: 'Fanni Fasilitaattori', template: 'empty' });
  const facilitator = created.session;
  const aino = await joinBoard(created.links.participant, 'Aino Virtanen');
  const mikko = await joinBoard(created.links.participant, 'Mikko Korhonen');
  const vision = crypto.randomUUID();
  const mission = crypto.randomUUID();
  await command(facilitator, {
    type: 'add_statement',
    column: vision,
    title: 'Visio',
    text: 'Olemme paikallisyhteisöjen elinvoiman kasvattaja.',
  });
  await command(facilitator, {
    type: 'add_statement',
    column: mission,
    title: 'Missio',
    text: 'Kokoamme yhteen ihmisten ja yhteisöjen voimavarat ja ideat paikallisen hyvinvoinnin lisäämiseksi.',
  });
  const bolder = crypto.randomUUID();
  await command(aino, {
    type: 'propose_wording',
    card: bolder,
    statement: vision,
    text: 'Olemme paikallisyhteisöjen elinvoiman kasvattaja, rajoja ylittävä rohkea uudistaja.',
    reason: 'Rohkeus ja rajat ylittävä yhteistyö mukaan',
    base_version: 1,
  });
  await command(mikko, {
    type: 'propose_wording',
    card: crypto.randomUUID(),
    statement: vision,
    text: 'Olemme kylien elinvoiman kasvattaja.',
    reason: 'Lyhyemmin ja konkreettisemmin',
    base_version: 1,
  });
  await command(mikko, {
    type: 'propose_wording',
    card: crypto.randomUUID(),
    statement: mission,
    text: 'Kokoamme yhteen ihmisten ja yhteisöjen voimavarat ja ideat koko alueen hyvinvoinnin lisäämiseksi.',
    reason: 'Koko alue, ei vain paikallinen',
    base_version: 1,
  });
  await command(mikko, { type: 'cast_vote', card: bolder });

  const phone = await open({
    session: aino,
    viewport: { width: 360, height: 800 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    userAgent: devices['Pixel 5'].userAgent,
  });
  const phonePage = await phone.newPage();
  await openBoard(phonePage, aino.board);
  const projector = await open({ session: facilitator, viewport: { width: 1920, height: 1080 } });
  const projectorPage = await projector.newPage();
  await openBoard(projectorPage, facilitator.board);
  await expect(projectorPage.locator('[data-proposal="true"]')).toHaveCount(3);
  await shoot(projectorPage, testInfo, 'statements-projector-1920x1080');

  // Adopted while both look: the new wording shows what changed.
  await command(facilitator, { type: 'adopt_proposal', card: bolder });
  await expect(phonePage.getByTestId('statement-fresh').first()).toBeVisible();
  expect(await phonePage.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
  await shoot(phonePage, testInfo, 'statement-phone-360x800-new-version');
  await phonePage.getByText('Historia (2 versiota)').click();
  await shoot(phonePage, testInfo, 'statement-phone-360x800-history', true);
  await expect(projectorPage.getByTestId('statement-fresh').first()).toBeVisible();
  await shoot(projectorPage, testInfo, 'statements-projector-1920x1080-new-version');

  await projectorPage.goto(`/b/${facilitator.board}/present`);
  await expect(projectorPage.getByTestId('present-statement')).toBeVisible();
  await shoot(projectorPage, testInfo, 'presentation-statement');
});
