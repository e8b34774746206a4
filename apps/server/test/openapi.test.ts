import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { renderOpenApi } from '../src/openapi.ts';

test('the committed OpenAPI document matches the routes (run `npm run openapi` after changing them)', async () => {
  const committed = readFileSync(path.resolve(import.meta.dirname, '../../../docs/openapi.json'), 'utf8');
  assert.equal(committed, await renderOpenApi());
});

test('the OpenAPI document describes the core paths', async () => {
  const doc = JSON.parse(await renderOpenApi()) as { paths: Record<string, Record<string, unknown>> };
  for (const [p, method] of [
    ['/v1/accounts', 'post'],
    ['/v1/sessions', 'post'],
    ['/v1/devices/{id}', 'delete'],
    ['/v1/conversations', 'post'],
    ['/v1/conversations/{id}/messages', 'post'],
    ['/v1/conversations/{id}/messages', 'get'],
    ['/v1/messages/{id}', 'patch'],
    ['/v1/conversations/{id}/read', 'post'],
    ['/v1/updates', 'get'],
    ['/v1/stream', 'get'],
  ] as const) {
    assert.ok(doc.paths[p]?.[method], `${method.toUpperCase()} ${p} documented`);
  }
});
