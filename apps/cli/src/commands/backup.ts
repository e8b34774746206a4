/**
 * `mmd backup <dir>` and `mmd restore <dir>`: offline commands on this machine's MMD_* settings,
 * like `migrate`. A backup runs beside a serving MMD (the server keeps taking messages); a
 * restore wants its server stopped. The procedure, and PostgreSQL's: docs/operations.md.
 */
import type { Command } from 'commander';
import { globals } from '../context.ts';
import { CliError, UsageError } from '../errors.ts';
import { serverConfig } from '../offline.ts';
import { emit } from '../output.ts';

async function backupModule() {
  return import('../../../server/src/backup/index.ts');
}

/** Backup problems (not empty, bad manifest, checksum) are expected failures, not bugs. */
async function expected<T>(run: () => Promise<T>): Promise<T> {
  const { BackupError } = await backupModule();
  try {
    return await run();
  } catch (err) {
    if (err instanceof BackupError) throw new CliError(err.message, 'backup_failed');
    throw err;
  }
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

export function registerBackupCommands(program: Command): void {
  program
    .command('backup')
    .description('copy the database (online, while the server runs) and the local blobs into a new folder, with a checksummed manifest')
    .argument('<dir>', 'a new or empty folder')
    .action(async (dir: string, _opts: object, cmd: Command) => {
      const g = globals(cmd);
      const config = await serverConfig();
      const { backup } = await backupModule();
      const manifest = await expected(() => backup({ config, dir }));
      emit(g, { dir, manifest: { ...manifest, blobs: { ...manifest.blobs, files: manifest.blobs.files.length } } }, () => [
        `database: ${manifest.database.path} (${manifest.database.dialect}, ${mb(manifest.database.size)})`,
        manifest.blobs.copied
          ? `blobs: ${manifest.blobs.files.length} files (${mb(manifest.blobs.bytes)})`
          : 'blobs: not copied (S3: back up the bucket itself, see docs/operations.md)',
        `backup written to ${dir}`,
      ]);
    });

  program
    .command('restore')
    .description('check a backup against its manifest, then put its database and blobs in place (server stopped)')
    .argument('[dir]', 'a folder written by `mmd backup`')
    .option('--force', 'replace an existing MMD here (its files are kept aside, not deleted)')
    .option('--verify-only', 'check every file against the manifest and stop')
    .option('--mark-only', 'the database was restored by other means (pg_restore): only record it, so clients past the backup reload')
    .action(async (dir: string | undefined, opts: { force?: boolean; verifyOnly?: boolean; markOnly?: boolean }, cmd: Command) => {
      const g = globals(cmd);
      const mod = await backupModule();
      if (opts.markOnly) {
        const config = await serverConfig();
        const marked = await mod.markDatabaseRestored({ config });
        emit(g, { after_cursor: marked.afterCursor, resumes_at: marked.resumesAt, migrated: marked.migrated }, () => `recorded the restore: event log ends at cursor ${marked.afterCursor}; new events start at ${marked.resumesAt}`);
        return;
      }
      if (!dir) throw new UsageError('restore needs the backup folder (or --mark-only)');
      if (opts.verifyOnly) {
        const manifest = await expected(() => mod.verify(dir));
        emit(g, { dir, verified: true, files: manifest.blobs.files.length + 1 }, () => `${dir}: ${manifest.blobs.files.length + 1} files match the manifest`);
        return;
      }
      const config = await serverConfig();
      const restored = await expected(() => mod.restore({ config, dir, force: opts.force }));
      emit(g, { dir, after_cursor: restored.afterCursor, resumes_at: restored.resumesAt, migrated: restored.migrated, replaced: restored.replaced }, () => [
        `restored ${restored.manifest.database.path} and ${restored.manifest.blobs.files.length} blob files from ${dir}`,
        ...(restored.migrated.length ? [`applied migrations: ${restored.migrated.join(', ')}`] : []),
        `event log ends at cursor ${restored.afterCursor}; new events start at ${restored.resumesAt} (clients past the backup will reload)`,
      ]);
    });
}
