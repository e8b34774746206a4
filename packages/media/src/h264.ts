/** H.264 profiles we encode: baseline for old handsets/MMS, main for the web, high where allowed. */
export type H264Profile = 'baseline' | 'main' | 'high';

/** [level, max frame size in macroblocks, max macroblocks per second, max bit rate kbit/s (main)]. */
const LEVELS: readonly [number, number, number, number][] = [
  [1.3, 396, 11_880, 768],
  [2.0, 396, 11_880, 2_000],
  [2.1, 792, 19_800, 4_000],
  [2.2, 1_620, 20_250, 4_000],
  [3.0, 1_620, 40_500, 10_000],
  [3.1, 3_600, 108_000, 14_000],
  [3.2, 5_120, 216_000, 20_000],
  [4.0, 8_192, 245_760, 20_000],
  [4.1, 8_192, 245_760, 50_000],
  [4.2, 8_704, 522_240, 50_000],
  [5.0, 22_080, 589_824, 135_000],
  [5.1, 36_864, 983_040, 240_000],
  [5.2, 36_864, 2_073_600, 240_000],
];

/**
 * Smallest H.264 level that allows this frame size, frame rate and peak bit rate. We set it
 * explicitly so x264 respects the decoder limits and the HLS CODECS string is exact.
 * @param width frame width
 * @param height frame height
 * @param fps frames per second
 * @param maxKbps peak video bit rate in kbit/s
 */
export function h264Level(width: number, height: number, fps: number, maxKbps: number): number {
  const frameMbs = Math.ceil(width / 16) * Math.ceil(height / 16);
  const mbps = frameMbs * fps;
  for (const [level, maxFs, maxMbps, maxBr] of LEVELS) {
    if (frameMbs <= maxFs && mbps <= maxMbps && maxKbps <= maxBr) return level;
  }
  return 5.2;
}

/**
 * RFC 6381 codec string (`avc1.PPCCLL`) for HLS master playlists and MSE `isTypeSupported` checks.
 * Constraint flags are those x264 writes: baseline sets constraint_set0+1 (decodable by any baseline or
 * main decoder), main sets constraint_set1, high none.
 * @param profile encoded profile
 * @param level level such as 3.1
 */
export function h264CodecString(profile: H264Profile, level: number): string {
  const [idc, constraints] =
    profile === 'baseline' ? [0x42, 0xc0] : profile === 'main' ? [0x4d, 0x40] : [0x64, 0x00];
  const hex = (n: number) => n.toString(16).toUpperCase().padStart(2, '0');
  return `avc1.${hex(idc)}${hex(constraints)}${hex(Math.round(level * 10))}`;
}
