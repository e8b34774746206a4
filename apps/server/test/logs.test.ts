/**
 * Logs: JSON lines carrying each request's id (the caller's x-request-id when sane), and readable
 * pino-pretty lines when the server's standard output is a terminal.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { startTestServer } from './harness.ts';

const root = path.resolve(import.meta.dirname, '../../..');

test('JSON log lines name the request id the load balancer sent, and the answer echoes it', async (t) => {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const server = await startTestServer({ dialect: 'sqlite', config: { logFormat: 'json' }, logger: { stream } });
  t.after(() => server.close());
  const res = await fetch(`${server.url}/v1/me`, { headers: { 'x-request-id': 'lb-42.trace' } });
  assert.equal(res.status, 401);
  assert.equal(res.headers.get('x-request-id'), 'lb-42.trace');
  const mine = lines.filter((l) => l.reqId === 'lb-42.trace');
  assert.ok(mine.some((l) => l.msg === 'incoming request'), 'the request is logged with its id');
  assert.ok(mine.some((l) => l.msg === 'request completed' && (l.res as { statusCode: number }).statusCode === 401));
  assert.ok(mine.every((l) => typeof l.hostname === 'string' && typeof l.pid === 'number'), 'lines say which node');
});

/** Runs `mmd serve` (the server's entry) with `launcher`, until `pattern` shows on its output. */
async function firstOutput(command: string, args: string[], env: Record<string, string>, pattern: RegExp): Promise<string> {
  const dir = mkdtempSync(path.join(tmpdir(), 'mmd-logs-'));
  const child = spawn(command, args, {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', TERM: 'xterm', MMD_DATA_DIR: dir, MMD_PORT: '0', MMD_HOST: '127.0.0.1', ...env },
  });
  let out = '';
  try {
    return await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${pattern} in:\n${out}`)), 60_000);
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (pattern.test(out)) {
          clearTimeout(timer);
          resolve(out);
        }
      });
      child.on('exit', () => reject(new Error(`exited early:\n${out}`)));
    });
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode === null ? child.once('close', r) : r(null)));
    rmSync(dir, { recursive: true, force: true });
  }
}

const serveArgs = ['--import', 'tsx', path.join(root, 'apps/server/src/main.ts'), 'serve'];

test('on a pipe the log is JSON lines; on a terminal, readable lines', async () => {
  const piped = await firstOutput(process.execPath, serveArgs, {}, /MMD is serving/);
  const line = piped.split('\n').find((l) => l.includes('MMD is serving'))!;
  assert.equal((JSON.parse(line) as { level: number }).level, 30);

  // `script` gives the server a pseudo-terminal as its standard output.
  const command = [process.execPath, ...serveArgs].map((a) => `'${a}'`).join(' ');
  const tty = await firstOutput('script', ['-qfec', command, '/dev/null'], {}, /MMD is serving/);
  const pretty = tty.split('\n').find((l) => l.includes('MMD is serving'))!;
  assert.doesNotMatch(pretty, /^\s*\{/, 'not JSON');
  assert.match(pretty, /INFO/);
  assert.match(pretty, /\d\d:\d\d:\d\d\.\d{3}/, 'a readable time');
});
