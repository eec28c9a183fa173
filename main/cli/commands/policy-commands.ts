import type { Command } from 'commander';
import type { PrincipalType } from '../../client/index.js';
import { CliError } from '../cli-error.js';
import { outputOf, when, withExamples } from '../command-output.js';
import { type Connection, connect, globalFlags, isUuid, resolveVault } from '../talon-connection.js';
import { resolveAgent } from './agent-commands.js';

async function inVault(command: Command): Promise<{ connection: Connection; vaultId: string }> {
  const connection = connect(globalFlags(command));
  return {
    connection,
    vaultId: await resolveVault(connection, command.optsWithGlobals<{ vault?: string }>().vault),
  };
}

interface PrincipalFlags {
  agent?: string;
  user?: string;
  principalType?: string;
  principalId?: string;
}

/** Who a policy is for: --agent <id|name>, --user <id>, or 1Claw's --principal-type/--principal-id. */
async function principalOf(
  connection: Connection,
  flags: PrincipalFlags,
): Promise<{ type: PrincipalType; id: string }> {
  if (flags.agent) return { type: 'agent', id: await resolveAgent(connection, flags.agent) };
  if (flags.user) return { type: 'user', id: flags.user };
  if (flags.principalType && flags.principalId) {
    if (flags.principalType !== 'user' && flags.principalType !== 'agent') {
      throw new CliError('invalid_input', '--principal-type must be user or agent.');
    }
    const id =
      flags.principalType === 'agent' && !isUuid(flags.principalId)
        ? await resolveAgent(connection, flags.principalId)
        : flags.principalId;
    return { type: flags.principalType, id };
  }
  throw new CliError(
    'invalid_input',
    'Say who: --agent <id or name>, --user <id>, or --principal-type agent|user --principal-id <id>.',
  );
}

function permissionsOf(text: string): string[] {
  return text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
}

function withPrincipalOptions(command: Command): Command {
  return command
    .option('--agent <agent>', 'for this agent (id or name)')
    .option('--user <id>', 'for this person (user id)')
    .option('--principal-type <type>', 'user or agent (1Claw style, with --principal-id)')
    .option('--principal-id <id>', 'the user or agent id');
}

/** `policy list|create|delete|test`. */
export function registerPolicyCommands(program: Command): void {
  const policy = program
    .command('policy')
    .description(
      "policies (1Claw's grants): who may do what on which paths of a vault; no matching policy means no",
    )
    .option(
      '-v, --vault <vault>',
      'vault id or name (default ONECLAW_VAULT_ID, the linked vault, or your only vault)',
    );

  withExamples(
    policy
      .command('list')
      .alias('ls')
      .description("the vault's policies")
      .action(async (_flags, command: Command) => {
        const out = outputOf(command);
        const { connection, vaultId } = await inVault(command);
        const { policies } = await connection.client.access.listGrants(vaultId);
        out.result({ policies }, () =>
          out.table(
            ['id', 'who', 'path', 'permissions', 'effect', 'approval', 'expires'],
            policies.map((p) => [
              p.id,
              `${p.principal_type} ${p.principal_id}`,
              p.secret_path_pattern,
              p.permissions.join(','),
              p.effect ?? 'allow',
              p.require_approval ? 'yes' : '',
              p.expires_at ? when(p.expires_at) : '',
            ]),
          ),
        );
      }),
    ['talon policy list --vault personal'],
  );

  withExamples(
    withPrincipalOptions(
      policy
        .command('create')
        .description('grant an agent or a person permissions on the paths matching a pattern')
        .requiredOption('--path <pattern>', 'path pattern: * is one segment, ** any depth (e.g. api-keys/**)')
        .requiredOption(
          '--permissions <list>',
          'comma-separated: read, write, delete (and use, where Talon has it)',
        ),
    )
      .option('--effect <effect>', 'allow (default) or deny; deny wins')
      .option('--priority <n>', 'higher first (default 0)')
      .option('--require-approval', 'a human approves each use')
      .option('--ip-allowlist <cidrs>', 'only from these addresses (comma-separated CIDRs)')
      .option('--expires <iso>', 'the policy stops applying then')
      .action(
        async (
          flags: PrincipalFlags & {
            path: string;
            permissions: string;
            effect?: string;
            priority?: string;
            requireApproval?: boolean;
            ipAllowlist?: string;
            expires?: string;
          },
          command: Command,
        ) => {
          const out = outputOf(command);
          const { connection, vaultId } = await inVault(command);
          const who = await principalOf(connection, flags);
          if (flags.effect && flags.effect !== 'allow' && flags.effect !== 'deny') {
            throw new CliError('invalid_input', '--effect must be allow or deny.');
          }
          if (flags.priority && !/^-?\d+$/u.test(flags.priority))
            throw new CliError('invalid_input', '--priority must be a whole number.');
          const created = await connection.client.access.create(vaultId, {
            secret_path_pattern: flags.path,
            principal_type: who.type,
            principal_id: who.id,
            permissions: permissionsOf(flags.permissions),
            ...(flags.effect ? { effect: flags.effect as 'allow' | 'deny' } : {}),
            ...(flags.priority ? { priority: Number(flags.priority) } : {}),
            ...(flags.requireApproval ? { require_approval: true } : {}),
            ...(flags.ipAllowlist ? { conditions: { ip_allowlist: permissionsOf(flags.ipAllowlist) } } : {}),
            ...(flags.expires ? { expires_at: flags.expires } : {}),
          });
          out.result(created, () =>
            console.log(
              `Created policy ${created.id}: ${who.type} ${who.id} may ${created.permissions.join(', ')} on ${created.secret_path_pattern}.`,
            ),
          );
        },
      ),
    [
      "talon policy create --agent claude-code --path 'api-keys/**' --permissions read",
      "talon policy create --principal-type agent --principal-id 0192f0c4-… --path '**' --permissions read,write --require-approval",
    ],
  );

  withExamples(
    policy
      .command('delete <policy-id>')
      .alias('rm')
      .description('remove a policy (takes effect on the next request, token or not)')
      .action(async (policyId: string, _flags, command: Command) => {
        const out = outputOf(command);
        const { connection, vaultId } = await inVault(command);
        await connection.client.access.revoke(vaultId, policyId);
        out.result({ deleted: policyId }, () => console.log(`Deleted policy ${policyId}.`));
      }),
    ['talon policy delete 0192f0c4-…'],
  );

  withExamples(
    withPrincipalOptions(
      policy
        .command('test')
        .description(
          'the simulator: would this agent or person be allowed this on this path now, and by which policy?',
        )
        .requiredOption('--path <path>', 'a secret path')
        .requiredOption('--permission <permission>', 'read, write or delete'),
    ).action(async (flags: PrincipalFlags & { path: string; permission: string }, command: Command) => {
      const out = outputOf(command);
      const { connection, vaultId } = await inVault(command);
      const who = await principalOf(connection, flags);
      const decision = await connection.client.access.simulate(vaultId, {
        principal_type: who.type,
        principal_id: who.id,
        path: flags.path,
        permission: flags.permission,
      });
      out.result(decision, () =>
        out.fields([
          ['allowed', decision.allowed ? 'yes' : 'no'],
          ['approval needed', decision.require_approval ? 'yes' : undefined],
          ['policy', decision.policy_id ?? 'none'],
          ['why', decision.reason],
        ]),
      );
    }),
    ['talon policy test --agent claude-code --path api-keys/openai --permission read'],
  );
}
