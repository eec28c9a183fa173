import type { Command } from 'commander';
import type { CreateShareRequest, ShareRecipientType } from '../../client/index.js';
import { CliError } from '../cli-error.js';
import { outputOf, when, withExamples } from '../command-output.js';
import { connect, globalFlags, isUuid, resolveVault } from '../talon-connection.js';
import { resolveAgent } from './agent-commands.js';
import { type ApprovalFlags, throughApproval, withApprovalOptions } from './approval-pending.js';

/** `1h`, `7d`, `30m` or an ISO date-time, as an ISO date-time. */
function expiry(text: string): string {
  const match = /^(\d+)([mhd])$/u.exec(text);
  if (match) {
    const unit = { m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 'm' | 'h' | 'd'];
    return new Date(Date.now() + Number(match[1]) * unit).toISOString();
  }
  if (Number.isNaN(Date.parse(text)))
    throw new CliError('invalid_input', `--expires must be like 24h, 7d or an ISO date-time, not '${text}'.`);
  return new Date(text).toISOString();
}

/** `share create|list|accept|decline|revoke`. */
export function registerShareCommands(program: Command): void {
  const share = program
    .command('share')
    .description('shares: one secret, to a person, an agent or anyone with the link, for a while');

  withExamples(
    withApprovalOptions(share.command('create <secret>'))
      .description(
        'share a secret (its id, or its path in --vault); targeted shares must be accepted by the recipient',
      )
      .option('-v, --vault <vault>', 'the vault when <secret> is a path')
      .option('--to <recipient>', 'user:<id>, agent:<id or name>, or creator')
      .option('--link', 'anyone with the link')
      .option('--expires <when>', 'how long: 1h, 7d, or an ISO date-time (default 24h)', '24h')
      .option('--max-access <n>', 'readable this many times (default 5; 0 = no limit)', '5')
      .action(
        async (
          secret: string,
          flags: ApprovalFlags & {
            vault?: string;
            to?: string;
            link?: boolean;
            expires: string;
            maxAccess: string;
          },
          command: Command,
        ) => {
          const out = outputOf(command);
          const connection = connect(globalFlags(command));
          if (!flags.link === !flags.to)
            throw new CliError(
              'invalid_input',
              'Say who gets it: --to user:<id>, --to agent:<id>, --to creator, or --link.',
            );
          let recipient: Pick<CreateShareRequest, 'recipient_type' | 'recipient_id'>;
          if (flags.link) recipient = { recipient_type: 'anyone_with_link' };
          else if (flags.to === 'creator') recipient = { recipient_type: 'creator' };
          else {
            const [kind, ...rest] = flags.to!.split(':');
            const target = rest.join(':');
            if ((kind !== 'user' && kind !== 'agent') || !target) {
              throw new CliError('invalid_input', '--to must be user:<id>, agent:<id or name> or creator.');
            }
            recipient = {
              recipient_type: kind as ShareRecipientType,
              recipient_id: kind === 'agent' ? await resolveAgent(connection, target) : target,
            };
          }
          if (!/^\d+$/u.test(flags.maxAccess))
            throw new CliError('invalid_input', '--max-access must be a whole number.');
          const secretId = isUuid(secret)
            ? secret
            : (await connection.client.secrets.describe(await resolveVault(connection, flags.vault), secret))
                .id;
          const body = {
            ...recipient,
            expires_at: expiry(flags.expires),
            max_access_count: Number(flags.maxAccess),
          };
          const created = await throughApproval(connection.client, flags, out, (approvalId) =>
            connection.client.sharing.create(secretId, body, approvalId ? { approvalId } : {}),
          );
          out.result(created, () => {
            console.log(`Shared: share ${created.id}, until ${created.expires_at}.`);
            if (created.share_url) console.log(`URL: ${created.share_url}`);
            if (recipient.recipient_type !== 'anyone_with_link')
              console.log('The recipient must accept it first: talon share accept <id>.');
          });
        },
      ),
    [
      'talon share create api-keys/openai --vault personal --to agent:claude-code --expires 1h',
      'talon share create 0192f0c4-… --link --max-access 1',
    ],
  );

  withExamples(
    share
      .command('list')
      .alias('ls')
      .description('shares you created (or, with --inbound, shares to you)')
      .option('--inbound', 'shares to you')
      .action(async (flags: { inbound?: boolean }, command: Command) => {
        const out = outputOf(command);
        const { client } = connect(globalFlags(command));
        const { shares } = flags.inbound
          ? await client.sharing.listInbound()
          : await client.sharing.listOutbound();
        out.result({ shares }, () =>
          out.table(
            ['id', 'secret', 'to', 'reads', 'expires', 'state'],
            shares.map((s) => [
              s.id,
              s.secret_path,
              s.recipient_type,
              s.max_access_count ? `${s.access_count ?? 0}/${s.max_access_count}` : s.access_count,
              when(s.expires_at),
              typeof s.status === 'string' && s.status !== 'active'
                ? s.status
                : s.is_expired
                  ? 'expired'
                  : s.is_accepted
                    ? 'accepted'
                    : '',
            ]),
          ),
        );
      }),
    ['talon share list', 'talon share list --inbound --json'],
  );

  for (const [name, verb, done] of [
    ['accept', 'accept a share made to you', 'Accepted'],
    ['decline', 'decline a share made to you', 'Declined'],
    ['revoke', 'revoke a share you made (its link stops working)', 'Revoked'],
  ] as const) {
    withExamples(
      share
        .command(`${name} <share-id>`)
        .description(verb)
        .action(async (shareId: string, _flags, command: Command) => {
          const out = outputOf(command);
          const { client } = connect(globalFlags(command));
          await client.sharing[name](shareId);
          out.result(
            { [name === 'accept' ? 'accepted' : name === 'decline' ? 'declined' : 'revoked']: shareId },
            () => console.log(`${done} share ${shareId}.`),
          );
        }),
      [`talon share ${name} 0192f0c4-…`],
    );
  }
}
