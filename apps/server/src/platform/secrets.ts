/**
 * Server-wide secrets (the media URL signing key): taken from config when given, otherwise made
 * once and kept in the database, so every API process of one deployment signs alike.
 */
import { randomBytes } from 'node:crypto';
import type { Database } from './db/index.ts';

export async function serverSecret(db: Database, name: string, configured: string): Promise<Buffer> {
  if (configured) return Buffer.from(configured, 'utf8');
  const existing = await db.db
    .selectFrom('server_secrets')
    .select('value')
    .where('name', '=', name)
    .executeTakeFirst();
  if (existing) return Buffer.from(existing.value, 'base64');
  const value = randomBytes(32).toString('base64');
  // Two processes starting together: the first insert wins, and both read the winner back.
  await db.db
    .insertInto('server_secrets')
    .values({ name, value })
    .onConflict((oc) => oc.doNothing())
    .execute();
  const row = await db.db
    .selectFrom('server_secrets')
    .select('value')
    .where('name', '=', name)
    .executeTakeFirstOrThrow();
  return Buffer.from(row.value, 'base64');
}
