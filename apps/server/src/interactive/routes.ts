import { AnswerCallbackBody, EditButtonsBody, FormResults, InteractionBody, InteractionReply, Message, PollVoters, PollVotersQuery } from '@mmd/contracts';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Authenticate } from '../http/auth.ts';
import type { Interactive } from './service.ts';

const Id = Type.String({ minLength: 1, maxLength: 64 });

export function interactiveRoutes(deps: { interactive: Interactive; authenticate: Authenticate }): FastifyPluginAsyncTypebox {
  const { interactive, authenticate } = deps;
  return async (app) => {
    app.post('/v1/messages/:id/interactions', {
      schema: {
        'x-mmd-scope': 'messages:write',
        tags: ['interactive'],
        summary: 'Tap a button, pick a list row, vote in a poll (options: [] retracts) or submit a form; a callback tap waits up to 15 s for the bot’s answer',
        params: Type.Object({ id: Id }),
        body: InteractionBody,
        response: { 200: InteractionReply },
      },
    }, async (request) => {
      const principal = await authenticate(request);
      return interactive.interact(principal, request.params.id, request.body);
    });

    app.post('/v1/callbacks/:id/answer', {
      schema: {
        'x-mmd-scope': 'messages:write',
        tags: ['interactive'],
        summary: 'The sender bot answers a callback query (once, within 15 s): a toast, an alert or a URL to open',
        params: Type.Object({ id: Id }),
        body: AnswerCallbackBody,
      },
    }, async (request, reply) => {
      const principal = await authenticate(request);
      await interactive.answerCallback(principal, request.params.id, request.body);
      return reply.status(204).send();
    });

    app.put('/v1/messages/:id/buttons', {
      schema: {
        'x-mmd-scope': 'messages:write',
        tags: ['interactive'],
        summary: 'Replace (null: remove) the buttons of your message; everyone gets message.edited',
        params: Type.Object({ id: Id }),
        body: EditButtonsBody,
        response: { 200: Message },
      },
    }, async (request) => {
      const principal = await authenticate(request);
      return interactive.editButtons(principal, request.params.id, request.body.buttons);
    });

    app.post('/v1/messages/:id/close', {
      schema: {
        'x-mmd-scope': 'messages:write',
        tags: ['interactive'],
        summary: 'Close your poll or form: no more votes or submissions',
        params: Type.Object({ id: Id }),
        response: { 200: InteractionReply },
      },
    }, async (request) => {
      const principal = await authenticate(request);
      return interactive.close(principal, request.params.id);
    });

    app.get('/v1/messages/:id/poll/voters', {
      schema: {
        'x-mmd-scope': 'messages:read',
        tags: ['interactive'],
        summary: 'Who chose one option of a public (non-anonymous) poll, oldest vote first',
        params: Type.Object({ id: Id }),
        querystring: PollVotersQuery,
        response: { 200: PollVoters },
      },
    }, async (request) => {
      const principal = await authenticate(request);
      const q = request.query;
      return interactive.voters(principal, request.params.id, { option: q.option, after: q.after, limit: q.limit ?? 50 });
    });

    app.get('/v1/messages/:id/form/results', {
      schema: {
        'x-mmd-scope': 'messages:read',
        tags: ['interactive'],
        summary: 'Your form’s results: per question an aggregate, and every submission',
        params: Type.Object({ id: Id }),
        response: { 200: FormResults },
      },
    }, async (request) => {
      const principal = await authenticate(request);
      return interactive.formResults(principal, request.params.id);
    });

    app.get('/v1/messages/:id/form/results.csv', {
      schema: {
        'x-mmd-scope': 'messages:read',
        tags: ['interactive'],
        summary: 'Your form’s submissions as CSV (UTF-8 with BOM, one row per person, option texts)',
        params: Type.Object({ id: Id }),
      },
    }, async (request, reply) => {
      const principal = await authenticate(request);
      const csv = await interactive.formResultsCsv(principal, request.params.id);
      return reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="form-${request.params.id}.csv"`)
        .send(csv);
    });
  };
}
