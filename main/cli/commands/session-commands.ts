import { resolve } from 'node:path';
import type { Command } from 'commander';
import { TalonClientError } from '../../client/index.js';
import { CliError } from '../cli-error.js';
import { removeSession, writeSession } from '../cli-files.js';
import { outputOf, withExamples } from '../command-output.js';
import { promptHidden, readStdin } from '../secret-input.js';
import { connect, globalFlags } from '../talon-connection.js';
import { readPinFile } from '../talon-config.js';

function expiresAt(expiresIn: number | undefined): string | undefined {
  return expiresIn ? new Date(Date.now() + expiresIn * 1000).toISOString() : undefined;
}

/** `status`, `unlock`, `lock`, `login`, `logout`: reaching Talon and proving who you are. */
export function registerSessionCommands(program: Command): void {
  withExamples(
    program
      .command('status')
      .description('show whether Talon is reachable, set up and unlocked, and which credential talon uses')
      .action(async (_flags, command: Command) => {
        const out = outputOf(command);
        const connection = connect(globalFlags(command), { anonymous: true });
        const { client } = connection;
        let status: Record<string, unknown>;
        try {
          status = await client.talon.status();
        } catch (error) {
          if (!TalonClientError.is(error, 'not_found')) throw error;
          // A Talon without the human side answers its health instead.
          const health = await client.talon.health();
          status = { set_up: true, unlocked: !health.locked, version: health.version };
        }
        const result = {
          url: connection.baseUrl,
          ...status,
          credential: connection.source,
          ...(connection.session?.email ? { session_email: connection.session.email } : {}),
          ...(connection.session?.expires_at ? { session_expires_at: connection.session.expires_at } : {}),
        };
        out.result(result, () =>
          out.fields([
            ['Talon', connection.baseUrl],
            ['set up', status.set_up],
            ['unlocked', status.unlocked],
            ['2FA', status.mfa_enabled],
            ['version', status.version],
            [
              'token',
              status.token && typeof status.token === 'object'
                ? Object.values(status.token as Record<string, unknown>)
                    .filter(Boolean)
                    .join(', ')
                : undefined,
            ],
            [
              'auto-lock',
              typeof status.auto_lock_minutes === 'number' ? `${status.auto_lock_minutes} min` : undefined,
            ],
            [
              'credential',
              connection.source === 'none' ? 'none (talon login, or set ONECLAW_API_KEY)' : connection.source,
            ],
            [
              'session',
              connection.session
                ? `${connection.session.email ?? connection.session.kind}${connection.session.expires_at ? `, until ${connection.session.expires_at}` : ''}`
                : undefined,
            ],
          ]),
        );
      }),
    ['talon status', 'talon status --json', 'talon status --url http://127.0.0.1:7417'],
  );

  withExamples(
    program
      .command('unlock')
      .description(
        "unlock Talon with the token PIN (and a TOTP code when 2FA is on); keeps the owner's session for later commands",
      )
      .option('--pin-file <file>', 'read the PIN from a file only you can read (chmod 600)')
      .option('--pin-stdin', 'read the PIN from stdin')
      .option('--totp <code>', 'the 6-digit code of your authenticator app')
      .option('--no-save', 'do not keep the session in the config folder')
      .action(
        async (
          flags: { pinFile?: string; pinStdin?: boolean; totp?: string; save: boolean },
          command: Command,
        ) => {
          const out = outputOf(command);
          const connection = connect(globalFlags(command), { anonymous: true });
          const pin = flags.pinFile
            ? readPinFile(resolve(flags.pinFile))
            : flags.pinStdin
              ? await readStdin()
              : await promptHidden('Token PIN (input hidden)');
          if (pin === '') throw new CliError('invalid_input', 'The PIN is empty.');
          // With 2FA on, the code is asked for when it was not given (and a terminal is there to ask on).
          let totp = flags.totp;
          if (!totp && process.stdin.isTTY) {
            const status = await connection.client.talon.status().catch(() => undefined);
            if (status?.mfa_enabled) totp = await promptHidden('TOTP code from your authenticator app');
          }
          const token = await connection.client.talon.unlock({ pin, ...(totp ? { totp_code: totp } : {}) });
          let saved: string | undefined;
          if (flags.save && token?.access_token) {
            saved = writeSession({
              base_url: connection.baseUrl,
              kind: 'token',
              credential: token.access_token,
              ...(expiresAt(token.expires_in) ? { expires_at: expiresAt(token.expires_in)! } : {}),
              created_at: new Date().toISOString(),
            });
          }
          out.result(
            { unlocked: true, session_file: saved ?? null, expires_in: token?.expires_in ?? null },
            () => {
              console.log('Talon is unlocked.');
              if (saved) console.log(`Your session is kept in ${saved} (readable only by you).`);
            },
          );
        },
      ),
    [
      'talon unlock',
      'talon unlock --pin-file ~/.talon-pin --totp 123456',
      'talon unlock --pin-stdin < pin.txt',
    ],
  );

  withExamples(
    program
      .command('lock')
      .description('lock Talon: keys leave memory, every call answers 423 until it is unlocked again')
      .action(async (_flags, command: Command) => {
        const out = outputOf(command);
        await connect(globalFlags(command)).client.talon.lock();
        out.result({ locked: true }, () => console.log('Talon is locked.'));
      }),
    ['talon lock'],
  );

  withExamples(
    program
      .command('login')
      .description(
        'sign in with email and password, or with a personal API key (1ck_…); the session goes to a 0600 file in your Talon config folder',
      )
      .option(
        '--email <email>',
        'sign in as this person (the password is asked for, or read with --password-stdin)',
      )
      .option('--password-stdin', 'read the password from stdin')
      .option('--totp <code>', 'the 6-digit code of your authenticator app, when 2FA is on')
      .option(
        '--api-key',
        'sign in with a personal API key instead (asked for, or read from stdin with --api-key-stdin)',
      )
      .option('--api-key-stdin', 'read the personal API key from stdin')
      .action(
        async (
          flags: {
            email?: string;
            passwordStdin?: boolean;
            totp?: string;
            apiKey?: boolean;
            apiKeyStdin?: boolean;
          },
          command: Command,
        ) => {
          const out = outputOf(command);
          const connection = connect(globalFlags(command), { anonymous: true });
          const { client } = connection;
          const now = new Date().toISOString();
          let file: string;
          let who: string;
          if (flags.apiKey || flags.apiKeyStdin) {
            const key = flags.apiKeyStdin
              ? await readStdin()
              : await promptHidden('Personal API key (input hidden)');
            if (!key.startsWith('1ck_')) {
              throw new CliError(
                'invalid_input',
                'A personal API key starts with 1ck_ (agent keys, ocv_, go in ONECLAW_AGENT_API_KEY).',
              );
            }
            client.useCredential({ apiKey: key });
            await client.apiKeys.list(); // proves the key before it is kept
            file = writeSession({
              base_url: connection.baseUrl,
              kind: 'api_key',
              credential: key,
              created_at: now,
            });
            who = 'your personal API key';
          } else {
            if (!flags.email) {
              throw new CliError(
                'invalid_input',
                'Give --email <email> to sign in with a password, or --api-key to sign in with a personal key.',
              );
            }
            const password = flags.passwordStdin
              ? await readStdin()
              : await promptHidden('Password (input hidden)');
            let token = await client.auth.login({ email: flags.email, password });
            if (token.mfa_required && token.mfa_token) {
              const code = flags.totp ?? (await promptHidden('TOTP code'));
              token = await client.auth.verifyMfa({ mfa_token: token.mfa_token, code });
            }
            if (!token.access_token) throw new CliError('unauthenticated', 'Talon did not open a session.');
            const expires = expiresAt(token.expires_in);
            file = writeSession({
              base_url: connection.baseUrl,
              kind: 'token',
              credential: token.access_token,
              email: flags.email,
              ...(expires ? { expires_at: expires } : {}),
              created_at: now,
            });
            who = flags.email;
          }
          out.result({ logged_in: true, session_file: file }, () =>
            console.log(
              `Signed in to ${connection.baseUrl} as ${who}. The session is in ${file} (readable only by you).`,
            ),
          );
        },
      ),
    [
      'talon login --email owner@localhost',
      'talon login --api-key',
      'cat key.txt | talon login --api-key-stdin',
    ],
  );

  withExamples(
    program
      .command('logout')
      .description('end the session talon login or talon unlock opened, and delete its file')
      .action(async (_flags, command: Command) => {
        const out = outputOf(command);
        const connection = connect(globalFlags(command), { anonymous: true });
        if (connection.source === 'session' && connection.session?.kind === 'token') {
          await connection.client.auth.logout().catch(() => undefined);
        }
        const removed = removeSession();
        out.result({ logged_out: removed }, () =>
          console.log(removed ? 'Signed out; the session file is deleted.' : 'There was no session to end.'),
        );
      }),
    ['talon logout'],
  );
}
