import {
  AttributeDefinition,
  ConsentLedger,
  ConsentPurpose,
  Contact,
  ContactExport,
  ContactList,
  CreateContactBody,
  DefineAttributeBody,
  ErasureReply,
  MyConsentList,
  PurposeKey,
  PutPurposeBody,
  RecordConsentBody,
  SubscribeBody,
  SubscribePage,
  SubscribeReply,
  SuppressBody,
  Suppression,
  SuppressionList,
  UnsubscribeBody,
  UnsubscribeInfo,
  UpdateContactBody,
  WithdrawBody,
} from '@mmd/contracts';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Authenticate } from '../http/auth.ts';
import type { Contacts } from './index.ts';

const IdParam = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const Page = {
  after: Type.Optional(Type.String({ maxLength: 200, description: 'the `next` of the previous page' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
};
const tags = ['contacts'];

/**
 * The contacts API. Team routes (`/v1/business/…`) resolve the caller with business.actor for a
 * permission (read, contacts:write, contacts:export) and declare the matching API scope; people's
 * routes (`/v1/me/consents…`, `/v1/subscribe/…`) act on the caller's own consent; the unsubscribe
 * link is public and its token is the credential.
 */
export function contactsRoutes(deps: { contacts: Contacts; authenticate: Authenticate; publicLimit: { max: number; windowMs: number } }): FastifyPluginAsyncTypebox {
  const { contacts, authenticate } = deps;
  const { core, people, business } = contacts;
  return async (app) => {
    const actor = async (request: Parameters<Authenticate>[0], permission: Parameters<typeof business.actor>[2]) => business.actor(request, await authenticate(request), permission);

    app.get(
      '/v1/business/contacts',
      {
        schema: {
          'x-mmd-scope': 'business:read',
          tags,
          summary: "The business's contacts, by id; q searches name, external id and handle; tag filters",
          querystring: Type.Object({ q: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })), tag: Type.Optional(Type.String({ minLength: 1, maxLength: 48 })), ...Page }, { additionalProperties: false }),
          response: { 200: ContactList },
        },
      },
      async (request) => {
        const reader = await actor(request, 'read');
        const page = await core.list(reader.businessId, request.query);
        // The export right is real: without contacts:export a page leaves out phone attributes
        // and the external id (a single contact's view keeps them, to help that one person).
        const mayExport = await actor(request, 'contacts:export').then(
          () => true,
          () => false,
        );
        if (mayExport) return page;
        const defs = await core.attributeDefinitions(reader.businessId);
        const phones = new Set(defs.filter((d) => d.type === 'phone').map((d) => d.key));
        return { ...page, contacts: page.contacts.map((c) => ({ ...c, external_id: null, attributes: Object.fromEntries(Object.entries(c.attributes).filter(([key]) => !phones.has(key))) })) };
      },
    );
    app.post(
      '/v1/business/contacts',
      {
        schema: {
          'x-mmd-scope': 'contacts:write',
          tags,
          summary: 'Add a person as a contact; opt-ins need proof (consent_proof_required otherwise)',
          body: CreateContactBody,
          response: { 201: Contact },
        },
      },
      async (request, reply) => reply.status(201).send(await core.create(await actor(request, 'contacts:write'), request.body)),
    );
    app.get(
      '/v1/business/contacts/:id',
      { schema: { 'x-mmd-scope': 'business:read', tags, summary: 'One contact', params: IdParam, response: { 200: Contact } } },
      async (request) => core.view((await actor(request, 'read')).businessId, request.params.id),
    );
    app.patch(
      '/v1/business/contacts/:id',
      { schema: { 'x-mmd-scope': 'contacts:write', tags, summary: 'Change a contact (attributes merge; null removes)', params: IdParam, body: UpdateContactBody, response: { 200: Contact } } },
      async (request) => core.update(await actor(request, 'contacts:write'), request.params.id, request.body),
    );
    app.delete(
      '/v1/business/contacts/:id',
      { schema: { 'x-mmd-scope': 'contacts:write', tags, summary: 'Remove a contact (its consent ledger and suppression stay; erase for GDPR)', params: IdParam } },
      async (request, reply) => {
        await core.remove(await actor(request, 'contacts:write'), request.params.id);
        return reply.status(204).send();
      },
    );
    app.get(
      '/v1/business/contacts/:id/consent',
      { schema: { 'x-mmd-scope': 'business:read', tags, summary: 'The consent ledger and current state per purpose', params: IdParam, response: { 200: ConsentLedger } } },
      async (request) => core.ledger((await actor(request, 'read')).businessId, request.params.id),
    );
    app.post(
      '/v1/business/contacts/:id/consent',
      {
        schema: {
          'x-mmd-scope': 'contacts:write',
          tags,
          summary: 'Record an opt-out, or an opt-in with its proof',
          params: IdParam,
          body: RecordConsentBody,
          response: { 201: ConsentLedger },
        },
      },
      async (request, reply) => reply.status(201).send(await core.recordConsent(await actor(request, 'contacts:write'), request.params.id, request.body)),
    );
    app.get(
      '/v1/business/contacts/:id/export',
      { schema: { 'x-mmd-scope': 'contacts:export', tags, summary: 'Everything held about a contact (GDPR Art. 15), as JSON', params: IdParam, response: { 200: ContactExport } } },
      async (request) => core.exportContact(await actor(request, 'contacts:export'), request.params.id),
    );
    app.post(
      '/v1/business/contacts/:id/erase',
      {
        schema: {
          'x-mmd-scope': 'contacts:write',
          tags,
          summary: 'Erase a contact (GDPR Art. 17), keeping only the minimal proof of opt-out (owner and admins)',
          params: IdParam,
          response: { 200: ErasureReply },
        },
      },
      async (request) => core.erase(await actor(request, 'contacts:write'), request.params.id),
    );

    app.get(
      '/v1/business/contact-attributes',
      { schema: { 'x-mmd-scope': 'business:read', tags, summary: 'Attribute keys and their types', response: { 200: Type.Object({ attributes: Type.Array(AttributeDefinition) }) } } },
      async (request) => ({ attributes: await core.attributeDefinitions((await actor(request, 'read')).businessId) }),
    );
    app.post(
      '/v1/business/contact-attributes',
      { schema: { 'x-mmd-scope': 'contacts:write', tags, summary: 'Define an attribute key with its type (text, number, date, boolean, phone)', body: DefineAttributeBody, response: { 201: AttributeDefinition } } },
      async (request, reply) => reply.status(201).send(await core.defineAttribute(await actor(request, 'contacts:write'), request.body)),
    );

    app.get(
      '/v1/business/consent-purposes',
      { schema: { 'x-mmd-scope': 'business:read', tags, summary: 'Consent purposes and the exact wording people agree to', response: { 200: Type.Object({ purposes: Type.Array(ConsentPurpose) }) } } },
      async (request) => {
        const a = await actor(request, 'read');
        return { purposes: await core.purposes({ id: a.businessId, handle: a.businessHandle }) };
      },
    );
    app.put(
      '/v1/business/consent-purposes/:key',
      {
        schema: {
          'x-mmd-scope': 'contacts:write',
          tags,
          summary: "Define a purpose or change a purpose's wording (later consents record the new words; earlier ones keep theirs)",
          params: Type.Object({ key: PurposeKey }),
          body: PutPurposeBody,
          response: { 200: Type.Object({ purposes: Type.Array(ConsentPurpose) }) },
        },
      },
      async (request) => ({ purposes: await core.putPurpose(await actor(request, 'settings:write'), request.params.key, request.body) }),
    );

    app.get(
      '/v1/business/suppressions',
      { schema: { 'x-mmd-scope': 'business:read', tags, summary: 'Accounts that never get marketing from this business', querystring: Type.Object(Page, { additionalProperties: false }), response: { 200: SuppressionList } } },
      async (request) => core.suppressions((await actor(request, 'read')).businessId, request.query),
    );
    app.post(
      '/v1/business/suppressions',
      { schema: { 'x-mmd-scope': 'contacts:write', tags, summary: 'Suppress an account (by handle or id)', body: SuppressBody, response: { 201: Suppression } } },
      async (request, reply) => reply.status(201).send(await core.suppress(await actor(request, 'contacts:write'), request.body)),
    );
    app.delete(
      '/v1/business/suppressions/:id',
      { schema: { 'x-mmd-scope': 'contacts:write', tags, summary: 'Lift a suppression (not one left by an erasure)', params: IdParam } },
      async (request, reply) => {
        await core.unsuppress(await actor(request, 'contacts:write'), request.params.id);
        return reply.status(204).send();
      },
    );

    // People
    const HandleParam = Type.Object({ handle: Type.String({ minLength: 1, maxLength: 64 }) });
    app.get(
      '/v1/subscribe/:handle',
      {
        schema: { 'x-mmd-scope': 'public', tags, summary: "A business's subscribe page: its name and each purpose's exact wording", params: HandleParam, response: { 200: SubscribePage } },
        config: { rateLimit: { max: deps.publicLimit.max, timeWindow: deps.publicLimit.windowMs } },
      },
      async (request) => people.page(request.params.handle),
    );
    app.post(
      '/v1/subscribe/:handle',
      {
        schema: {
          'x-mmd-scope': 'device',
          tags,
          summary: 'Ask to subscribe to purposes; the business asks you to confirm in your chat (double opt-in)',
          params: HandleParam,
          body: SubscribeBody,
          response: { 200: SubscribeReply },
        },
      },
      async (request) => people.subscribe(await authenticate(request), request.params.handle, request.body.purposes),
    );
    app.get(
      '/v1/me/consents',
      { schema: { 'x-mmd-scope': 'account', tags, summary: 'Why am I getting this: your consent record with each business', response: { 200: MyConsentList } } },
      async (request) => ({ consents: await people.mine(await authenticate(request)) }),
    );
    app.post(
      '/v1/me/consents/withdraw',
      { schema: { 'x-mmd-scope': 'account', tags, summary: 'Withdraw your consent to a purpose with a business', body: WithdrawBody, response: { 200: MyConsentList } } },
      async (request) => ({ consents: await people.withdraw(await authenticate(request), request.body.business_id, request.body.purpose) }),
    );
    const TokenParam = Type.Object({ token: Type.String({ minLength: 10, maxLength: 300 }) });
    app.get(
      '/v1/unsubscribe/:token',
      {
        schema: { 'x-mmd-scope': 'public', tags, summary: 'What a one-tap unsubscribe link would stop (changes nothing: link scanners open links)', params: TokenParam, response: { 200: UnsubscribeInfo } },
        config: { rateLimit: { max: deps.publicLimit.max, timeWindow: deps.publicLimit.windowMs } },
      },
      async (request) => people.unsubscribeInfo(request.params.token),
    );
    app.post(
      '/v1/unsubscribe',
      {
        schema: { 'x-mmd-scope': 'public', tags, summary: 'One-tap unsubscribe: the token is the credential', body: UnsubscribeBody, response: { 200: UnsubscribeInfo } },
        config: { rateLimit: { max: deps.publicLimit.max, timeWindow: deps.publicLimit.windowMs } },
      },
      async (request) => people.unsubscribe(request.body.token),
    );
  };
}
