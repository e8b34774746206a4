/**
 * What campaigns need of other capabilities, as plain functions (app.ts wires them to contacts,
 * segments and templates; tests may pass simpler ones). Campaigns never read those capabilities'
 * tables.
 */

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
  /** Counts a send towards frequency caps (idempotent by `sendKey`). */
  recordSend(options: { businessId: string; accountId: string; purpose: string; sendKey: string; at: number }): Promise<void>;
  /** The version, whether it may be sent, and which of its variables nobody provides. */
  templateVersion(options: { businessId: string; versionId: string; variables: Record<string, string> }): Promise<TemplateVersionInfo | null>;
  /** The message for one contact; a missing variable is `{ ok: false, reason }`, never a blank. */
  render(options: { businessId: string; versionId: string; /** null for a test send to a team member (sample values) */ contactId: string | null; variables: Record<string, string>; /** Names the sender in tracked links (`run:<id>`), so a click finds its recipient. */ trackingKey: string }): Promise<Rendered>;
}
