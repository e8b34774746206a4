/** Broad family of a file, deciding which pipeline handles it. */
export type MediaKind = 'image' | 'video' | 'audio' | 'document';

/** A type recognised from content. */
export interface SniffResult {
  /** Short stable identifier, e.g. `jpeg`, `mp4`, `ogg-opus`, `docx`. */
  format: string;
  /** MIME type to store and serve with. */
  mime: string;
  /** Family; a probe may refine it (an MP4 with no video track is audio). */
  kind: MediaKind;
  /** Canonical file extension without the dot, for naming stored files. */
  extension: string;
}

/** How many leading bytes {@link sniffBytes} looks at; callers should read at least this much. */
export const SNIFF_BYTES = 64 * 1024;

const ascii = (bytes: Uint8Array, start: number, length: number): string =>
  String.fromCharCode(...bytes.subarray(start, start + length));

const startsWith = (bytes: Uint8Array, signature: readonly number[], offset = 0): boolean =>
  signature.every((value, index) => bytes[offset + index] === value);

const u32be = (bytes: Uint8Array, offset: number): number =>
  (bytes[offset] ?? 0) * 0x1000000 +
  ((bytes[offset + 1] ?? 0) << 16) +
  ((bytes[offset + 2] ?? 0) << 8) +
  (bytes[offset + 3] ?? 0);

const result = (format: string, mime: string, kind: MediaKind, extension: string): SniffResult => ({
  format,
  mime,
  kind,
  extension,
});

/**
 * Identifies a file from its first bytes (magic numbers, container brands), never from its name:
 * a user-supplied extension or Content-Type is only a claim. Returns `undefined` for unknown content.
 * The answer is a hypothesis; {@link inspectMedia} confirms it with a real parser before use.
 * @param head the file's first bytes (ideally {@link SNIFF_BYTES}, or the whole file if shorter)
 */
export function sniffBytes(head: Uint8Array): SniffResult | undefined {
  if (head.length === 0) return undefined;
  // Bound the work (text decoding) when a caller passes a whole file.
  if (head.length > SNIFF_BYTES) head = head.subarray(0, SNIFF_BYTES);
  return (
    sniffImage(head) ?? sniffContainer(head) ?? sniffAudio(head) ?? sniffDocument(head) ?? sniffText(head)
  );
}

function sniffImage(b: Uint8Array): SniffResult | undefined {
  if (startsWith(b, [0xff, 0xd8, 0xff])) return result('jpeg', 'image/jpeg', 'image', 'jpg');
  if (startsWith(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))
    return result('png', 'image/png', 'image', 'png');
  const gif = ascii(b, 0, 6);
  if (gif === 'GIF87a' || gif === 'GIF89a') return result('gif', 'image/gif', 'image', 'gif');
  if (ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WEBP')
    return result('webp', 'image/webp', 'image', 'webp');
  if (startsWith(b, [0x49, 0x49, 0x2a, 0x00]) || startsWith(b, [0x4d, 0x4d, 0x00, 0x2a])) {
    return result('tiff', 'image/tiff', 'image', 'tiff');
  }
  return undefined;
}

/** ISO-BMFF (`ftyp`), Matroska/WebM, MPEG program/transport streams, Ogg and RIFF containers. */
function sniffContainer(b: Uint8Array): SniffResult | undefined {
  if (ascii(b, 4, 4) === 'ftyp') return sniffFtyp(b);
  // Old QuickTime files start directly with a top-level atom and have no ftyp.
  if (['moov', 'mdat', 'wide', 'free', 'skip', 'pnot'].includes(ascii(b, 4, 4)) && u32be(b, 0) >= 8) {
    return result('mov', 'video/quicktime', 'video', 'mov');
  }
  if (startsWith(b, [0x1a, 0x45, 0xdf, 0xa3])) {
    const webm = ebmlDocType(b) === 'webm';
    // Voice notes recorded by browsers (Chromium's MediaRecorder) are audio-only WebM: the track
    // list decides. When it is not in the head, stay with video; the probe refines it later.
    if (matroskaTrackTypes(b)?.audioOnly) {
      return webm ? result('webm', 'audio/webm', 'audio', 'webm') : result('mkv', 'audio/x-matroska', 'audio', 'mka');
    }
    return webm ? result('webm', 'video/webm', 'video', 'webm') : result('mkv', 'video/x-matroska', 'video', 'mkv');
  }
  if (startsWith(b, [0x00, 0x00, 0x01, 0xba]) || startsWith(b, [0x00, 0x00, 0x01, 0xb3])) {
    return result('mpeg-ps', 'video/mpeg', 'video', 'mpg');
  }
  if (b[0] === 0x47 && b[188] === 0x47 && (b.length < 377 || b[376] === 0x47)) {
    return result('mpeg-ts', 'video/mp2t', 'video', 'ts');
  }
  if (ascii(b, 0, 4) === 'OggS') return sniffOgg(b);
  if (ascii(b, 0, 4) === 'RIFF') {
    const form = ascii(b, 8, 4);
    if (form === 'WAVE') return result('wav', 'audio/wav', 'audio', 'wav');
    if (form === 'AVI ') return result('avi', 'video/x-msvideo', 'video', 'avi');
  }
  return undefined;
}

function sniffFtyp(b: Uint8Array): SniffResult {
  const boxSize = Math.min(u32be(b, 0), b.length);
  const major = ascii(b, 8, 4);
  const brands = new Set([major]);
  for (let offset = 16; offset + 4 <= boxSize; offset += 4) brands.add(ascii(b, offset, 4));
  if (
    major === 'avif' ||
    major === 'avis' ||
    ((major === 'mif1' || major === 'msf1') && brands.has('avif'))
  ) {
    return result('avif', 'image/avif', 'image', 'avif');
  }
  if (['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx'].includes(major))
    return result('heic', 'image/heic', 'image', 'heic');
  if (major === 'mif1' || major === 'msf1') return result('heif', 'image/heif', 'image', 'heif');
  if (major === 'qt  ') return result('mov', 'video/quicktime', 'video', 'mov');
  if (major.startsWith('3g2')) return result('3g2', 'video/3gpp2', 'video', '3g2');
  if (major.startsWith('3g')) return result('3gp', 'video/3gpp', 'video', '3gp');
  if (major === 'M4A ' || major === 'M4B ' || major === 'M4P ' || major === 'F4A ') {
    return result('m4a', 'audio/mp4', 'audio', 'm4a');
  }
  // isom, iso2..iso9, mp41, mp42, avc1, dash, M4V, MSNV, f4v...: generic MP4.
  return result('mp4', 'video/mp4', 'video', 'mp4');
}

/** Reads the EBML DocType element (ID 0x4282) from the header, e.g. "webm" or "matroska". */
function ebmlDocType(b: Uint8Array): string | undefined {
  for (let i = 4; i < Math.min(b.length - 3, 64); i++) {
    if (b[i] === 0x42 && b[i + 1] === 0x82) {
      const sizeByte = b[i + 2] ?? 0;
      // DocType sizes are tiny, so a one-byte vint (top bit set) is all real files use.
      if ((sizeByte & 0x80) === 0) return undefined;
      return ascii(b, i + 3, sizeByte & 0x7f);
    }
  }
  return undefined;
}

/** EBML element IDs the track walk needs (IDs keep their length-marker bits, as the spec writes them). */
const EBML_HEADER = 0x1a45dfa3;
const SEGMENT = 0x18538067;
const TRACKS = 0x1654ae6b;
const TRACK_ENTRY = 0xae;
const TRACK_TYPE = 0x83;
const CLUSTER = 0x1f43b675;
/** Matroska TrackType values. */
const TRACK_VIDEO = 1;
const TRACK_AUDIO = 2;
const TRACK_COMPLEX = 3;

/** An EBML variable-length integer: its value and encoded length; `unknown` when all value bits are set. */
function readVint(b: Uint8Array, offset: number, keepMarker: boolean): { value: number; length: number; unknown: boolean } | undefined {
  const first = b[offset];
  if (first === undefined || first === 0) return undefined;
  const length = Math.clz32(first) - 23; // leading zeros within the byte, plus one
  if (length > 8 || offset + length > b.length) return undefined;
  let value = keepMarker ? first : first & (0xff >> length);
  let allOnes = value === 0xff >> length;
  for (let i = 1; i < length; i++) {
    const byte = b[offset + i] ?? 0;
    value = value * 256 + byte;
    if (byte !== 0xff) allOnes = false;
  }
  return { value, length, unknown: !keepMarker && allOnes };
}

/** One EBML element header at `offset`: id, where its data starts and ends (undefined size: to `limit`). */
function readElement(b: Uint8Array, offset: number, limit: number) {
  const id = readVint(b, offset, true);
  if (!id || id.length > 4) return undefined;
  const size = readVint(b, offset + id.length, false);
  if (!size) return undefined;
  const start = offset + id.length + size.length;
  return { id: id.value, start, end: size.unknown ? limit : start + size.value, unknownSize: size.unknown };
}

/**
 * Reads the Matroska/WebM track list from the head: which track types the file declares. Returns
 * undefined when the complete Tracks element is not inside `b` (or the structure is not what a
 * muxer writes), so callers can keep their default. Browsers' MediaRecorder writes a Segment of
 * unknown size, then Info and Tracks within the first few hundred bytes; ffmpeg puts a SeekHead first.
 */
function matroskaTrackTypes(b: Uint8Array): { types: number[]; audioOnly: boolean } | undefined {
  const header = readElement(b, 0, b.length);
  if (!header || header.id !== EBML_HEADER || header.unknownSize) return undefined;
  const segment = readElement(b, header.end, b.length);
  if (!segment || segment.id !== SEGMENT) return undefined;
  let offset = segment.start;
  const segmentEnd = Math.min(segment.end, b.length);
  while (offset < segmentEnd) {
    const element = readElement(b, offset, segmentEnd);
    if (!element || element.id === CLUSTER || element.unknownSize) return undefined;
    if (element.id === TRACKS) {
      if (element.end > b.length) return undefined;
      const types: number[] = [];
      for (let entry = element.start; entry < element.end; ) {
        const track = readElement(b, entry, element.end);
        if (!track || track.end > element.end) return undefined;
        if (track.id === TRACK_ENTRY) {
          for (let field = track.start; field < track.end; ) {
            const child = readElement(b, field, track.end);
            if (!child || child.end > track.end) return undefined;
            if (child.id === TRACK_TYPE) {
              let value = 0;
              for (let i = child.start; i < child.end; i++) value = value * 256 + (b[i] ?? 0);
              types.push(value);
            }
            field = child.end;
          }
        }
        entry = track.end;
      }
      const audioOnly = types.includes(TRACK_AUDIO) && !types.includes(TRACK_VIDEO) && !types.includes(TRACK_COMPLEX);
      return { types, audioOnly };
    }
    offset = element.end;
  }
  return undefined;
}

/** The first Ogg page carries the codec's identification header; it decides audio vs video. */
function sniffOgg(b: Uint8Array): SniffResult {
  const segments = b[26] ?? 0;
  const payload = 27 + segments;
  if (ascii(b, payload, 8) === 'OpusHead') return result('ogg-opus', 'audio/ogg', 'audio', 'opus');
  if (ascii(b, payload, 7) === '\x01vorbis') return result('ogg-vorbis', 'audio/ogg', 'audio', 'ogg');
  if (ascii(b, payload, 7) === '\x80theora') return result('ogg-theora', 'video/ogg', 'video', 'ogv');
  if (ascii(b, payload + 1, 4) === 'FLAC') return result('ogg-flac', 'audio/ogg', 'audio', 'oga');
  if (ascii(b, payload, 8) === 'Speex   ') return result('ogg-speex', 'audio/ogg', 'audio', 'spx');
  return result('ogg', 'application/ogg', 'audio', 'ogg');
}

function sniffAudio(b: Uint8Array): SniffResult | undefined {
  if (ascii(b, 0, 4) === 'fLaC') return result('flac', 'audio/flac', 'audio', 'flac');
  if (startsWith(b, [0x23, 0x21, 0x41, 0x4d, 0x52])) return result('amr', 'audio/amr', 'audio', 'amr'); // "#!AMR"
  let offset = 0;
  if (ascii(b, 0, 3) === 'ID3') {
    // ID3v2 size is "synchsafe": 4 bytes of 7 bits each; the footer flag adds 10 more bytes.
    const size = ((b[6] ?? 0) << 21) | ((b[7] ?? 0) << 14) | ((b[8] ?? 0) << 7) | (b[9] ?? 0);
    offset = 10 + size + (((b[5] ?? 0) & 0x10) !== 0 ? 10 : 0);
    // A tag longer than our head: trust the ID3 marker (almost always MP3).
    if (offset + 4 > b.length) return result('mp3', 'audio/mpeg', 'audio', 'mp3');
  }
  if (isAdtsHeader(b, offset)) return result('aac', 'audio/aac', 'audio', 'aac');
  if (isMpegAudioFrame(b, offset, offset === 0)) return result('mp3', 'audio/mpeg', 'audio', 'mp3');
  if (offset > 0) return result('mp3', 'audio/mpeg', 'audio', 'mp3');
  return undefined;
}

function isAdtsHeader(b: Uint8Array, offset: number): boolean {
  // 12-bit sync, then MPEG version bit (any), layer must be 00.
  return (
    b[offset] === 0xff && ((b[offset + 1] ?? 0) & 0xf6) === 0xf0 && (((b[offset + 2] ?? 0) >> 2) & 0x0f) < 13
  );
}

const MP3_BITRATES_V1_L3 = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
const MP3_SAMPLE_RATES_V1 = [44100, 48000, 32000];

/**
 * MPEG audio frame sync. Without an ID3 tag the sync pattern (11 set bits) is weak evidence, so when
 * `requireSecond` we also require a second valid header where the first frame's length says it starts.
 */
function isMpegAudioFrame(b: Uint8Array, offset: number, requireSecond: boolean): boolean {
  const h1 = b[offset + 1] ?? 0;
  const h2 = b[offset + 2] ?? 0;
  if (b[offset] !== 0xff || (h1 & 0xe0) !== 0xe0) return false;
  const version = (h1 >> 3) & 0x03; // 0 = 2.5, 1 = reserved, 2 = v2, 3 = v1
  const layer = (h1 >> 1) & 0x03; // 0 = reserved
  const bitrateIndex = h2 >> 4;
  const rateIndex = (h2 >> 2) & 0x03;
  if (version === 1 || layer === 0 || bitrateIndex === 0 || bitrateIndex === 15 || rateIndex === 3)
    return false;
  if (!requireSecond) return true;
  if (version !== 3 || layer !== 1) return false; // only validate the common case: MPEG-1 layer III
  const bitrate = (MP3_BITRATES_V1_L3[bitrateIndex] ?? 0) * 1000;
  const sampleRate = MP3_SAMPLE_RATES_V1[rateIndex] ?? 44100;
  const length = Math.floor((144 * bitrate) / sampleRate) + ((h2 >> 1) & 1);
  const next = offset + length;
  if (next + 2 > b.length) return true; // file shorter than one frame: accept the single header
  return isMpegAudioFrame(b, next, false);
}

function sniffDocument(b: Uint8Array): SniffResult | undefined {
  if (ascii(b, 0, 5) === '%PDF-') return result('pdf', 'application/pdf', 'document', 'pdf');
  if (startsWith(b, [0x50, 0x4b, 0x05, 0x06])) return result('zip', 'application/zip', 'document', 'zip');
  if (startsWith(b, [0x50, 0x4b, 0x03, 0x04])) return sniffZip(b);
  return undefined;
}

const ODF_TYPES: Record<string, [string, string]> = {
  'application/vnd.oasis.opendocument.text': ['odt', 'odt'],
  'application/vnd.oasis.opendocument.spreadsheet': ['ods', 'ods'],
  'application/vnd.oasis.opendocument.presentation': ['odp', 'odp'],
};

/** Office files are ZIPs; the member names (OOXML) or the stored `mimetype` member (ODF) tell them apart. */
function sniffZip(b: Uint8Array): SniffResult {
  const nameLength = (b[26] ?? 0) | ((b[27] ?? 0) << 8);
  const extraLength = (b[28] ?? 0) | ((b[29] ?? 0) << 8);
  if (ascii(b, 30, nameLength) === 'mimetype') {
    const mimetype = ascii(b, 30 + nameLength + extraLength, 60)
      .replace(/PK[\s\S]*$/, '')
      .trim();
    for (const [mime, [format, extension]] of Object.entries(ODF_TYPES)) {
      if (mimetype.startsWith(mime)) return result(format, mime, 'document', extension);
    }
  }
  const text = Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
  if (text.includes('[Content_Types].xml') || text.includes('_rels/.rels')) {
    if (text.includes('word/')) {
      return result(
        'docx',
        'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
        'document',
        'docx',
      );
    }
    if (text.includes('xl/')) {
      return result(
        'xlsx',
        'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
        'document',
        'xlsx',
      );
    }
    if (text.includes('ppt/')) {
      return result(
        'pptx',
        'application/vnd.openxmlformats-officedocument.presentationml.presentation',
        'document',
        'pptx',
      );
    }
  }
  return result('zip', 'application/zip', 'document', 'zip');
}

/**
 * Plain text: valid UTF-8 with no NUL and almost no control characters. HTML and SVG are reported
 * separately because they carry active content and must never be served inline as text/plain.
 */
function sniffText(b: Uint8Array): SniffResult | undefined {
  let bytes = b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? b.subarray(3) : b;
  if (b.length >= SNIFF_BYTES) {
    // The head may cut a multi-byte character in half: drop up to 3 trailing continuation bytes.
    let end = bytes.length;
    while (end > bytes.length - 4 && ((bytes[end - 1] ?? 0) & 0xc0) === 0x80) end--;
    if (end > 0 && (bytes[end - 1] ?? 0) >= 0xc0) end--;
    bytes = bytes.subarray(0, end);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
  let control = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0) return undefined;
    if (code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d && code !== 0x0c && code !== 0x1b)
      control++;
  }
  if (control > text.length / 100) return undefined;
  const start = text.trimStart().slice(0, 512).toLowerCase();
  if (/^<(!doctype html|html|head|body|script|iframe)\b/.test(start))
    return result('html', 'text/html', 'document', 'html');
  if (start.startsWith('<svg') || (start.startsWith('<?xml') && start.includes('<svg'))) {
    return result('svg', 'image/svg+xml', 'document', 'svg');
  }
  return result('text', 'text/plain', 'document', 'txt');
}
