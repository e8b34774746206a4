/**
 * What campaigns need of other capabilities, as plain functions (app.ts wires them to contacts,
 * segments and templates; tests may pass simpler ones). Campaigns never read those capabilities'
 * tables.
 */

import type { Tx } from '../platform/db/index.ts';

/** What the gate needs to know of a business (opaque to campaigns). */
export type GateSettings = unknown;

/** A contact as campaigns see it. */
export interface AudienceContact {
  id: string;
  /** The person's MMD account: the message goes to their direct chat with the business. */
  account_id: string;
  time_zone: string | null;
  locale: string | null;
}

/** The consent gate's answer (contacts capability). */
export type GateVerdict = { ok: true } | { ok: false; reason: string; retryAt?: number; detail: string };

/** A template version, as far as campaigns care. */
export interface TemplateVersionInfo {
  versionId: string;
  approved: boolean;
  /** Variables the version uses that neither a contact nor the given values provide. */
  unknownVariables: string[];
}

/** A message as messaging.send takes it (text, media ids, interactive parts). */
export interface SendableMessage {
  text?: string;
  media?: string[];
  interactive?: unknown;
}

/** A rendered message, ready for messaging.send. */
export type Rendered = { ok: true; message: SendableMessage } | { ok: false; reason: string };

export interface CampaignPorts {
  /**
   * One page of a segment's (or an inline rule's) contacts in contact id order, after
   * `afterContactId` (segments capability). Never the whole audience at once.
   */
  audiencePage(options: { businessId: string; segmentId?: string; rule?: Record<string, unknown>; afterContactId: string | null; limit: number }): Promise<AudienceContact[]>;
  /** These contacts of the business (unknown or erased ones left out), in any order. */
  contactsByIds(options: { businessId: string; ids: readonly string[] }): Promise<AudienceContact[]>;
  /** Contact ids for these external ids (unknown ones left out). */
  contactIdsByExternalIds(options: { businessId: string; externalIds: readonly string[] }): Promise<Map<string, string>>;
  /** The consent gate: may a message of `purpose` reach this person now? */
  check(options: { businessId: string; accountId: string; purpose: string; at: number }): Promise<GateVerdict>;
  /**
   * The gate for many recipients at once, keyed by account id, read inside the sender's write
   * transaction (so the decision and the send commit together); settings come from
   * `gateSettings`, read before the transaction.
   */
  checkMany(options: { tx: Tx; businessId: string; accountIds: readonly string[]; purpose: string; at: number; settings: GateSettings }): Promise<Map<string, GateVerdict>>;
  /** The business's gate settings (quiet hours, caps), read once per batch outside the transaction. */
  gateSettings(businessId: string): Promise<GateSettings>;
  /** Counts sends towards frequency caps, in the sender's transaction (idempotent by `sendKey`). */
  recordSends(tx: Tx, sends: readonly { businessId: string; accountId: string; purpose: string; sendKey: string; at: number }[]): Promise<void>;
  /** Counts a send towards frequency caps (idempotent by `sendKey`). */
  recordSend(options: { businessId: string; accountId: string; purpose: string; sendKey: string; at: number }): Promise<void>;
  /** The version, whether it may be sent, and which of its variables nobody provides. */
  templateVersion(options: { businessId: string; versionId: string; variables: Record<string, string> }): Promise<TemplateVersionInfo | null>;
  /** What `render` needs of these contacts, read for a whole batch at once (opaque to campaigns; erased and unknown ones absent). */
  templateContacts(options: { businessId: string; ids: readonly string[] }): Promise<Map<string, unknown>>;
  /** The message for one contact; a missing variable is `{ ok: false, reason }`, never a blank. */
  render(options: {
    businessId: string;
    versionId: string;
    /** null for a test send to a team member (sample values) */
    contactId: string | null;
    /** From `templateContacts`, when the sender read its batch's contacts at once; else read here. */
    contact?: unknown;
    variables: Record<string, string>;
    /** Names the sender in tracked links (`run:<id>`), so a click finds its recipient. */
    trackingKey: string;
  }): Promise<Rendered>;
}
