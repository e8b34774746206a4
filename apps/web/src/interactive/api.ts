/** The interactive calls the widgets make, through the SDK. */
import type { FormResults, InteractionReply, Message, MmdClient, PollInput, PollVoters } from '@mmd/sdk';
import type { BotCommand, Interaction } from './types.ts';

/** Acts on a message: a button, a list row, a vote, a form's answers. */
export function interact(client: MmdClient, messageId: string, body: Interaction): Promise<InteractionReply> {
  return client.interact(messageId, body);
}

/** Closes a poll or form (its sender only); the reply carries the sender's view of it. */
export function closeInteractive(client: MmdClient, messageId: string): Promise<InteractionReply> {
  return client.closePoll(messageId);
}

export type Voter = PollVoters['voters'][number];

/** Who chose an option of a public poll (the first 200). */
export async function pollVoters(client: MmdClient, messageId: string, option: number): Promise<Voter[]> {
  return (await client.pollVoters(messageId, option, { limit: 200 })).voters;
}

/** A form's aggregate results and every submission (its sender only). */
export function formResults(client: MmdClient, messageId: string): Promise<FormResults> {
  return client.formResults(messageId);
}

/** A form's submissions as CSV text (its sender only). */
export function formResultsCsv(client: MmdClient, messageId: string): Promise<string> {
  return client.formResultsCsv(messageId);
}

/** The commands a bot lists for the "/" menu; empty for an account that has none. */
export function accountCommands(client: MmdClient, handle: string): Promise<BotCommand[]> {
  return client.commandsOf(handle);
}

/** Sends a poll (anyone may, in any conversation they can post in). */
export function sendPoll(client: MmdClient, conversationId: string, poll: PollInput): Promise<Message> {
  return client.sendPoll(conversationId, poll, { idempotency_key: crypto.randomUUID() });
}
