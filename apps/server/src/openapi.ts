/** The OpenAPI document as the running server serves it, for committing and for checks. */
import { buildApp } from './app.ts';
import { loadConfig } from './config.ts';
import { openDatabase } from './platform/db/index.ts';
import { createLocalEventBus } from './platform/pubsub/index.ts';

export async function renderOpenApi(): Promise<string> {
  const db = openDatabase({ sqlitePath: ':memory:' });
  await db.migrate();
  const { app } = await buildApp({ config: loadConfig({}), db, bus: createLocalEventBus(), logger: false });
  await app.ready();
  const doc = JSON.stringify(app.swagger(), null, 2);
  await app.close();
  await db.close();
  return `${doc}\n`;
}
