import { randomBytes } from 'node:crypto';

/** Random, unguessable ids with a prefix that says what they name (acc_…, msg_…). */
export function newId(prefix: 'acc' | 'dev' | 'key' | 'cnv' | 'msg' | 'med' | 'inv' | 'whk' | 'whd' | 'rul' | 'tpl' | 'cbq' | 'nte' | 'cmp' | 'ntf'): string {
  return `${prefix}_${randomBytes(12).toString('base64url')}`;
}
