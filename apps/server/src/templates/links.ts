/**
 * Tracked links: a url or call button is sent as `<public URL>/r/<token>`, where the token names
 * the template version, the locale, the button, the contact and who sent it (a campaign…), signed
 * with a server secret. Making one writes nothing (a campaign to a million people writes no link
 * rows); following one records the click and redirects.
 *
 * No open redirect: the redirect goes to the URL of that button of that version, read from the
 * database, never to a URL taken from the request. When the button's URL has variables, the
 * rendered URL travels in the token (signed), and it must still match the template's URL with
 * each variable standing for a percent-encoded value, so even a leaked signing key could only
 * point at the template's own host and path shape.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { LinkMaker, LinkRef, TemplateButton, TemplateContent } from './render.ts';
import { type Parsed, parseTemplateString } from './variables.ts';

interface TokenBody extends LinkRef {
  context: string | null;
}

export function createLinkSigner(secret: Buffer) {
  const sign = (payload: string) => createHmac('sha256', secret).update(payload).digest('base64url').slice(0, 27);
  return {
    /** A link maker for one sender (`context`: a campaign id, 'preview'…), or undefined without a public URL. */
    maker(publicUrl: string, context: string | null): LinkMaker | undefined {
      if (!publicUrl) return undefined;
      const origin = publicUrl.replace(/\/+$/, '');
      return (ref) => {
        const payload = Buffer.from(JSON.stringify([ref.versionId, ref.locale, ref.button, ref.kind === 'call' ? 1 : 0, ref.contactId, context, ref.target])).toString('base64url');
        return `${origin}/r/${payload}.${sign(payload)}`;
      };
    },
    /** The token's content when its signature holds, else null. */
    open(token: string): TokenBody | null {
      const dot = token.lastIndexOf('.');
      if (dot <= 0 || token.length > 4096) return null;
      const payload = token.slice(0, dot);
      const given = Buffer.from(token.slice(dot + 1));
      const expected = Buffer.from(sign(payload));
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
      try {
        const [versionId, locale, button, call, contactId, context, target] = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as [string, string, string, number, string | null, string | null, string | null];
        if (typeof versionId !== 'string' || typeof locale !== 'string' || typeof button !== 'string') return null;
        return { versionId, locale, button, kind: call === 1 ? 'call' : 'url', contactId: contactId ?? null, context: context ?? null, target: target ?? null };
      } catch {
        return null;
      }
    },
  };
}

export type LinkSigner = ReturnType<typeof createLinkSigner>;

/** The button a link names (`b{row}.{col}` or `c{card}.{button}`) in one variant. */
export function buttonAt(content: TemplateContent | undefined, key: string): TemplateButton | null {
  const m = /^([bc])(\d{1,3})\.(\d{1,3})$/.exec(key);
  if (!content || !m) return null;
  const [i, j] = [Number(m[2]), Number(m[3])];
  return (m[1] === 'b' ? content.buttons?.[i]?.[j] : content.cards?.[i]?.buttons?.[j]) ?? null;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Whether `url` is the template URL with each placeholder filled by a percent-encoded value. */
export function fitsTemplateUrl(template: string, url: string): boolean {
  const parsed: Parsed = parseTemplateString(template, '', []);
  // encodeURIComponent's output alphabet: a value can never add a '/', '?', '#', '&' or '@'.
  const pattern = parsed.map((p) => (typeof p === 'string' ? escapeRegExp(p) : "[A-Za-z0-9\\-_.!~*'()%]*")).join('');
  return new RegExp(`^${pattern}$`).test(url);
}

/** Where a followed link goes, or null when the token does not name a url or call button of the version. */
export function targetOf(content: TemplateContent | undefined, ref: LinkRef): string | null {
  const button = buttonAt(content, ref.button);
  if (!button) return null;
  if (ref.kind === 'call') return button.type === 'call' ? `tel:${button.phone}` : null;
  if (button.type !== 'url') return null;
  if (!button.url.includes('{{')) return button.url;
  return ref.target !== null && fitsTemplateUrl(button.url, ref.target) ? ref.target : null;
}
