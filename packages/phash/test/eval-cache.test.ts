/**
 * The evaluation scripts' image cache: one folder can serve every photo set, so an edit is keyed
 * by the files it is made from, not only by the photo's name (OpenCV's and LXQt's sets both hold
 * a `butterfly`; keyed by name, the second set's run read the first one's collages and scored a
 * different photo's edits against its own).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { cached, cacheFile } from '../scripts/generalise-eval.ts';

test('two photos with one name in different sets never share a cached edit', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mmd-eval-cache-'));
  try {
    const a = '/usr/share/doc/opencv-doc/examples/data/butterfly.jpg';
    const b = '/usr/share/lxqt/wallpapers/butterfly.png';
    assert.notEqual(cacheFile(dir, 'butterfly--collage', 'jpg', [a]), cacheFile(dir, 'butterfly--collage', 'jpg', [b]));
    let made = 0;
    const make = (tag: string) => async () => {
      made++;
      return Buffer.from(tag);
    };
    assert.equal(String(await cached(dir, 'butterfly--collage', make('from a'), 'jpg', [a])), 'from a');
    assert.equal(String(await cached(dir, 'butterfly--collage', make('from b'), 'jpg', [b])), 'from b');
    // The same sources read the cache instead of making the image again.
    assert.equal(String(await cached(dir, 'butterfly--collage', make('again'), 'jpg', [a])), 'from a');
    assert.equal(made, 2);
    // A collage with other photos beside it is another image.
    assert.notEqual(cacheFile(dir, 'k', 'jpg', [a, b]), cacheFile(dir, 'k', 'jpg', [a]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
