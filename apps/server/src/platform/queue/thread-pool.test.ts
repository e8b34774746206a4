import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createThreadPool } from './thread-pool.ts';

type Tasks = typeof import('./test-fixtures/cpu-tasks.ts');

const pool = createThreadPool<Tasks>({
  file: new URL('./test-fixtures/cpu-tasks.ts', import.meta.url),
  size: 2,
});
after(() => pool.close());

test('runs a TypeScript task module on another thread while the event loop keeps ticking', async () => {
  await pool.run('spin', [1]); // the first call pays for starting the thread
  let ticks = 0;
  const timer = setInterval(() => ticks++, 10);
  const began = performance.now();
  const result = await pool.run('spin', [400]);
  const elapsed = performance.now() - began;
  clearInterval(timer);
  assert.equal(result.onMainThread, false);
  assert.ok(result.iterations > 0);
  assert.ok(elapsed >= 400);
  // Had the spin run here, no timer could fire until it ended: 0 ticks.
  assert.ok(ticks >= elapsed / 10 / 3, `only ${ticks} ticks in ${Math.round(elapsed)} ms`);
});

test('moves ArrayBuffers both ways instead of copying them', async () => {
  const pixels = new Uint8Array(8 * 1024 * 1024).fill(1);
  const sum = await pool.run('sumBytes', [pixels.buffer], { transfer: [pixels.buffer] });
  assert.equal(sum, 8 * 1024 * 1024);
  assert.equal(pixels.byteLength, 0, 'the buffer was transferred, leaving ours detached');

  const input = new Uint8Array([0, 10, 255]);
  const inverted = await pool.run('invert', [input.buffer], { transfer: [input.buffer] });
  assert.deepEqual([...new Uint8Array(inverted)], [255, 245, 0]);
});

test('a throwing task rejects with its error, and the pool carries on', async () => {
  await assert.rejects(pool.run('fail', ['bad pixels']), (err: Error) => {
    assert.equal(err.name, 'TypeError');
    assert.equal(err.message, 'bad pixels');
    return true;
  });
  // @ts-expect-error not a task of the module
  await assert.rejects(pool.run('nope', []), /no function named nope/);
  assert.equal(await pool.run('sumBytes', [new Uint8Array([2, 3]).buffer]), 5);
});

test('a thread that dies takes only its own task down', async () => {
  await assert.rejects(pool.run('crash', []), /exited with code 3/);
  const results = await Promise.all([
    pool.run('sumBytes', [new Uint8Array([1]).buffer]),
    pool.run('spin', [5]),
  ]);
  assert.equal(results[0], 1);
});

test('a closed pool refuses work', async () => {
  const small = createThreadPool<Tasks>({
    file: new URL('./test-fixtures/cpu-tasks.ts', import.meta.url),
    size: 1,
  });
  const running = assert.rejects(small.run('spin', [2000]), /closed/);
  const queued = assert.rejects(small.run('spin', [1]), /closed/);
  await new Promise((r) => setTimeout(r, 20));
  await small.close();
  await running;
  await queued;
  await assert.rejects(small.run('spin', [1]), /closed/);
});
