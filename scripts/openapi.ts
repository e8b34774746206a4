// Writes docs/openapi.json from the server's route schemas: `npm run openapi`.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { renderOpenApi } from '../apps/server/src/openapi.ts';

const target = path.resolve(import.meta.dirname, '../docs/openapi.json');
writeFileSync(target, await renderOpenApi());
console.log(`wrote ${target}`);
