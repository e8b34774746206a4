/**
 * Uploads through XMLHttpRequest, the one browser API that reports upload progress (fetch has no
 * upload progress events without streaming request bodies, which need HTTP/2 and are not in every
 * browser). Used by MmdClient.upload when a progress callback is given and XMLHttpRequest exists.
 */
import type { Problem } from '@mmd/contracts';
import { MmdError } from './errors.ts';

/** What {@link uploadWithXhr} needs: one POST, its headers and body, progress and cancellation. */
export interface XhrUploadOptions {
  /** Absolute URL to POST to. */
  url: string;
  /** Request headers (content type, authorization). */
  headers: Record<string, string>;
  body: Blob | Uint8Array;
  /** Called as bytes leave: `sent` of `total`, and once more with `total` of `total` when sent. */
  onProgress?: (sent: number, total: number) => void;
  /** Aborts the request; the promise then rejects with an MmdError saying the upload was cancelled. */
  signal?: AbortSignal;
  /** For error messages: the server being reached. */
  baseUrl: string;
}

/**
 * POSTs a body with XMLHttpRequest and resolves with the parsed JSON answer. Any non-2xx answer
 * rejects with an {@link MmdError} carrying the server's problem+json, as every other SDK call does;
 * a network failure rejects with status 0 (`network_error`).
 * @param options URL, headers, body, progress callback and abort signal
 */
export function uploadWithXhr<T>(options: XhrUploadOptions): Promise<T> {
  const { signal } = options;
  return new Promise<T>((resolve, reject) => {
    if (signal?.aborted) {
      reject(cancelled());
      return;
    }
    const xhr = new XMLHttpRequest();
    const total = options.body instanceof Blob ? options.body.size : options.body.byteLength;
    const onAbort = () => xhr.abort();
    const done = () => signal?.removeEventListener('abort', onAbort);
    xhr.open('POST', options.url);
    for (const [name, value] of Object.entries(options.headers)) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (event) => {
      // Some browsers report lengthComputable=false for Blob bodies; the size is known anyway.
      options.onProgress?.(event.loaded, event.lengthComputable ? event.total : total);
    };
    xhr.upload.onload = () => options.onProgress?.(total, total);
    xhr.onload = () => {
      done();
      const text = xhr.responseText;
      if (xhr.status >= 200 && xhr.status < 300) {
        try {
          resolve((text ? JSON.parse(text) : undefined) as T);
        } catch {
          reject(new MmdError(xhr.status, null, `unreadable answer from ${options.baseUrl}`));
        }
        return;
      }
      let problem: Problem | null = null;
      try {
        problem = JSON.parse(text) as Problem;
      } catch {
        // Not problem+json (a proxy's error page, say): keep the status.
      }
      reject(new MmdError(xhr.status, problem, `HTTP ${xhr.status}`));
    };
    xhr.onerror = () => {
      done();
      reject(new MmdError(0, null, `cannot reach ${options.baseUrl}: network error`));
    };
    xhr.onabort = () => {
      done();
      reject(cancelled());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    xhr.send(options.body as XMLHttpRequestBodyInit);
  });
}

/** The rejection for a cancelled upload (both the XHR and the fetch path use it). */
export function cancelled(): MmdError {
  return new MmdError(0, null, 'the upload was cancelled');
}
