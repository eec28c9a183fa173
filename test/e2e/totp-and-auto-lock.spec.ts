import { type Page, expect, test } from '@playwright/test';
import { generateSync } from 'otplib';
import { type E2eTalon, e2ePin, screen, startTalon } from './talon-fixture.js';

/**
 * Two-step sign-in and auto-lock in the browser UI: TOTP enrolment with a code computed from the
 * shown secret (as an authenticator app would), recovery codes shown once, the idle timer locking
 * Talon, and the unlock that then asks for PIN and code. The page's clock is Playwright's, so the
 * idle minute passes at once.
 */
test.describe.configure({ mode: 'serial' });

let talon: E2eTalon;
let page: Page;
let totpSecret = '';

test.beforeAll(async ({ browser }) => {
  talon = await startTalon();
  page = await browser.newPage();
  await page.clock.install();
});

test.afterAll(async () => {
  await page?.close();
  await talon?.stop();
});

const code = (offsetSeconds = 0) =>
  generateSync({ secret: totpSecret, epoch: Math.floor(Date.now() / 1000) + offsetSeconds });

test('sets up, then enrols TOTP with a computed code and shows recovery codes once', async () => {
  await page.goto(talon.url);
  await page.getByLabel('Token PIN', { exact: true }).fill(e2ePin);
  await page.getByLabel('Type the PIN again').fill(e2ePin);
  await page.getByRole('button', { name: 'Create my vault' }).click();
  await expect(page.getByRole('heading', { name: 'Vaults & secrets' })).toBeVisible({ timeout: 30_000 });

  await page.getByRole('navigation', { name: 'Talon' }).getByRole('link', { name: 'Settings' }).click();
  await expect(page.getByRole('heading', { name: 'Two-step sign-in' })).toBeVisible();
  await screen(page, '20-settings');
  await page.getByRole('button', { name: 'Set up two-step sign-in' }).click();
  await expect(page.getByRole('img', { name: /QR code/u })).toBeVisible();
  await page.getByText("Can't scan? Type this key instead").click();
  totpSecret = (await page.getByTestId('totp-secret').textContent())!.trim();
  expect(totpSecret).toMatch(/^[A-Z2-7]+=*$/u);
  await screen(page, '21-totp-enrolment');

  await page.getByLabel('Code from the app').fill('000000');
  await page.getByRole('button', { name: 'Turn on' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'does not match' })).toBeVisible();
  await page.getByLabel('Code from the app').fill(code());
  await page.getByRole('button', { name: 'Turn on' }).click();
  const recovery = page.getByTestId('recovery-codes').getByRole('listitem');
  await expect(recovery).toHaveCount(10);
  await screen(page, '22-recovery-codes');
  await page.getByRole('button', { name: 'I saved them' }).click();
  await expect(page.getByText('Unlocking asks for a code')).toBeVisible();
});

test('locks by itself after the chosen idle time', async () => {
  await page.getByLabel('Lock after inactivity').selectOption({ label: '1 minute' });
  await expect(page.getByText('Settings saved.')).toBeVisible();
  await page.clock.fastForward('00:30');
  await expect(page.getByRole('heading', { name: 'Two-step sign-in' })).toBeVisible();
  await page.clock.fastForward('00:40');
  await expect(page.getByRole('heading', { name: 'Talon is locked' })).toBeVisible();
  const status = (await (await fetch(`${talon.url}/v1/talon/status`)).json()) as { unlocked: boolean };
  expect(status.unlocked).toBe(false);
});

test('unlocking then asks for the PIN and a code', async () => {
  await expect(page.getByLabel('Authenticator code')).toBeVisible();
  await screen(page, '23-unlock-with-totp');
  await page.getByLabel('Token PIN').fill(e2ePin);
  await page.getByLabel('Authenticator code').fill('123456');
  await page.getByRole('button', { name: 'Unlock' }).click();
  await expect(page.getByRole('alert')).toBeVisible();
  // The next step's code: the enrolment used this step's, and a code is good once.
  await page.getByLabel('Authenticator code').fill(code(30));
  await page.getByRole('button', { name: 'Unlock' }).click();
  // Back where the human was when Talon locked.
  await expect(page.getByRole('heading', { name: 'Settings' })).toBeVisible({ timeout: 20_000 });
  await expect(page.getByText('Unlocking asks for a code')).toBeVisible();
  await screen(page, '24-unlocked-again');
});
