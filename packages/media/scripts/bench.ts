/**
 * Times the main operations on the shared test media:
 * `node --import tsx packages/media/scripts/bench.ts [data-dir]`.
 * Photo ingest = inspect + decode + thumbnail/preview in AVIF/WebP/JPEG + placeholder.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { adaptToBudget } from '../src/adapt-to-budget.ts';
import { processImage } from '../src/process-image.ts';
import { transcodeHls } from '../src/video-hls.ts';
import { transcodeMp4 } from '../src/video-mp4.ts';

const here = dirname(fileURLToPath(import.meta.url));
const data = process.argv[2] ?? resolve(here, '..', '..', '..', '..', 'shared', 'data');
const seconds = (start: number) => ((performance.now() - start) / 1000).toFixed(2);

const photos = (await readdir(join(data, 'photos'))).filter((f) => f.endsWith('.jpg')).sort();
let total = 0;
for (const photo of photos) {
  const start = performance.now();
  const result = await processImage({ input: join(data, 'photos', photo) });
  const elapsed = (performance.now() - start) / 1000;
  total += elapsed;
  const bytes = result.renditions
    .map((r) => `${r.name[0]}/${r.format}:${Math.round(r.bytes.length / 1000)}k`)
    .join(' ');
  console.log(`${photo.padEnd(22)} ${result.width}×${result.height} ${elapsed.toFixed(2)} s  ${bytes}`);
}
console.log(
  `photo ingest: ${(total / photos.length).toFixed(2)} s per photo on average (${photos.length} photos)`,
);

const out = await mkdtemp(join(tmpdir(), 'mmd-media-bench-'));
try {
  const city = join(data, 'video', 'city-night.mpg');
  let start = performance.now();
  const hls = await transcodeHls({ input: city, outputDir: join(out, 'hls') });
  console.log(
    `HLS ladder city-night.mpg (${hls.variants.map((v) => v.name).join(', ')}): ${seconds(start)} s`,
  );
  start = performance.now();
  await transcodeMp4({ input: city, outputPath: join(out, 'compat.mp4') });
  console.log(`compat MP4 city-night.mpg: ${seconds(start)} s`);
  for (const photo of ['Elephants-large.jpg', 'Wood.jpg', 'Aqua.jpg']) {
    for (const maxBytes of [300_000, 1_000_000]) {
      start = performance.now();
      const r = await adaptToBudget({ input: join(data, 'photos', photo), maxBytes, accept: ['image/jpeg'] });
      console.log(
        `budget ${photo} ${maxBytes / 1000} KB → ${r.bytes.length} B ${r.width}×${r.height} q${r.quality.encoderQuality} ` +
          `SSIM ${r.quality.ssim} (${r.encodes} encodes, ${seconds(start)} s)`,
      );
    }
  }
  start = performance.now();
  const v = await adaptToBudget({
    input: city,
    maxBytes: 300_000,
    accept: ['video/mp4; codecs="avc1.42E01E"'],
  });
  console.log(
    `budget city-night 300 KB → ${v.bytes.length} B ${v.width}×${v.height} ${JSON.stringify(v.quality)} ${seconds(start)} s`,
  );
} finally {
  await rm(out, { recursive: true, force: true });
}
