/** The distinct reference photos used by the robustness scripts (Node only). */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DATA_DIR } from '../test/data.ts';

/** The 14 photos plus the bridge photo from the PDQ vectors: 15 different scenes. */
export function referencePhotos(): string[] {
  const photos = readdirSync(join(DATA_DIR, 'photos'))
    .filter((f) => f.endsWith('.jpg'))
    .sort()
    .map((f) => join(DATA_DIR, 'photos', f));
  return [...photos, join(DATA_DIR, 'pdq', 'bridge-mods', 'aaa-orig.jpg')];
}

/** Every image in photos/ and pdq/ with the scene it shows (all pdq/ images show the bridge). */
export function negativeSet(): Array<{ file: string; scene: string }> {
  const list = referencePhotos()
    .slice(0, -1)
    .map((file) => ({ file, scene: file }));
  const bridge = join(DATA_DIR, 'pdq', 'bridge-mods', 'aaa-orig.jpg');
  for (const sub of ['bridge-mods', 'dih']) {
    for (const f of readdirSync(join(DATA_DIR, 'pdq', sub)).filter((x) => x.endsWith('.jpg'))) {
      list.push({ file: join(DATA_DIR, 'pdq', sub, f), scene: bridge });
    }
  }
  return list;
}
