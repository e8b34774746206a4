/**
 * Raw decoded pixels. The library never decodes files itself so that it runs unchanged in
 * browsers, workers and Node; callers decode with whatever they have (sharp, canvas, ffmpeg).
 */
export interface PixelImage {
  /** Interleaved 8-bit samples, row-major, top row first. */
  readonly data: Uint8Array | Uint8ClampedArray;
  /** Width in pixels. */
  readonly width: number;
  /** Height in pixels. */
  readonly height: number;
  /**
   * Samples per pixel: 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA. Defaults to
   * `data.length / (width * height)`, which fits canvas `ImageData` (RGBA) too.
   */
  readonly channels?: 1 | 2 | 3 | 4;
}

/**
 * Checks an image's shape and returns its channel count.
 * @throws RangeError when the dimensions or buffer length do not add up.
 */
export function imageChannels(image: PixelImage): 1 | 2 | 3 | 4 {
  const { width, height, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`invalid image size ${width}x${height}`);
  }
  const channels = image.channels ?? data.length / (width * height);
  if (channels !== 1 && channels !== 2 && channels !== 3 && channels !== 4) {
    throw new RangeError(`cannot infer channels from ${data.length} bytes for ${width}x${height}`);
  }
  if (data.length < width * height * channels) {
    throw new RangeError(`pixel buffer too short: ${data.length} < ${width * height * channels}`);
  }
  return channels;
}
