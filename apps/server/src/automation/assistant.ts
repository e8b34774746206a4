/**
 * The optional assistant: any OpenAI-compatible chat-completions endpoint answers a contact's
 * message where no rule matched, with the conversation's recent messages as context. Its answer
 * is sent as an automated message. Off by default; the endpoint is reached through the SSRF-safe
 * outbound fetch, with a timeout and a size cap on the answer.
 */
import type { Message } from '@mmd/contracts';
import type { StoredSettings } from './engine.ts';

/** A fetch that refuses unsafe targets (platform/outbound.ts); tests may pass one for loopback. */
export type OutboundFetch = (url: string, init: { method: string; headers: Record<string, string>; body: string; signal?: AbortSignal | undefined }) => Promise<{ status: number; text(): Promise<string> }>;

const DEFAULT_PROMPT = 'You answer customers of a business in a chat, briefly and politely. If you cannot help, say that a person will answer soon.';

/** `…/v1` → `…/v1/chat/completions`; a URL already ending there is used as it is. */
export function completionsUrl(base: string): string {
  const trimmed = base.replace(/\/+$/, '');
  return trimmed.endsWith('/chat/completions') ? trimmed : `${trimmed}/chat/completions`;
}

export async function callAssistant(options: {
  fetch: OutboundFetch;
  settings: StoredSettings['assistant'];
  apiKey: string | null;
  businessId: string;
  context: Message[];
}): Promise<string | null> {
  const { settings } = options;
  if (!settings.url || !settings.model) return null;
  const messages = [
    { role: 'system', content: settings.system_prompt ?? DEFAULT_PROMPT },
    ...options.context
      .filter((m) => m.text && !m.deleted)
      .map((m) => ({ role: m.sender_id === options.businessId ? 'assistant' : 'user', content: m.text!.slice(0, 4096) })),
  ];
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
  const response = await options.fetch(completionsUrl(settings.url), {
    method: 'POST',
    headers,
    body: JSON.stringify({ model: settings.model, messages, max_tokens: 500 }),
    signal: AbortSignal.timeout(30_000),
  });
  if (response.status < 200 || response.status >= 300) throw new Error(`assistant endpoint answered ${response.status}`);
  const body = JSON.parse(await response.text()) as { choices?: { message?: { content?: unknown } }[] };
  const content = body.choices?.[0]?.message?.content;
  return typeof content === 'string' && content.trim() ? content.trim() : null;
}
