/**
 * Generates the hostile-file corpus in packages/media/test/hostile/ (committed; regenerate with
 * `node --import tsx packages/media/scripts/make-hostile-corpus.ts`). Every file is small and built
 * from scratch (synthetic pixels, a lavfi test pattern), so the corpus carries no third-party content.
 * Output is deterministic except for the two MP4s, whose encoder may differ between ffmpeg builds.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';
import sharp, { type Sharp } from 'sharp';
import { runFfmpeg } from '../src/run-ffmpeg.ts';

const OUT = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'hostile');

/** Deterministic noise (xorshift32), so regenerated images are byte-identical. */
function noise(length: number, seed = 0x9e3779b9): Buffer {
  const out = Buffer.alloc(length);
  let x = seed >>> 0;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** A 128×96 picture: smooth gradient plus some noise, so JPEG/WebP/PNG sizes are realistic. */
async function picture(): Promise<Sharp> {
  const width = 128;
  const height = 96;
  const data = Buffer.alloc(width * height * 3);
  const jitter = noise(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const n = (jitter[y * width + x] ?? 0) >> 3;
      data[i] = (x * 2 + n) & 0xff;
      data[i + 1] = (y * 2 + n) & 0xff;
      data[i + 2] = 128 + (n & 0x3f);
    }
  }
  return sharp(data, { raw: { width, height, channels: 3 } });
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Buffer): number {
  let c = 0xffffffff;
  for (const byte of bytes) c = (CRC_TABLE[(c ^ byte) & 0xff] ?? 0) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** One PNG chunk: length, type, data, CRC over type + data. */
function chunk(type: string, data: Buffer, crcOverride?: number): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crcOverride ?? crc32(body));
  return Buffer.concat([length, body, crc]);
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function ihdr(width: number, height: number, bitDepth: number, colourType: number): Buffer {
  const data = Buffer.alloc(13);
  data.writeUInt32BE(width, 0);
  data.writeUInt32BE(height, 4);
  data[8] = bitDepth;
  data[9] = colourType;
  return chunk('IHDR', data); // compression, filter and interlace bytes stay 0
}

/**
 * 50 000 × 50 000 1-bit greyscale PNG: 2.5 gigapixels, ~312 MB of filtered scanlines, 10 GB as RGBA.
 * Only the first 2 000 rows are actually stored (a full zlib stream of zeros would be ~300 KB); every
 * decoder must reject it from the header before allocating anything, which is what we test.
 */
function decompressionBomb(): Buffer {
  const side = 50_000;
  const rowBytes = 1 + Math.ceil(side / 8); // filter byte + packed bits
  const rows = Buffer.alloc(rowBytes * 2_000);
  return Buffer.concat([
    PNG_SIGNATURE,
    ihdr(side, side, 1, 0),
    chunk('IDAT', deflateSync(rows, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Valid structure, but a 2^31-1 square: the largest size the PNG spec allows. */
function absurdPng(): Buffer {
  const side = 0x7fffffff;
  return Buffer.concat([
    PNG_SIGNATURE,
    ihdr(side, side, 8, 2),
    chunk('IDAT', deflateSync(Buffer.alloc(64))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Rewrites the first SOF0/SOF2 frame size of a JPEG. */
function patchJpegSize(jpeg: Buffer, width: number, height: number): Buffer {
  const out = Buffer.from(jpeg);
  for (let i = 2; i < out.length - 9; ) {
    const marker = out[i + 1] ?? 0;
    if (marker === 0xc0 || marker === 0xc2) {
      out.writeUInt16BE(height, i + 5);
      out.writeUInt16BE(width, i + 7);
      return out;
    }
    i += 2 + out.readUInt16BE(i + 2);
  }
  throw new Error('no SOF marker');
}

/** Replaces an existing PNG's IDAT payload (keeping its length) with noise and a correct CRC. */
function garbageIdat(png: Buffer): Buffer {
  const out = Buffer.from(png);
  const at = out.indexOf('IDAT', 8, 'latin1');
  const length = out.readUInt32BE(at - 4);
  noise(length, 1234).copy(out, at + 4);
  out.writeUInt32BE(crc32(out.subarray(at, at + 4 + length)), at + 4 + length);
  return out;
}

/** Flips the IDAT CRC of an otherwise valid PNG. */
function badCrc(png: Buffer): Buffer {
  const out = Buffer.from(png);
  const at = out.indexOf('IDAT', 8, 'latin1');
  const length = out.readUInt32BE(at - 4);
  out.writeUInt32BE((out.readUInt32BE(at + 4 + length) ^ 0xdeadbeef) >>> 0, at + 4 + length);
  return out;
}

/**
 * Makes a 1 s clip claim ~24 days: every sample's duration in the time-to-sample table (`stts`, which
 * demuxers trust over header fields) becomes 2^31-1 ticks, and the mvhd/tkhd/mdhd/elst durations agree.
 */
function absurdDuration(mp4: Buffer): Buffer {
  const out = Buffer.from(mp4);
  const huge = 0x7fffffff;
  const forEachBox = (type: string, fn: (at: number) => void) => {
    for (let at = out.indexOf(type, 0, 'latin1'); at >= 0; at = out.indexOf(type, at + 4, 'latin1')) {
      if (out[at + 4] === 0) fn(at); // only version 0 layouts
    }
  };
  forEachBox('mvhd', (at) => out.writeUInt32BE(huge, at + 20)); // type, ver/flags, ctime, mtime, timescale, duration
  forEachBox('tkhd', (at) => out.writeUInt32BE(huge, at + 24)); // ..., track id, reserved, duration
  forEachBox('mdhd', (at) => out.writeUInt32BE(huge, at + 20));
  forEachBox('elst', (at) => out.writeUInt32BE(huge, at + 12)); // ..., entry count, segment duration
  forEachBox('stts', (at) => {
    const entries = out.readUInt32BE(at + 8);
    for (let i = 0; i < entries; i++) out.writeUInt32BE(huge, at + 16 + i * 8); // (count, delta) pairs
  });
  return out;
}

/** A stored (uncompressed) ZIP with one member: the classic "JPEG with a ZIP appended" polyglot. */
function zipWith(name: string, content: Buffer): Buffer {
  const nameBytes = Buffer.from(name, 'latin1');
  const crc = crc32(content);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(10, 4);
  local.writeUInt32LE(crc, 14);
  local.writeUInt32LE(content.length, 18);
  local.writeUInt32LE(content.length, 22);
  local.writeUInt16LE(nameBytes.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4);
  central.writeUInt16LE(10, 6);
  central.writeUInt32LE(crc, 16);
  central.writeUInt32LE(content.length, 20);
  central.writeUInt32LE(content.length, 24);
  central.writeUInt16LE(nameBytes.length, 28);
  const centralOffset = local.length + nameBytes.length + content.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(central.length + nameBytes.length, 12);
  end.writeUInt32LE(centralOffset, 16);
  return Buffer.concat([local, nameBytes, content, central, nameBytes, end]);
}

/** Inserts a JPEG comment (COM) segment right after SOI. */
function withComment(jpeg: Buffer, text: string): Buffer {
  const body = Buffer.from(text, 'latin1');
  const header = Buffer.from([0xff, 0xfe, 0, 0]);
  header.writeUInt16BE(body.length + 2, 2);
  return Buffer.concat([jpeg.subarray(0, 2), header, body, jpeg.subarray(2)]);
}

async function makeMp4(dir: string, faststart: boolean): Promise<Buffer> {
  const path = join(dir, `clip-${faststart}.mp4`);
  await runFfmpeg({
    args: [
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=64x48:rate=10:duration=1',
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-pix_fmt',
      'yuv420p',
      '-bitexact',
      '-map_metadata',
      '-1',
      ...(faststart ? ['-movflags', '+faststart'] : []),
      path,
    ],
  });
  return readFile(path);
}

async function main(): Promise<void> {
  await mkdir(OUT, { recursive: true });
  const scratch = await mkdtemp(join(tmpdir(), 'mmd-hostile-'));
  try {
    const jpeg = await (await picture()).jpeg({ quality: 80 }).toBuffer();
    const png = await (await picture()).png().toBuffer();
    const webp = await (await picture()).webp({ quality: 80 }).toBuffer();
    const mp4End = await makeMp4(scratch, false);
    const mp4Start = await makeMp4(scratch, true);
    const moov = mp4End.indexOf('moov', 0, 'latin1') - 4;
    const files: Record<string, Buffer> = {
      'truncated.jpg': jpeg.subarray(0, Math.floor(jpeg.length / 2)),
      'bad-crc.png': badCrc(png),
      'garbage-idat.png': garbageIdat(png),
      'truncated.webp': webp.subarray(0, Math.floor(webp.length / 2)),
      'moov-missing.mp4': mp4End.subarray(0, moov),
      'empty.jpg': Buffer.alloc(0),
      'jpeg-named.mp4': jpeg,
      'bomb-50000x50000.png': decompressionBomb(),
      'absurd-dimensions.png': absurdPng(),
      'absurd-dimensions.jpg': patchJpegSize(jpeg, 65_000, 65_000),
      'absurd-duration.mp4': absurdDuration(mp4Start),
      'polyglot-jpeg-zip.jpg': Buffer.concat([
        jpeg,
        zipWith('payload.html', Buffer.from('<script>alert(1)</script>')),
      ]),
      'polyglot-jpeg-html.jpg': withComment(
        jpeg,
        '<html><body><script>alert(document.domain)</script></body></html>',
      ),
      'html-named.jpg': Buffer.from('<!DOCTYPE html><html><script>alert(1)</script></html>\n'),
      'random.bin': noise(4096, 42),
      'ftyp-then-garbage.mp4': Buffer.concat([mp4Start.subarray(0, 32), noise(4096, 7)]),
      'truncated.pdf': Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n'),
    };
    for (const [name, bytes] of Object.entries(files)) {
      await writeFile(join(OUT, name), bytes);
      console.log(`${name.padEnd(26)} ${String(bytes.length).padStart(7)} bytes`);
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

await main();
