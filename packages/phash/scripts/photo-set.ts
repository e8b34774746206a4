/** The distinct reference photos used by the robustness scripts (Node only). */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DATA_DIR } from '../test/data.ts';
import { HELD_OUT_2, HELD_OUT_3, heldOutPhotos } from './held-out-photos.ts';

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

/**
 * Which photos a figure comes from: parameters are chosen on `development` only; `test` is the
 * other half of the shared photos; `held-out` is 25 photographs from Debian's wallpaper packages
 * (held-out-photos.ts), added when the test half had been looked at too often to stay unseen;
 * `held-out-2` is 27 of OpenCV's sample photographs, added when `held-out` had been looked at twice;
 * `held-out-3` is 17 photographs from LXQt's wallpapers, Palapeli and matplotlib, added when
 * `held-out-2` had been looked at twice.
 */
export type Split = 'development' | 'test' | 'held-out' | 'held-out-2' | 'held-out-3';

/*
 * The development/test split of photos/, photos-more/ and the bridge photo (one file per scene;
 * Elephants-large is left out as a copy of Elephants). Fixed by name, alternating through each
 * folder, so both halves hold large colour photos and small or greyscale images.
 */
const SPLIT: Record<Exclude<Split, 'held-out' | 'held-out-2' | 'held-out-3'>, string[]> = {
  development: [
    'photos/Aqua.jpg',
    'photos/Dune.jpg',
    'photos/Elephants.jpg',
    'photos/Garden.jpg',
    'photos/LadyBird.jpg',
    'photos/Storm.jpg',
    'photos/Wood.jpg',
    'photos-more/astronaut.png',
    'photos-more/camera.png',
    'photos-more/coffee.png',
    'photos-more/grass.png',
    'photos-more/hubble_deep_field.jpg',
    'photos-more/moon.png',
    'photos-more/retina.jpg',
  ],
  test: [
    'photos/Blinds.jpg',
    'photos/FreshFlower.jpg',
    'photos/GreenMeadow.jpg',
    'photos/RainDrops.jpg',
    'photos/TwoWings.jpg',
    'photos/YellowFlower.jpg',
    'pdq/bridge-mods/aaa-orig.jpg',
    'photos-more/brick.png',
    'photos-more/chelsea.png',
    'photos-more/coins.png',
    'photos-more/gravel.png',
    'photos-more/ihc.png',
    'photos-more/motorcycle_left.png',
    'photos-more/page.png',
    'photos-more/rocket.jpg',
  ],
};

/** The photos of one split, each a different scene. */
export function splitPhotos(split: Split, log?: (m: string) => void): string[] {
  if (split === 'held-out') return heldOutPhotos(log);
  if (split === 'held-out-2') return heldOutPhotos(log, HELD_OUT_2);
  if (split === 'held-out-3') return heldOutPhotos(log, HELD_OUT_3);
  return SPLIT[split].map((f) => join(DATA_DIR, f));
}
