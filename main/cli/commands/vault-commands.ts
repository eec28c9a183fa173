import type { Command } from 'commander';
import type { Vault } from '../../client/index.js';
import { CliError } from '../cli-error.js';
import { readSettings, writeSettings } from '../cli-files.js';
import { outputOf, when, withExamples } from '../command-output.js';
import { connect, globalFlags, resolveVault } from '../talon-connection.js';

function showVault(vault: Vault, out: ReturnType<typeof outputOf>): void {
  out.fields([
    ['id', vault.id],
    ['name', vault.name],
    ['description', vault.description],
    ['secrets', vault.secret_count],
    ['strict mode', vault.strict_mode],
    ['created by', `${vault.created_by_type} ${vault.created_by}`],
    ['created', vault.created_at],
  ]);
}

/** `vault list|create|get|delete|link|unlink`. */
export function registerVaultCommands(program: Command): void {
  const vault = program
    .command('vault')
    .description('vaults: list, create, inspect, delete, and choose the default one');

  withExamples(
    vault
      .command('list')
      .alias('ls')
      .description('the vaults you can see')
      .action(async (_flags, command: Command) => {
        const out = outputOf(command);
        const { vaults } = await connect(globalFlags(command)).client.vault.list();
        const linked = readSettings().linked_vault?.id;
        out.result({ vaults }, () =>
          out.table(
            ['id', 'name', 'secrets', 'strict', 'created'],
            vaults.map((v) => [
              `${v.id}${v.id === linked ? ' *' : ''}`,
              v.name,
              v.secret_count,
              v.strict_mode ? 'yes' : '',
              when(v.created_at),
            ]),
          ),
        );
      }),
    ['talon vault list', 'talon vault list --json | jq -r ".vaults[].id"'],
  );

  withExamples(
    vault
      .command('create <name>')
      .description('create a vault (you own it)')
      .option('-d, --description <text>', 'what the vault is for')
      .option(
        '--strict',
        'strict mode: every read unwraps its data key in the token (slower, nothing cached)',
      )
      .action(async (name: string, flags: { description?: string; strict?: boolean }, command: Command) => {
        const out = outputOf(command);
        const created = await connect(globalFlags(command)).client.vault.create({
          name,
          ...(flags.description ? { description: flags.description } : {}),
          ...(flags.strict ? { strict_mode: true } : {}),
        });
        out.result(created, () => console.log(`Created vault ${created.name} (${created.id}).`));
      }),
    ['talon vault create personal', 'talon vault create prod --description "production keys" --strict'],
  );

  withExamples(
    vault
      .command('get <vault>')
      .description('one vault, by id or name')
      .action(async (given: string, _flags, command: Command) => {
        const out = outputOf(command);
        const connection = connect(globalFlags(command));
        const found = await connection.client.vault.get(await resolveVault(connection, given));
        out.result(found, () => showVault(found, out));
      }),
    ['talon vault get personal', 'talon vault get 0192f0c4-… --json'],
  );

  withExamples(
    vault
      .command('delete <vault>')
      .description('delete a vault and every secret in it')
      .option('-y, --yes', 'yes, delete it (required)')
      .action(async (given: string, flags: { yes?: boolean }, command: Command) => {
        const out = outputOf(command);
        if (!flags.yes) {
          throw new CliError(
            'invalid_input',
            `Deleting a vault deletes every secret in it. Run again with --yes to delete '${given}'.`,
          );
        }
        const connection = connect(globalFlags(command));
        const id = await resolveVault(connection, given);
        await connection.client.vault.delete(id);
        const settings = readSettings();
        if (settings.linked_vault?.id === id) {
          delete settings.linked_vault;
          writeSettings(settings);
        }
        out.result({ deleted: id }, () => console.log(`Deleted vault ${id}.`));
      }),
    ['talon vault delete old-vault --yes'],
  );

  withExamples(
    vault
      .command('link <vault>')
      .description('make a vault the default for commands without --vault (kept in your Talon config folder)')
      .action(async (given: string, _flags, command: Command) => {
        const out = outputOf(command);
        const connection = connect(globalFlags(command));
        const found = await connection.client.vault.get(await resolveVault(connection, given));
        writeSettings({
          ...readSettings(),
          linked_vault: { id: found.id, name: found.name, base_url: connection.baseUrl },
        });
        out.result({ linked: found.id, name: found.name }, () =>
          console.log(`Commands now act on vault ${found.name} (${found.id}) unless given --vault.`),
        );
      }),
    ['talon vault link personal'],
  );

  withExamples(
    vault
      .command('unlink')
      .description('forget the default vault')
      .action((_flags, command: Command) => {
        const settings = readSettings();
        const had = settings.linked_vault !== undefined;
        delete settings.linked_vault;
        writeSettings(settings);
        outputOf(command).result({ unlinked: had }, () =>
          console.log(had ? 'No default vault now.' : 'There was no default vault.'),
        );
      }),
    ['talon vault unlink'],
  );
}
