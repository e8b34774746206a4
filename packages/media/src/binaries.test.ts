import assert from 'node:assert/strict';
import { chmod, copyFile, mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { makeTmpRoot, removeTmpRoot } from '../test/helpers.ts';
import { locateBinaries } from './binaries.ts';
import { ensureExecutable, isExecutable } from './ensure-executable.ts';
import { isMediaError } from './errors.ts';
import { runProcess } from './run-process.ts';

let dir: string;

before(async () => {
  dir = await makeTmpRoot();
});

after(async () => {
  await removeTmpRoot(dir);
});

async function fakeTool(folder: string, name: string, mode: number): Promise<string> {
  await mkdir(folder, { recursive: true });
  const path = join(folder, name);
  await writeFile(path, '#!/bin/sh\necho fake\n');
  await chmod(path, mode);
  return path;
}

test('default lookup finds working ffmpeg and ffprobe', async () => {
  const binaries = await locateBinaries();
  for (const tool of [binaries.ffmpeg, binaries.ffprobe]) {
    const { stdout } = await runProcess({ command: tool, args: ['-version'], timeoutMs: 10_000 });
    assert.match(stdout.toString(), /version/);
  }
});

test('env override wins, and a broken override is an error, not a silent fallback', async () => {
  const ffmpeg = await fakeTool(join(dir, 'env'), 'my-ffmpeg', 0o755);
  const ffprobe = await fakeTool(join(dir, 'env'), 'my-ffprobe', 0o755);
  const found = await locateBinaries({
    env: { MMD_FFMPEG_PATH: ffmpeg, MMD_FFPROBE_PATH: ffprobe, PATH: '' },
  });
  assert.deepEqual(found.sources, { ffmpeg: 'env', ffprobe: 'env' });
  assert.equal(found.ffmpeg, ffmpeg);
  await assert.rejects(locateBinaries({ env: { MMD_FFMPEG_PATH: join(dir, 'missing'), PATH: '' } }), (e) =>
    isMediaError(e, 'binary_missing'),
  );
});

test('system binaries on PATH come before the npm ones', async () => {
  const bin = join(dir, 'bin');
  await fakeTool(bin, 'ffmpeg', 0o755);
  await fakeTool(bin, 'ffprobe', 0o644); // not executable: skipped, falls back to npm
  const found = await locateBinaries({ env: { PATH: bin } });
  assert.equal(found.sources.ffmpeg, 'path');
  assert.equal(found.ffmpeg, join(bin, 'ffmpeg'));
  assert.equal(found.sources.ffprobe, 'npm');
});

test('ensureExecutable fixes a missing execute bit in place', async () => {
  const tool = await fakeTool(join(dir, 'noexec'), 'ffprobe', 0o644);
  assert.equal(await isExecutable(tool), false);
  assert.equal(await ensureExecutable(tool), tool);
  assert.ok(((await stat(tool)).mode & 0o100) !== 0);
});

test('ensureExecutable copies to a private folder when the original cannot be changed', async () => {
  const tool = await fakeTool(join(dir, 'readonly'), 'ffprobe', 0o644);
  const fallbackDir = join(dir, 'fallback');
  const readOnly = async () => {
    throw Object.assign(new Error('read-only file system'), { code: 'EROFS' });
  };
  const copy = await ensureExecutable(tool, { fallbackDir, chmod: readOnly });
  assert.equal(copy, join(fallbackDir, 'ffprobe'));
  assert.equal(await isExecutable(copy), true);
  assert.equal(await isExecutable(tool), false, 'original untouched');
  const { stdout } = await runProcess({ command: copy, args: [] });
  assert.equal(stdout.toString().trim(), 'fake');
  // Second call reuses the copy.
  assert.equal(await ensureExecutable(tool, { fallbackDir, chmod: readOnly }), copy);
});

test('npm ffprobe without its execute bit is repaired through the fallback copy', async () => {
  const binaries = await locateBinaries();
  if (binaries.sources.ffprobe !== 'npm') return; // a system ffprobe is in use; nothing to simulate
  const stripped = join(dir, 'npm-copy', 'ffprobe');
  await mkdir(join(dir, 'npm-copy'));
  await copyFile(binaries.ffprobe, stripped);
  await chmod(stripped, 0o644);
  const fixed = await ensureExecutable(stripped, { fallbackDir: join(dir, 'npm-fallback') });
  const { stdout } = await runProcess({ command: fixed, args: ['-version'] });
  assert.match(stdout.toString(), /ffprobe version/);
});
