/**
 * Campaigns' ports wired to the capabilities that own the answers: segments (audience pages),
 * contacts (contacts, the consent gate and its send record) and templates (versions, rendering,
 * tracked links). app.ts builds this once; tests may replace any port.
 */
import type { SegmentRule } from '@mmd/contracts';
import { type BusinessSettingsView, type Contacts, attributeDefs } from '../contacts/index.ts';
import type { Database } from '../platform/db/index.ts';
import type { Segments } from '../segments/index.ts';
import type { Templates } from '../templates/index.ts';
import type { CampaignPorts } from './ports.ts';

export function capabilityPorts(deps: { db: Database; contacts: Contacts; segments: Segments; templates: () => Templates }): CampaignPorts {
  const { contacts, segments } = deps;
  return {
    async audiencePage(options) {
      const page = await segments.audiencePage({
        businessId: options.businessId,
        ...(options.segmentId !== undefined ? { segmentId: options.segmentId } : { rule: options.rule as SegmentRule }),
        afterContactId: options.afterContactId,
        limit: options.limit,
      });
      return page.contacts.map((c) => ({ id: c.contactId, account_id: c.accountId, time_zone: c.timeZone, locale: c.locale }));
    },
    contactsByIds: (options) => contacts.core.contactsByIds(options),
    contactIdsByExternalIds: (options) => contacts.core.contactIdsByExternalIds(options),
    check: (options) => contacts.gate.check({ businessId: options.businessId, accountId: options.accountId, purpose: options.purpose, at: options.at }),
    checkMany: (options) =>
      contacts.gate.checkMany({
        tx: options.tx,
        businessId: options.businessId,
        ids: options.accountIds,
        by: 'account',
        purpose: options.purpose,
        at: options.at,
        settings: options.settings as BusinessSettingsView,
      }),
    gateSettings: (businessId) => contacts.business.settings(businessId),
    recordSends: (tx, sends) => contacts.gate.recordMany(tx, sends.map((x) => ({ businessId: x.businessId, accountId: x.accountId, purpose: x.purpose, at: x.at, key: x.sendKey }))),
    recordSend: (options) => contacts.gate.record({ businessId: options.businessId, accountId: options.accountId, purpose: options.purpose, at: options.at, key: options.sendKey }),
    async templateVersion(options) {
      // Needed and not given: unknown unless the business keeps an attribute of that name (then each contact brings it).
      const info = await deps.templates().versionInfo(options.businessId, options.versionId, Object.keys(options.variables));
      if (!info) return null;
      const attributes = await attributeDefs(deps.db.db, options.businessId);
      return { versionId: info.versionId, approved: info.approved, unknownVariables: info.unknownVariables.filter((name) => !attributes.has(name)) };
    },
    templateContacts: (options) => contacts.core.templateContacts(options.businessId, options.ids),
    async render(options) {
      type TemplateContact = Awaited<ReturnType<typeof contacts.core.templateContact>>;
      const contact =
        options.contactId === null
          ? { display_name: 'Sample', first_name: 'Sample' }
          : options.contact !== undefined
            ? (options.contact as TemplateContact)
            : await contacts.core.templateContact(options.businessId, options.contactId);
      if (!contact) return { ok: false, reason: 'not_a_contact' };
      const result = await deps.templates().renderFor({ businessId: options.businessId, versionId: options.versionId, contact, variables: options.variables, context: options.trackingKey });
      return result.ok ? { ok: true, message: result.message } : { ok: false, reason: result.reason };
    },
  };
}
