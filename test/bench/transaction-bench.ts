import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Wallet } from 'ethers';
import { pino } from 'pino';
import type { KeyStore } from '../../hsm-bridge/index.js';
import { createApiServer } from '../../main/api/server.js';
import { type CallContext, Engine, type Principal } from '../../main/engine/index.js';
import { signingKeyLabel } from '../../main/engine/signing-keys.js';
import { openSqliteStore } from '../../main/store/sqlite-store.js';
import { testPin } from '../fixtures/test-token.js';
import { measure, ratio } from './measure.js';
import type { SuiteResult } from './token-bench.js';

/**
 * Transaction signatures per second through the whole REST path (authentication, request
 * checks, guardrails, the daily totals and the record written in one durable store transaction,
 * the token's CKM_ECDSA, low-s and recovery id, the RLP encoding, the audit entry) next to the
 * raw token ECDSA operation on the same key, in the same run. Sign-only on a chain without an RPC
 * URL, so no node is involved.
 */
export async function benchTransactions(keyStore: KeyStore, dataDir: string, scale: number): Promise<SuiteResult> {
  const n = (count: number) => Math.max(100, Math.round(count * scale));
  const store = openSqliteStore(join(dataDir, 'tx-bench.sqlite'));
  const engine = new Engine(store, keyStore);
  const call = (): CallContext => ({ now: new Date(), via: 'bench' });
  await engine.unlock(testPin, call());
  const setup = engine.setUpOwner({ email: 'tx-bench@talon.local' }, call())!;
  const owner: Principal = { type: 'user', id: setup.userId, role: 'owner' };
  const { agent, api_key: agentKey } = engine.agents.create(
    owner,
    { name: 'tx-bench', crypto_proxy_enabled: true, tx_auto_approve_max_value: '1000' },
    call(),
  );
  const api = await createApiServer({
    engine,
    port: 0,
    rateLimit: { max: 10_000_000 },
    logger: pino({ level: 'warn' }),
  });
  const url = await api.listen();
  try {
    const token = (await (
      await fetch(`${url}/v1/auth/agent-token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ api_key: agentKey, agent_id: agent.id }),
      })
    ).json()) as { access_token: string };
    const headers = { authorization: `Bearer ${token.access_token}`, 'content-type': 'application/json' };
    const provisioned = await fetch(`${url}/v1/agents/${agent.id}/signing-keys`, { method: 'POST', headers });
    if (provisioned.status !== 201) throw new Error(`provisioning answered ${provisioned.status}`);
    const to = Wallet.createRandom().address;
    let nonce = 0;
    const body = () =>
      JSON.stringify({
        to,
        value: '0.001',
        chain: 'sepolia',
        nonce: nonce++,
        max_fee_per_gas: '30000000000',
        max_priority_fee_per_gas: '1000000000',
      });
    const post = () =>
      fetch(`${url}/v1/agents/${agent.id}/transactions/sign`, { method: 'POST', headers, body: body() });
    const signOverRest = async () => {
      // A kept-alive socket the server closed just as it was reused: once more, on a new one.
      const response = await post().catch(post);
      if (response.status !== 201) throw new Error(`sign answered ${response.status}: ${await response.text()}`);
      await response.arrayBuffer();
    };
    const agentPrincipal = await engine.auth.authenticate(agentKey, call());
    const signInEngine = () =>
      engine.transactions.sign(agentPrincipal, agent.id, JSON.parse(body()) as unknown, call());
    const digest = randomBytes(32);
    const label = signingKeyLabel(agent.id);

    const m = {
      raw: await measure('token ecdsa secp256k1 sign (raw, agent key)', () => keyStore.signDigest(label, digest), {
        count: n(2_000),
      }),
      engine: await measure('transaction sign, engine (no HTTP)', signInEngine, { count: n(500) }),
      rest: await measure('transaction sign, REST POST …/transactions/sign', signOverRest, { count: n(500) }),
      rest4: await measure('transaction sign, REST, 4 in flight', signOverRest, { count: n(500), concurrency: 4 }),
    };
    return {
      suite: 'transactions (sign-only, SoftHSM2)',
      measurements: Object.values(m),
      ratios: [
        ratio('REST signatures/s ÷ raw token ECDSA/s', m.rest, m.raw),
        ratio('REST (4 in flight) signatures/s ÷ raw token ECDSA/s', m.rest4, m.raw),
        ratio('engine signatures/s ÷ raw token ECDSA/s', m.engine, m.raw),
      ],
      notes: [
        'Each signed transaction is one store transaction without an fsync of its own (the record and the daily totals reserved), one token ECDSA call, and one durable (fsynced) store transaction for the signed record and its audit entry.',
      ],
    };
  } finally {
    await api.app.close();
    await engine.lock(call()).catch(() => undefined);
    store.close();
  }
}

// `npx tsx test/bench/transaction-bench.ts`: this suite alone, on a fresh token.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { createTestToken } = await import('../fixtures/test-token.js');
  const token = await createTestToken();
  try {
    const result = await benchTransactions(token.keyStore, token.dataDir, Number(process.env.TALON_BENCH_SCALE ?? '1'));
    for (const m of result.measurements) {
      console.log(`${m.name}: ${m.opsPerSecond.toFixed(0)}/s, p50 ${m.p50Ms.toFixed(2)} ms, p99 ${m.p99Ms.toFixed(2)} ms (N ${m.count})`);
    }
    for (const r of result.ratios) console.log(`${r.name}: ${r.value.toFixed(3)}`);
  } finally {
    token.cleanup();
  }
}
