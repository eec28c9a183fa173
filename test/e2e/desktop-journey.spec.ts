import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { type Page, expect, test } from '@playwright/test';
import { generateSync } from 'otplib';
import { type E2eTalon, e2ePin, mcpAgent, rest, screen, startTalon, toolCall } from './talon-fixture.js';

/**
 * A person's first hour with Talon, in the browser UI of a real `talon serve`: set-up, a vault,
 * secrets of several types, an agent, a policy; the agent reads over MCP; the policy is revoked
 * and the agent is refused; the agent asks to share a secret, the human approves in the inbox,
 * accepts the share and reads it; then two-step sign-in with a code computed from the shown secret,
 * the idle timer locking Talon (on Playwright's clock), and the unlock that asks for PIN and code.
 * Every screen is saved to test-results/screens/.
 */
test.describe.configure({ mode: 'serial' });

let talon: E2eTalon;
let page: Page;
let agent: { id: string; apiKey: string; vaultId: string };
let client: Client | undefined;
const apiKeyValue = 'sk-e2e-openai-5f1c2d';

test.beforeAll(async ({ browser }) => {
  talon = await startTalon();
  page = await browser.newPage();
  const consoleLines: string[] = [];
  page.on('console', (message) => consoleLines.push(message.text()));
  page.on('pageerror', (error) => consoleLines.push(error.message));
  (page as Page & { consoleLines?: string[] }).consoleLines = consoleLines;
});

test.afterAll(async () => {
  await client?.close().catch(() => undefined);
  await page?.close();
  await talon?.stop();
});

const dialog = () => page.getByRole('dialog');

function consoleText(): string {
  return ((page as Page & { consoleLines?: string[] }).consoleLines ?? []).join('\n');
}

async function openScreen(name: string) {
  await page.getByRole('navigation', { name: 'Talon' }).getByRole('link', { name }).click();
}

test('first run leads to set-up, and set-up signs the owner in', async () => {
  await page.goto(talon.url);
  await expect(page.getByRole('heading', { name: 'Set up Talon' })).toBeVisible();
  await screen(page, '01-setup');
  await page.getByLabel('Token PIN', { exact: true }).fill('short');
  await expect(page.getByText('Use at least 8 characters')).toBeVisible();
  await page.getByLabel('Token PIN', { exact: true }).fill(e2ePin);
  await page.getByLabel('Type the PIN again').fill(e2ePin);
  await page.getByRole('button', { name: 'Create my vault' }).click();
  await expect(page.getByRole('heading', { name: 'Vaults & secrets' })).toBeVisible({ timeout: 30_000 });
  await expect(page.getByText('No vaults yet')).toBeVisible();
  await screen(page, '02-vaults-empty');
});

test('creates a vault and secrets of several types', async () => {
  await page.getByRole('button', { name: 'Create your first vault' }).click();
  await dialog().getByLabel('Name', { exact: true }).fill('work');
  await dialog().getByLabel('Description', { exact: true }).fill('Keys for the day job');
  await screen(page, '03-new-vault');
  await page.getByRole('button', { name: 'Create vault' }).click();
  await expect(page.getByText('This vault is empty')).toBeVisible();

  // An API key.
  await page.getByRole('button', { name: 'New secret' }).click();
  await dialog().getByLabel('Path', { exact: true }).fill('openai/api-key');
  await dialog().getByLabel('Value', { exact: true }).fill(apiKeyValue);
  await page.getByRole('button', { name: 'Save secret' }).click();
  await expect(page.locator('[data-path="openai/api-key"]')).toBeVisible();

  // An env bundle, as a key/value table.
  await page.getByRole('button', { name: 'New secret' }).click();
  await dialog().getByLabel('Path', { exact: true }).fill('app/production env');
  await dialog().getByLabel('Type', { exact: true }).selectOption('env_bundle');
  await dialog().getByLabel('Name 1', { exact: true }).fill('DATABASE_URL');
  await dialog().getByLabel('Value 1', { exact: true }).fill('postgres://app:pw@db/app');
  await page.getByRole('button', { name: 'Add variable' }).click();
  await dialog().getByLabel('Name 2', { exact: true }).fill('REDIS_URL');
  await dialog().getByLabel('Value 2', { exact: true }).fill('redis://cache:6379');
  await screen(page, '04-editor-env-bundle');
  await page.getByRole('button', { name: 'Save secret' }).click();
  await expect(page.locator('[data-path="app/production env"]')).toBeVisible();

  // An SSH key, with its fingerprint shown as ssh-keygen prints it.
  const dir = mkdtempSync(join(tmpdir(), 'talon-e2e-ssh-'));
  try {
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'deploy@e2e', '-f', join(dir, 'id')]);
    const fingerprint = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', join(dir, 'id.pub')], {
      encoding: 'utf8',
    }).split(' ')[1]!;
    await page.getByRole('button', { name: 'New secret' }).click();
    await dialog().getByLabel('Path', { exact: true }).fill('ssh/deploy');
    await dialog().getByLabel('Type', { exact: true }).selectOption('ssh_key');
    await dialog()
      .getByLabel('SSH key', { exact: true })
      .fill(readFileSync(join(dir, 'id'), 'utf8'));
    await expect(page.getByText(fingerprint)).toBeVisible();
    await screen(page, '05-editor-ssh-key');
    await page.getByRole('button', { name: 'Save secret' }).click();
    await expect(page.locator('[data-path="ssh/deploy"]')).toBeVisible();
    await page.locator('[data-path="ssh/deploy"]').click();
    await expect(page.locator('.facts')).toContainText(fingerprint);

    // A file, uploaded.
    await page.getByRole('button', { name: 'New secret' }).click();
    await dialog().getByLabel('Path', { exact: true }).fill('certs/ca.pem');
    await dialog().getByLabel('Type', { exact: true }).selectOption('file');
    await dialog()
      .getByLabel('File', { exact: true })
      .setInputFiles({
        name: 'ca.pem',
        mimeType: 'application/x-pem-file',
        buffer: Buffer.from('-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n'),
      });
    await expect(page.getByText('ca.pem is ready to store')).toBeVisible();
    await page.getByRole('button', { name: 'Save secret' }).click();
    await expect(page.locator('[data-path="certs/ca.pem"]')).toBeVisible();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('reveals on demand, keeps hidden values out of the page, keeps versions', async () => {
  await page.locator('[data-path="openai/api-key"]').click();
  await expect(page.getByRole('heading', { name: 'openai/api-key' })).toBeVisible();
  expect(await page.content()).not.toContain(apiKeyValue);
  await page.getByRole('button', { name: 'Reveal' }).click();
  await expect(page.getByTestId('revealed-value')).toHaveText(apiKeyValue);
  await screen(page, '06-secret-revealed');
  await page.getByRole('button', { name: 'Hide' }).click();
  expect(await page.content()).not.toContain(apiKeyValue);

  // A second version, then a rollback to the first.
  await page.getByRole('button', { name: 'New version' }).click();
  await dialog().getByLabel('Value', { exact: true }).fill('sk-e2e-rotated');
  await page.getByRole('button', { name: 'Save new version' }).click();
  await expect(page.getByRole('button', { name: 'Roll back to v1' })).toBeVisible();
  await page.getByRole('button', { name: 'Roll back to v1' }).click();
  await expect(page.getByText('Rolled back to version 1.')).toBeVisible();
  await page.getByRole('button', { name: 'Reveal' }).click();
  await expect(page.getByTestId('revealed-value')).toHaveText(apiKeyValue);
  await page.getByRole('button', { name: 'Hide' }).click();
  await page.getByLabel('Search secrets').fill('prod');
  await expect(page.locator('[data-path="app/production env"]')).toBeVisible();
  await expect(page.locator('[data-path="openai/api-key"]')).toHaveCount(0);
  await screen(page, '07-secret-versions-search');
  await page.getByLabel('Search secrets').fill('');
});

test('deletes a secret and restores it from the deleted items', async () => {
  await page.locator('[data-path="certs/ca.pem"]').click();
  page.once('dialog', (dialog) => void dialog.accept());
  await page.getByRole('button', { name: 'Delete' }).click();
  await expect(page.locator('[data-path="certs/ca.pem"]')).toHaveCount(0);
  await page.getByLabel('Show deleted').check();
  await page.locator('[data-path="certs/ca.pem"]').click();
  await screen(page, '08-secret-deleted');
  await page.getByRole('button', { name: 'Restore' }).click();
  await expect(page.getByText('Restored certs/ca.pem.')).toBeVisible();
  await page.getByLabel('Show deleted').uncheck();
  await expect(page.locator('[data-path="certs/ca.pem"]')).toBeVisible();
});

test('registers an agent: the key once, with MCP configurations', async () => {
  await openScreen('Agents');
  await expect(page.getByText('No agents yet')).toBeVisible();
  await screen(page, '09-agents-empty');
  await page.getByRole('button', { name: 'Register an agent' }).click();
  await dialog().getByLabel('Name', { exact: true }).fill('builder');
  await dialog().getByLabel('Bind to vault', { exact: true }).selectOption({ label: 'work' });
  await page.getByRole('button', { name: 'Create agent' }).click();
  const apiKey = await page.getByTestId('agent-api-key').inputValue();
  expect(apiKey).toMatch(/^ocv_/u);
  await page.getByRole('tab', { name: 'Cursor' }).click();
  await page.getByLabel(/^HTTP/u).check();
  const config = JSON.parse((await page.getByTestId('mcp-config').textContent())!) as {
    mcpServers: { talon: { url: string; headers: Record<string, string> } };
  };
  expect(config.mcpServers.talon.url).toBe(`${talon.url}/mcp`);
  expect(config.mcpServers.talon.headers.Authorization).toBe(`Bearer ${apiKey}`);
  const vaultId = config.mcpServers.talon.headers['X-Vault-ID']!;
  await screen(page, '10-agent-key-once');
  const agentId = (await page.locator('.dialog .mono.small').first().textContent())!.replace(
    'Agent id: ',
    '',
  );
  agent = { id: agentId.trim(), apiKey, vaultId };
  await page.getByRole('button', { name: 'Done, I saved it' }).click();
  await expect(page.locator('[data-agent="builder"]')).toBeVisible();
  await screen(page, '11-agents');
});

test('a policy with a live match preview lets the agent read over MCP', async () => {
  await openScreen('Policies');
  await expect(page.getByText('No policies in this vault')).toBeVisible();
  await page.getByLabel('Agent', { exact: true }).first().selectOption({ label: 'builder' });
  await page.getByLabel('Path pattern').fill('openai/**');
  await expect(page.locator('.match-preview')).toContainText('openai/api-key');
  await expect(page.locator('.match-preview')).not.toContainText('ssh/deploy');
  await page.getByRole('button', { name: 'Add policy' }).click();
  await expect(page.getByRole('cell', { name: 'openai/**' })).toBeVisible();

  const simulator = page.getByRole('region', { name: 'Simulator' });
  await simulator.getByLabel('Agent').selectOption({ label: 'builder' });
  await simulator.getByLabel('Secret path').fill('openai/api-key');
  await simulator.getByRole('button', { name: 'Simulate' }).click();
  await expect(page.getByTestId('simulation')).toContainText('Allowed');
  await screen(page, '12-policies-simulator');

  client = await mcpAgent(talon.url, agent.apiKey, agent.vaultId);
  const read = await toolCall(client, 'get_secret', { path: 'openai/api-key' });
  expect(read.isError).toBe(false);
  expect(JSON.parse(read.text)).toMatchObject({ path: 'openai/api-key', value: apiKeyValue });
});

test('revoking the policy refuses the agent at once', async () => {
  page.once('dialog', (dialog) => void dialog.accept());
  await page.getByRole('button', { name: 'Revoke' }).click();
  await expect(page.getByText('No policies in this vault')).toBeVisible();
  const refused = await rest(
    talon.url,
    agent.apiKey,
    'GET',
    `/v1/vaults/${agent.vaultId}/secrets/openai/api-key`,
  );
  expect(refused.status).toBe(403);
  const overMcp = await toolCall(client!, 'get_secret', { path: 'openai/api-key' });
  expect(overMcp.isError).toBe(true);
  expect(overMcp.text).not.toContain(apiKeyValue);
});

test('an agent share waits in the approvals inbox; approved, accepted, it opens', async () => {
  // The agent may read (and so share) the SSH key's folder... no: the env bundle's.
  const owner = talon.ownerKey();
  const policy = await rest(talon.url, owner, 'POST', `/v1/vaults/${agent.vaultId}/policies`, {
    secret_path_pattern: 'app/**',
    principal_type: 'agent',
    principal_id: agent.id,
    permissions: ['read'],
  });
  expect(policy.status).toBe(201);
  const listed = await rest(talon.url, agent.apiKey, 'GET', `/v1/vaults/${agent.vaultId}/secrets`);
  const secretId = (listed.body.secrets as { id: string; path: string }[]).find(
    (secret) => secret.path === 'app/production env',
  )!.id;

  await openScreen('Approvals');
  await expect(page.getByText('Nothing waits for you')).toBeVisible();
  const shared = toolCall(client!, 'share_secret', {
    secret_id: secretId,
    recipient_type: 'creator',
    expires_at: new Date(Date.now() + 86_400_000).toISOString(),
    max_access_count: 3,
  });
  // The inbox hears of it over the event stream, and the badge counts it.
  await expect(page.locator('.approval')).toHaveCount(1, { timeout: 20_000 });
  await expect(page.locator('.nav-count')).toHaveText('1');
  await screen(page, '13-approvals-inbox');
  await page.getByLabel('Reason (optional)').fill('Fine for the migration');
  await page.getByRole('button', { name: 'Approve' }).click();
  await expect(page.getByText('Nothing waits for you')).toBeVisible();
  const outcome = await shared;
  expect(outcome.text).toMatch(/share/iu);

  await page.getByRole('tab', { name: 'History' }).click();
  await expect(page.locator('.approval')).toContainText('approved');
  await screen(page, '14-approvals-history');

  await openScreen('Shares');
  await page.getByRole('tab', { name: 'Shared with me' }).click();
  await expect(page.getByRole('cell', { name: 'app/production env' })).toBeVisible();
  await page.getByRole('button', { name: 'Accept' }).click();
  await expect(page.getByText('Share accepted.')).toBeVisible();
  await page.getByRole('button', { name: 'Open' }).click();
  await expect(page.getByTestId('shared-value')).toContainText('DATABASE_URL=postgres://app:pw@db/app');
  await screen(page, '15-share-opened');
  await page.getByRole('button', { name: 'Close' }).click();
});

test('activity shows the log and an intact chain', async () => {
  await openScreen('Activity');
  await expect(page.getByText('Chain intact')).toBeVisible();
  await expect(page.getByRole('cell', { name: 'secret.read' }).first()).toBeVisible();
  await page.getByLabel('Outcome').selectOption('denied');
  await expect(page.getByRole('cell', { name: 'denied' }).first()).toBeVisible();
  await screen(page, '16-activity');
});

test('the dark theme follows the system', async () => {
  await page.emulateMedia({ colorScheme: 'dark' });
  await openScreen('Vaults & secrets');
  await page.locator('[data-path="ssh/deploy"]').click();
  await expect(page.getByRole('heading', { name: 'ssh/deploy' })).toBeVisible();
  await expect(page.locator('html')).toHaveCSS('background-color', 'rgb(15, 18, 23)');
  await screen(page, '17-dark-vaults');
  await openScreen('Agents');
  await screen(page, '18-dark-agents');
  await page.emulateMedia({ colorScheme: 'light' });
});

test('no secret value ever reached the console', async () => {
  expect(consoleText()).not.toContain(apiKeyValue);
  expect(consoleText()).not.toContain('postgres://app:pw');
  expect(page.url()).not.toContain(apiKeyValue);
});

let totpSecret = '';
const totpCode = (offsetSeconds = 0) =>
  generateSync({ secret: totpSecret, epoch: Math.floor(Date.now() / 1000) + offsetSeconds });

test('enrols TOTP with a computed code and shows the recovery codes once', async () => {
  await openScreen('Settings');
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
  await page.getByLabel('Code from the app').fill(totpCode());
  await page.getByRole('button', { name: 'Turn on' }).click();
  await expect(page.getByTestId('recovery-codes').getByRole('listitem')).toHaveCount(10);
  await screen(page, '22-recovery-codes');
  await page.getByRole('button', { name: 'I saved them' }).click();
  await expect(page.getByText('Unlocking asks for a code')).toBeVisible();
});

test('locks by itself after the chosen idle time', async () => {
  await page.clock.install();
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
  await page.getByLabel('Authenticator code').fill(totpCode(30));
  await page.getByRole('button', { name: 'Unlock' }).click();
  // Back where the human was when Talon locked.
  await expect(page.getByRole('heading', { name: 'Settings' })).toBeVisible({ timeout: 20_000 });
  await expect(page.getByText('Unlocking asks for a code')).toBeVisible();
  await screen(page, '24-unlocked-again');
});
