import type { Command } from 'commander';
import type { Agent, UpdateAgentRequest } from '../../client/index.js';
import { CliError } from '../cli-error.js';
import { outputOf, when, withExamples } from '../command-output.js';
import { readStdin } from '../secret-input.js';
import { type Connection, connect, globalFlags, isUuid } from '../talon-connection.js';

/** An agent by id or by name. */
export async function resolveAgent(connection: Connection, given: string): Promise<string> {
  if (isUuid(given)) return given.toLowerCase();
  const { agents } = await connection.client.agents.list();
  const named = agents.filter((agent) => agent.name === given);
  if (named.length === 1) return named[0]!.id;
  throw new CliError(
    named.length > 1 ? 'conflict' : 'not_found',
    named.length > 1
      ? `${named.length} agents are named '${given}'; give its id (talon agent list).`
      : `No agent named '${given}'. talon agent list shows them.`,
  );
}

function list(text: string | undefined): string[] | undefined {
  return text === undefined
    ? undefined
    : text
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean);
}

function yesNo(text: string, name: string): boolean {
  if (text === 'true' || text === 'yes') return true;
  if (text === 'false' || text === 'no') return false;
  throw new CliError('invalid_input', `${name} must be true or false.`);
}

function seconds(text: string): number {
  if (!/^\d+$/u.test(text))
    throw new CliError('invalid_input', `--token-ttl must be a number of seconds, not '${text}'.`);
  return Number(text);
}

function showAgent(agent: Agent, out: ReturnType<typeof outputOf>): void {
  out.fields([
    ['id', agent.id],
    ['name', agent.name],
    ['description', agent.description],
    ['active', agent.is_active],
    ['vaults', agent.vault_ids.length ? agent.vault_ids.join(', ') : 'all it is granted'],
    ['scopes', agent.scopes.length ? agent.scopes.join(', ') : undefined],
    ['intents API', agent.intents_api_enabled],
    ['token TTL', agent.token_ttl_seconds ? `${agent.token_ttl_seconds} s` : 'default'],
    ['expires', agent.expires_at ?? 'never'],
    ['created', agent.created_at],
    ['last active', agent.last_active_at ?? 'never'],
  ]);
}

function printKeyOnce(key: string, agentId: string): void {
  console.log(`API key (shown this once; store it now): ${key}`);
  console.log(`Use it as: ONECLAW_AGENT_ID=${agentId} ONECLAW_AGENT_API_KEY=<the key>`);
}

interface AgentFlags {
  description?: string;
  vaultIds?: string;
  scopes?: string;
  tokenTtl?: string;
  intentsApi?: string | boolean;
  expires?: string;
}

/** `agent list|create|get|update|delete|token|rotate-key`. */
export function registerAgentCommands(program: Command): void {
  const agent = program
    .command('agent')
    .description('agents: the programs that reach your vaults with their own API keys');

  withExamples(
    agent
      .command('list')
      .alias('ls')
      .description('your agents')
      .action(async (_flags, command: Command) => {
        const out = outputOf(command);
        const { agents } = await connect(globalFlags(command)).client.agents.list();
        out.result({ agents }, () =>
          out.table(
            ['id', 'name', 'active', 'vaults', 'last active'],
            agents.map((a) => [
              a.id,
              a.name,
              a.is_active ? 'yes' : 'no',
              a.vault_ids.length || 'all',
              when(a.last_active_at) || 'never',
            ]),
          ),
        );
      }),
    ['talon agent list'],
  );

  withExamples(
    agent
      .command('create <name>')
      .description('register an agent; its API key is printed once')
      .option('-d, --description <text>', 'what the agent is')
      .option('--vault-ids <ids>', 'bind it to these vaults (comma-separated ids)')
      .option('--scopes <patterns>', 'path patterns its tokens are limited to (comma-separated)')
      .option('--token-ttl <seconds>', 'lifetime of its access tokens (60–86400)')
      .option('--intents-api', 'let it submit transaction intents (and never read private keys)')
      .option('--expires <iso>', 'the agent stops working then')
      .action(async (name: string, flags: AgentFlags, command: Command) => {
        const out = outputOf(command);
        const created = await connect(globalFlags(command)).client.agents.create({
          name,
          ...(flags.description ? { description: flags.description } : {}),
          ...(flags.vaultIds ? { vault_ids: list(flags.vaultIds)! } : {}),
          ...(flags.scopes ? { scopes: list(flags.scopes)! } : {}),
          ...(flags.tokenTtl ? { token_ttl_seconds: seconds(flags.tokenTtl) } : {}),
          ...(flags.intentsApi ? { intents_api_enabled: true } : {}),
          ...(flags.expires ? { expires_at: flags.expires } : {}),
        });
        out.result(created, () => {
          console.log(`Registered agent ${created.agent.name} (${created.agent.id}).`);
          printKeyOnce(created.api_key, created.agent.id);
          console.log(
            `Grant it access with: talon policy create --agent ${created.agent.id} --path '**' --permissions read`,
          );
        });
      }),
    ['talon agent create claude-code', 'talon agent create ci --vault-ids 0192f0c4-… --token-ttl 900 --json'],
  );

  withExamples(
    agent
      .command('get <agent>')
      .description('one agent, by id or name')
      .action(async (given: string, _flags, command: Command) => {
        const out = outputOf(command);
        const connection = connect(globalFlags(command));
        const found = await connection.client.agents.get(await resolveAgent(connection, given));
        out.result(found, () => showAgent(found, out));
      }),
    ['talon agent get claude-code'],
  );

  withExamples(
    agent
      .command('update <agent>')
      .description("change an agent's settings")
      .option('--name <name>', 'a new name')
      .option('-d, --description <text>', 'a new description')
      .option('--vault-ids <ids>', 'bind it to these vaults (comma-separated; "" for none)')
      .option('--scopes <patterns>', 'limit its tokens to these path patterns (comma-separated; "" for none)')
      .option('--token-ttl <seconds>', 'lifetime of its access tokens')
      .option('--active <true|false>', 'suspend or resume it')
      .option('--intents-api <true|false>', 'allow transaction intents')
      .option('--expires <iso>', 'the agent stops working then')
      .action(
        async (given: string, flags: AgentFlags & { name?: string; active?: string }, command: Command) => {
          const out = outputOf(command);
          const connection = connect(globalFlags(command));
          const body: UpdateAgentRequest = {
            ...(flags.name ? { name: flags.name } : {}),
            ...(flags.description !== undefined ? { description: flags.description } : {}),
            ...(flags.vaultIds !== undefined ? { vault_ids: list(flags.vaultIds)! } : {}),
            ...(flags.scopes !== undefined ? { scopes: list(flags.scopes)! } : {}),
            ...(flags.tokenTtl ? { token_ttl_seconds: seconds(flags.tokenTtl) } : {}),
            ...(flags.active !== undefined ? { is_active: yesNo(flags.active, '--active') } : {}),
            ...(typeof flags.intentsApi === 'string'
              ? { intents_api_enabled: yesNo(flags.intentsApi, '--intents-api') }
              : {}),
            ...(flags.expires ? { expires_at: flags.expires } : {}),
          };
          if (Object.keys(body).length === 0)
            throw new CliError(
              'invalid_input',
              'Nothing to change: give at least one option (talon agent update --help).',
            );
          const updated = await connection.client.agents.update(await resolveAgent(connection, given), body);
          out.result(updated, () => showAgent(updated, out));
        },
      ),
    ['talon agent update ci --active false', 'talon agent update claude-code --token-ttl 600'],
  );

  withExamples(
    agent
      .command('delete <agent>')
      .description('remove an agent: its key and tokens stop working')
      .action(async (given: string, _flags, command: Command) => {
        const out = outputOf(command);
        const connection = connect(globalFlags(command));
        const id = await resolveAgent(connection, given);
        await connection.client.agents.delete(id);
        out.result({ deleted: id }, () => console.log(`Deleted agent ${id}.`));
      }),
    ['talon agent delete old-bot'],
  );

  withExamples(
    agent
      .command('token [agent]')
      .description(
        "exchange an agent's API key (ONECLAW_AGENT_API_KEY, or stdin with --key-stdin) for an access token",
      )
      .option('--key-stdin', 'read the agent key from stdin')
      .option('-q, --quiet', 'print only the token')
      .action(
        async (
          given: string | undefined,
          flags: { keyStdin?: boolean; quiet?: boolean },
          command: Command,
        ) => {
          const out = outputOf(command);
          const key = flags.keyStdin ? await readStdin() : process.env.ONECLAW_AGENT_API_KEY;
          if (!key)
            throw new CliError(
              'invalid_input',
              'Give the agent key in ONECLAW_AGENT_API_KEY or on stdin with --key-stdin.',
            );
          const agentId = given ?? process.env.ONECLAW_AGENT_ID;
          const connection = connect(globalFlags(command), { anonymous: true });
          const token = await connection.client.auth.agentToken({
            api_key: key,
            ...(agentId && isUuid(agentId) ? { agent_id: agentId } : {}),
          });
          out.result(token, () => {
            if (flags.quiet) process.stdout.write(`${token.access_token}\n`);
            else
              out.fields([
                ['access token', token.access_token],
                ['expires in', `${token.expires_in ?? '?'} s`],
                ['vaults', token.vault_ids?.join(', ')],
              ]);
          });
        },
      ),
    ['ONECLAW_AGENT_API_KEY=ocv_… talon agent token --quiet', 'talon agent token --key-stdin < agent.key'],
  );

  withExamples(
    agent
      .command('rotate-key <agent>')
      .description('a new API key for the agent (printed once); the old one stops working')
      .action(async (given: string, _flags, command: Command) => {
        const out = outputOf(command);
        const connection = connect(globalFlags(command));
        const id = await resolveAgent(connection, given);
        const rotated = await connection.client.agents.rotateKey(id);
        out.result({ agent_id: id, ...rotated }, () => printKeyOnce(rotated.api_key, id));
      }),
    ['talon agent rotate-key claude-code'],
  );
}
