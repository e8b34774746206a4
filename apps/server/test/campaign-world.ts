/**
 * A small, explicit stand-in for what campaigns ask of contacts, segments and templates (their
 * ports), for the campaign tests that exercise campaigns' own logic: planning, A/B, schedules,
 * throttle, pause/resume/cancel, exactly-once, the funnel. Contacts here are real MMD accounts
 * (messages really go to their chats); consent, suppression, quiet hours and templates are plain
 * maps the test sets. The real contacts and templates capabilities are wired in app.ts.
 */
import type { AudienceContact, CampaignPorts, GateVerdict } from '../src/campaigns/index.ts';

export interface WorldContact extends AudienceContact {
  businessId: string;
  name: string | null;
  external_id: string | null;
  consent: 'opted_in' | 'opted_out' | null;
  suppressed: boolean;
  tags: string[];
}

export interface WorldTemplate {
  businessId: string;
  approved: boolean;
  body: string;
}

let serial = 0;

export function campaignWorld() {
  const contacts = new Map<string, WorldContact>();
  const templates = new Map<string, WorldTemplate>();
  /** Quiet hours per account: until this instant (inclusive of the check time). */
  const quietUntil = new Map<string, number>();
  const sends: { businessId: string; accountId: string; purpose: string; sendKey: string; at: number }[] = [];
  const checks: { accountId: string; at: number }[] = [];

  const byBusiness = (businessId: string) =>
    [...contacts.values()].filter((c) => c.businessId === businessId).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const view = (c: WorldContact): AudienceContact => ({ id: c.id, account_id: c.account_id, time_zone: c.time_zone, locale: c.locale });

  const ports: CampaignPorts = {
    async audiencePage({ businessId, segmentId, rule, afterContactId, limit }) {
      const tag = segmentId ?? (rule?.tag as string | undefined);
      return byBusiness(businessId)
        .filter((c) => (tag === undefined || c.tags.includes(tag)) && (afterContactId === null || c.id > afterContactId))
        .slice(0, limit)
        .map(view);
    },
    async contactsByIds({ businessId, ids }) {
      return ids.flatMap((id) => {
        const c = contacts.get(id);
        return c && c.businessId === businessId ? [view(c)] : [];
      });
    },
    async contactIdsByExternalIds({ businessId, externalIds }) {
      const out = new Map<string, string>();
      for (const c of byBusiness(businessId)) if (c.external_id && externalIds.includes(c.external_id)) out.set(c.external_id, c.id);
      return out;
    },
    async check({ businessId, accountId, purpose, at }): Promise<GateVerdict> {
      checks.push({ accountId, at });
      const c = byBusiness(businessId).find((x) => x.account_id === accountId);
      if (!c) return { ok: false, reason: 'not_a_contact', detail: 'not a contact' };
      if (purpose === 'transactional') return { ok: true };
      if (c.suppressed) return { ok: false, reason: 'suppressed', detail: 'on the suppression list' };
      if (c.consent !== 'opted_in') return { ok: false, reason: 'no_consent', detail: 'no consent' };
      const until = quietUntil.get(accountId);
      if (until !== undefined && at < until) return { ok: false, reason: 'quiet_hours', retryAt: until, detail: 'quiet hours' };
      return { ok: true };
    },
    async checkMany({ businessId, accountIds, purpose, at }) {
      const out = new Map<string, GateVerdict>();
      for (const accountId of accountIds) out.set(accountId, await ports.check({ businessId, accountId, purpose, at }));
      return out;
    },
    async gateSettings() {
      return null;
    },
    async recordSends(_tx, batch) {
      for (const options of batch) await ports.recordSend(options);
    },
    async recordSend(options) {
      if (!sends.some((s) => s.sendKey === options.sendKey)) sends.push(options);
    },
    async templateVersion({ businessId, versionId, variables }) {
      const t = templates.get(versionId);
      if (!t || t.businessId !== businessId) return null;
      const used = [...t.body.matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1]!);
      return { versionId, approved: t.approved, unknownVariables: used.filter((v) => v !== 'name' && v !== 'handle' && !(v in variables)) };
    },
    async templateContacts() {
      return new Map();
    },
    async render({ versionId, contactId, variables }) {
      const t = templates.get(versionId)!;
      const c = contactId ? contacts.get(contactId) : undefined;
      let missing: string | null = null;
      const text = t.body.replace(/\{\{(\w+)\}\}/g, (_all, name: string) => {
        const value = name === 'name' ? (contactId ? c?.name : 'Sample') : variables[name];
        if (value === null || value === undefined) {
          missing ??= name;
          return '';
        }
        return value;
      });
      if (missing) return { ok: false, reason: `missing variable ${missing}` };
      // A body marked [[buttons]] renders with quick replies (an interactive message).
      if (text.includes('[[buttons]]')) return { ok: true, message: { text: text.replace('[[buttons]]', '').trim(), interactive: { quick_replies: { rows: [[{ text: 'Yes' }, { text: 'No' }]] } } } };
      return { ok: true, message: { text } };
    },
  };

  return {
    ports,
    contacts,
    templates,
    quietUntil,
    sends,
    checks,
    /** A contact of `businessId` for an existing account; ids sort in creation order. */
    addContact(businessId: string, accountId: string, extra: Partial<WorldContact> = {}): WorldContact {
      serial += 1;
      const c: WorldContact = {
        id: `ct_${String(serial).padStart(8, '0')}`,
        businessId,
        account_id: accountId,
        time_zone: null,
        locale: 'en',
        name: `Customer ${serial}`,
        external_id: null,
        consent: 'opted_in',
        suppressed: false,
        tags: [],
        ...extra,
      };
      contacts.set(c.id, c);
      return c;
    },
    addTemplate(businessId: string, body: string, approved = true): string {
      serial += 1;
      const id = `tv_${serial}`;
      templates.set(id, { businessId, body, approved });
      return id;
    },
  };
}
