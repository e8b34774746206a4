/**
 * Everything the protect page does with an image happens here, on the person's device: decode it
 * to pixels (createImageBitmap + a canvas) and compute the hashes /v1/safety/protect accepts — PDQ
 * with its quality, and MMD's crop-resistant reference set — with @mmd/phash. No byte of the image
 * is sent anywhere; the caller sends only what hashImagePixels returns.
 */
import {
  type PixelImage,
  coefficientsToHash,
  hash256ToHex,
  pdqIntermediate,
  robustReferenceHashes,
  robustSetVersion,
} from '@mmd/phash';
import type { ProtectBody } from '@mmd/sdk';

export type ImageHashes = NonNullable<ProtectBody['images']>[number];

/** PDQ's floor, as the server enforces it: plainer images match too loosely to protect. */
export const MIN_QUALITY = 50;

export interface DecodedImage {
  data: Uint8ClampedArray;
  width: number;
  height: number;
}

/** Decodes an image file to RGBA pixels, without colour management, upright as the viewer sees it. */
export async function decodeImage(file: Blob): Promise<DecodedImage> {
  const bitmap = await createImageBitmap(file, {
    colorSpaceConversion: 'none',
    premultiplyAlpha: 'none',
    imageOrientation: 'from-image',
  });
  try {
    const { width, height } = bitmap;
    let context: OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D | null;
    if (typeof OffscreenCanvas !== 'undefined') {
      context = new OffscreenCanvas(width, height).getContext('2d', { willReadFrequently: true });
    } else {
      const canvas = document.createElement('canvas');
      canvas.width = width;
      canvas.height = height;
      context = canvas.getContext('2d', { willReadFrequently: true });
    }
    if (!context) throw new Error('this browser cannot read image pixels');
    context.drawImage(bitmap, 0, 0);
    const { data } = context.getImageData(0, 0, width, height);
    return { data, width, height };
  } finally {
    bitmap.close();
  }
}

/** PDQ, its quality and the crop-resistant reference set, in the shape /v1/safety/protect takes. */
export function hashImagePixels(image: PixelImage): ImageHashes {
  const it = pdqIntermediate(image);
  const robust = robustReferenceHashes(image, it);
  return {
    pdq: hash256ToHex(coefficientsToHash(it.coefficients)),
    quality: it.quality,
    robust: {
      // As the server's encodeRobust: the oldest version whose anchor limit it fits.
      v: robustSetVersion(robust.anchors.length),
      // As encodeRobust: scheme 1 unnamed.
      ...(robust.scheme !== undefined && robust.scheme !== 1 ? { scheme: robust.scheme } : {}),
      global: robust.global.map(hash256ToHex),
      centre: robust.centre.map(hash256ToHex),
      anchors: robust.anchors.map((a) => ({
        hash: hash256ToHex(a.hash),
        x: Math.round(a.x * 100) / 100,
        y: Math.round(a.y * 100) / 100,
        ...(a.scale !== undefined && a.scale !== 1 ? { scale: Math.round(a.scale * 10000) / 10000 } : {}),
      })),
    },
  };
}

export interface HashOutcome {
  hashes: ImageHashes;
  width: number;
  height: number;
}

type WorkerReply = { ok: true; outcome: HashOutcome } | { ok: false; error: string };

async function hashOnMainThread(file: Blob): Promise<HashOutcome> {
  const image = await decodeImage(file);
  return {
    hashes: hashImagePixels({ data: image.data, width: image.width, height: image.height, channels: 4 }),
    width: image.width,
    height: image.height,
  };
}

/**
 * Hashes a file in a worker so a large photo does not freeze the page; falls back to the main
 * thread where workers cannot decode (no OffscreenCanvas).
 */
export async function hashImageFile(file: Blob): Promise<HashOutcome> {
  if (typeof Worker === 'undefined' || typeof OffscreenCanvas === 'undefined') return hashOnMainThread(file);
  const worker = new Worker(new URL('./hash-worker.ts', import.meta.url), { type: 'module' });
  try {
    const reply = await new Promise<WorkerReply>((resolve, reject) => {
      worker.onmessage = (event: MessageEvent<WorkerReply>) => resolve(event.data);
      worker.onerror = (event) => reject(new Error(event.message || 'the hashing worker failed'));
      worker.postMessage({ file });
    });
    if (!reply.ok) throw new Error(reply.error);
    return reply.outcome;
  } finally {
    worker.terminate();
  }
}
