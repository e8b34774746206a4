/** Pixel dimensions as stated by a file header. */
export interface HeaderDimensions {
  /** Stated width in pixels. */
  width: number;
  /** Stated height in pixels. */
  height: number;
}

const u16be = (b: Uint8Array, o: number): number => ((b[o] ?? 0) << 8) | (b[o + 1] ?? 0);
const u16le = (b: Uint8Array, o: number): number => (b[o] ?? 0) | ((b[o + 1] ?? 0) << 8);
const u24le = (b: Uint8Array, o: number): number => u16le(b, o) | ((b[o + 2] ?? 0) << 16);
const u32be = (b: Uint8Array, o: number): number => u16be(b, o) * 0x10000 + u16be(b, o + 2);

/**
 * Reads the dimensions a PNG, GIF, WebP or JPEG header claims, without any decoder. Decompression
 * bombs declare huge sizes in a few bytes, so this lets us refuse them before libvips, libpng or
 * libjpeg ever allocate anything. Returns `undefined` when the header is not (yet) in `head`, e.g. a
 * JPEG whose EXIF block is longer than the bytes read; the sharp metadata check then covers it.
 * @param head leading bytes of the file
 * @param format sniffed format id (`png`, `gif`, `webp`, `jpeg`)
 */
export function readHeaderDimensions(head: Uint8Array, format: string): HeaderDimensions | undefined {
  switch (format) {
    case 'png':
      // IHDR is required to be the first chunk: width and height follow its type at offsets 16 and 20.
      return head.length >= 24 ? { width: u32be(head, 16), height: u32be(head, 20) } : undefined;
    case 'gif':
      return head.length >= 10 ? { width: u16le(head, 6), height: u16le(head, 8) } : undefined;
    case 'webp':
      return webpDimensions(head);
    case 'jpeg':
      return jpegDimensions(head);
    default:
      return undefined;
  }
}

function webpDimensions(b: Uint8Array): HeaderDimensions | undefined {
  const chunk = String.fromCharCode(...b.subarray(12, 16));
  if (chunk === 'VP8X' && b.length >= 30) return { width: 1 + u24le(b, 24), height: 1 + u24le(b, 27) };
  if (chunk === 'VP8L' && b.length >= 25) {
    const b1 = b[22] ?? 0;
    const b2 = b[23] ?? 0;
    const b3 = b[24] ?? 0;
    return {
      width: 1 + ((b[21] ?? 0) | ((b1 & 0x3f) << 8)),
      height: 1 + ((b1 >> 6) | (b2 << 2) | ((b3 & 0x0f) << 10)),
    };
  }
  if (chunk === 'VP8 ' && b.length >= 30)
    return { width: u16le(b, 26) & 0x3fff, height: u16le(b, 28) & 0x3fff };
  return undefined;
}

/** Walks JPEG marker segments up to the first SOFn, which holds the frame size. */
function jpegDimensions(b: Uint8Array): HeaderDimensions | undefined {
  let offset = 2;
  while (offset + 9 < b.length) {
    if (b[offset] !== 0xff) return undefined;
    const marker = b[offset + 1] ?? 0;
    if (marker === 0xff) {
      offset++; // fill byte
      continue;
    }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      offset += 2; // markers without a length field
      continue;
    }
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) return { width: u16be(b, offset + 7), height: u16be(b, offset + 5) };
    offset += 2 + u16be(b, offset + 2);
  }
  return undefined;
}
