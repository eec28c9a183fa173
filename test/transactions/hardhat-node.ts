import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** Hardhat's first default account: unlocked in `hardhat node`, funded with 10000 ETH. */
export const hardhatFunder = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266';

export interface HardhatNode {
  url: string;
  rpc<T = unknown>(method: string, params?: unknown[]): Promise<T>;
  balance(address: string): Promise<bigint>;
  /** Sends `wei` from the funder and waits for it to be mined (automine). */
  fund(address: string, wei: bigint): Promise<void>;
  /** Deploys `initCode` from the funder; resolves to the contract address. */
  deploy(initCode: string): Promise<string>;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/**
 * A real local EVM node: `hardhat node` (Hardhat 2, chain id 31337) as a child process in a
 * temporary folder with a one-line config. Hardhat refuses to run from outside a project, so the
 * folder links to this repository's node_modules.
 */
export async function startHardhatNode(): Promise<HardhatNode> {
  const folder = mkdtempSync(join(tmpdir(), 'talon-hardhat-'));
  writeFileSync(join(folder, 'hardhat.config.js'), 'module.exports = {};\n');
  symlinkSync(resolve('node_modules'), join(folder, 'node_modules'), 'dir');
  const port = await freePort();
  const child: ChildProcess = spawn(
    process.execPath,
    [
      join(folder, 'node_modules/hardhat/internal/cli/bootstrap.js'),
      'node',
      '--hostname',
      '127.0.0.1',
      '--port',
      String(port),
    ],
    {
      cwd: folder,
      env: { ...process.env, HARDHAT_DISABLE_TELEMETRY_PROMPT: 'true', DO_NOT_TRACK: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    if (output.length < 20_000) output += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    if (output.length < 20_000) output += chunk.toString('utf8');
  });
  const url = `http://127.0.0.1:${port}`;
  let nextId = 1;
  const rpc = async <T>(method: string, params: unknown[] = []): Promise<T> => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, params }),
    });
    const body = (await response.json()) as { result?: T; error?: { message: string } };
    if (body.error) throw new Error(`${method}: ${body.error.message}`);
    return body.result as T;
  };
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((done) => child.once('exit', done));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((done) => setTimeout(done, 3000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    rmSync(folder, { recursive: true, force: true });
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`hardhat node exited (${child.exitCode}):\n${output}`);
    }
    try {
      if ((await rpc<string>('eth_chainId')) === '0x7a69') break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`hardhat node did not start in 30 s:\n${output}`);
    }
    await new Promise((done) => setTimeout(done, 100));
  }
  const receiptOf = async (hash: string) => {
    for (let i = 0; i < 100; i += 1) {
      const receipt = await rpc<{ status: string; contractAddress: string | null } | null>(
        'eth_getTransactionReceipt',
        [hash],
      );
      if (receipt) return receipt;
      await new Promise((done) => setTimeout(done, 50));
    }
    throw new Error(`no receipt for ${hash}`);
  };
  return {
    url,
    rpc,
    stop,
    balance: async (address) => BigInt(await rpc<string>('eth_getBalance', [address, 'latest'])),
    fund: async (address, wei) => {
      const hash = await rpc<string>('eth_sendTransaction', [
        { from: hardhatFunder, to: address, value: `0x${wei.toString(16)}` },
      ]);
      await receiptOf(hash);
    },
    deploy: async (initCode) => {
      const hash = await rpc<string>('eth_sendTransaction', [{ from: hardhatFunder, data: initCode }]);
      const receipt = await receiptOf(hash);
      return receipt.contractAddress!;
    },
  };
}

/**
 * Init code of a contract whose every call reverts with Error("nope"): the runtime copies a
 * 100-byte ABI-encoded Error(string) from its own code into memory and reverts with it.
 */
export const revertingContractInitCode = (() => {
  const reason = Buffer.from('nope');
  const payload =
    '08c379a0' +
    (32).toString(16).padStart(64, '0') +
    reason.length.toString(16).padStart(64, '0') +
    reason.toString('hex').padEnd(64, '0');
  // PUSH1 100, PUSH1 12, PUSH1 0, CODECOPY, PUSH1 100, PUSH1 0, REVERT; then the payload.
  const runtime = '6064600c600039606460' + '00fd' + payload;
  const runtimeLength = runtime.length / 2; // 112
  // PUSH1 len, PUSH1 12, PUSH1 0, CODECOPY, PUSH1 len, PUSH1 0, RETURN; then the runtime.
  const len = runtimeLength.toString(16).padStart(2, '0');
  return `0x60${len}600c60003960${len}6000f3${runtime}`;
})();
