/**
 * Resumable uploads over tus (`/v1/uploads`) with tus-js-client: the file goes in chunks, a dropped
 * connection resumes where it stopped (retries with backoff; in browsers even after a reload, from
 * the upload's fingerprint), and the last response names the media item (`MMD-Media-Id`).
 */
import type { AiDisclosure, Problem, UploadReply } from '@mmd/contracts';
import { MmdError } from './errors.ts';
import { cancelled } from './upload-xhr.ts';

export interface ResumableUploadOptions {
  baseUrl: string;
  headers: Record<string, string>;
  filename?: string;
  contentType?: string;
  /** The uploader's disclosure: made with AI (`generated`) or containing AI-generated parts. */
  ai?: AiDisclosure;
  onProgress?: (sent: number, total: number) => void;
  signal?: AbortSignal;
  /** Bytes per PATCH request (default 8 MiB). */
  chunkSize?: number;
}

export async function uploadResumable(data: Blob | Uint8Array, options: ResumableUploadOptions): Promise<UploadReply> {
  if (options.signal?.aborted) throw cancelled();
  const { Upload } = await import('tus-js-client');
  // Node's tus reader takes Buffers; browsers take Blobs.
  const input = typeof Blob !== 'undefined' && data instanceof Blob ? data : Buffer.from(data as Uint8Array);
  return new Promise<UploadReply>((resolve, reject) => {
    let mediaId: string | null = null;
    const upload = new Upload(input, {
      endpoint: `${options.baseUrl}/v1/uploads`,
      headers: options.headers,
      metadata: { filename: options.filename ?? 'file', filetype: options.contentType ?? 'application/octet-stream', ...(options.ai ? { ai: options.ai } : {}) },
      chunkSize: options.chunkSize ?? 8 * 1024 * 1024,
      retryDelays: [0, 1000, 3000, 5000, 10_000, 20_000],
      removeFingerprintOnSuccess: true,
      onProgress: (sent, total) => options.onProgress?.(sent, total),
      onAfterResponse: (_request, response) => {
        const id = response.getHeader('MMD-Media-Id');
        if (id) mediaId = id;
      },
      onSuccess: () => {
        if (mediaId) resolve({ id: mediaId, status: 'processing' });
        else reject(new MmdError(0, null, 'the upload finished but the server named no media item'));
      },
      onError: (err) => {
        const response = (err as { originalResponse?: { getStatus(): number; getBody(): string } | null }).originalResponse;
        let problem: Problem | null = null;
        try {
          problem = response ? (JSON.parse(response.getBody()) as Problem) : null;
        } catch {
          // not problem+json
        }
        reject(new MmdError(response?.getStatus() ?? 0, problem, err.message));
      },
    });
    options.signal?.addEventListener('abort', () => {
      void upload.abort(true);
      reject(cancelled());
    });
    // Resume an upload of the same file that a dropped connection or a reload interrupted.
    upload
      .findPreviousUploads()
      .then((previous) => {
        if (previous[0]) upload.resumeFromPreviousUpload(previous[0]);
        upload.start();
      })
      .catch(() => upload.start());
  });
}
