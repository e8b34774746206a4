/** `mmd serve` and `mmd migrate`: run the server or its migrations from this machine's MMD_* settings. */
import type { Command } from 'commander';
import { globals } from '../context.ts';
import { describeDatabase, serverConfig, serverMain } from '../offline.ts';
import { emit } from '../output.ts';

export function registerServerCommands(program: Command): void {
  program
    .command('serve')
    .description('start the MMD server (same as `npm start`; configured by MMD_* variables)')
    .action(async () => {
      const config = await serverConfig();
      const { serve } = await serverMain();
      // serve() returns once listening; the server keeps the process alive and handles
      // SIGINT/SIGTERM itself (graceful close, then exit).
      await serve(config);
    });

  program
    .command('migrate')
    .description('apply pending database migrations and print them')
    .action(async (_opts: object, cmd: Command) => {
      const g = globals(cmd);
      const config = await serverConfig();
      const { migrate } = await serverMain();
      const applied = await migrate(config);
      emit(g, { applied, database: describeDatabase(config) }, () =>
        applied.length ? applied.map((m) => `applied ${m}`) : `${describeDatabase(config)} is up to date`,
      );
    });
}
