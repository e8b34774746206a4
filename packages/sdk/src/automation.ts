/**
 * Automation for business accounts (`client.automation`): settings, rules, templates, the "try a
 * message" preview, and each chat's bot/human state and tags. Persons and bots get 403
 * `business_only`.
 */
import type {
  AutomationActivity,
  AutomationActivityList,
  AutomationConversationList,
  AutomationSettings,
  ConversationAutomation,
  CreateRuleBody,
  CreateTemplateBody,
  Rule,
  RuleList,
  Template,
  TemplateList,
  TryAutomationBody,
  TryAutomationReply,
  UpdateAutomationBody,
  UpdateRuleBody,
  UpdateTemplateBody,
} from '@mmd/contracts';

type Request = <T>(method: string, path: string, body?: unknown) => Promise<T>;
const enc = encodeURIComponent;

/** Typed calls for `/v1/automation…` and a chat's automation state. */
export class AutomationApi {
  constructor(private readonly request: Request) {}

  /** Hours, greeting, away, handover words, assistant (its key is never returned: `api_key_set`). */
  settings() {
    return this.request<AutomationSettings>('GET', '/v1/automation');
  }
  /** Fields given replace those stored; `assistant.api_key: null` removes the key. */
  updateSettings(body: UpdateAutomationBody) {
    return this.request<AutomationSettings>('PUT', '/v1/automation', body);
  }
  /** Rules in the order they are tried. */
  async rules(): Promise<Rule[]> {
    return (await this.request<RuleList>('GET', '/v1/automation/rules')).rules;
  }
  createRule(body: CreateRuleBody) {
    return this.request<Rule>('POST', '/v1/automation/rules', body);
  }
  updateRule(id: string, body: UpdateRuleBody) {
    return this.request<Rule>('PATCH', `/v1/automation/rules/${enc(id)}`, body);
  }
  deleteRule(id: string) {
    return this.request<void>('DELETE', `/v1/automation/rules/${enc(id)}`);
  }
  async templates(): Promise<Template[]> {
    return (await this.request<TemplateList>('GET', '/v1/automation/templates')).templates;
  }
  createTemplate(body: CreateTemplateBody) {
    return this.request<Template>('POST', '/v1/automation/templates', body);
  }
  updateTemplate(id: string, body: UpdateTemplateBody) {
    return this.request<Template>('PATCH', `/v1/automation/templates/${enc(id)}`, body);
  }
  deleteTemplate(id: string) {
    return this.request<void>('DELETE', `/v1/automation/templates/${enc(id)}`);
  }
  /** Which rule would fire for this message and what would be sent, without sending anything. */
  try(body: TryAutomationBody) {
    return this.request<TryAutomationReply>('POST', '/v1/automation/try', body);
  }
  /** A chat's bot/human state and tags. */
  conversation(conversationId: string) {
    return this.request<ConversationAutomation>('GET', `/v1/conversations/${enc(conversationId)}/automation`);
  }
  /** `human`: a person takes the chat and automation stops there; `bot`: hand it back. */
  handover(conversationId: string, to: 'human' | 'bot') {
    return this.request<ConversationAutomation>('POST', `/v1/conversations/${enc(conversationId)}/handover`, { to });
  }
  tag(conversationId: string, tag: string) {
    return this.request<ConversationAutomation>('POST', `/v1/conversations/${enc(conversationId)}/tags`, { tag });
  }
  untag(conversationId: string, tag: string) {
    return this.request<ConversationAutomation>('DELETE', `/v1/conversations/${enc(conversationId)}/tags/${enc(tag)}`);
  }
  /** What automation did with recent contact messages (why it answered, or why not), newest first. */
  async activity(limit = 50): Promise<AutomationActivity[]> {
    return (await this.request<AutomationActivityList>('GET', `/v1/automation/activity?limit=${limit}`)).activity;
  }
  /** Chats with a tag, or in a state (default: those a person has). */
  async conversations(filter: { tag?: string; state?: 'bot' | 'human' } = {}): Promise<ConversationAutomation[]> {
    const query = new URLSearchParams(Object.entries(filter).filter(([, v]) => v !== undefined) as [string, string][]).toString();
    return (await this.request<AutomationConversationList>('GET', `/v1/automation/conversations${query ? `?${query}` : ''}`)).conversations;
  }
}
