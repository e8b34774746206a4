/**
 * Runs schema migrations. Each capability owns its tables and their migrations
 * (`<capability>/migrations.ts`); `src/schema.ts` lists them. Steps that share a migration name run
 * together, in one migration, in the order of that list: the first migrations were written before
 * the split and must keep their names, since databases record them by name.
 */
import { type Kysely, type Migration, type MigrationProvider, Migrator } from 'kysely';
import type { Dialect } from './index.ts';

/** A capability's migrations: migration name → its steps for that capability's tables. */
export type MigrationSteps = Record<string, (db: Kysely<unknown>, dialect: Dialect) => Promise<void>>;

/**
 * Merges the capabilities' steps into Kysely migrations. New migrations are named
 * `YYYYMMDDhhmm-capability-what` so that two capabilities adding one on the same day never collide.
 */
export function mergeMigrations(
  parts: readonly MigrationSteps[],
  dialect: Dialect,
): Record<string, Migration> {
  const byName = new Map<string, ((db: Kysely<unknown>, dialect: Dialect) => Promise<void>)[]>();
  for (const part of parts) {
    for (const [name, step] of Object.entries(part)) {
      const steps = byName.get(name) ?? [];
      steps.push(step);
      byName.set(name, steps);
    }
  }
  const out: Record<string, Migration> = {};
  for (const [name, steps] of byName) {
    out[name] = {
      async up(db) {
        for (const step of steps) await step(db, dialect);
      },
    };
  }
  return out;
}

class StaticProvider implements MigrationProvider {
  constructor(private readonly migrations: Record<string, Migration>) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    return this.migrations;
  }
}

/** Brings the schema up to date; returns the names of the migrations it applied. */
export async function migrateToLatest(
  db: Kysely<unknown>,
  options: { dialect: Dialect; parts: readonly MigrationSteps[]; schema?: string | undefined },
): Promise<string[]> {
  // Naming the schema matters: Kysely looks for its bookkeeping tables by name, and would find
  // another schema's otherwise. Unordered migrations are allowed because capabilities add theirs
  // independently: one landed later may sort before one a database already ran.
  const migrator = new Migrator({
    db,
    provider: new StaticProvider(mergeMigrations(options.parts, options.dialect)),
    allowUnorderedMigrations: true,
    ...(options.schema ? { migrationTableSchema: options.schema } : {}),
  });
  for (let attempt = 1; ; attempt++) {
    const { error, results } = await migrator.migrateToLatest();
    // Our introspector reads only our own schema (scoped-introspector.ts), so another tenant of
    // the database dropping its schema cannot fail this; should our own schema vanish under us
    // (3F000), trying again is safe: migrations run in a transaction under a lock.
    if (error && (error as { code?: string }).code === '3F000' && attempt < 3) continue;
    if (error) throw error;
    return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
  }
}
