import {
  AutomationActivityList,
  AutomationConversationList,
  AutomationSettings,
  ConversationAutomation,
  CreateRuleBody,
  CreateTemplateBody,
  HandoverBody,
  Rule,
  RuleList,
  TagBody,
  Template,
  TemplateList,
  TryAutomationBody,
  TryAutomationReply,
  UpdateAutomationBody,
  UpdateRuleBody,
  UpdateTemplateBody,
} from '@mmd/contracts';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Authenticate } from '../http/auth.ts';
import type { AutomationService } from './service.ts';

const IdParam = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const tags = ['automation'];

/**
 * Automation's settings, rules and templates need a device session (they hold the assistant's key
 * and decide what the business says); handover and tags, which an integration may drive, take an
 * API key with messages:write.
 */
export function automationRoutes(deps: { automation: AutomationService; authenticate: Authenticate }): FastifyPluginAsyncTypebox {
  const { automation, authenticate } = deps;
  return async (app) => {
    app.get(
      '/v1/automation',
      { schema: { 'x-mmd-scope': 'device', tags, summary: 'Automation settings: hours, greeting, away, handover, assistant (business accounts)', response: { 200: AutomationSettings } } },
      async (request) => automation.getSettings(await authenticate(request)),
    );
    app.put(
      '/v1/automation',
      {
        schema: {
          'x-mmd-scope': 'device',
          tags,
          summary: 'Change automation settings; fields given replace those stored (the assistant key is write-only)',
          body: UpdateAutomationBody,
          response: { 200: AutomationSettings },
        },
      },
      async (request) => automation.updateSettings(await authenticate(request), request.body),
    );

    app.get(
      '/v1/automation/rules',
      { schema: { 'x-mmd-scope': 'device', tags, summary: 'Rules, in the order they are tried', response: { 200: RuleList } } },
      async (request) => ({ rules: await automation.listRules(await authenticate(request)) }),
    );
    app.post(
      '/v1/automation/rules',
      { schema: { 'x-mmd-scope': 'device', tags, summary: 'Add a rule (at most 50)', body: CreateRuleBody, response: { 201: Rule } } },
      async (request, reply) => reply.status(201).send(await automation.createRule(await authenticate(request), request.body)),
    );
    app.patch(
      '/v1/automation/rules/:id',
      { schema: { 'x-mmd-scope': 'device', tags, summary: 'Change a rule', params: IdParam, body: UpdateRuleBody, response: { 200: Rule } } },
      async (request) => automation.updateRule(await authenticate(request), request.params.id, request.body),
    );
    app.delete(
      '/v1/automation/rules/:id',
      { schema: { 'x-mmd-scope': 'device', tags, summary: 'Delete a rule', params: IdParam } },
      async (request, reply) => {
        await automation.deleteRule(await authenticate(request), request.params.id);
        return reply.status(204).send();
      },
    );

    app.get(
      '/v1/automation/templates',
      { schema: { 'x-mmd-scope': 'device', tags, summary: 'Saved messages with {{placeholders}}', response: { 200: TemplateList } } },
      async (request) => ({ templates: await automation.listTemplates(await authenticate(request)) }),
    );
    app.post(
      '/v1/automation/templates',
      { schema: { 'x-mmd-scope': 'device', tags, summary: 'Save a template (at most 50)', body: CreateTemplateBody, response: { 201: Template } } },
      async (request, reply) => reply.status(201).send(await automation.createTemplate(await authenticate(request), request.body)),
    );
    app.patch(
      '/v1/automation/templates/:id',
      { schema: { 'x-mmd-scope': 'device', tags, summary: 'Change a template', params: IdParam, body: UpdateTemplateBody, response: { 200: Template } } },
      async (request) => automation.updateTemplate(await authenticate(request), request.params.id, request.body),
    );
    app.delete(
      '/v1/automation/templates/:id',
      { schema: { 'x-mmd-scope': 'device', tags, summary: 'Delete a template (rules using it then send nothing for it)', params: IdParam } },
      async (request, reply) => {
        await automation.deleteTemplate(await authenticate(request), request.params.id);
        return reply.status(204).send();
      },
    );

    app.post(
      '/v1/automation/try',
      {
        schema: {
          'x-mmd-scope': 'device',
          tags,
          summary: 'Try a message: which rule would fire and what would be sent, without sending anything',
          body: TryAutomationBody,
          response: { 200: TryAutomationReply },
        },
      },
      async (request) => automation.tryMessage(await authenticate(request), request.body),
    );

    app.get(
      '/v1/automation/activity',
      {
        schema: {
          'x-mmd-scope': 'device',
          tags,
          summary: 'What automation did with recent contact messages (why it answered, or why not), newest first',
          querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })) }, { additionalProperties: false }),
          response: { 200: AutomationActivityList },
        },
      },
      async (request) => ({ activity: await automation.activity(await authenticate(request), request.query.limit ?? 50) }),
    );
    app.get(
      '/v1/automation/conversations',
      {
        schema: {
          'x-mmd-scope': 'messages:write',
          tags,
          summary: 'Chats with a tag, or in a state (default: those a person has)',
          querystring: Type.Object(
            { tag: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })), state: Type.Optional(Type.Enum(['bot', 'human'])) },
            { additionalProperties: false },
          ),
          response: { 200: AutomationConversationList },
        },
      },
      async (request) => ({ conversations: await automation.listConversations(await authenticate(request), request.query) }),
    );
    app.get(
      '/v1/conversations/:id/automation',
      { schema: { 'x-mmd-scope': 'messages:write', tags, summary: "A chat's bot/human state and tags (the business's own direct chats)", params: IdParam, response: { 200: ConversationAutomation } } },
      async (request) => automation.conversation(await authenticate(request), request.params.id),
    );
    app.post(
      '/v1/conversations/:id/handover',
      {
        schema: {
          'x-mmd-scope': 'messages:write',
          tags,
          summary: 'Take the chat over (to: human; automation stops) or hand it back (to: bot)',
          params: IdParam,
          body: HandoverBody,
          response: { 200: ConversationAutomation },
        },
      },
      async (request) => automation.handover(await authenticate(request), request.params.id, request.body.to),
    );
    app.post(
      '/v1/conversations/:id/tags',
      { schema: { 'x-mmd-scope': 'messages:write', tags, summary: 'Tag a chat (its contact)', params: IdParam, body: TagBody, response: { 200: ConversationAutomation } } },
      async (request) => automation.addTag(await authenticate(request), request.params.id, request.body.tag),
    );
    app.delete(
      '/v1/conversations/:id/tags/:tag',
      {
        schema: {
          'x-mmd-scope': 'messages:write',
          tags,
          summary: 'Remove a tag from a chat',
          params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }), tag: Type.String({ minLength: 1, maxLength: 32 }) }),
          response: { 200: ConversationAutomation },
        },
      },
      async (request) => automation.removeTag(await authenticate(request), request.params.id, request.params.tag),
    );
  };
}
