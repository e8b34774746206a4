/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com): HMAC-SHA256 over
 * `{id}.{timestamp}.{body}` with the base64 secret after `whsec_`, sent as `v1,<base64>`.
 * Receivers verify with any Standard Webhooks library (the tests use the `standardwebhooks` package).
 */
import { createHmac } from 'node:crypto';

export function signWebhook(options: { secret: string; id: string; timestamp: number; body: string }): Record<string, string> {
  const key = Buffer.from(options.secret.replace(/^whsec_/, ''), 'base64');
  const signature = createHmac('sha256', key).update(`${options.id}.${options.timestamp}.${options.body}`).digest('base64');
  return { 'webhook-id': options.id, 'webhook-timestamp': String(options.timestamp), 'webhook-signature': `v1,${signature}` };
}
