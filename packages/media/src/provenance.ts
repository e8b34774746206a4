/**
 * Content provenance of an upload: its C2PA content credentials (read and validated by the C2PA
 * project's own implementation, c2pa-rs compiled to WebAssembly: `@contentauth/c2pa-wasm`), or,
 * for a file without credentials, the IPTC `DigitalSourceType` its XMP declares.
 *
 * Manifests come from strangers, so the reading is bounded: files over `maxBytes` are not parsed,
 * the parser runs in a worker thread that is terminated past `timeoutMs`, and the reader is told
 * never to fetch anything (remote manifests, OCSP): a remote manifest is reported by URL, unfetched.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import sharp from 'sharp';
import { type MediaInput, inputSize, readHead, readTail } from './input.ts';

/** Files larger than this are not parsed for credentials by default (64 MiB). */
export const DEFAULT_PROVENANCE_MAX_BYTES = 64 * 1024 * 1024;
/** The C2PA parser's default time limit per file. */
export const DEFAULT_PROVENANCE_TIMEOUT_MS = 10_000;
/** How much of a file's start and end is scanned for an XMP packet when sharp cannot read it (video). */
const XMP_SCAN_BYTES = 1024 * 1024;
/** At most this many action names and failure codes are kept (a manifest can list thousands). */
const MAX_LISTED = 20;

/** What an IPTC digital source type says about AI. */
export type AiInvolvement = 'generated' | 'partial' | null;

/** The outcome of reading an upload's provenance. */
export interface ProvenanceReading {
  /**
   * valid: credentials whose signature and hard binding check out; invalid: credentials that fail
   * either; none: no credentials (the XMP may still declare a source type); remote: the file points
   * at a remote manifest, which was not fetched; unreadable: credentials too broken to parse;
   * skipped: not parsed (over the size or time limit).
   */
  status: 'valid' | 'invalid' | 'none' | 'remote' | 'unreadable' | 'skipped';
  /** Where the facts below come from. */
  source: 'c2pa' | 'xmp' | null;
  /** The signing certificate's issuer (organisation), e.g. "Adobe Inc.". */
  issuer: string | null;
  /** The signing certificate's common name. */
  signer: string | null;
  claimGenerator: string | null;
  /** When it was signed (ISO 8601), as the signature states. */
  signedAt: string | null;
  /** null when there is no signature to check. */
  signatureValid: boolean | null;
  /** Whether the bytes still match what was signed (data/BMFF hash); null without credentials. */
  hardBindingValid: boolean | null;
  /** Whether the signer chains to a trust list; no trust list is configured, so usually false. */
  trusted: boolean | null;
  /** The IPTC digital source type's code (e.g. `trainedAlgorithmicMedia`), from C2PA actions or XMP. */
  digitalSourceType: string | null;
  /** generated: trainedAlgorithmicMedia; partial: compositeWithTrainedAlgorithmicMedia (or an AI ingredient). */
  ai: AiInvolvement;
  /** Made by an algorithm without trained models (IPTC algorithmicMedia), e.g. a rendered gradient. */
  algorithmic: boolean;
  /** Whether the credentials record edits (any action beyond creating, opening or re-encoding). */
  edited: boolean;
  /** The active manifest's action names (`c2pa.color_adjustments`), at most 20. */
  actions: string[];
  /** How many ingredients the active manifest names. */
  ingredients: number;
  /** A remote manifest's URL (never fetched). */
  remoteManifestUrl: string | null;
  /** Validation failure codes of the active manifest (`assertion.dataHash.mismatch`), at most 20. */
  failures: string[];
  /** Why the file was skipped or unreadable. */
  error: string | null;
}

export interface ReadProvenanceOptions {
  input: MediaInput;
  /** The sniffed MIME type (image/jpeg, video/mp4, …): the parser needs it. */
  mime: string;
  /** Do not parse files larger than this (default {@link DEFAULT_PROVENANCE_MAX_BYTES}). */
  maxBytes?: number;
  /** Terminate the parser after this long (default {@link DEFAULT_PROVENANCE_TIMEOUT_MS}). */
  timeoutMs?: number;
}

const IPTC_PREFIX = 'http://cv.iptc.org/newscodes/digitalsourcetype/';
/** Actions that record where the asset came from or how it was packaged, not a change to it. */
const NOT_EDITS = new Set(['c2pa.created', 'c2pa.opened', 'c2pa.published', 'c2pa.transcoded', 'c2pa.repackaged', 'c2pa.converted', 'c2pa.metadata']);
/** Formats c2pa-rs reads (JPEG, PNG, WebP, AVIF/HEIF, TIFF, GIF, MP4/MOV/M4A, WAV, MP3, PDF…). */
const C2PA_MIMES = new Set([
  'image/jpeg',
  'image/png',
  'image/webp',
  'image/avif',
  'image/heic',
  'image/heif',
  'image/tiff',
  'image/gif',
  'image/svg+xml',
  'video/mp4',
  'video/quicktime',
  'audio/mp4',
  'audio/x-m4a',
  'audio/mpeg',
  'audio/wav',
  'audio/x-wav',
  'application/pdf',
]);

function empty(status: ProvenanceReading['status'], error: string | null = null): ProvenanceReading {
  return {
    status,
    source: null,
    issuer: null,
    signer: null,
    claimGenerator: null,
    signedAt: null,
    signatureValid: null,
    hardBindingValid: null,
    trusted: null,
    digitalSourceType: null,
    ai: null,
    algorithmic: false,
    edited: false,
    actions: [],
    ingredients: 0,
    remoteManifestUrl: null,
    failures: [],
    error,
  };
}

/**
 * Reads an upload's provenance: C2PA credentials when it has them, otherwise the IPTC digital
 * source type from its XMP. Never throws for what the file contains; never touches the network.
 */
export async function readProvenance(options: ReadProvenanceOptions): Promise<ProvenanceReading> {
  const maxBytes = options.maxBytes ?? DEFAULT_PROVENANCE_MAX_BYTES;
  const size = await inputSize(options.input);
  const mime = options.mime.toLowerCase();
  if (size > maxBytes) return withXmp(empty('skipped', `larger than ${maxBytes} bytes: credentials not read`), options, size);
  if (!C2PA_MIMES.has(mime)) return withXmp(empty('none'), options, size);
  const bytes = typeof options.input === 'string' ? await readFile(options.input) : options.input;
  const outcome = await parseC2pa(bytes, mime, options.timeoutMs ?? DEFAULT_PROVENANCE_TIMEOUT_MS);
  if (outcome.kind === 'store') return interpretManifestStore(outcome.store);
  if (outcome.kind === 'timeout') return withXmp(empty('skipped', 'reading the credentials took too long'), options, size);
  return withXmp(interpretReaderError(outcome.message), options, size);
}

/** A reader error: no manifest at all, a remote manifest (not fetched), or one too broken to read. */
export function interpretReaderError(message: string): ProvenanceReading {
  if (/JumbfNotFound|ProvenanceMissing|ClaimMissing|not supported|UnsupportedType/i.test(message)) return empty('none');
  const remote = /RemoteManifest\w*\(\s*"?([^")\s]+)/.exec(message);
  if (remote) return { ...empty('remote'), source: 'c2pa', remoteManifestUrl: remote[1]!.slice(0, 2000) };
  return { ...empty('unreadable', message.slice(0, 200)), source: 'c2pa' };
}

interface StatusEntry {
  code?: string;
}
interface Action {
  action?: string;
  digitalSourceType?: string;
}
interface Ingredient {
  relationship?: string;
  active_manifest?: string;
}
interface Manifest {
  claim_generator?: string;
  claim_generator_info?: { name?: string; version?: string }[];
  signature_info?: { issuer?: string; common_name?: string; time?: string };
  assertions?: { label?: string; data?: { actions?: Action[] } }[];
  ingredients?: Ingredient[];
}
/** The parts of c2pa-rs's manifest store JSON (`Reader::json`) this module reads. */
export interface ManifestStore {
  active_manifest?: string;
  manifests?: Record<string, Manifest>;
  validation_state?: string;
  validation_results?: { activeManifest?: { failure?: StatusEntry[] } };
  validation_status?: StatusEntry[];
}

function actionsOf(manifest: Manifest | undefined): Action[] {
  return (manifest?.assertions ?? []).filter((a) => a.label?.startsWith('c2pa.actions')).flatMap((a) => a.data?.actions ?? []);
}

function sourceCode(iri: string | undefined): string | null {
  if (!iri) return null;
  const code = iri.startsWith(IPTC_PREFIX) ? iri.slice(IPTC_PREFIX.length) : iri;
  return /^[A-Za-z]{1,64}$/.test(code) ? code : null;
}

function aiOf(code: string | null): AiInvolvement {
  if (code === 'trainedAlgorithmicMedia') return 'generated';
  if (code === 'compositeWithTrainedAlgorithmicMedia') return 'partial';
  return null;
}

/**
 * The AI involvement of a manifest and what it was made from: its own actions' source types first;
 * a parent ingredient (what it was edited from) passes its own on, and any other ingredient made
 * by AI makes the result partly AI. Bounded depth, since a store's ingredient links are untrusted.
 */
function involvement(store: ManifestStore, label: string | undefined, depth: number): { ai: AiInvolvement; code: string | null } {
  const manifest = label ? store.manifests?.[label] : undefined;
  if (!manifest || depth > 8) return { ai: null, code: null };
  const codes = actionsOf(manifest).map((a) => sourceCode(a.digitalSourceType)).filter((c): c is string => c !== null);
  const own = codes.find((c) => aiOf(c) === 'generated') ?? codes.find((c) => aiOf(c) === 'partial') ?? codes[0] ?? null;
  if (aiOf(own)) return { ai: aiOf(own), code: own };
  let ai: AiInvolvement = null;
  for (const ingredient of (manifest.ingredients ?? []).slice(0, 50)) {
    const inherited = involvement(store, ingredient.active_manifest, depth + 1).ai;
    if (!inherited) continue;
    if (ingredient.relationship === 'parentOf') return { ai: inherited, code: own };
    ai = 'partial';
  }
  return { ai, code: own };
}

const HARD_BINDING = /^assertion\.(dataHash|bmffHash|boxesHash|collectionHash)\./;
const SIGNATURE = /^(claimSignature\.|signingCredential\.(invalid|revoked|expired|ocsp\.revoked)|timeStamp\.mismatch|general\.error)/;

/** Turns c2pa-rs's manifest store JSON into a {@link ProvenanceReading}. Pure; exported for tests. */
export function interpretManifestStore(store: ManifestStore): ProvenanceReading {
  const active = store.active_manifest ? store.manifests?.[store.active_manifest] : undefined;
  if (!active) return { ...empty('unreadable', 'no active manifest'), source: 'c2pa' };
  const failureEntries = store.validation_results?.activeManifest?.failure ?? store.validation_status ?? [];
  const failures = [...new Set(failureEntries.map((f) => f.code ?? '').filter(Boolean))];
  const hardBindingValid = !failures.some((c) => HARD_BINDING.test(c) && !c.endsWith('.additionalExclusionsPresent'));
  const signatureValid = !failures.some((c) => SIGNATURE.test(c));
  const actions = actionsOf(active).map((a) => a.action ?? '').filter(Boolean);
  const { ai, code } = involvement(store, store.active_manifest, 0);
  const info = active.claim_generator_info?.[0];
  const valid = store.validation_state ? store.validation_state !== 'Invalid' && signatureValid && hardBindingValid : signatureValid && hardBindingValid;
  return {
    ...empty(valid ? 'valid' : 'invalid'),
    source: 'c2pa',
    issuer: active.signature_info?.issuer ?? null,
    signer: active.signature_info?.common_name ?? null,
    claimGenerator: active.claim_generator ?? (info?.name ? `${info.name}${info.version ? `/${info.version}` : ''}` : null),
    signedAt: active.signature_info?.time ?? null,
    signatureValid,
    hardBindingValid,
    trusted: !failures.includes('signingCredential.untrusted'),
    digitalSourceType: code,
    ai,
    algorithmic: code === 'algorithmicMedia',
    edited: actions.some((a) => !NOT_EDITS.has(a)),
    actions: actions.slice(0, MAX_LISTED),
    ingredients: active.ingredients?.length ?? 0,
    failures: failures.slice(0, MAX_LISTED),
  };
}

/** Adds the XMP's IPTC digital source type to a reading without credentials. */
async function withXmp(reading: ProvenanceReading, options: ReadProvenanceOptions, size: number): Promise<ProvenanceReading> {
  const code = digitalSourceTypeOfXmp(await xmpPacket(options, size));
  if (!code) return reading;
  return { ...reading, source: reading.source ?? 'xmp', digitalSourceType: code, ai: aiOf(code), algorithmic: code === 'algorithmicMedia' };
}

/** The XMP packet: sharp's for images; for anything else, the first packet in the file's first or last MiB. */
async function xmpPacket(options: ReadProvenanceOptions, size: number): Promise<string | null> {
  if (options.mime.startsWith('image/')) {
    try {
      const meta = await sharp(options.input, { limitInputPixels: false, failOn: 'none' }).metadata();
      if (meta.xmp) return Buffer.from(meta.xmp).toString('utf8');
    } catch {
      // Not decodable by sharp: fall through to scanning the bytes.
    }
  }
  for (const chunk of [await readHead(options.input, XMP_SCAN_BYTES), await readTail(options.input, size, XMP_SCAN_BYTES)]) {
    const text = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('latin1');
    const start = text.indexOf('<x:xmpmeta');
    if (start < 0) continue;
    const end = text.indexOf('</x:xmpmeta>', start);
    return text.slice(start, end < 0 ? start + 64 * 1024 : end + 12);
  }
  return null;
}

/**
 * The IPTC `Iptc4xmpExt:DigitalSourceType` of an XMP packet (as attribute, element or rdf:resource),
 * as its code (`trainedAlgorithmicMedia`). Pure; exported for tests.
 */
export function digitalSourceTypeOfXmp(xmp: string | null): string | null {
  if (!xmp) return null;
  const match =
    /DigitalSourceType\s*=\s*["']([^"']{1,300})["']/.exec(xmp) ??
    /<[\w]+:DigitalSourceType[^>]*rdf:resource\s*=\s*["']([^"']{1,300})["']/.exec(xmp) ??
    /<[\w]+:DigitalSourceType[^>]*>\s*([^<\s]{1,300})\s*</.exec(xmp);
  return sourceCode(match?.[1]?.trim());
}

type ParseOutcome = { kind: 'store'; store: ManifestStore } | { kind: 'error'; message: string } | { kind: 'timeout' };

const require = createRequire(import.meta.url);
let compiled: Promise<WebAssembly.Module> | undefined;
/** The WebAssembly module, compiled once per process and handed to each parsing thread. */
function c2paModule(): Promise<WebAssembly.Module> {
  compiled ??= readFile(require.resolve('@contentauth/c2pa-wasm/c2pa.wasm')).then((bytes) => WebAssembly.compile(bytes));
  return compiled;
}

/** Nothing is fetched: no remote manifests, no OCSP; trust lists are not configured. */
const READER_SETTINGS = JSON.stringify({ verify: { remote_manifest_fetch: false, ocsp_fetch: false } });

// A thread per file: the parser is CPU-bound WebAssembly, and terminating its thread is the only
// way to stop it when a hostile manifest makes it run long.
const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
import(workerData.entry)
  .then(async (c2pa) => {
    c2pa.initSync({ module: workerData.module });
    const reader = await c2pa.WasmReader.fromBytes(workerData.mime, workerData.bytes, workerData.settings);
    parentPort.postMessage({ ok: true, json: reader.json() });
  })
  .catch((err) => parentPort.postMessage({ ok: false, message: String((err && err.message) || err) }));
`;

async function parseC2pa(bytes: Uint8Array, mime: string, timeoutMs: number): Promise<ParseOutcome> {
  const module = await c2paModule();
  const entry = import.meta.resolve('@contentauth/c2pa-wasm');
  return new Promise<ParseOutcome>((resolve) => {
    const copy = new Uint8Array(bytes);
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { entry, module, mime, bytes: copy, settings: READER_SETTINGS },
      transferList: [copy.buffer],
      execArgv: [],
      resourceLimits: { maxOldGenerationSizeMb: 256 },
    });
    let settled = false;
    const settle = (outcome: ParseOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      resolve(outcome);
    };
    const timer = setTimeout(() => settle({ kind: 'timeout' }), timeoutMs);
    worker.on('message', (m: { ok: true; json: string } | { ok: false; message: string }) => {
      if (!m.ok) return settle({ kind: 'error', message: m.message });
      try {
        settle({ kind: 'store', store: JSON.parse(m.json) as ManifestStore });
      } catch {
        settle({ kind: 'error', message: 'the manifest store is not JSON' });
      }
    });
    worker.on('error', (err: Error) => settle({ kind: 'error', message: err.message }));
    worker.on('exit', () => settle({ kind: 'error', message: 'the parser stopped' }));
  });
}
