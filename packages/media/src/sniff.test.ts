import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import sharp from 'sharp';
import { dataPath, NEEDS_DATA } from '../test/helpers.ts';
import { sniffBytes } from './sniff.ts';

const bytes = (...parts: (string | number[])[]): Buffer =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));

/** An ISO-BMFF ftyp box with a major brand and compatible brands. */
const ftyp = (major: string, ...compatible: string[]): Buffer => {
  const size = 16 + compatible.length * 4;
  return bytes([0, 0, 0, size], 'ftyp', major, [0, 0, 0, 0], ...compatible, [0, 0, 0, 8], 'free');
};

/** A first Ogg page whose packet starts with `payload`. */
const oggPage = (payload: string): Buffer =>
  bytes('OggS', [0, 2], new Array(20).fill(0), [1, payload.length], payload);

/** A ZIP local file header for `name` followed by `content` (stored). */
const zipMember = (name: string, content = ''): Buffer => {
  const header = Buffer.alloc(30);
  header.writeUInt32LE(0x04034b50, 0);
  header.writeUInt16LE(name.length, 26);
  return Buffer.concat([header, Buffer.from(name, 'latin1'), Buffer.from(content, 'latin1')]);
};

const image = (format: 'jpeg' | 'png' | 'webp' | 'gif' | 'avif' | 'tiff') =>
  sharp({ create: { width: 8, height: 8, channels: 3, background: '#808080' } })
    .toFormat(format)
    .toBuffer();

test('images by magic bytes', async () => {
  for (const [format, mime] of [
    ['jpeg', 'image/jpeg'],
    ['png', 'image/png'],
    ['webp', 'image/webp'],
    ['gif', 'image/gif'],
    ['avif', 'image/avif'],
    ['tiff', 'image/tiff'],
  ] as const) {
    const result = sniffBytes(await image(format));
    assert.equal(result?.mime, mime, format);
    assert.equal(result?.kind, 'image');
  }
  assert.equal(sniffBytes(ftyp('heic', 'mif1', 'heic'))?.mime, 'image/heic');
  assert.equal(sniffBytes(ftyp('mif1', 'mif1', 'avif'))?.mime, 'image/avif');
  assert.equal(sniffBytes(ftyp('mif1', 'mif1', 'heic'))?.mime, 'image/heif');
});

test('ISO-BMFF brands', () => {
  assert.equal(sniffBytes(ftyp('isom', 'isom', 'avc1'))?.mime, 'video/mp4');
  assert.equal(sniffBytes(ftyp('mp42', 'mp41'))?.mime, 'video/mp4');
  assert.equal(sniffBytes(ftyp('qt  ', 'qt  '))?.mime, 'video/quicktime');
  assert.equal(sniffBytes(ftyp('3gp4', '3gp4'))?.mime, 'video/3gpp');
  assert.equal(sniffBytes(ftyp('3g2a'))?.mime, 'video/3gpp2');
  const m4a = sniffBytes(ftyp('M4A ', 'M4A ', 'mp42'));
  assert.equal(m4a?.mime, 'audio/mp4');
  assert.equal(m4a?.kind, 'audio');
  assert.equal(sniffBytes(bytes([0, 0, 0, 8], 'wide', [0, 0, 0, 8], 'mdat'))?.mime, 'video/quicktime');
});

test('Matroska/WebM, MPEG, Ogg, RIFF', () => {
  const ebml = (docType: string) =>
    bytes([0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81, 0x01, 0x42, 0x82, 0x80 | docType.length], docType);
  assert.equal(sniffBytes(ebml('webm'))?.mime, 'video/webm');
  assert.equal(sniffBytes(ebml('matroska'))?.mime, 'video/x-matroska');
  assert.equal(sniffBytes(bytes([0, 0, 1, 0xba], new Array(20).fill(0)))?.mime, 'video/mpeg');
  const ts = Buffer.alloc(188 * 3);
  for (let i = 0; i < 3; i++) ts[i * 188] = 0x47;
  assert.equal(sniffBytes(ts)?.mime, 'video/mp2t');
  assert.equal(sniffBytes(oggPage('OpusHead'))?.format, 'ogg-opus');
  assert.equal(sniffBytes(oggPage('\x01vorbis'))?.format, 'ogg-vorbis');
  const theora = sniffBytes(oggPage('\x80theora'));
  assert.equal(theora?.kind, 'video');
  assert.equal(sniffBytes(bytes('RIFF', [0, 0, 0, 0], 'WAVE', 'fmt '))?.mime, 'audio/wav');
  assert.equal(sniffBytes(bytes('RIFF', [0, 0, 0, 0], 'AVI ', 'LIST'))?.mime, 'video/x-msvideo');
});

test('MP3, AAC, FLAC', () => {
  // MPEG-1 layer III, 128 kbit/s, 44.1 kHz: 417-byte frames; two in a row.
  const frame = Buffer.alloc(417);
  frame.set([0xff, 0xfb, 0x90, 0x64]);
  assert.equal(sniffBytes(Buffer.concat([frame, frame]))?.mime, 'audio/mpeg');
  assert.equal(sniffBytes(bytes('ID3', [4, 0, 0, 0, 0, 0, 0], new Array(10).fill(0)))?.mime, 'audio/mpeg');
  const adts = bytes([0xff, 0xf1, 0x50, 0x80, 0x02, 0x1f, 0xfc], new Array(20).fill(0));
  assert.equal(sniffBytes(adts)?.mime, 'audio/aac');
  assert.equal(sniffBytes(bytes('fLaC', [0, 0, 0, 34]))?.mime, 'audio/flac');
  // A lone sync pattern without a matching second frame is not enough to call it MP3.
  assert.equal(sniffBytes(bytes([0xff, 0xfb, 0x90, 0x64], new Array(500).fill(1), [0, 0]))?.mime, undefined);
});

test('documents: PDF, ZIP, Office', () => {
  assert.equal(sniffBytes(bytes('%PDF-1.7\n'))?.mime, 'application/pdf');
  assert.equal(sniffBytes(zipMember('hello.txt', 'hi'))?.mime, 'application/zip');
  const docx = Buffer.concat([zipMember('[Content_Types].xml', '<Types/>'), zipMember('word/document.xml')]);
  assert.equal(sniffBytes(docx)?.format, 'docx');
  const xlsx = Buffer.concat([zipMember('[Content_Types].xml'), zipMember('xl/workbook.xml')]);
  assert.equal(sniffBytes(xlsx)?.format, 'xlsx');
  const odt = zipMember('mimetype', 'application/vnd.oasis.opendocument.textPK');
  assert.equal(sniffBytes(odt)?.format, 'odt');
});

test('text, and HTML/SVG kept apart from plain text', () => {
  assert.equal(sniffBytes(Buffer.from('hello\nworld\n'))?.mime, 'text/plain');
  assert.equal(sniffBytes(Buffer.from('Grüße, 你好 👋'))?.mime, 'text/plain');
  assert.equal(sniffBytes(Buffer.from('  <!DOCTYPE html><p>x'))?.mime, 'text/html');
  assert.equal(
    sniffBytes(Buffer.from('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>'))?.mime,
    'image/svg+xml',
  );
  assert.equal(sniffBytes(Buffer.from([0x68, 0x69, 0x00, 0x68])), undefined, 'NUL byte = binary');
  assert.equal(sniffBytes(Buffer.from([0xc3, 0x28, 0x41])), undefined, 'invalid UTF-8');
  // A multi-byte character cut at the sniff window edge is still text.
  const long = Buffer.from('你'.repeat(30_000)); // 3 bytes each: 64 KiB ends mid-character
  assert.equal(sniffBytes(long)?.mime, 'text/plain');
  assert.equal(sniffBytes(Buffer.alloc(0)), undefined);
});

test('real files: content wins over names', { skip: NEEDS_DATA }, async () => {
  const cases: [string[], string][] = [
    [['photos', 'Aqua.jpg'], 'image/jpeg'],
    [['video', 'city-night.mpg'], 'video/mpeg'],
    [['vpdq', 'videos', 'doorknob-hd-no-bar.mp4'], 'video/mp4'],
    [['audio', 'Front_Left.wav'], 'audio/wav'],
    [['audio', 'complete.oga'], 'audio/ogg'],
  ];
  for (const [parts, mime] of cases) {
    assert.equal(
      sniffBytes((await readFile(dataPath(...parts))).subarray(0, 64 * 1024))?.mime,
      mime,
      parts.join('/'),
    );
  }
});
