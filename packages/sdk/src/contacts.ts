/**
 * Contacts and consent (`client.contacts`): a business's customers, tags, typed attributes, the
 * consent ledger, suppression, GDPR export and erasure (as the business or a team member, on
 * `forBusiness(id)`); and a person's own side: the subscribe page, "why am I getting this",
 * withdrawal and one-tap unsubscribe.
 */
import type {
  AttributeDefinition,
  AttributeType,
  ConsentLedger,
  ConsentPurpose,
  Contact,
  ContactExport,
  ContactList,
  CreateContactBody,
  ErasureReply,
  MyConsent,
  PutPurposeBody,
  RecordConsentBody,
  SubscribePage,
  SubscribeReply,
  SuppressBody,
  Suppression,
  UnsubscribeInfo,
  UpdateContactBody,
} from '@mmd/contracts';

type Request = <T>(method: string, path: string, body?: unknown) => Promise<T>;
const enc = encodeURIComponent;

function query(options: Record<string, string | number | undefined>) {
  const entries = Object.entries(options).filter(([, v]) => v !== undefined) as [string, string | number][];
  return entries.length ? `?${entries.map(([k, v]) => `${k}=${enc(String(v))}`).join('&')}` : '';
}

/** Typed calls for `/v1/business/contacts…`, suppressions, purposes, and people's consent routes. */
export class ContactsApi {
  constructor(private readonly request: Request) {}

  /** A page of contacts, by id; `q` searches name, external id and handle; `tag` filters. */
  list(options: { q?: string; tag?: string; after?: string; limit?: number } = {}) {
    return this.request<ContactList>('GET', `/v1/business/contacts${query(options)}`);
  }
  /** Adds a person; an opt-in in `consent` needs its `proof` (else `consent_proof_required`). */
  create(body: CreateContactBody) {
    return this.request<Contact>('POST', '/v1/business/contacts', body);
  }
  get(id: string) {
    return this.request<Contact>('GET', `/v1/business/contacts/${enc(id)}`);
  }
  update(id: string, body: UpdateContactBody) {
    return this.request<Contact>('PATCH', `/v1/business/contacts/${enc(id)}`, body);
  }
  /** Removes the contact; its consent ledger and any suppression stay. */
  remove(id: string) {
    return this.request<void>('DELETE', `/v1/business/contacts/${enc(id)}`);
  }
  /** The ledger (every event, in order) and the current state per purpose. */
  consent(id: string) {
    return this.request<ConsentLedger>('GET', `/v1/business/contacts/${enc(id)}/consent`);
  }
  /** Records an opt-out, or an opt-in with its proof. */
  recordConsent(id: string, body: RecordConsentBody) {
    return this.request<ConsentLedger>('POST', `/v1/business/contacts/${enc(id)}/consent`, body);
  }
  /** Everything held about the contact (GDPR Art. 15). */
  export(id: string) {
    return this.request<ContactExport>('GET', `/v1/business/contacts/${enc(id)}/export`);
  }
  /** GDPR Art. 17: erases all but the minimal proof of opt-out (owner and admins). */
  erase(id: string) {
    return this.request<ErasureReply>('POST', `/v1/business/contacts/${enc(id)}/erase`);
  }
  async attributes(): Promise<AttributeDefinition[]> {
    return (await this.request<{ attributes: AttributeDefinition[] }>('GET', '/v1/business/contact-attributes')).attributes;
  }
  defineAttribute(key: string, type: AttributeType) {
    return this.request<AttributeDefinition>('POST', '/v1/business/contact-attributes', { key, type });
  }
  async purposes(): Promise<ConsentPurpose[]> {
    return (await this.request<{ purposes: ConsentPurpose[] }>('GET', '/v1/business/consent-purposes')).purposes;
  }
  /** Defines a purpose, or changes a purpose's wording. */
  async putPurpose(key: string, body: PutPurposeBody): Promise<ConsentPurpose[]> {
    return (await this.request<{ purposes: ConsentPurpose[] }>('PUT', `/v1/business/consent-purposes/${enc(key)}`, body)).purposes;
  }
  suppressions(options: { after?: string; limit?: number } = {}) {
    return this.request<{ suppressions: Suppression[]; next: string | null }>('GET', `/v1/business/suppressions${query(options)}`);
  }
  suppress(body: SuppressBody) {
    return this.request<Suppression>('POST', '/v1/business/suppressions', body);
  }
  unsuppress(accountId: string) {
    return this.request<void>('DELETE', `/v1/business/suppressions/${enc(accountId)}`);
  }

  // A person's own consent
  /** What a business's subscribe page (`/c/<handle>`) shows: its name and each purpose's wording. */
  subscribePage(handle: string) {
    return this.request<SubscribePage>('GET', `/v1/subscribe/${enc(handle.replace(/^@/, ''))}`);
  }
  /** Asks to subscribe; the business then asks you to confirm (reply YES) in your chat with it. */
  subscribe(handle: string, purposes: string[]) {
    return this.request<SubscribeReply>('POST', `/v1/subscribe/${enc(handle.replace(/^@/, ''))}`, { purposes });
  }
  /** "Why am I getting this": your consent record with each business. */
  async mine(): Promise<MyConsent[]> {
    return (await this.request<{ consents: MyConsent[] }>('GET', '/v1/me/consents')).consents;
  }
  async withdraw(businessId: string, purpose: string): Promise<MyConsent[]> {
    return (await this.request<{ consents: MyConsent[] }>('POST', '/v1/me/consents/withdraw', { business_id: businessId, purpose })).consents;
  }
  /** What a one-tap unsubscribe link would stop (changes nothing). */
  unsubscribeInfo(token: string) {
    return this.request<UnsubscribeInfo>('GET', `/v1/unsubscribe/${enc(token)}`);
  }
  /** One tap: no sign-in needed, the token is the credential. */
  unsubscribe(token: string) {
    return this.request<UnsubscribeInfo>('POST', '/v1/unsubscribe', { token });
  }
}
