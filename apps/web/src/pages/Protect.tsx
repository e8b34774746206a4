/**
 * Hash-only protection, open to anyone: the person picks images, this page hashes them on their
 * device (hashing.ts), shows exactly what will be sent, and sends only those hashes to
 * POST /v1/safety/protect through the SDK — and, if the person opts in, to the platforms this server
 * is connected to. The answer is a case reference and its key (shown once); the case page below it
 * follows the case here and on each platform, and can withdraw it everywhere.
 */
import type { ProtectReceipt } from '@mmd/sdk';
import { type ChangeEvent, type DragEvent, useEffect, useId, useRef, useState } from 'react';
import { anonymousClient, errorText } from '../api.ts';
import { type HashOutcome, type ImageHashes, MIN_QUALITY, hashImageFile } from '../hashing.ts';
import { CaseLookup, CasePage, MyErasureRequests } from './CaseLookup.tsx';
import { ErrorAlert } from '../error-alert.tsx';

const MAX_IMAGES = 20;

interface Item {
  key: string;
  name: string;
  preview: string;
  state: 'hashing' | 'ready' | 'failed';
  outcome?: HashOutcome;
  error?: string;
}

let nextKey = 0;

export function Protect() {
  const [items, setItems] = useState<Item[]>([]);
  const [dragging, setDragging] = useState(false);
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [result, setResult] = useState<ProtectReceipt | null>(null);
  const [share, setShare] = useState(false);
  const [copied, setCopied] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const resultHeading = useRef<HTMLHeadingElement>(null);
  const previews = useRef<string[]>([]);
  const hintId = useId();

  // Previews are local object URLs; release them when the page goes.
  useEffect(
    () => () => {
      for (const url of previews.current) URL.revokeObjectURL(url);
    },
    [],
  );
  useEffect(() => {
    if (result) resultHeading.current?.focus();
  }, [result]);

  function addFiles(files: Iterable<File>) {
    setError(null);
    const images = [...files].filter((f) => f.type.startsWith('image/') || f.type === '');
    if (images.length === 0) {
      setError('That is not an image. Choose a photo or picture file.');
      return;
    }
    const room = MAX_IMAGES - items.length;
    if (images.length > room)
      setError(`You can protect up to ${MAX_IMAGES} images at a time; the rest were left out.`);
    for (const file of images.slice(0, Math.max(0, room))) {
      const key = `img${nextKey++}`;
      const preview = URL.createObjectURL(file);
      previews.current.push(preview);
      setItems((list) => [...list, { key, name: file.name || 'image', preview, state: 'hashing' }]);
      hashImageFile(file).then(
        (outcome) =>
          setItems((list) => list.map((i) => (i.key === key ? { ...i, state: 'ready', outcome } : i))),
        (err: unknown) =>
          setItems((list) =>
            list.map((i) =>
              i.key === key
                ? {
                    ...i,
                    state: 'failed',
                    error: `This browser could not read the image (${errorText(err)}).`,
                  }
                : i,
            ),
          ),
      );
    }
  }

  function onPick(event: ChangeEvent<HTMLInputElement>) {
    if (event.target.files) addFiles(event.target.files);
    event.target.value = '';
  }

  function onDrop(event: DragEvent) {
    event.preventDefault();
    setDragging(false);
    addFiles(event.dataTransfer.files);
  }

  function remove(key: string) {
    setItems((list) => list.filter((i) => i.key !== key));
  }

  const usable: ImageHashes[] = items.flatMap((i) =>
    i.state === 'ready' && i.outcome && i.outcome.hashes.quality >= MIN_QUALITY ? [i.outcome.hashes] : [],
  );
  const hashing = items.some((i) => i.state === 'hashing');

  async function send() {
    setSending(true);
    setError(null);
    try {
      setResult(await anonymousClient.protect({ images: usable, share }));
    } catch (err) {
      setError(errorText(err));
    } finally {
      setSending(false);
    }
  }

  async function copy() {
    if (!result) return;
    try {
      await navigator.clipboard.writeText(`${result.reference} ${result.secret}`);
      setCopied(true);
    } catch {
      setCopied(false);
    }
  }

  function startOver() {
    setItems([]);
    setResult(null);
    setShare(false);
    setCopied(false);
    setError(null);
  }

  if (result) {
    return (
      <section className="card" aria-labelledby="done-title">
        <h1 id="done-title" ref={resultHeading} tabIndex={-1}>
          Your case is open
        </h1>
        <p>
          Keep this reference and its key. They are the only way to follow your case — we do not know who you are
          and cannot look it up for you. The key is shown only now: with it you can see what other platforms did,
          withdraw the case, or ask for every copy here to be removed.
        </p>
        <p>
          From now on, anything shared here that matches your fingerprints is held back and shown to our
          moderators (blurred). Nothing is removed until a moderator confirms your case; then every copy is
          taken down and new ones are blocked.
        </p>
        <dl className="reference">
          <dt>Case reference</dt>
          <dd data-testid="case-reference">
            <output aria-label="Case reference">{result.reference}</output>
          </dd>
          <dt>Case key</dt>
          <dd data-testid="case-secret">
            <output aria-label="Case key">{result.secret}</output>
          </dd>
        </dl>
        <p>
          <button type="button" onClick={copy}>
            {copied ? 'Copied' : 'Copy reference and key'}
          </button>
        </p>
        <div aria-live="polite">
          <CasePage reference={result.reference} secret={result.secret} />
        </div>
        <p className="local-note">Only fingerprints were sent. Your images stayed on this device.</p>
        <button type="button" className="link" onClick={startOver}>
          Protect more images
        </button>
      </section>
    );
  }

  return (
    <section className="card" aria-labelledby="protect-title">
      <h1 id="protect-title">Protect an image without sharing it</h1>
      <p>
        If someone shared, or threatens to share, an intimate image of you, you can stop it spreading here. No
        account is needed, and we never ask who you are.
      </p>
      <div className="local-note" role="note">
        <strong>Your image never leaves this device.</strong> This page computes a fingerprint (a “hash”) of
        it right here in your browser. Only the fingerprint is sent. A fingerprint cannot be turned back into
        the image, but it lets us recognise copies and hold them for a moderator, who can remove them.
      </div>

      {/* biome-ignore lint/a11y/noStaticElementInteractions: dropping is a shortcut; the file input inside is the keyboard-usable control */}
      <div
        className={`dropzone${dragging ? ' dragging' : ''}`}
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
      >
        <label htmlFor="protect-file">Choose images to protect</label>
        <input
          id="protect-file"
          ref={input}
          type="file"
          accept="image/*"
          multiple
          aria-describedby={hintId}
          onChange={onPick}
        />
        <p id={hintId} className="hint">
          Or drag and drop them here. JPEG, PNG, WebP or HEIC (where your browser supports it), up to{' '}
          {MAX_IMAGES} at a time.
        </p>
      </div>

      {items.length > 0 && (
        <ul className="images" aria-label="Images to protect">
          {items.map((item) => (
            <li key={item.key} className={`image-item ${item.state}`}>
              <img src={item.preview} alt="" width={64} height={64} />
              <div className="image-info">
                <span className="name">{item.name}</span>
                <ItemStatus item={item} />
              </div>
              <button type="button" onClick={() => remove(item.key)} aria-label={`Remove ${item.name}`}>
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}

      <p className="status" aria-live="polite">
        {hashing
          ? 'Computing fingerprints on this device…'
          : usable.length > 0
            ? `${usable.length} fingerprint${usable.length === 1 ? '' : 's'} ready to send.`
            : ''}
      </p>

      {usable.length > 0 && (
        <details className="payload">
          <summary>See exactly what will be sent</summary>
          <pre data-testid="payload">{JSON.stringify({ images: usable, share }, null, 2)}</pre>
        </details>
      )}

      <div className="field checkbox">
        <input id="protect-share" type="checkbox" checked={share} onChange={(e) => setShare(e.target.checked)} />
        <label htmlFor="protect-share">
          Also send the fingerprints to the other platforms this server is connected to. They get only the
          fingerprints, under a code that does not identify you; you can withdraw them later.
        </label>
      </div>

      <ErrorAlert error={error} />

      <button
        type="button"
        className="primary"
        disabled={usable.length === 0 || hashing || sending}
        onClick={send}
      >
        {sending ? 'Sending fingerprints…' : 'Send fingerprints and protect'}
      </button>
    </section>
  );
}

/** The protect page: protect new images, or follow a case already opened. */
export function ProtectPage() {
  return (
    <>
      <Protect />
      <CaseLookup />
      <MyErasureRequests />
    </>
  );
}

function ItemStatus({ item }: { item: Item }) {
  if (item.state === 'hashing') return <span className="hint">Fingerprinting…</span>;
  if (item.state === 'failed') return <span className="error">{item.error}</span>;
  const { hashes, width, height } = item.outcome!;
  if (hashes.quality < MIN_QUALITY) {
    return (
      <span className="error">
        Too plain to protect reliably (quality {hashes.quality} of 100, needs {MIN_QUALITY}). It will not be
        sent.
      </span>
    );
  }
  return (
    <span className="hint">
      Ready · {width}×{height} · fingerprint <code data-testid="pdq">{hashes.pdq.slice(0, 16)}…</code>
    </span>
  );
}
