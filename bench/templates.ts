/**
 * bench:templates — what rendering templates costs on this machine, with baselines in the same run.
 *
 *   node --import tsx bench/templates.ts [--seconds=5] [--videos=4]
 *
 * Measures:
 *  1. renderTemplate (pure): a transactional template with a date, an amount in EUR, a tracked url
 *     button and a reply button, for recipients in en/fr/de — renders per second on one core,
 *     against the baseline of a plain string template literal doing the same substitutions unformatted;
 *  2. personalised images (drawOverImage): a 1280×720 base, a text layer with the recipient's name
 *     (wrapped and shrunk to 700 px) and a 300×300 product photo, each render a different name —
 *     renders per second sequentially and with one render in flight per core, against the baseline of
 *     sharp only decoding and re-encoding the same base (the floor any render pays);
 *  3. the cache key (SHA-256 of the canonical spec) per second — what an identical render costs
 *     instead of a draw (plus one indexed read);
 *  4. personalised video (drawOverVideo): a 2 s 640×360 clip with a text layer, renders per second,
 *     against ffmpeg re-encoding the same clip with no overlay.
 * Prints ONE JSON object on stdout.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { locateBinaries } from '@mmd/media';
import sharp from 'sharp';
import { checkVersion, drawOverImage, drawOverVideo, renderTemplate, type TemplateVersion } from '../apps/server/src/templates/index.ts';
import { canonicalJson } from '../apps/server/src/templates/personalise.ts';

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const seconds = Number(args.seconds ?? 5);
const videoCount = Number(args.videos ?? 4);
const log = (...m: unknown[]) => process.stderr.write(`${m.join(' ')}\n`);

async function timed(fn: () => unknown | Promise<unknown>, forMs: number): Promise<{ count: number; perSecond: number }> {
  const start = performance.now();
  let count = 0;
  while (performance.now() - start < forMs) {
    await fn();
    count += 1;
  }
  return { count, perSecond: Math.round((count / ((performance.now() - start) / 1000)) * 10) / 10 };
}

function syncRate(fn: (i: number) => unknown, forMs: number) {
  const start = performance.now();
  let count = 0;
  while (performance.now() - start < forMs) {
    for (let k = 0; k < 1000; k++) fn(count++);
  }
  return Math.round(count / ((performance.now() - start) / 1000));
}

const names = ['Ann', 'Zoé', 'Jörg', 'Bartholomew-Maximilian', 'Li', 'Ngozi', 'Søren', 'Ana María'];

/**
 * Personalised images per second on this machine: a 1280×720 base, a wrapped text layer with a
 * different name each time and a 300×300 photo; sequential, one in flight per core, and the
 * baseline of sharp re-encoding the same base. bench:campaigns may call this for its figure.
 */
export async function measurePersonalisedImages(options: { seconds?: number } = {}) {
  const forMs = (options.seconds ?? 5) * 1000;
  const base = await sharp({ create: { width: 1280, height: 720, channels: 3, background: '#1d3557' } }).composite([{ input: await sharp({ create: { width: 600, height: 300, channels: 3, background: '#457b9d' } }).png().toBuffer(), left: 40, top: 380 }]).jpeg({ quality: 85 }).toBuffer();
  const product = await sharp({ create: { width: 800, height: 800, channels: 3, background: '#e63946' } }).jpeg().toBuffer();
  const layersFor = (i: number) => [
    { type: 'text' as const, text: `${names[i % names.length]} ${i}: your code SAVE20`, x: 40, y: 40, font_size: 64, color: '#ffffff', max_width: 700, max_lines: 2 },
    { type: 'image' as const, x: 900, y: 380, width: 300, height: 300, bytes: product },
  ];
  let n = 0;
  const sequential = await timed(() => drawOverImage({ base, designWidth: 1280, layers: layersFor(n++), maxPixels: 1e8 }), forMs);
  const cores = os.availableParallelism();
  const parallelStart = performance.now();
  let parallelCount = 0;
  await Promise.all(
    Array.from({ length: cores }, async () => {
      while (performance.now() - parallelStart < forMs) {
        await drawOverImage({ base, designWidth: 1280, layers: layersFor(n++), maxPixels: 1e8 });
        parallelCount += 1;
      }
    }),
  );
  const reencode = await timed(() => sharp(base).jpeg({ quality: 90, mozjpeg: false }).toBuffer(), forMs);
  return {
    size: '1280x720 JPEG, a wrapped text layer and a 300x300 photo',
    sequentialPerSecond: sequential.perSecond,
    onePerCorePerSecond: Math.round((parallelCount / ((performance.now() - parallelStart - 0) / 1000)) * 10) / 10,
    baselineReencodePerSecond: reencode.perSecond,
  };
}


async function main() {
  // 1. renderTemplate
  const checked = checkVersion({
    default_locale: 'en',
    variables: [{ name: 'order_date', type: 'date' }, { name: 'total', type: 'currency', currency: 'EUR' }, { name: 'order_id' }],
    variants: {
      en: { text: 'Hi {{first_name|there}}, your order of {{order_date:date:long}} ({{total}}) is on its way.', buttons: [[{ type: 'url', text: 'Track', url: 'https://shop.example/orders/{{order_id}}' }, { type: 'reply', text: 'Thanks!' }]] },
      fr: { text: 'Bonjour {{first_name|à vous}}, votre commande du {{order_date:date:long}} ({{total}}) est en route.', buttons: [[{ type: 'url', text: 'Suivre', url: 'https://shop.example/orders/{{order_id}}' }]] },
      de: { text: 'Hallo {{first_name}}, Ihre Bestellung vom {{order_date:date:long}} ({{total}}) ist unterwegs.' },
    },
  });
  const version: TemplateVersion = { id: 'tpv_bench', template_id: 'tpl_bench', number: 1, state: 'approved', purpose: 'transactional', ...checked };
  const locales = ['en-US', 'fr-FR', 'de-DE', 'fr-CA'];
  const links = (ref: { button: string; contactId: string | null }) => `https://mmd.example/r/${ref.button}.${ref.contactId}`;
  log('renderTemplate…');
  const renderPerSecond = syncRate((i) => {
    const r = renderTemplate({ version, variables: { order_date: '2026-03-01', total: 10 + (i % 500), order_id: `A${i}` }, contact: { id: `ct_${i}`, first_name: names[i % names.length], locale: locales[i % 4], time_zone: 'Europe/Paris' }, links });
    if (!r.ok) throw new Error(r.reason);
  }, seconds * 1000);
  const literalPerSecond = syncRate((i) => `Hi ${names[i % names.length]}, your order of ${'2026-03-01'} (${10 + (i % 500)}) is on its way. https://shop.example/orders/A${i}`, seconds * 1000);

  // 2. personalised images
  log('images…');
  const personalisedImages = await measurePersonalisedImages({ seconds });

  // 3. cache key
  const cacheKeyPerSecond = syncRate(
    (i) => createHash('sha256').update(canonicalJson({ renderer: 1, business: 'acc_x', base: 'sha256/abc', kind: 'image', layers: [{ type: 'text', text: `${names[i % names.length]}: SAVE20`, x: 40, y: 40, font_size: 64 }, { type: 'image', source: 'sha256/def', x: 900, y: 380, width: 300, height: 300 }] })).digest('hex'),
    seconds * 1000,
  );

  // 4. personalised video
  const { ffmpeg } = await locateBinaries();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mmd-bench-templates-'));
  let video: { perSecond: number; count: number; baselinePerSecond: number } | null = null;
  try {
    const clip = path.join(dir, 'clip.mp4');
    execFileSync(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=size=640x360:rate=25:duration=2', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=2', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', clip]);
    const clipBytes = readFileSync(clip);
    log('video…');
    let start = performance.now();
    for (let i = 0; i < videoCount; i++) await drawOverVideo({ base: clipBytes, designWidth: 640, videoWidth: 640, layers: [{ type: 'text', text: `Hello ${names[i % names.length]}!`, x: 20, y: 20, font_size: 40, color: '#ffff00', max_width: 400 }], maxPixels: 1e8 });
    const perSecond = videoCount / ((performance.now() - start) / 1000);
    start = performance.now();
    for (let i = 0; i < videoCount; i++) execFileSync(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', '-i', clip, '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '23', '-pix_fmt', 'yuv420p', '-c:a', 'copy', path.join(dir, 'plain.mp4')]);
    const baselinePerSecond = videoCount / ((performance.now() - start) / 1000);
    video = { count: videoCount, perSecond: Math.round(perSecond * 100) / 100, baselinePerSecond: Math.round(baselinePerSecond * 100) / 100 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  process.stdout.write(
    `${JSON.stringify(
      {
        bench: 'templates',
        date: new Date().toISOString(),
        machine: { cpus: os.availableParallelism(), model: os.cpus()[0]?.model, node: process.version, sharp: sharp.versions.sharp, vips: sharp.versions.vips },
        renderTemplate: { perSecond: renderPerSecond, baselineStringLiteralPerSecond: literalPerSecond, note: 'one core; en/fr/de/fr-CA recipients, a date, an amount, a tracked url button' },
        personalisedImages,
        cacheKeyPerSecond,
        personalisedVideo: video && { clip: '2 s 640x360 H.264 + AAC, one text layer', ...video },
      },
      null,
      2,
    )}\n`,
  );
}

// Run as a script; imported (bench:campaigns), only the functions.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
