/**
 * Trust and safety over HTTP. Moderators (role moderator or admin, on a device): banks, matching,
 * the review queue, takedowns, the audit log. Any member: reports. Anyone, rate-limited: hash-only
 * protection and its status by reference.
 */
import {
  AddSignalsBody,
  AddSignalsReply,
  AuditList,
  AuditQuery,
  Bank,
  BankList,
  CaseDecisionBody,
  CaseDecisionReply,
  CaseDetail,
  CaseKeyBody,
  CaseList,
  CaseView,
  CasesQuery,
  ErasureBody,
  ErasureDecisionBody,
  ErasureDetail,
  ErasureList,
  ErasureQuery,
  ErasureQueue,
  ErasureRequest,
  CreateBankBody,
  CreateReportBody,
  ReportAccountBody,
  ReportAccountReply,
  DecisionBody,
  DecisionReply,
  FormatQuery,
  ImportReply,
  MatchReply,
  MyReportsQuery,
  ProtectBody,
  ProtectCase,
  ProtectReceipt,
  Report,
  ReportList,
  Review,
  ReviewList,
  ReviewsQuery,
  Takedown,
  TakedownBody,
  TakedownList,
  TakedownRecord,
  TakedownsQuery,
  UpdateBankBody,
} from '@mmd/contracts';
import multipart from '@fastify/multipart';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { isMediaError } from '@mmd/media';
import { Type } from 'typebox';
import { AppError } from '../errors.ts';
import { type Authenticate, callerKey } from '../http/auth.ts';
import { requireModerator } from './access.ts';
import { appendAudit } from './audit.ts';
import { CASE_REFERENCE_PATTERN } from './ids.ts';
import type { Safety } from './service.ts';
import { withUploadedFile } from './uploaded-file.ts';

const Id = Type.String({ minLength: 1, maxLength: 64 });
const tags = ['safety'];

export interface SafetyRouteDeps {
  safety: Safety;
  authenticate: Authenticate;
  db: Parameters<typeof appendAudit>[0];
  clock: () => number;
  tmpDir: string;
  maxFileBytes: number;
  /** Protection requests per address per window (anonymous, so rate-limited). */
  protectLimit: { max: number; windowMs: number };
  /** The case page (view, share, withdraw) per address per window. */
  casePageLimit: { max: number; windowMs: number };
}

/** A file the hasher cannot read is the caller's problem, said plainly. */
async function hashing<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (isMediaError(err) && err.code !== 'timeout' && err.code !== 'binary_missing' && err.code !== 'aborted') {
      throw new AppError('validation_failed', `the file cannot be hashed: ${err.message}`, { errors: [{ path: 'body/file', message: err.code }] });
    }
    throw err;
  }
}

export function safetyRoutes(deps: SafetyRouteDeps): FastifyPluginAsyncTypebox {
  const { safety, authenticate } = deps;
  const moderator = (request: Parameters<typeof requireModerator>[1]) => requireModerator(authenticate, request);
  return async (app) => {
    await app.register(multipart, { limits: { files: 1, fields: 4, fileSize: deps.maxFileBytes } });
    // Bank files in the hma format are text; JSON formats may also arrive as text or bytes.
    app.addContentTypeParser(['text/plain', 'application/octet-stream'], { parseAs: 'buffer', bodyLimit: 64 * 1024 * 1024 }, (_request, body, done) => done(null, body));

    app.post('/v1/reports', {
      schema: { 'x-mmd-scope': 'messages:write', tags, summary: 'Report a message you can read (any member)', body: CreateReportBody, response: { 201: Report } },
      config: { rateLimit: { max: 60, timeWindow: 60_000 } },
    }, async (request, reply) => {
      const principal = await authenticate(request);
      return reply.status(201).send(await safety.reviews.report(principal, request.body));
    });

    app.post('/v1/reports/account', {
      schema: { 'x-mmd-scope': 'messages:write', tags, summary: "Report an account from a chat it is in: its newest messages there you can read (at most 5) are reported", body: ReportAccountBody, response: { 201: ReportAccountReply } },
      // Per person (their token), not per address: many people may share one address.
      config: { rateLimit: { max: 10, timeWindow: 60_000, keyGenerator: callerKey } },
    }, async (request, reply) => {
      const principal = await authenticate(request);
      return reply.status(201).send({ reports: await safety.reviews.reportAccount(principal, request.body) });
    });

    app.get('/v1/reports', {
      schema: { 'x-mmd-scope': 'messages:read', tags, summary: 'Your own reports with their outcomes, newest first (the reporter alone)', querystring: MyReportsQuery, response: { 200: ReportList } },
    }, async (request) => {
      const principal = await authenticate(request);
      return safety.reviews.mine(principal, { limit: request.query.limit ?? 50, before: request.query.before });
    });

    app.post('/v1/safety/banks', { schema: { 'x-mmd-scope': 'device', tags, summary: 'Create a hash bank (moderators)', body: CreateBankBody, response: { 201: Bank } } }, async (request, reply) => {
      const principal = await moderator(request);
      return reply.status(201).send(await safety.banks.create(principal, request.body));
    });

    app.get('/v1/safety/banks', { schema: { 'x-mmd-scope': 'device', tags, summary: 'Every hash bank with its signal count (moderators)', response: { 200: BankList } } }, async (request) => {
      await moderator(request);
      return { banks: await safety.banks.list() };
    });

    app.get('/v1/safety/banks/:id', { schema: { 'x-mmd-scope': 'device', tags, summary: 'One hash bank (moderators)', params: Type.Object({ id: Id }), response: { 200: Bank } } }, async (request) => {
      await moderator(request);
      return safety.banks.get(request.params.id);
    });

    app.patch('/v1/safety/banks/:id', {
      schema: { 'x-mmd-scope': 'device', tags, summary: 'Change a bank’s settings: mark it trusted or not (moderators; audited)', params: Type.Object({ id: Id }), body: UpdateBankBody, response: { 200: Bank } },
    }, async (request) => {
      const principal = await moderator(request);
      return safety.banks.update(principal, request.params.id, request.body);
    });

    app.post('/v1/safety/banks/:id/signals', {
      schema: { 'x-mmd-scope': 'device', tags, summary: 'Add pasted hashes to a bank; a sweep then looks for existing copies (moderators)', params: Type.Object({ id: Id }), body: AddSignalsBody, response: { 201: AddSignalsReply } },
      bodyLimit: 32 * 1024 * 1024,
    }, async (request, reply) => {
      const principal = await moderator(request);
      return reply.status(201).send(await safety.banks.addHashes(principal, request.params.id, request.body));
    });

    app.delete('/v1/safety/banks/:id/signals/:signalId', {
      schema: {
        'x-mmd-scope': 'device',
        tags,
        summary: 'Take a signal out of a bank: every server stops matching it (moderators; audited)',
        params: Type.Object({ id: Id, signalId: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }) }),
      },
    }, async (request, reply) => {
      const principal = await moderator(request);
      await safety.banks.removeSignal(principal, request.params.id, request.params.signalId);
      return reply.status(204).send();
    });

    app.post('/v1/safety/banks/:id/signals/file', {
      schema: {
        'x-mmd-scope': 'device',
        tags,
        summary: 'Add a file’s hashes to a bank: multipart field "file" (hashed, never stored) and optional "label" (moderators)',
        params: Type.Object({ id: Id }),
        response: { 201: AddSignalsReply },
      },
    }, async (request, reply) => {
      const principal = await moderator(request);
      const result = await withUploadedFile(request, deps.tmpDir, (file, fields) =>
        hashing(() => safety.banks.addFile(principal, request.params.id, file, fields.label?.trim().slice(0, 200) || null)),
      );
      return reply.status(201).send(result);
    });

    app.post('/v1/safety/banks/:id/import', {
      schema: {
        'x-mmd-scope': 'device',
        tags,
        summary: 'Import a bank file as the body: hma (text lines "pdq <hex>"), te (ThreatExchange JSON) or json (MMD) (moderators)',
        params: Type.Object({ id: Id }),
        querystring: FormatQuery,
        response: { 201: ImportReply },
      },
      bodyLimit: 64 * 1024 * 1024,
    }, async (request, reply) => {
      const principal = await moderator(request);
      if (request.body === undefined || request.body === null) throw new AppError('validation_failed', 'send the bank file as the request body', { errors: [{ path: 'body', message: 'required' }] });
      return reply.status(201).send(await safety.banks.import(principal, request.params.id, request.query.format, request.body));
    });

    app.get('/v1/safety/banks/:id/export', {
      schema: { 'x-mmd-scope': 'device', tags, summary: 'Export a bank: hma, te or json (moderators)', params: Type.Object({ id: Id }), querystring: FormatQuery },
    }, async (request, reply) => {
      const principal = await moderator(request);
      const file = await safety.banks.export(principal, request.params.id, request.query.format);
      return reply
        .header('content-type', file.contentType)
        .header('content-disposition', `attachment; filename="${file.filename}"`)
        .header('x-mmd-skipped', String(file.skipped))
        .send(file.body);
    });

    app.post('/v1/safety/match', {
      schema: { 'x-mmd-scope': 'device', tags, summary: 'Check a file (multipart field "file") against every bank under MMD’s full scheme (moderators)', response: { 200: MatchReply } },
    }, async (request) => {
      const principal = await moderator(request);
      return withUploadedFile(request, deps.tmpDir, (file) => hashing(() => safety.banks.match(principal, file)));
    });

    app.get('/v1/safety/reviews', { schema: { 'x-mmd-scope': 'device', tags, summary: 'The review queue, newest first (moderators)', querystring: ReviewsQuery, response: { 200: ReviewList } } }, async (request) => {
      await moderator(request);
      return safety.reviews.list({ status: request.query.status ?? 'open', limit: request.query.limit ?? 50, before: request.query.before });
    });

    app.get('/v1/safety/reviews/:id', { schema: { 'x-mmd-scope': 'device', tags, summary: 'One review (moderators)', params: Type.Object({ id: Id }), response: { 200: Review } } }, async (request) => {
      await moderator(request);
      return safety.reviews.get(request.params.id);
    });

    const previewParams = Type.Object({ id: Id, mediaId: Id });
    const mediaOfReview = async (reviewId: string, mediaId: string) => {
      if (!(await safety.reviews.mediaOf(reviewId)).includes(mediaId)) throw new AppError('not_found', 'that media item is not part of this review');
    };
    app.get('/v1/safety/reviews/:id/media/:mediaId/preview', {
      schema: { 'x-mmd-scope': 'device', tags, summary: 'A strongly blurred preview of an item under review (JPEG; moderators)', params: previewParams },
    }, async (request, reply) => {
      await moderator(request);
      await mediaOfReview(request.params.id, request.params.mediaId);
      const bytes = await safety.previews.blurred(request.params.mediaId);
      return reply.header('content-type', 'image/jpeg').header('cache-control', 'no-store').send(bytes);
    });

    app.post('/v1/safety/reviews/:id/media/:mediaId/reveal', {
      schema: { 'x-mmd-scope': 'device', tags, summary: 'The real preview of an item under review (JPEG); every reveal is audited (moderators)', params: previewParams },
    }, async (request, reply) => {
      const principal = await moderator(request);
      await mediaOfReview(request.params.id, request.params.mediaId);
      const bytes = await safety.previews.real(request.params.mediaId);
      await appendAudit(deps.db, { at: deps.clock(), actorId: principal.accountId, action: 'media.revealed', subjectType: 'media', subjectId: request.params.mediaId, detail: { review_id: request.params.id } });
      return reply.header('content-type', 'image/jpeg').header('cache-control', 'no-store').send(bytes);
    });

    app.post('/v1/safety/reviews/:id/decision', {
      schema: { 'x-mmd-scope': 'device', tags, summary: 'Decide a review: takedown (every copy, everywhere), dismiss (releases a held upload) or escalate (to admins) (moderators)', params: Type.Object({ id: Id }), body: DecisionBody, response: { 200: DecisionReply } },
    }, async (request) => {
      const principal = await moderator(request);
      return safety.reviews.decide(principal, request.params.id, request.body);
    });

    app.post('/v1/safety/takedowns', {
      schema: { 'x-mmd-scope': 'device', tags, summary: 'Take down an item, its exact copies and near-duplicates from every conversation, and bank its hashes (moderators)', body: TakedownBody, response: { 201: Takedown } },
    }, async (request, reply) => {
      const principal = await moderator(request);
      const b = request.body;
      const result = await safety.takedowns.run(principal.accountId, {
        mediaIds: b.media_id ? [b.media_id] : [],
        messageIds: b.message_id ? [b.message_id] : [],
        hashes: b.hashes,
        bankId: b.bank_id,
        reason: b.reason,
      });
      return reply.status(201).send(result);
    });

    app.get('/v1/safety/takedowns', {
      schema: { 'x-mmd-scope': 'device', tags, summary: 'Takedowns, newest first, with their progress while they run (moderators)', querystring: TakedownsQuery, response: { 200: TakedownList } },
    }, async (request) => {
      await moderator(request);
      return safety.takedownRecords.list({ status: request.query.status, before: request.query.before, limit: request.query.limit ?? 20 });
    });

    app.get('/v1/safety/takedowns/:id', {
      schema: { 'x-mmd-scope': 'device', tags, summary: 'One takedown and its progress (moderators)', params: Type.Object({ id: Id }), response: { 200: TakedownRecord } },
    }, async (request) => {
      await moderator(request);
      return safety.takedownRecords.get(request.params.id);
    });

    app.get('/v1/safety/audit', { schema: { 'x-mmd-scope': 'device', tags, summary: 'The safety audit log, newest first, filterable (moderators)', querystring: AuditQuery, response: { 200: AuditList } } }, async (request) => {
      await moderator(request);
      return safety.audit({ ...request.query, limit: request.query.limit ?? 100 });
    });

    const Reference = Type.String({ pattern: CASE_REFERENCE_PATTERN });
    app.get('/v1/safety/cases', {
      schema: { 'x-mmd-scope': 'device', tags, summary: 'Protection cases, newest first: by default the open ones that matched something (moderators)', querystring: CasesQuery, response: { 200: CaseList } },
    }, async (request) => {
      await moderator(request);
      const q = request.query;
      return safety.protection.list({ status: q.status, matched: q.matched, before: q.before, limit: q.limit ?? 50 });
    });

    app.get('/v1/safety/cases/:reference', {
      schema: { 'x-mmd-scope': 'device', tags, summary: 'One protection case with the items it matched and their reviews (moderators)', params: Type.Object({ reference: Reference }), response: { 200: CaseDetail } },
    }, async (request) => {
      await moderator(request);
      return safety.protection.get(request.params.reference);
    });

    app.post('/v1/safety/cases/:reference/decision', {
      schema: {
        'x-mmd-scope': 'device',
        tags,
        summary: 'Decide a protection case: confirm (take down what it matched, block its hashes) or reject (retire its hashes, release what it held) (moderators; audited)',
        params: Type.Object({ reference: Reference }),
        body: CaseDecisionBody,
        response: { 200: CaseDecisionReply },
      },
    }, async (request) => {
      const principal = await moderator(request);
      return safety.protection.decide(principal, request.params.reference, request.body);
    });

    app.post('/v1/safety/protect', {
      schema: {
        'x-mmd-scope': 'public',
        tags,
        summary: 'Protect your images by their hashes alone (computed in your browser with @mmd/phash); no account needed. Opens a case a moderator decides; keep the reference.',
        security: [],
        body: ProtectBody,
        response: { 201: ProtectReceipt },
      },
      bodyLimit: 8 * 1024 * 1024,
      config: { rateLimit: { max: deps.protectLimit.max, timeWindow: deps.protectLimit.windowMs } },
    }, async (request, reply) => reply.status(201).header('cache-control', 'no-store').send(await safety.protection.submit(request.body, request.ip)));

    app.get('/v1/safety/protect/:reference', {
      schema: { 'x-mmd-scope': 'public', tags, summary: 'The state of a protection case, by its reference', security: [], params: Type.Object({ reference: Reference }), response: { 200: ProtectCase } },
      // References are 80 random bits; the limit makes guessing pointless and keeps it cheap.
      config: { rateLimit: { max: 120, timeWindow: deps.protectLimit.windowMs } },
    }, async (request, reply) => reply.header('cache-control', 'no-store').send(await safety.protection.status(request.params.reference)));

    // The case page. The key travels in the body, never in a URL (which proxies and logs keep); a
    // wrong key and an unknown reference get the same 404. Per address: the route's limit.
    const casePage = { rateLimit: { max: deps.casePageLimit.max, timeWindow: deps.casePageLimit.windowMs } };
    const caseRoute = (summary: string) => ({
      schema: { 'x-mmd-scope': 'public' as const, tags, summary, security: [], params: Type.Object({ reference: Reference }), body: CaseKeyBody, response: { 200: CaseView } },
      config: casePage,
    });
    app.post('/v1/safety/protect/:reference/view', caseRoute('The case page: the case, each connected platform it was shared with and its answer, its removal requests (reference + key)'), async (request, reply) =>
      reply.header('cache-control', 'no-store').send(await safety.protection.view(request.params.reference, request.body.secret)),
    );
    app.post('/v1/safety/protect/:reference/share', caseRoute("Share the case's hashes with the connected platforms (category ncii, an opaque id; never who you are) (reference + key)"), async (request, reply) =>
      reply.header('cache-control', 'no-store').send(await safety.protection.share(request.params.reference, request.body.secret)),
    );
    app.post('/v1/safety/protect/:reference/withdraw', caseRoute('Withdraw the case here and from every platform it was shared with: its hashes retired, what it held released (reference + key)'), async (request, reply) =>
      reply.header('cache-control', 'no-store').send(await safety.protection.withdraw(request.params.reference, request.body.secret)),
    );

    app.post('/v1/safety/erasure', {
      schema: {
        'x-mmd-scope': 'public',
        // A person's session, or a protection case's reference and key in the body: neither is 401.
        'x-mmd-auth': 'session-or-case-key',
        tags,
        summary: 'Ask for every copy of media you appear in to be removed here, by hashes computed in your browser: signed in, or with a protection case reference and key. A moderator decides.',
        body: ErasureBody,
        response: { 201: ErasureRequest },
      },
      bodyLimit: 8 * 1024 * 1024,
      config: { rateLimit: { max: deps.protectLimit.max, timeWindow: deps.protectLimit.windowMs } },
    }, async (request, reply) => {
      // Signed in when a token is sent (a bad token is refused, never treated as anonymous).
      const principal = request.headers.authorization ? await authenticate(request) : null;
      return reply.status(201).header('cache-control', 'no-store').send(await safety.erasure.request(principal, request.body));
    });

    app.get('/v1/safety/erasure', {
      schema: { 'x-mmd-scope': 'account', tags, summary: 'Your removal requests with their decisions and reasons, newest first', response: { 200: ErasureList } },
    }, async (request) => ({ requests: await safety.erasure.mine(await authenticate(request)) }));

    app.get('/v1/safety/erasure-requests', {
      schema: { 'x-mmd-scope': 'device', tags, summary: 'Removal requests: by default those waiting for a decision, oldest first, with what each matches here now (moderators)', querystring: ErasureQuery, response: { 200: ErasureQueue } },
    }, async (request) => {
      await moderator(request);
      return { requests: await safety.erasure.queue({ status: request.query.status, limit: request.query.limit ?? 50 }) };
    });

    app.get('/v1/safety/erasure-requests/:id', {
      schema: { 'x-mmd-scope': 'device', tags, summary: 'One removal request with what it matches here now (moderators)', params: Type.Object({ id: Id }), response: { 200: ErasureDetail } },
    }, async (request) => {
      await moderator(request);
      return safety.erasure.get(request.params.id);
    });

    app.get('/v1/safety/erasure-requests/:id/media/:mediaId/preview', {
      schema: { 'x-mmd-scope': 'device', tags, summary: 'A strongly blurred preview of an item a waiting removal request matches (JPEG; moderators)', params: Type.Object({ id: Id, mediaId: Id }) },
    }, async (request, reply) => {
      await moderator(request);
      // Only what the request matches now: the route previews nothing else.
      if (!(await safety.erasure.get(request.params.id)).matching.includes(request.params.mediaId)) throw new AppError('not_found', 'that media item is not one this request matches');
      const bytes = await safety.previews.blurred(request.params.mediaId);
      return reply.header('content-type', 'image/jpeg').header('cache-control', 'no-store').send(bytes);
    });

    app.post('/v1/safety/erasure-requests/:id/decision', {
      schema: {
        'x-mmd-scope': 'device',
        tags,
        summary: 'Decide a removal request, with reasons the requester sees: remove (take down every copy its hashes match, block them) or decline (moderators; audited)',
        params: Type.Object({ id: Id }),
        body: ErasureDecisionBody,
        response: { 200: ErasureDetail },
      },
    }, async (request) => {
      const principal = await moderator(request);
      return safety.erasure.decide(principal, request.params.id, request.body);
    });
  };
}
