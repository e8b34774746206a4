/**
 * Bot API parameters arrive as a query string, a JSON body, a form or multipart fields: in the
 * last three every value may be a string, and objects (reply_markup, entities…) JSON-encoded
 * strings. These readers accept both, and refuse as Telegram does ("Bad Request: …").
 */
import { badRequest } from './errors.ts';

export type Params = Record<string, unknown>;

export function has(params: Params, name: string): boolean {
  return params[name] !== undefined && params[name] !== null && params[name] !== '';
}

export function optInt(params: Params, name: string): number | undefined {
  const v = params[name];
  if (v === undefined || v === null || v === '') return undefined;
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d{1,17}$/.test(v.trim()) ? Number(v.trim()) : Number.NaN;
  if (!Number.isSafeInteger(n)) throw badRequest(`field "${name}" must be an integer`);
  return n;
}

export function int(params: Params, name: string): number {
  const n = optInt(params, name);
  if (n === undefined) throw badRequest(`${name} is empty`);
  return n;
}

export function optStr(params: Params, name: string): string | undefined {
  const v = params[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number') return String(v);
  if (typeof v !== 'string') throw badRequest(`field "${name}" must be a string`);
  return v;
}

export function str(params: Params, name: string): string {
  const v = optStr(params, name);
  if (v === undefined || v === '') throw badRequest(`${name} is empty`);
  return v;
}

export function bool(params: Params, name: string): boolean {
  const v = params[name];
  return v === true || v === 'true' || v === '1' || v === 1;
}

/** An object or array parameter: as sent in JSON, or a JSON string in a form. */
export function optJson<T>(params: Params, name: string): T | undefined {
  const v = params[name];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') return v as T;
  try {
    return JSON.parse(v) as T;
  } catch {
    throw badRequest(`can't parse ${name} JSON object`);
  }
}

/** chat_id: an integer, or "@channelusername". */
export function chatIdParam(params: Params, name = 'chat_id'): number | string {
  const v = params[name];
  if (typeof v === 'string' && v.startsWith('@')) return v;
  const n = optInt(params, name);
  if (n === undefined) throw badRequest('chat_id is empty');
  return n;
}
