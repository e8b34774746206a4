import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isMediaError } from './errors.ts';
import { FfmpegProgressParser } from './ffmpeg-progress.ts';
import { runProcess } from './run-process.ts';

const node = process.execPath;

test('collects stdout and passes arguments verbatim (no shell)', async () => {
  const { stdout } = await runProcess({
    command: node,
    args: ['-e', 'console.log(process.argv[1])', '$(echo pwned); rm -rf /'],
  });
  assert.equal(stdout.toString().trim(), '$(echo pwned); rm -rf /');
});

test('non-zero exit is process_failed with the stderr tail', async () => {
  await assert.rejects(
    runProcess({ command: node, args: ['-e', 'console.error("boom"); process.exit(3)'] }),
    (e) => {
      assert.ok(isMediaError(e, 'process_failed'));
      assert.equal(e.details.exitCode, 3);
      assert.match(String(e.details.stderr), /boom/);
      return true;
    },
  );
});

test('timeout kills the process', async () => {
  const started = Date.now();
  await assert.rejects(
    runProcess({ command: node, args: ['-e', 'setInterval(() => {}, 1000)'], timeoutMs: 300 }),
    (e) => isMediaError(e, 'timeout'),
  );
  assert.ok(Date.now() - started < 5_000);
});

test('abort kills the process; an already-aborted signal never spawns', async () => {
  const controller = new AbortController();
  const pending = runProcess({
    command: node,
    args: ['-e', 'setInterval(() => {}, 1000)'],
    signal: controller.signal,
  });
  setTimeout(() => controller.abort(), 100);
  await assert.rejects(pending, (e) => isMediaError(e, 'aborted'));
  await assert.rejects(runProcess({ command: node, args: ['-e', ''], signal: AbortSignal.abort() }), (e) =>
    isMediaError(e, 'aborted'),
  );
});

test('missing binary is binary_missing; oversized output is too_large', async () => {
  await assert.rejects(runProcess({ command: '/nonexistent/ffmpeg', args: [] }), (e) =>
    isMediaError(e, 'binary_missing'),
  );
  await assert.rejects(
    runProcess({
      command: node,
      args: ['-e', 'process.stdout.write("x".repeat(100000))'],
      maxStdoutBytes: 1000,
    }),
    (e) => isMediaError(e, 'too_large'),
  );
});

test('stdin is delivered and stdout lines are reported', async () => {
  const lines: string[] = [];
  await runProcess({
    command: node,
    args: ['-e', 'process.stdin.pipe(process.stdout)'],
    stdin: Buffer.from('a=1\nb=2\nc=3'),
    onStdoutLine: (line) => lines.push(line),
  });
  assert.deepEqual(lines, ['a=1', 'b=2', 'c=3']);
});

test('ffmpeg -progress parsing', () => {
  const seen: number[] = [];
  const parser = new FfmpegProgressParser(10, (f) => seen.push(f));
  for (const line of [
    'frame=1',
    'out_time_ms=N/A',
    'out_time_us=2500000',
    'out_time_ms=2500000',
    'progress=continue',
    'out_time_ms=5000000',
    'out_time_us=12000000',
    'progress=end',
  ]) {
    parser.push(line);
  }
  assert.deepEqual(seen, [0.25, 0.5, 0.99, 1]);
});
