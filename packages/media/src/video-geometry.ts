/** A frame size in pixels. */
export interface FrameSize {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
}

/**
 * Rounds to the nearest even number ≥ 2. H.264/VP8 with 4:2:0 chroma need even dimensions.
 * @param value size in pixels
 */
export function even(value: number): number {
  return Math.max(2, Math.round(value / 2) * 2);
}

/**
 * Scales a display size to fit inside a box, keeping the aspect ratio, never upscaling, with even sides.
 * @param source display size of the source
 * @param maxWidth box width (omit for no limit)
 * @param maxHeight box height (omit for no limit)
 */
export function fitInside(source: FrameSize, maxWidth?: number, maxHeight?: number): FrameSize {
  const scale = Math.min(1, (maxWidth ?? Infinity) / source.width, (maxHeight ?? Infinity) / source.height);
  return noLarger({ width: even(source.width * scale), height: even(source.height * scale) }, source);
}

/** Rounding to even must not add a row: a 405-row source gives 404, never 406 (an upscale). */
function noLarger(size: FrameSize, source: FrameSize): FrameSize {
  const floorEven = (v: number) => Math.max(2, Math.floor(v / 2) * 2);
  return { width: Math.min(size.width, floorEven(source.width)), height: Math.min(size.height, floorEven(source.height)) };
}

/**
 * Size for a ladder rung of the given height, keeping the source's aspect ratio.
 * @param source display size of the source
 * @param height target height
 */
export function sizeForHeight(source: FrameSize, height: number): FrameSize {
  return { width: even((height * source.width) / source.height), height: even(height) };
}

/**
 * Scales a size so that it fits a pixel budget (width × height), keeping aspect ratio and even sides.
 * @param source display size of the source
 * @param maxPixels pixel budget
 */
export function fitPixels(source: FrameSize, maxPixels: number): FrameSize {
  const scale = Math.min(1, Math.sqrt(maxPixels / (source.width * source.height)));
  return noLarger({ width: even(source.width * scale), height: even(source.height * scale) }, source);
}

/**
 * The ffmpeg filter that resizes to exactly `size` with square pixels in 4:2:0, the only layout every
 * player (and baseline H.264) accepts.
 * @param size output size
 */
export function scaleFilter(size: FrameSize): string {
  return `scale=${size.width}:${size.height}:flags=bicubic,setsar=1,format=yuv420p`;
}
