/** Decodes and hashes one image off the main thread; see hashing.ts. */
import { decodeImage, hashImagePixels } from './hashing.ts';

self.onmessage = async (event: MessageEvent<{ file: Blob }>) => {
  try {
    const image = await decodeImage(event.data.file);
    const hashes = hashImagePixels({
      data: image.data,
      width: image.width,
      height: image.height,
      channels: 4,
    });
    self.postMessage({ ok: true, outcome: { hashes, width: image.width, height: image.height } });
  } catch (err) {
    self.postMessage({ ok: false, error: err instanceof Error ? err.message : String(err) });
  }
};
