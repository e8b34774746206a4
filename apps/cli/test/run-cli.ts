/**
 * Runs the real `mmd` as a child process, the way users run it, and collects its output.
 * Children are spawned asynchronously: the test server runs in this process and must keep serving.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../../..');
const entry = path.join(root, 'apps/cli/src/main.ts');

export interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

const tempDirs: string[] = [];
process.on('exit', () => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/** A fresh temporary directory (an MMD_CONFIG_DIR or data dir), removed when the test run exits. */
export function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'mmd-cli-'));
  tempDirs.push(dir);
  return dir;
}

/** The parent's environment without MMD_* settings that could leak into the CLI under test. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('MMD_')) env[k] = v;
  return { ...env, ...extra };
}

export function start(args: string[], env: Record<string, string>): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, ['--import', 'tsx', entry, ...args], { cwd: root, env: cleanEnv(env) });
}

export function run(args: string[], env: Record<string, string>, input = ''): Promise<Result> {
  const child = start(args, env);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  child.stdin.end(input);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Resolves with the accumulated text once `pattern` appears on `stream`; rejects after `ms`. */
export function waitFor(
  stream: NodeJS.ReadableStream,
  pattern: RegExp,
  ms = 10_000,
): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => {
      stream.off('data', onData);
      reject(new Error(`timed out waiting for ${pattern}; got:\n${text}`));
    }, ms);
    const onData = (d: Buffer) => {
      text += d.toString();
      const match = text.match(pattern);
      if (match) {
        clearTimeout(timer);
        stream.off('data', onData);
        resolve(match);
      }
    };
    stream.on('data', onData);
  });
}

export function exited(child: ChildProcessWithoutNullStreams): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.on('close', (code) => resolve(code)));
}
