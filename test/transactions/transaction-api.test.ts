import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Interface, Transaction, Wallet, parseEther } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpVaultClient } from '../../mcp/http-vault-client.js';
import { VaultClientError } from '../../mcp/vault-client.js';
import { openSqliteStore } from '../../main/store/sqlite-store.js';
import { type TestApi, expectProblem, startTestApi } from '../fixtures/test-api-server.js';
import { callTool, toolText } from '../mcp/mcp-fixtures.js';
import { type HardhatNode, revertingContractInitCode, startHardhatNode } from './hardhat-node.js';

/**
 * The crypto transaction proxy end to end: a real Talon (SoftHSM2 token, SQLite, REST on
 * 127.0.0.1) and a real local EVM node (hardhat node, chain id 31337) as child processes.
 */

const curveOrder = BigInt('0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141');
const recipient = Wallet.createRandom().address;
const erc20 = new Interface(['function transfer(address to, uint256 amount)']);

let api: TestApi;
let node: HardhatNode;
let owner: string;
/** Auto-approves up to 1 ETH; hard limit 5 ETH per transaction. */
let agent: { id: string; key: string; address: string };
let mcpClient: Client | undefined;

async function createAgent(body: Record<string, unknown>): Promise<{ id: string; key: string }> {
  const created = await api.request('POST', '/v1/agents', { credential: owner, json: body });
  expect(created.status).toBe(201);
  return { id: created.body.agent.id, key: created.body.api_key };
}

const submit = (who: { id: string; key: string }, json: unknown, headers: Record<string, string> = {}) =>
  api.request('POST', `/v1/agents/${who.id}/transactions`, { credential: who.key, json, headers });
const signOnly = (who: { id: string; key: string }, json: unknown) =>
  api.request('POST', `/v1/agents/${who.id}/transactions/sign`, { credential: who.key, json });
const decide = (approvalId: string, decision: 'approve' | 'reject') =>
  api.request('POST', `/v1/approvals/${approvalId}/decide`, {
    credential: owner,
    json: { decision, reason: `test ${decision}` },
  });

/** The signed transaction as the chain reads it: sender recovered from the signature. */
function parseSigned(signedTx: string) {
  const tx = Transaction.from(signedTx);
  return { tx, s: BigInt(tx.signature!.s) };
}

beforeAll(async () => {
  [api, node] = await Promise.all([startTestApi(), startHardhatNode()]);
  owner = api.t.ownerApiKey;
  const rpc = await api.request('PUT', '/v1/chains/localhost', {
    credential: owner,
    json: { rpc_url: node.url },
  });
  expect(rpc.status).toBe(200);
  const created = await createAgent({
    name: 'trader',
    intents_api_enabled: true,
    tx_auto_approve_max_value: '1',
    tx_max_value: '5',
    tx_allowed_chains: ['localhost', 'sepolia'],
  });
  const key = await api.request('POST', `/v1/agents/${created.id}/signing-keys`, { credential: created.key });
  expect(key.status).toBe(201);
  agent = { ...created, address: key.body.address };
  await node.fund(agent.address, parseEther('20'));
}, 60_000);

afterAll(async () => {
  await mcpClient?.close().catch(() => undefined);
  await Promise.all([api?.close(), node?.stop()]);
});

describe('keys', () => {
  it('shows the token-held address to the human, and never exports the key', async () => {
    const shown = await api.request('GET', `/v1/agents/${agent.id}`, { credential: owner });
    expect(shown.body).toMatchObject({
      evm_address: agent.address,
      intents_api_enabled: true,
      crypto_proxy_enabled: true,
      tx_auto_approve_max_value: '1',
      tx_max_value: '5',
      tx_allowed_chains: ['localhost', 'sepolia'],
    });
    const keys = await api.request('GET', `/v1/agents/${agent.id}/signing-keys`, { credential: owner });
    expect(keys.body.signing_keys).toEqual([
      expect.objectContaining({ address: agent.address, origin: 'generated', exportable: false }),
    ]);
    expectProblem(
      await api.request('POST', `/v1/agents/${agent.id}/signing-keys/evm/export`, { credential: owner }),
      403,
      'forbidden',
    );
  });

  it('imports an existing wallet key into the token for a new agent', async () => {
    const other = await createAgent({
      name: 'imported',
      crypto_proxy_enabled: true,
      tx_auto_approve_max_value: '1',
    });
    const wallet = Wallet.createRandom();
    const imported = await api.request('POST', `/v1/agents/${other.id}/signing-keys/evm/import`, {
      credential: owner,
      json: { private_key: wallet.privateKey },
    });
    expect(imported.status).toBe(201);
    expect(imported.body).toMatchObject({ address: wallet.address, origin: 'imported', exportable: false });
    expect(JSON.stringify(imported.body)).not.toContain(wallet.privateKey.slice(2));
    // A second import would strand the first key's funds.
    expectProblem(
      await api.request('POST', `/v1/agents/${other.id}/signing-keys/evm/import`, {
        credential: owner,
        json: { private_key: Wallet.createRandom().privateKey },
      }),
      409,
      'conflict',
    );
    // Agents cannot import.
    expectProblem(
      await api.request('POST', `/v1/agents/${other.id}/signing-keys/evm/import`, {
        credential: other.key,
        json: { private_key: Wallet.createRandom().privateKey },
      }),
      403,
      'forbidden',
    );
    // The imported key signs in the token: sign-only, fees given, no RPC needed.
    const signed = await signOnly(other, {
      to: recipient,
      value: '0.01',
      chain: 'localhost',
      max_fee_per_gas: '2000000000',
      max_priority_fee_per_gas: '1000000000',
      nonce: 0,
    });
    expect(signed.status).toBe(201);
    expect(parseSigned(signed.body.signed_tx).tx.from).toBe(wallet.address);
  });
});

describe('submitting through REST to a real chain', () => {
  it('signs in the token, broadcasts, and records the receipt (EIP-1559)', async () => {
    const before = await node.balance(recipient);
    const answer = await submit(agent, { to: recipient, value: '0.5', chain: 'localhost' });
    expect(answer.status).toBe(201);
    expect(answer.body).toMatchObject({
      status: 'broadcast',
      chain: 'localhost',
      chain_id: 31337,
      from: agent.address,
      to: recipient,
      value: '0.5',
      value_wei: '500000000000000000',
      tx_type: 'eip1559',
      receipt_status: 'success',
    });
    expect(await node.balance(recipient)).toBe(before + parseEther('0.5'));
    const { tx, s } = parseSigned(answer.body.signed_tx);
    expect(tx.from).toBe(agent.address);
    expect(tx.chainId).toBe(31337n);
    expect(tx.type).toBe(2);
    expect(s <= curveOrder / 2n).toBe(true);
    expect(tx.hash).toBe(answer.body.tx_hash);
    const onChain = await node.rpc<{ from: string; hash: string }>('eth_getTransactionByHash', [
      answer.body.tx_hash,
    ]);
    expect(onChain.from.toLowerCase()).toBe(agent.address.toLowerCase());

    // Listed and fetched; signed_tx only when asked for.
    const listed = await api.request('GET', `/v1/agents/${agent.id}/transactions`, { credential: agent.key });
    expect(listed.body.transactions[0]).not.toHaveProperty('signed_tx');
    const got = await api.request(
      'GET',
      `/v1/agents/${agent.id}/transactions/${answer.body.id}?include_signed_tx=true`,
      {
        credential: owner,
      },
    );
    expect(got.body.signed_tx).toBe(answer.body.signed_tx);
  });

  it('sends a legacy EIP-155 transaction when given gas_price, with the chain id in v', async () => {
    const answer = await submit(agent, {
      to: recipient,
      value: '0.25',
      chain: '31337',
      gas_price: '3000000000',
    });
    expect(answer.status).toBe(201);
    expect(answer.body).toMatchObject({
      tx_type: 'legacy',
      receipt_status: 'success',
      gas_price: '3000000000',
    });
    const { tx, s } = parseSigned(answer.body.signed_tx);
    expect(tx.type).toBe(0);
    expect(tx.chainId).toBe(31337n);
    expect(tx.from).toBe(agent.address);
    expect(s <= curveOrder / 2n).toBe(true);
    // EIP-155: v = chainId * 2 + 35 + recovery id.
    expect([31337 * 2 + 35, 31337 * 2 + 36]).toContain(Number(tx.signature!.networkV));
  });

  it('signs sequential transactions with increasing nonces, even when sent at once', async () => {
    const answers = await Promise.all(
      [0, 1, 2].map(() => submit(agent, { to: recipient, value: '0.001', chain: 'localhost' })),
    );
    expect(answers.map((a) => a.status)).toEqual([201, 201, 201]);
    const nonces = answers.map((a) => a.body.nonce as number).sort((a, b) => a - b);
    expect(nonces[1]).toBe(nonces[0]! + 1);
    expect(nonces[2]).toBe(nonces[0]! + 2);
    expect(answers.every((a) => a.body.receipt_status === 'success')).toBe(true);
  });

  it('signs only, and says so, when the chain has no RPC URL', async () => {
    const answer = await submit(agent, {
      to: recipient,
      value: '0.1',
      chain: 'sepolia',
      max_fee_per_gas: '30000000000',
      max_priority_fee_per_gas: '1000000000',
    });
    expect(answer.status).toBe(201);
    expect(answer.body.status).toBe('sign_only');
    expect(answer.body.note).toMatch(/no RPC URL is configured for sepolia/u);
    const { tx } = parseSigned(answer.body.signed_tx);
    expect(tx.chainId).toBe(11155111n);
    expect(tx.from).toBe(agent.address);
    // Without fees and no RPC to ask, the refusal says what to give.
    const noFees = expectProblem(
      await submit(agent, { to: recipient, value: '0.1', chain: 'sepolia' }),
      400,
      'invalid_input',
    );
    expect(noFees.detail).toMatch(/max_fee_per_gas/u);
    // Simulation without an RPC is reported as skipped.
    const simulated = await api.request('POST', `/v1/agents/${agent.id}/transactions/simulate`, {
      credential: agent.key,
      json: { to: recipient, value: '0.1', chain: 'sepolia' },
    });
    expect(simulated.body).toMatchObject({ status: 'skipped', error_code: 'no_rpc' });
  });
});

describe('values', () => {
  const value = (v: unknown) =>
    signOnly(agent, {
      to: recipient,
      value: v,
      chain: 'sepolia',
      max_fee_per_gas: '1',
      max_priority_fee_per_gas: '1',
    });

  it('takes exact decimals down to 1 wei', async () => {
    const answer = await value('0.000000000000000001');
    expect(answer.body.value_wei).toBe('1');
    const many = await value('0.123456789012345678');
    expect(many.body.value_wei).toBe('123456789012345678');
    expect(many.body.value).toBe('0.123456789012345678');
  });

  it.each([
    ['0.1234567890123456789', /19 decimal places, but ETH has only 18/u],
    ['-1', /must not be negative/u],
    ['1e18', /exponent notation/u],
    ['1,5', /plain decimal number/u],
    ['', /is required/u],
    [1, /not a JSON number/u],
  ])('refuses %j clearly', async (bad, message) => {
    const problem = expectProblem(await value(bad), 400, 'invalid_input');
    expect(problem.detail).toMatch(message);
  });
});

describe('guardrails', () => {
  it('refuses what the agent may not do, naming the rule', async () => {
    const tooMuch = expectProblem(
      await submit(agent, { to: recipient, value: '6', chain: 'localhost' }),
      403,
      'forbidden',
    );
    expect(tooMuch).toMatchObject({ rule: 'tx_max_value' });
    const chain = expectProblem(
      await submit(agent, { to: recipient, value: '0.1', chain: 'base', max_fee_per_gas: '1' }),
      403,
      'forbidden',
    );
    expect(chain).toMatchObject({ rule: 'tx_allowed_chains' });

    const strict = await createAgent({
      name: 'strict',
      crypto_proxy_enabled: true,
      tx_auto_approve_max_value: '10',
      tx_to_allowlist: [recipient.toLowerCase()],
      tx_daily_limit: '1',
      tx_max_per_day: 2,
    });
    const fees = { chain: 'sepolia', max_fee_per_gas: '1', max_priority_fee_per_gas: '1' };
    const elsewhere = expectProblem(
      await signOnly(strict, { to: Wallet.createRandom().address, value: '0.1', ...fees }),
      403,
      'forbidden',
    );
    expect(elsewhere).toMatchObject({ rule: 'tx_to_allowlist' });
    expect((await signOnly(strict, { to: recipient, value: '0.6', ...fees })).status).toBe(201);
    const overDaily = expectProblem(
      await signOnly(strict, { to: recipient, value: '0.6', ...fees }),
      403,
      'forbidden',
    );
    expect(overDaily).toMatchObject({ rule: 'tx_daily_limit' });
    expect((await signOnly(strict, { to: recipient, value: '0.1', ...fees })).status).toBe(201);
    const overCount = expectProblem(
      await signOnly(strict, { to: recipient, value: '0.1', ...fees }),
      403,
      'forbidden',
    );
    expect(overCount).toMatchObject({ rule: 'tx_max_per_day' });

    // The daily totals are in the store: another connection to the file (a restarted Talon) sees them.
    const reopened = openSqliteStore(api.t.databaseFile);
    try {
      const total = reopened.transactions.dailyTotal(
        strict.id,
        11155111,
        api.t.clock.now.toISOString().slice(0, 10),
      );
      expect(total).toMatchObject({ valueWei: parseEther('0.7').toString(), count: 2 });
    } finally {
      reopened.close();
    }
    // A new day starts new totals.
    api.t.clock.advance(24 * 60 * 60_000);
    expect((await signOnly(strict, { to: recipient, value: '0.6', ...fees })).status).toBe(201);
  });

  it('refuses agents without the crypto proxy, and people', async () => {
    const plain = await createAgent({ name: 'plain' });
    expectProblem(await submit(plain, { to: recipient, value: '0.1', chain: 'localhost' }), 403, 'forbidden');
    expectProblem(
      await api.request('POST', `/v1/agents/${agent.id}/transactions`, {
        credential: owner,
        json: { to: recipient, value: '0.1', chain: 'localhost' },
      }),
      403,
      'forbidden',
    );
  });
});

describe('approvals', () => {
  it('waits for a human above the threshold, then broadcasts once approved, once', async () => {
    const request = { to: recipient, value: '2', chain: 'localhost' };
    const pending = await submit(agent, request);
    expect(pending.status).toBe(202);
    expect(pending.body).toMatchObject({
      action: 'transaction',
      status: 'pending',
      approval_id: expect.any(String),
    });
    expect(pending.body.details).toMatchObject({
      chain: 'localhost',
      chain_id: 31337,
      to: recipient,
      value: '2 ETH',
      value_wei: '2000000000000000000',
      data: null,
    });
    expect(pending.body.summary).toMatch(/send 2 ETH to/u);
    const before = await node.balance(recipient);
    expect((await decide(pending.body.approval_id, 'approve')).status).toBe(200);
    const sent = await submit(agent, { ...request, approval_id: pending.body.approval_id });
    expect(sent.status).toBe(201);
    expect(sent.body).toMatchObject({
      status: 'broadcast',
      receipt_status: 'success',
      approval_id: pending.body.approval_id,
    });
    expect(await node.balance(recipient)).toBe(before + parseEther('2'));
    // Used once: the same approval again is refused.
    expectProblem(
      await submit(agent, { ...request, approval_id: pending.body.approval_id }),
      403,
      'forbidden',
    );
    // And it approves only exactly that request.
    const other = await submit(agent, { to: recipient, value: '3', chain: 'localhost' });
    expect(other.status).toBe(202);
    expect((await decide(other.body.approval_id, 'approve')).status).toBe(200);
    expectProblem(
      await submit(agent, {
        to: recipient,
        value: '3.5',
        chain: 'localhost',
        approval_id: other.body.approval_id,
      }),
      403,
      'forbidden',
    );
  });

  it('shows decoded ERC-20 calls and simulation, and a rejection stays refused', async () => {
    const data = erc20.encodeFunctionData('transfer', [recipient, 1234n]);
    const pending = await submit(agent, {
      to: Wallet.createRandom().address,
      value: '0',
      chain: 'localhost',
      data,
      simulate_first: true,
    });
    expect(pending.status).toBe(202);
    expect(pending.body.details.call).toMatchObject({
      kind: 'erc20.transfer',
      counterparty: recipient,
      amount_raw: '1234',
    });
    expect(pending.body.details.simulation).toMatchObject({ status: 'success' });
    expect((await decide(pending.body.approval_id, 'reject')).status).toBe(200);
    const refused = expectProblem(
      await submit(agent, {
        to: pending.body.details.to,
        value: '0',
        chain: 'localhost',
        data,
        simulate_first: true,
        approval_id: pending.body.approval_id,
      }),
      403,
      'forbidden',
    );
    expect(refused.detail).toMatch(/rejected/u);
  });
});

describe('simulate_first', () => {
  it('catches a revert before signing (422), and simulate reports the reason', async () => {
    const contract = await node.deploy(revertingContractInitCode);
    const answer = await submit(agent, {
      to: contract,
      value: '0',
      chain: 'localhost',
      data: '0x12345678',
      simulate_first: true,
    });
    expect(answer.status).toBe(422);
    expect(answer.body).toMatchObject({
      status: 'simulation_failed',
      simulation_status: 'reverted',
      tx_hash: null,
      code: 'simulation_failed',
    });
    expect(answer.body.error_message).toMatch(/nope/u);
    const simulated = await api.request('POST', `/v1/agents/${agent.id}/transactions/simulate`, {
      credential: agent.key,
      json: { to: contract, value: '0', chain: 'localhost', data: '0x12345678' },
    });
    expect(simulated.body).toMatchObject({ status: 'reverted', revert_reason: 'nope' });
    const fine = await api.request('POST', `/v1/agents/${agent.id}/transactions/simulate`, {
      credential: agent.key,
      json: { to: recipient, value: '0.01', chain: 'localhost' },
    });
    expect(fine.body.status).toBe('success');
    // Hardhat's estimate is a binary search: 21000 or a hair above for a plain transfer.
    expect(fine.body.gas_used).toBeGreaterThanOrEqual(21000);
    expect(fine.body.gas_used).toBeLessThan(21100);
    expect(fine.body.balance_changes).toHaveLength(2);
  });
});

describe('Idempotency-Key', () => {
  it('answers the same key and body with the first answer, and refuses another body or a call in flight', async () => {
    const key = crypto.randomUUID();
    const body = { to: recipient, value: '0.01', chain: 'localhost' };
    const before = await node.balance(recipient);
    const [first, concurrent] = await Promise.all([
      submit(agent, body, { 'idempotency-key': key }),
      new Promise((done) => setTimeout(done, 5)).then(() => submit(agent, body, { 'idempotency-key': key })),
    ]);
    expect(first.status).toBe(201);
    expectProblem(concurrent, 409, 'conflict');
    const replay = await submit(agent, body, { 'idempotency-key': key });
    expect(replay.status).toBe(200);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body.id).toBe(first.body.id);
    expect(replay.body.tx_hash).toBe(first.body.tx_hash);
    expectProblem(
      await submit(agent, { ...body, value: '0.02' }, { 'idempotency-key': key }),
      422,
      'unprocessable',
    );
    expect(await node.balance(recipient)).toBe(before + parseEther('0.01'));
  });
});

describe('signing_key_path (1Claw mode)', () => {
  it('signs with a private_key secret the agent may use but never read', async () => {
    const vault = await api.request('POST', '/v1/vaults', { credential: owner, json: { name: 'signers' } });
    const wallet = Wallet.createRandom();
    await api.request('PUT', `/v1/vaults/${vault.body.id}/secrets/keys/localhost-signer`, {
      credential: owner,
      json: { value: wallet.privateKey, type: 'private_key' },
    });
    await api.request('POST', `/v1/vaults/${vault.body.id}/policies`, {
      credential: owner,
      json: {
        secret_path_pattern: 'keys/**',
        principal_type: 'agent',
        principal_id: agent.id,
        permissions: ['read'],
      },
    });
    // The crypto-proxy agent cannot read it...
    expectProblem(
      await api.request('GET', `/v1/vaults/${vault.body.id}/secrets/keys/localhost-signer`, {
        credential: agent.key,
      }),
      403,
      'forbidden',
    );
    // ...but can sign with it.
    await node.fund(wallet.address, parseEther('1'));
    const answer = await submit(agent, {
      to: recipient,
      value: '0.1',
      chain: 'localhost',
      signing_key_path: 'keys/localhost-signer',
    });
    expect(answer.status).toBe(201);
    expect(answer.body).toMatchObject({
      from: wallet.address,
      receipt_status: 'success',
      signing_key_path: 'keys/localhost-signer',
    });
    expect(JSON.stringify(answer.body)).not.toContain(wallet.privateKey.slice(2));
  });
});

describe('MCP', () => {
  it('submits, simulates, lists and gets through the MCP tools, and waits for an approval', async () => {
    const transport = new StreamableHTTPClientTransport(new URL('/mcp', api.url), {
      requestInit: {
        headers: { authorization: `Bearer ${agent.key}`, 'x-vault-id': (await firstVault()).id },
      },
    });
    mcpClient = new Client({ name: 'talon-test', version: '1.0.0' });
    await mcpClient.connect(transport);
    const before = await node.balance(recipient);
    const submitted = await toolText(mcpClient, 'submit_transaction', {
      to: recipient,
      value: '0.3',
      chain: 'localhost',
    });
    expect(submitted).toMatch(/^Transaction BROADCAST/u);
    expect(submitted).toContain('Chain: localhost (31337)');
    expect(submitted).toContain('Value: 300000000000000000 wei');
    expect(submitted).toMatch(/Simulation: success/u);
    expect(await node.balance(recipient)).toBe(before + parseEther('0.3'));
    const id = /ID: (\S+)/u.exec(submitted)![1]!;

    const simulated = await toolText(mcpClient, 'simulate_transaction', {
      to: recipient,
      value: '0.01',
      chain: 'localhost',
    });
    expect(simulated).toMatch(/^Simulation SUCCESS\nGas used: 210\d\d\nBalance changes:\n/u);
    expect(await toolText(mcpClient, 'list_transactions')).toContain(id);
    expect(await toolText(mcpClient, 'get_transaction', { transaction_id: id })).toContain(
      'Receipt: success',
    );

    const signed = await toolText(mcpClient, 'sign_transaction', {
      to: recipient,
      value: '0.01',
      chain: 'sepolia',
      max_fee_per_gas: '30000000000',
      max_priority_fee_per_gas: '1000000000',
    });
    expect(signed).toMatch(/^Transaction SIGN_ONLY/u);
    const raw = /Signed tx: (0x[0-9a-f]+)/u.exec(signed)![1]!;
    expect(Transaction.from(raw).from).toBe(agent.address);

    const contract = await node.deploy(revertingContractInitCode);
    const reverted = await callTool(mcpClient, 'submit_transaction', {
      to: contract,
      value: '0',
      chain: 'localhost',
      data: '0xabcdef01',
    });
    expect(reverted.isError).toBe(true);
    expect(reverted.text).toMatch(/nope/u);

    // Above the threshold: the tool waits while the human approves, then sends.
    const waiting = toolText(mcpClient, 'submit_transaction', {
      to: recipient,
      value: '1.5',
      chain: 'localhost',
    });
    const approvalId = await pendingApprovalId();
    expect((await decide(approvalId, 'approve')).status).toBe(200);
    expect(await waiting).toMatch(/^Transaction BROADCAST/u);
  });
});

async function firstVault(): Promise<{ id: string }> {
  const vaults = await api.request('GET', '/v1/vaults', { credential: owner });
  return vaults.body.vaults[0];
}

async function pendingApprovalId(): Promise<string> {
  for (let i = 0; i < 100; i += 1) {
    const list = await api.request('GET', '/v1/approvals?status=pending', { credential: owner });
    const found = (list.body.approvals as { id: string; action: string }[]).find(
      (a) => a.action === 'transaction',
    );
    if (found) return found.id;
    await new Promise((done) => setTimeout(done, 50));
  }
  throw new Error('no pending transaction approval appeared');
}

describe('the talon-mcp client over /v1, and the audit log', () => {
  it('submits through HttpVaultClient, and reads a reverted simulation as 422 simulation_failed', async () => {
    const client = new HttpVaultClient({ baseUrl: api.url, credentials: { agentApiKey: agent.key } });
    expect(await client.agentId()).toBe(agent.id);
    const sent = await client.submitTransaction(
      { to: recipient, value: '0.02', chain: 'localhost', simulate_first: true },
      crypto.randomUUID(),
    );
    expect(sent).toMatchObject({ status: 'broadcast', receipt_status: 'success', from: agent.address });
    const contract = await node.deploy(revertingContractInitCode);
    const failure = await client
      .submitTransaction(
        { to: contract, value: '0', chain: 'localhost', data: '0x01020304', simulate_first: true },
        crypto.randomUUID(),
      )
      .then(
        () => null,
        (error: unknown) => error,
      );
    expect(failure).toBeInstanceOf(VaultClientError);
    expect(failure).toMatchObject({ status: 422, code: 'simulation_failed' });
    expect((failure as VaultClientError).detail).toMatch(/nope/u);
    const listed = await client.listTransactions();
    expect(listed.map((tx) => tx.id)).toContain(sent.id);
  });

  it('audits signings and refusals with the rule, never a key', async () => {
    const events = await api.request('GET', '/v1/audit/events?limit=1000', { credential: owner });
    expect(events.status).toBe(200);
    const list = events.body.events as {
      action: string;
      outcome: string;
      details: Record<string, unknown>;
    }[];
    expect(
      list.some((e) => e.action === 'transaction.submit' && e.outcome === 'success' && e.details.tx_hash),
    ).toBe(true);
    expect(list.some((e) => e.action === 'transaction.broadcast' && e.outcome === 'success')).toBe(true);
    expect(
      list.some(
        (e) =>
          e.action === 'transaction.submit' && e.outcome === 'denied' && e.details.rule === 'tx_max_value',
      ),
    ).toBe(true);
    expect(list.some((e) => e.action === 'signing_key.import')).toBe(true);
    expect(list.some((e) => e.action === 'chain.rpc.set')).toBe(true);
    // No private key in any entry: nothing 64-hex-digit beyond hashes of transactions.
    const text = JSON.stringify(list);
    const hashes = new Set(list.map((e) => String(e.details.tx_hash ?? '')));
    for (const match of text.matchAll(/0x[0-9a-f]{64}/giu)) expect(hashes.has(match[0])).toBe(true);
  });
});

describe('chains and agent guardrail settings', () => {
  it("lists 1Claw's chains and the local one; only people see or set RPC URLs", async () => {
    const forOwner = await api.request('GET', '/v1/chains', { credential: owner });
    const chains = forOwner.body.chains as {
      name: string;
      chain_id: number;
      rpc_url: string | null;
      rpc_configured: boolean;
    }[];
    expect(chains.length).toBeGreaterThanOrEqual(31);
    expect(chains).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'ethereum', chain_id: 1, rpc_configured: false }),
        expect.objectContaining({ name: 'base', chain_id: 8453 }),
        expect.objectContaining({ name: 'sepolia', chain_id: 11155111 }),
        expect.objectContaining({
          name: 'localhost',
          chain_id: 31337,
          rpc_configured: true,
          rpc_url: `${node.url}/`,
        }),
      ]),
    );
    const forAgent = await api.request('GET', '/v1/chains/31337', { credential: agent.key });
    expect(forAgent.body).toMatchObject({ name: 'localhost', rpc_configured: true, rpc_url: null });
    expectProblem(
      await api.request('PUT', '/v1/chains/localhost', {
        credential: agent.key,
        json: { rpc_url: 'http://127.0.0.1:1' },
      }),
      403,
      'forbidden',
    );
    expectProblem(
      await api.request('PUT', '/v1/chains/localhost', {
        credential: owner,
        json: { rpc_url: 'file:///etc/passwd' },
      }),
      400,
      'invalid_input',
    );
    expectProblem(
      await api.request('GET', '/v1/chains/nowhere', { credential: owner }),
      400,
      'invalid_input',
    );
  });

  it('checks guardrail fields on update, and null clears one', async () => {
    const path = `/v1/agents/${agent.id}`;
    const patch = (json: unknown) => api.request('PATCH', path, { credential: owner, json });
    const set = await patch({ tx_to_allowlist: [recipient], tx_max_value_eth: '4' });
    expect(set.body).toMatchObject({
      tx_to_allowlist: [recipient],
      tx_max_value: '4',
      tx_auto_approve_max_value: '1',
    });
    expect((await patch({ tx_to_allowlist: null, tx_max_value: '5' })).body).toMatchObject({
      tx_to_allowlist: null,
      tx_max_value: '5',
    });
    expect(expectProblem(await patch({ tx_to_allowlist: ['0x1234'] }), 400, 'invalid_input').detail).toMatch(
      /tx_to_allowlist/u,
    );
    expect(
      expectProblem(await patch({ tx_allowed_chains: ['atlantis'] }), 400, 'invalid_input').detail,
    ).toMatch(/atlantis/u);
    expect(expectProblem(await patch({ tx_daily_limit: '-1' }), 400, 'invalid_input').detail).toMatch(
      /negative/u,
    );
    expect(
      expectProblem(await patch({ tx_max_value: '2', tx_max_value_eth: '3' }), 400, 'invalid_input').detail,
    ).toMatch(/disagree/u);
  });

  it('records a transaction that reverts on chain as failed, with the receipt', async () => {
    const contract = await node.deploy(revertingContractInitCode);
    // Without a gas limit the chain cannot estimate it: refused before signing.
    const unestimated = expectProblem(
      await submit(agent, { to: contract, value: '0', chain: 'localhost', data: '0x05060708' }),
      422,
      'unprocessable',
    );
    expect(unestimated.detail).toMatch(/nope/u);
    // With one (and no simulation) it is signed, sent, mined and reverts.
    const pending = await submit(agent, {
      to: contract,
      value: '0',
      chain: 'localhost',
      data: '0x05060708',
      gas_limit: 60000,
    });
    expect(pending.status).toBe(202); // a contract call is never auto-approved
    await decide(pending.body.approval_id, 'approve');
    const sent = await submit(agent, {
      to: contract,
      value: '0',
      chain: 'localhost',
      data: '0x05060708',
      gas_limit: 60000,
      approval_id: pending.body.approval_id,
    });
    expect(sent.status).toBe(201);
    expect(sent.body).toMatchObject({
      status: 'failed',
      receipt_status: 'reverted',
      tx_hash: expect.any(String),
    });
    expect(sent.body.block_number).toBeGreaterThan(0);
  });
});
