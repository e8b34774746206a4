import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../src/config.ts';

test('defaults serve on 8080 with data in ./data', () => {
  const config = loadConfig({});
  assert.equal(config.port, 8080);
  assert.equal(config.dataDir, path.resolve('data'));
  assert.equal(config.databaseUrl, '');
  assert.ok(Object.isFrozen(config));
});

test('reads MMD_ variables, converting types', () => {
  const config = loadConfig({ MMD_PORT: '9090', MMD_DATA_DIR: '/tmp/mmd-x', MMD_DATABASE_URL: 'postgres://u@h/db', MMD_LOG_LEVEL: 'warn' });
  assert.equal(config.port, 9090);
  assert.equal(config.dataDir, '/tmp/mmd-x');
  assert.equal(config.databaseUrl, 'postgres://u@h/db');
  assert.equal(config.logLevel, 'warn');
});

test('reports every invalid setting at once', () => {
  assert.throws(
    () => loadConfig({ MMD_PORT: 'eighty', MMD_LOG_LEVEL: 'loud', MMD_BODY_LIMIT: '-5', MMD_PROT: '80' }),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      const text = err.problems.join('\n');
      for (const name of ['MMD_PORT', 'MMD_LOG_LEVEL', 'MMD_BODY_LIMIT', 'MMD_PROT']) assert.ok(text.includes(name), `${name} reported in:\n${text}`);
      return true;
    },
  );
});

test('refuses a database URL that is not PostgreSQL', () => {
  assert.throws(() => loadConfig({ MMD_DATABASE_URL: 'mysql://x' }), /MMD_DATABASE_URL/);
});

test('reads a JSON config file, with the environment taking precedence, and reports unknown keys', () => {
  const file = path.join(tmpdir(), `mmd-config-${process.pid}.json`);
  writeFileSync(file, JSON.stringify({ port: 7070, dataDir: '/tmp/from-file', logLevel: 'debug' }));
  const config = loadConfig({ MMD_CONFIG_FILE: file, MMD_LOG_LEVEL: 'error' });
  assert.equal(config.port, 7070);
  assert.equal(config.logLevel, 'error');
  writeFileSync(file, JSON.stringify({ prot: 1 }));
  assert.throws(() => loadConfig({ MMD_CONFIG_FILE: file }), /unknown key "prot"/);
  writeFileSync(file, '{ not json');
  assert.throws(() => loadConfig({ MMD_CONFIG_FILE: file }), /MMD_CONFIG_FILE/);
});

test('MMD_TRUST_PROXY takes false, true, a hop count or a list of addresses and CIDR ranges, and nothing else', () => {
  assert.equal(loadConfig({}).trustProxy, 'false');
  for (const good of ['false', 'true', '2', '10.0.0.0/8', '127.0.0.1, ::1, fd00::/8']) assert.equal(loadConfig({ MMD_TRUST_PROXY: good }).trustProxy, good);
  for (const bad of ['yes', '10.0.0.0/33', 'proxy.example.com', '10.0.0.1/8/2']) {
    assert.throws(() => loadConfig({ MMD_TRUST_PROXY: bad }), (err: unknown) => err instanceof ConfigError && err.problems.some((p) => p.startsWith('MMD_TRUST_PROXY')), bad);
  }
});

test('MMD_REDIS_URL must be a redis:// or rediss:// URL', () => {
  assert.equal(loadConfig({ MMD_REDIS_URL: 'redis://10.0.0.5:6379/0' }).redisUrl, 'redis://10.0.0.5:6379/0');
  assert.throws(() => loadConfig({ MMD_REDIS_URL: 'http://10.0.0.5' }), ConfigError);
});

test('MMD_QUEUE keeps jobs in the database by default; bullmq needs MMD_REDIS_URL', () => {
  assert.equal(loadConfig({}).queue, 'database');
  assert.equal(loadConfig({ MMD_REDIS_URL: 'redis://127.0.0.1:6379' }).queue, 'database', 'Redis alone does not move the jobs');
  assert.equal(loadConfig({ MMD_QUEUE: 'bullmq', MMD_REDIS_URL: 'redis://127.0.0.1:6379' }).queue, 'bullmq');
  assert.throws(() => loadConfig({ MMD_QUEUE: 'bullmq' }), (err: unknown) => err instanceof ConfigError && err.problems.some((p) => p.startsWith('MMD_QUEUE')));
  assert.throws(() => loadConfig({ MMD_QUEUE: 'kafka' }), (err: unknown) => err instanceof ConfigError && err.problems.some((p) => p.startsWith('MMD_QUEUE')));
});
