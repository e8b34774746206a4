/**
 * The team inbox of a business (`client.inbox`): call it on `forBusiness(id)` as a team member, or
 * on the business account's own client. Analysts read; owners, admins and agents act.
 */
import type {
  CannedReply,
  CannedReplyList,
  CreateCannedReplyBody,
  InboxConversation,
  InboxConversationDetail,
  InboxList,
  InboxListQuery,
  InboxNote,
  InboxReplyBody,
  MediaItem,
  Message,
  UpdateInboxConversationBody,
} from '@mmd/contracts';

type Request = <T>(method: string, path: string, body?: unknown) => Promise<T>;
const enc = encodeURIComponent;

/** Typed calls for `/v1/business/inbox…` and `/v1/business/canned-replies`. */
export class InboxApi {
  constructor(private readonly request: Request) {}

  /** Customer conversations, newest activity first; pass `next` back as `cursor`. */
  list(options: InboxListQuery = {}) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(options)) if (v !== undefined) params.set(k, String(v));
    const qs = params.toString();
    return this.request<InboxList>('GET', `/v1/business/inbox${qs ? `?${qs}` : ''}`);
  }
  /** One conversation: assignment, status, hand-off, newest messages (or those before `before`), internal notes. */
  get(conversationId: string, options: { before?: number; limit?: number } = {}) {
    const params = new URLSearchParams();
    if (options.before !== undefined) params.set('before', String(options.before));
    if (options.limit !== undefined) params.set('limit', String(options.limit));
    const qs = params.toString();
    return this.request<InboxConversationDetail>('GET', `/v1/business/inbox/${enc(conversationId)}${qs ? `?${qs}` : ''}`);
  }
  /** Assign (`assignee_id`, null to unassign; `if_unassigned` to fail if taken), set `status`, or `handoff` to 'human' | 'bot'. */
  update(conversationId: string, body: UpdateInboxConversationBody) {
    return this.request<InboxConversation>('PATCH', `/v1/business/inbox/${enc(conversationId)}`, body);
  }
  /** An internal note: the team sees it, the customer never does. */
  addNote(conversationId: string, text: string) {
    return this.request<InboxNote>('POST', `/v1/business/inbox/${enc(conversationId)}/notes`, { text });
  }
  /** Reply as the business; the customer sees "Business · your handle". */
  reply(conversationId: string, body: InboxReplyBody) {
    return this.request<Message>('POST', `/v1/business/inbox/${enc(conversationId)}/messages`, body);
  }
  /** A media item a message of this chat carries, with URLs signed for the business. */
  media(conversationId: string, messageId: string, mediaId: string) {
    return this.request<MediaItem>('GET', `/v1/business/inbox/${enc(conversationId)}/messages/${enc(messageId)}/media/${enc(mediaId)}`);
  }
  /** Saved replies for the composer (automation's templates). */
  cannedReplies() {
    return this.request<CannedReplyList>('GET', '/v1/business/canned-replies');
  }
  createCannedReply(body: CreateCannedReplyBody) {
    return this.request<CannedReply>('POST', '/v1/business/canned-replies', body);
  }
  async deleteCannedReply(id: string) {
    await this.request<void>('DELETE', `/v1/business/canned-replies/${enc(id)}`);
  }
}
