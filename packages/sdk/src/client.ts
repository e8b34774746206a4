/**
 * MmdClient: every MMD API call as a typed method. The CLI, the web app and the end-to-end tests
 * all talk to the server through it, so the API is exercised the way users exercise it.
 */
import type {
  ChannelViewsReply,
  ConversationBanList,
  CreateInviteLinkBody,
  InviteLink,
  InviteLinkList,
  InvitePreview,
  JoinByInviteReply,
  JoinRequestList,
  AiDisclosure,
  UnreadMentionList,
  CreateHmaConsumerBody,
  CreatePeerBody,
  HmaConsumer,
  HmaConsumerCreated,
  HmaConsumerList,
  RotateIdentityBody,
  UpdateHmaConsumerBody,
  FederationIdentity,
  Peer,
  PeerList,
  ReceivedCase,
  ReceivedList,
  SharedCase,
  SharedList,
  UpdatePeerBody,
  AmplificationList,
  RestrictAccountBody,
  SpreadClusterDetail,
  SpreadClusterList,
  SpreadDecisionBody,
  SpreadDecisionReply,
  ApproveTemplateBody,
  CreateMessageTemplateBody,
  MessageTemplate,
  MessageTemplateList,
  PreviewTemplateBody,
  TemplatePreview,
  UpdateMessageTemplateBody,
  Campaign,
  CampaignDetail,
  CampaignList,
  CampaignRecipientList,
  CreateCampaignBody,
  CreateNotificationBody,
  Notification,
  RecipientStatus,
  ResendCampaignBody,
  TestCampaignBody,
  TestCampaignReply,
  BusinessMember,
  BusinessMemberList,
  BusinessProfile,
  BusinessRole,
  BusinessSelf,
  MyBusinesses,
  UpdateBusinessBody,
  AnswerCallbackBody,
  ButtonInput,
  CardInput,
  FormAnswers,
  FormInput,
  FormResults,
  InteractionBody,
  InteractionReply,
  ListInput,
  MessageContentType,
  PollInput,
  PollVoters,
  SendMessageBody,
  Account,
  AccountKind,
  ApiKey,
  ApiScope,
  Conversation,
  ConversationKind,
  CreateAccountReply,
  CreateApiKeyReply,
  CreateSessionReply,
  Device,
  HistoryReply,
  GalleryReply,
  GalleryType,
  SearchReply,
  SearchType,
  MediaItem,
  Member,
  Message,
  Problem,
  ReactionDetails,
  Receipts,
  UpdatesReply,
  UpdateConversationBody,
  Block,
  Draft,
  PinnedList,
  StarredList,
  ChatSettings,
  CreatePushSubscriptionBody,
  PushSubscriptionList,
  PushSubscriptionView,
  PushVapidKey,
  UpdateChatSettingsBody,
  Invitation,
  InvitedReply,
  Privacy,
  UpdatePrivacyBody,
  ChangePasswordBody,
  ChangePasswordReply,
  UploadReply,
  AddSignalsBody,
  AddSignalsReply,
  AuditList,
  Bank,
  BankFormat,
  BankList,
  CreateBankBody,
  CreateReportBody,
  ReportAccountBody,
  ReportAccountReply,
  DecisionBody,
  DecisionReply,
  ImportReply,
  MatchReply,
  CaseDecisionBody,
  CaseDecisionReply,
  CaseDetail,
  CaseList,
  CaseStatus,
  ProtectBody,
  ProtectCase,
  ProtectReceipt,
  CaseView,
  ErasureBody,
  ErasureDecisionBody,
  ErasureDetail,
  ErasureList,
  ErasureQueue,
  ErasureRequest,
  ErasureStatus,
  UpdateBankBody,
  Report,
  Review,
  ReviewList,
  ReportList,
  Takedown,
  TakedownBody,
  TakedownList,
  TakedownRecord,
  Bot,
  BotCommand,
  BotWithToken,
  CreatedWebhook,
  DeliveryList,
  Webhook,
  WebhookDelivery,
} from '@mmd/contracts';
import { AutomationApi } from './automation.ts';
import { InboxApi } from './inbox.ts';
import { ProfilesApi } from './profiles.ts';
import { ContactsApi } from './contacts.ts';
import { ContactImportsApi, SegmentsApi } from './audience.ts';
import { MmdError } from './errors.ts';
import { uploadResumable } from './upload-tus.ts';
import { cancelled, uploadWithXhr } from './upload-xhr.ts';
import { type Stream, type StreamOptions, type WebSocketFactory, openStream } from './stream.ts';

export interface ClientOptions {
  /** e.g. http://localhost:8080 */
  baseUrl: string;
  /** A device token or API key. */
  token?: string;
  fetch?: typeof fetch;
  /** How to open a WebSocket; defaults to the global WebSocket, else the `ws` package. */
  webSocket?: WebSocketFactory;
  /** The business a team member acts for (sent as `x-mmd-business` on every request); see forBusiness(). */
  business?: string;
}

export class MmdClient {
  readonly baseUrl: string;
  token: string | undefined;
  private readonly fetchImpl: typeof fetch;
  private readonly webSocket: WebSocketFactory | undefined;
  /** The business this client acts for, if any (`x-mmd-business`). */
  readonly business: string | undefined;

  constructor(options: ClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.token = options.token;
    this.fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.webSocket = options.webSocket;
    this.business = options.business;
  }

  /**
   * A client for the same account acting for a business it works for: every request names the
   * business in the `x-mmd-business` header. (A business account's own client needs no such call.)
   */
  forBusiness(businessId: string): MmdClient {
    return new MmdClient({ baseUrl: this.baseUrl, token: this.token, fetch: this.fetchImpl, webSocket: this.webSocket, business: businessId });
  }

  /** Automation for business accounts: settings, rules, templates, try, handover, tags. */
  get automation(): AutomationApi {
    return new AutomationApi((method, path, body) => this.request(method, path, body));
  }

  /** The team inbox of the business this client acts for (forBusiness(id), or the business account itself). */
  get inbox(): InboxApi {
    return new InboxApi((method, path, body) => this.request(method, path, body));
  }

  /** Contacts and consent: a business's customers and ledger (on forBusiness(id) as a team member), and a person's own consents. */
  get contacts(): ContactsApi {
    return new ContactsApi((method, path, body) => this.request(method, path, body));
  }

  /** Contact import (streamed upload, progress, error report) and CSV export, for a business. */
  get contactImports(): ContactImportsApi {
    return new ContactImportsApi(
      (method, path, body) => this.request(method, path, body),
      (path, init) => this.raw(path, { ...init, headers: { ...this.auth(), ...(init.headers as Record<string, string> | undefined) } }),
    );
  }

  /** Profiles, presence and people search. */
  get profiles(): ProfilesApi {
    return new ProfilesApi(
      (method, path, body) => this.request(method, path, body),
      (path, init) => this.raw(path, { ...init, headers: { ...this.auth(), ...(init.headers as Record<string, string> | undefined) } }),
    );
  }

  /** A business's segments: saved audience rules and their live counts. */
  get segments(): SegmentsApi {
    return new SegmentsApi((method, path, body) => this.request(method, path, body));
  }

  /** A client for the same server with another token. */
  as(token: string): MmdClient {
    return new MmdClient({ baseUrl: this.baseUrl, token, fetch: this.fetchImpl, webSocket: this.webSocket });
  }

  /** Low-level call: JSON in, JSON out, MmdError on any non-2xx answer. */
  async request<T>(method: string, path: string, body?: unknown, init: { headers?: Record<string, string>; signal?: AbortSignal } = {}): Promise<T> {
    const headers: Record<string, string> = { ...init.headers };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (this.business) headers['x-mmd-business'] = this.business;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await this.fetchImpl(`${this.baseUrl}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: init.signal });
    } catch (err) {
      throw new MmdError(0, null, `cannot reach ${this.baseUrl}: ${(err as Error).message}`);
    }
    const text = await response.text();
    if (!response.ok) {
      let problem: Problem | null = null;
      try {
        problem = JSON.parse(text) as Problem;
      } catch {
        // Not problem+json (a proxy's error page, say): keep the status.
      }
      throw new MmdError(response.status, problem, `HTTP ${response.status}`);
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }

  // Accounts and devices
  createAccount(input: { handle: string; password: string; kind?: AccountKind; device_name?: string }) {
    return this.request<CreateAccountReply>('POST', '/v1/accounts', input);
  }
  login(input: { handle: string; password: string; device_name?: string }) {
    return this.request<CreateSessionReply>('POST', '/v1/sessions', input);
  }
  me() {
    return this.request<Account>('GET', '/v1/me');
  }
  /** Changes the password (the current one is required); the account's other devices are signed out. */
  changePassword(input: ChangePasswordBody) {
    return this.request<ChangePasswordReply>('POST', '/v1/account/password', input);
  }
  async devices() {
    return (await this.request<{ devices: Device[] }>('GET', '/v1/devices')).devices;
  }
  revokeDevice(id: string) {
    return this.request<void>('DELETE', `/v1/devices/${enc(id)}`);
  }
  createApiKey(input: { name: string; scopes: ApiScope[] }) {
    return this.request<CreateApiKeyReply>('POST', '/v1/api-keys', input);
  }
  async apiKeys() {
    return (await this.request<{ api_keys: ApiKey[] }>('GET', '/v1/api-keys')).api_keys;
  }
  revokeApiKey(id: string) {
    return this.request<void>('DELETE', `/v1/api-keys/${enc(id)}`);
  }

  // Conversations
  createConversation(input: { kind: ConversationKind; members?: string[]; title?: string; handle?: string }) {
    return this.request<Conversation>('POST', '/v1/conversations', input);
  }
  /** Opens (or returns the existing) direct chat with a handle. */
  openDirect(handle: string) {
    return this.createConversation({ kind: 'direct', members: [handle] });
  }
  async conversations() {
    return (await this.request<{ conversations: Conversation[] }>('GET', '/v1/conversations')).conversations;
  }
  conversation(id: string) {
    return this.request<Conversation>('GET', `/v1/conversations/${enc(id)}`);
  }
  /** Admins: rename a group or channel, or choose whether a group's new members read its earlier history. */
  updateConversation(id: string, input: UpdateConversationBody) {
    return this.request<Conversation>('PATCH', `/v1/conversations/${enc(id)}`, input);
  }
  findChannel(handle: string) {
    return this.request<Conversation>('GET', `/v1/channels/${enc(handle.replace(/^@/, ''))}`);
  }
  join(conversationId: string) {
    return this.request<Conversation>('POST', `/v1/conversations/${enc(conversationId)}/join`);
  }
  members(conversationId: string, options: { after?: string; limit?: number } = {}) {
    return this.request<{ members: Member[]; next: string | null }>('GET', `/v1/conversations/${enc(conversationId)}/members${query(options)}`);
  }
  /** Adds someone (admins). When their privacy setting asks for it, they are invited instead: `{invited: true}`. */
  addMember(conversationId: string, handle: string) {
    return this.request<Member | InvitedReply>('POST', `/v1/conversations/${enc(conversationId)}/members`, { handle: handle.replace(/^@/, '') });
  }
  /** Invitations waiting for your answer (people who could not add you directly). */
  async invitations() {
    return (await this.request<{ invitations: Invitation[] }>('GET', '/v1/invitations')).invitations;
  }
  /** Accepts an invitation: you join, and get the conversation. */
  acceptInvitation(id: string) {
    return this.request<Conversation>('POST', `/v1/invitations/${enc(id)}/accept`);
  }
  declineInvitation(id: string) {
    return this.request<void>('POST', `/v1/invitations/${enc(id)}/decline`);
  }

  // How you keep a chat (yours alone; your other devices follow through the stream)
  /** Muted until, pinned, archived, marked unread, cleared up to. */
  chatSettings(conversationId: string) {
    return this.request<ChatSettings>('GET', `/v1/conversations/${enc(conversationId)}/settings`);
  }
  /** Mutes ('8h', '1w', 'always', 'off'), pins (at most 5: `pin_limit`), archives or marks a chat unread. */
  updateChatSettings(conversationId: string, input: UpdateChatSettingsBody) {
    return this.request<ChatSettings>('PATCH', `/v1/conversations/${enc(conversationId)}/settings`, input);
  }

  /** The server's VAPID public key: pass it to `pushManager.subscribe` as the applicationServerKey. */
  pushVapidKey() {
    return this.request<PushVapidKey>('GET', '/v1/push/vapid-key');
  }
  /** Registers this device's Web Push subscription (`PushSubscription.toJSON()`); the same endpoint again updates it (e.g. `previews`). */
  subscribePush(input: CreatePushSubscriptionBody) {
    return this.request<PushSubscriptionView>('POST', '/v1/push/subscriptions', input);
  }
  /** This device's push subscriptions. */
  async pushSubscriptions(): Promise<PushSubscriptionView[]> {
    return (await this.request<PushSubscriptionList>('GET', '/v1/push/subscriptions')).subscriptions;
  }
  /** Deletes one of your push subscriptions: no more pushes to it. */
  unsubscribePush(id: string) {
    return this.request<void>('DELETE', `/v1/push/subscriptions/${enc(id)}`);
  }

  /** Deletes a group for everyone (its owner): every member is removed. */
  deleteGroup(conversationId: string) {
    return this.request<void>('DELETE', `/v1/conversations/${enc(conversationId)}`);
  }
  /** Your drafts in the chats you are in, newest first. */
  async drafts() {
    return (await this.request<{ drafts: Draft[] }>('GET', '/v1/drafts')).drafts;
  }
  /** Saves what you are writing in a chat (empty: deletes it); your other devices get `draft.updated`. */
  saveDraft(conversationId: string, text: string) {
    return this.request<Draft>('PUT', `/v1/conversations/${enc(conversationId)}/draft`, { text });
  }
  /** Clear chat: every message so far disappears for you alone, on all your devices. */
  clearChat(conversationId: string) {
    return this.request<ChatSettings>('POST', `/v1/conversations/${enc(conversationId)}/clear`);
  }

  // Blocks and privacy
  /** Blocks an account: it can no longer write to you in a direct chat, open one, or add you anywhere. */
  block(handle: string) {
    return this.request<Block>('POST', '/v1/blocks', { handle: handle.replace(/^@/, '') });
  }
  unblock(handle: string) {
    return this.request<void>('DELETE', `/v1/blocks/${enc(handle.replace(/^@/, ''))}`);
  }
  async blocks() {
    return (await this.request<{ blocks: Block[] }>('GET', '/v1/blocks')).blocks;
  }
  /** Who may add you to groups and channels. */
  privacy() {
    return this.request<Privacy>('GET', '/v1/account/privacy');
  }
  /** Changes only the settings named. */
  setPrivacy(input: UpdatePrivacyBody) {
    return this.request<Privacy>('PATCH', '/v1/account/privacy', input);
  }
  removeMember(conversationId: string, accountId: string) {
    return this.request<void>('DELETE', `/v1/conversations/${enc(conversationId)}/members/${enc(accountId)}`);
  }
  setRole(conversationId: string, accountId: string, role: 'admin' | 'member') {
    return this.request<void>('PATCH', `/v1/conversations/${enc(conversationId)}/members/${enc(accountId)}`, { role });
  }

  // Invite links
  /** Makes an invite link to a group or channel (admins). Open it at `path` (`/join/<token>`) on the server. */
  createInviteLink(conversationId: string, input: CreateInviteLinkBody = {}) {
    return this.request<InviteLink>('POST', `/v1/conversations/${enc(conversationId)}/invite-links`, input);
  }
  /** A conversation's invite links (admins): open ones first. */
  inviteLinks(conversationId: string) {
    return this.request<InviteLinkList>('GET', `/v1/conversations/${enc(conversationId)}/invite-links`);
  }
  /** Revokes an invite link (admins): nobody joins through it from now on. */
  revokeInviteLink(conversationId: string, linkId: string) {
    return this.request<void>('DELETE', `/v1/conversations/${enc(conversationId)}/invite-links/${enc(linkId)}`);
  }
  /** What an invite link opens; `invite_not_found` (404) alike for unknown, revoked, expired and full links. */
  previewInvite(token: string) {
    return this.request<InvitePreview>('GET', `/v1/invites/${enc(token)}`);
  }
  /** Joins through an invite link, or asks to join (`status: 'requested'`) when it needs approval. */
  joinByInvite(token: string) {
    return this.request<JoinByInviteReply>('POST', `/v1/invites/${enc(token)}/join`);
  }
  /** Join requests waiting for approval (admins). */
  joinRequests(conversationId: string, options: { after?: string; limit?: number } = {}) {
    return this.request<JoinRequestList>('GET', `/v1/conversations/${enc(conversationId)}/join-requests${query(options)}`);
  }
  /** Approves (they join) or declines a join request (admins). */
  answerJoinRequest(conversationId: string, accountId: string, approve: boolean) {
    return this.request<Member | undefined>('POST', `/v1/conversations/${enc(conversationId)}/join-requests/${enc(accountId)}/${approve ? 'approve' : 'decline'}`);
  }
  /** People an admin removed, who cannot rejoin by link until unbanned (admins). */
  bans(conversationId: string, options: { after?: string; limit?: number } = {}) {
    return this.request<ConversationBanList>('GET', `/v1/conversations/${enc(conversationId)}/bans${query(options)}`);
  }
  /** Lets someone removed come back through links (admins); it adds nobody. */
  unban(conversationId: string, accountId: string) {
    return this.request<void>('DELETE', `/v1/conversations/${enc(conversationId)}/bans/${enc(accountId)}`);
  }

  // Messages
  /** Sends a message: text, media, a reply or a forward, and any interactive content (see the helpers below). */
  send(conversationId: string, input: SendMessageBody) {
    return this.request<Message>('POST', `/v1/conversations/${enc(conversationId)}/messages`, input);
  }
  /** History; `type` keeps only messages carrying that interactive content (`poll`, `form`, …, `interactive`: any). */
  history(conversationId: string, options: { after?: number; before?: number; limit?: number; type?: MessageContentType } = {}) {
    return this.request<HistoryReply>('GET', `/v1/conversations/${enc(conversationId)}/messages${query(options)}`);
  }
  /**
   * Searches messages in every chat you are in, or in one (`conversationId`): by words (`q`: all
   * of them, each the start of a word; case, accents and punctuation ignored), by sender's handle
   * (`from`) and by what a message carries (`type`). Newest first; pass `next_cursor` back as
   * `cursor` for older results. Each result's `highlights` are UTF-16 offsets into its text.
   */
  search(options: { q?: string; conversationId?: string; type?: SearchType; from?: string; cursor?: string; limit?: number }) {
    const { conversationId, ...rest } = options;
    return this.request<SearchReply>('GET', `/v1/search${query({ ...rest, conversation_id: conversationId })}`);
  }
  /**
   * One chat's gallery: its photos, videos, documents or links (`type`), one item per message,
   * newest first, with the message's items of that type (`media`) or its links as written
   * (`links`). Pass `next_cursor` back as `before` for older items.
   */
  gallery(conversationId: string, options: { type: GalleryType; before?: string; limit?: number }) {
    return this.request<GalleryReply>('GET', `/v1/conversations/${enc(conversationId)}/media${query(options)}`);
  }
  message(id: string) {
    return this.request<Message>('GET', `/v1/messages/${enc(id)}`);
  }
  edit(id: string, text: string) {
    return this.request<Message>('PATCH', `/v1/messages/${enc(id)}`, { text });
  }
  /** Pins a message at the top of its chat for everyone (admins in groups and channels; either person in a direct chat). */
  pin(messageId: string) {
    return this.request<void>('PUT', `/v1/messages/${enc(messageId)}/pin`);
  }
  unpin(messageId: string) {
    return this.request<void>('DELETE', `/v1/messages/${enc(messageId)}/pin`);
  }
  /** A chat's pinned messages, newest pin first. */
  async pins(conversationId: string) {
    return (await this.request<PinnedList>('GET', `/v1/conversations/${enc(conversationId)}/pins`)).pins;
  }
  /** Stars a message (your own list). */
  star(messageId: string) {
    return this.request<void>('PUT', `/v1/messages/${enc(messageId)}/star`);
  }
  unstar(messageId: string) {
    return this.request<void>('DELETE', `/v1/messages/${enc(messageId)}/star`);
  }
  /** Your starred messages, newest star first. */
  async starred() {
    return (await this.request<StarredList>('GET', '/v1/starred')).messages;
  }
  /** Delete for me: the message disappears for you alone, on all your devices. */
  deleteForMe(id: string) {
    return this.request<void>('POST', `/v1/messages/${enc(id)}/delete-for-me`);
  }
  deleteMessage(id: string) {
    return this.request<void>('DELETE', `/v1/messages/${enc(id)}`);
  }
  react(id: string, emoji: string) {
    return this.request<Message>('PUT', `/v1/messages/${enc(id)}/reactions`, { emoji });
  }
  unreact(id: string, emoji: string) {
    return this.request<Message>('DELETE', `/v1/messages/${enc(id)}/reactions/${enc(emoji)}`);
  }
  /** Removes your message's link preview, for everyone. */
  removeLinkPreview(messageId: string) {
    return this.request<void>('DELETE', `/v1/messages/${enc(messageId)}/link-preview`);
  }
  /** Who reacted with what (the latest 100 per emoji). In channels, admins only. */
  reactionDetails(messageId: string) {
    return this.request<ReactionDetails>('GET', `/v1/messages/${enc(messageId)}/reactions`);
  }
  /** Your unread @mentions in a group, oldest first (up to `limit`, after seq `after`): where the @ button jumps. */
  unreadMentions(conversationId: string, options: { after?: number; limit?: number } = {}) {
    const query = new URLSearchParams();
    if (options.after !== undefined) query.set('after', String(options.after));
    if (options.limit !== undefined) query.set('limit', String(options.limit));
    const qs = query.size > 0 ? `?${query}` : '';
    return this.request<UnreadMentionList>('GET', `/v1/conversations/${enc(conversationId)}/mentions${qs}`);
  }
  /** Counts your view of these channel posts (once per post); returns their view counts. */
  viewPosts(conversationId: string, seqs: number[]) {
    return this.request<ChannelViewsReply>('POST', `/v1/conversations/${enc(conversationId)}/views`, { seqs });
  }
  markRead(conversationId: string, upToSeq: number) {
    return this.request<{ read_seq: number }>('POST', `/v1/conversations/${enc(conversationId)}/read`, { up_to_seq: upToSeq });
  }
  receipts(messageId: string) {
    return this.request<Receipts>('GET', `/v1/messages/${enc(messageId)}/receipts`);
  }

  // Interactive messages
  /** Text with rows of buttons under it (bot and business accounts). */
  sendButtons(conversationId: string, text: string, buttons: ButtonInput[][], extra: Omit<SendMessageBody, 'text' | 'buttons'> = {}) {
    return this.send(conversationId, { ...extra, text, buttons });
  }
  /** A poll or quiz (anyone may send one). */
  sendPoll(conversationId: string, poll: PollInput, extra: Omit<SendMessageBody, 'poll'> = {}) {
    return this.send(conversationId, { ...extra, poll });
  }
  /** A form or survey (bot and business accounts). */
  sendForm(conversationId: string, form: FormInput, extra: Omit<SendMessageBody, 'form'> = {}) {
    return this.send(conversationId, { ...extra, form });
  }
  /** A list: a button opening sections of rows (bot and business accounts). */
  sendList(conversationId: string, list: ListInput, extra: Omit<SendMessageBody, 'list'> = {}) {
    return this.send(conversationId, { ...extra, list });
  }
  /** One card, or a carousel of 2–10 (bot and business accounts). */
  sendCards(conversationId: string, cards: CardInput[], extra: Omit<SendMessageBody, 'cards'> = {}) {
    return this.send(conversationId, { ...extra, cards });
  }
  /** Any interaction with a message (the helpers below name each kind). */
  interact(messageId: string, body: InteractionBody) {
    return this.request<InteractionReply>('POST', `/v1/messages/${enc(messageId)}/interactions`, body);
  }
  /** Taps a button. A callback button resolves with the bot's answer (or `answer: null` after 15 s); a reply button with the message sent. */
  tapButton(messageId: string, buttonId: string) {
    return this.interact(messageId, { kind: 'button', id: buttonId });
  }
  /** Picks a list row: sent as your message replying to the list. */
  pickListRow(messageId: string, rowId: string) {
    return this.interact(messageId, { kind: 'list', row_id: rowId });
  }
  /** Votes (replacing an earlier vote); `[]` retracts. */
  vote(messageId: string, options: number[]) {
    return this.interact(messageId, { kind: 'poll', options });
  }
  /** Submits (or edits) your answers to a form. */
  submitForm(messageId: string, answers: FormAnswers) {
    return this.interact(messageId, { kind: 'form', answers });
  }
  /** A bot answers a callback query (from a `callback.query` event), once. */
  answerCallback(queryId: string, answer: AnswerCallbackBody = {}) {
    return this.request<void>('POST', `/v1/callbacks/${enc(queryId)}/answer`, answer);
  }
  /** Replaces (null: removes) your message's buttons. */
  editButtons(messageId: string, buttons: ButtonInput[][] | null) {
    return this.request<Message>('PUT', `/v1/messages/${enc(messageId)}/buttons`, { buttons });
  }
  /** Closes your poll or form. */
  closePoll(messageId: string) {
    return this.request<InteractionReply>('POST', `/v1/messages/${enc(messageId)}/close`, {});
  }
  /** Who chose an option of a public poll, a page at a time (`after`: the previous page's `next`). */
  pollVoters(messageId: string, option: number, options: { after?: string; limit?: number } = {}) {
    return this.request<PollVoters>('GET', `/v1/messages/${enc(messageId)}/poll/voters${query({ option, ...options })}`);
  }
  /** Your form's results: aggregates per question and every submission. */
  formResults(messageId: string) {
    return this.request<FormResults>('GET', `/v1/messages/${enc(messageId)}/form/results`);
  }
  /** Your form's submissions as CSV text. */
  async formResultsCsv(messageId: string): Promise<string> {
    const headers: Record<string, string> = this.token ? { authorization: `Bearer ${this.token}` } : {};
    const response = await this.raw(`/v1/messages/${enc(messageId)}/form/results.csv`, { headers });
    return response.text();
  }

  // Media
  /**
   * Uploads a file in one request (raw body); use resumable uploads (tus, /v1/uploads) for large files.
   * With `onProgress`, browsers upload through XMLHttpRequest (the only API with upload progress) and
   * report bytes sent; elsewhere (Node) the body goes through fetch and no progress is reported.
   * Aborting `signal` rejects with an MmdError (status 0) saying the upload was cancelled.
   */
  async upload(
    data: Uint8Array | Blob,
    options: {
      filename?: string;
      contentType?: string;
      /** The uploader's disclosure, shown as a label: made with AI (`generated`) or containing AI-generated parts. */
      ai?: AiDisclosure;
      /** Bytes sent so far of the total; browsers only (XMLHttpRequest). */
      onProgress?: (sent: number, total: number) => void;
      signal?: AbortSignal;
    } = {},
  ): Promise<UploadReply> {
    const headers: Record<string, string> = { 'content-type': options.contentType ?? 'application/octet-stream' };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    const query = new URLSearchParams();
    if (options.filename) query.set('filename', options.filename);
    if (options.ai) query.set('ai', options.ai);
    const path = `/v1/media${query.size > 0 ? `?${query}` : ''}`;
    if (options.onProgress && typeof XMLHttpRequest !== 'undefined') {
      return uploadWithXhr<UploadReply>({ url: `${this.baseUrl}${path}`, headers, body: data, onProgress: options.onProgress, signal: options.signal, baseUrl: this.baseUrl });
    }
    if (options.signal?.aborted) throw cancelled();
    try {
      const response = await this.raw(path, { method: 'POST', headers, body: data as BodyInit, signal: options.signal });
      return (await response.json()) as UploadReply;
    } catch (err) {
      if (options.signal?.aborted) throw cancelled();
      throw err;
    }
  }
  /**
   * Resumable upload (tus): chunked, resumes after a dropped connection, for files above the
   * single-request limit (100 MB by default) up to the per-type limits (2 GB video/documents).
   */
  uploadResumable(
    data: Uint8Array | Blob,
    options: { filename?: string; contentType?: string; ai?: AiDisclosure; onProgress?: (sent: number, total: number) => void; signal?: AbortSignal; chunkSize?: number } = {},
  ): Promise<UploadReply> {
    return uploadResumable(data, { ...options, baseUrl: this.baseUrl, headers: this.auth() });
  }
  media(id: string) {
    return this.request<MediaItem>('GET', `/v1/media/${enc(id)}`);
  }
  /** Polls until the item is ready or failed (processing takes seconds for video). */
  async waitForMedia(id: string, options: { timeoutMs?: number; intervalMs?: number } = {}): Promise<MediaItem> {
    const deadline = Date.now() + (options.timeoutMs ?? 120_000);
    for (;;) {
      const item = await this.media(id);
      if (item.status !== 'processing') return item;
      if (Date.now() > deadline) throw new MmdError(0, null, `media ${id} still processing after ${options.timeoutMs ?? 120_000} ms`);
      await new Promise((r) => setTimeout(r, options.intervalMs ?? 200));
    }
  }
  /** The item adapted to at most `maxBytes` in one of the accepted MIME types. */
  async adapt(id: string, options: { maxBytes: number; accept?: string[] }): Promise<{ bytes: Uint8Array; mime: string }> {
    const accept = options.accept ? `&accept=${encodeURIComponent(options.accept.join(','))}` : '';
    const headers: Record<string, string> = this.token ? { authorization: `Bearer ${this.token}` } : {};
    const response = await this.raw(`/v1/media/${enc(id)}/adapt?max_bytes=${options.maxBytes}${accept}`, { headers });
    return { bytes: new Uint8Array(await response.arrayBuffer()), mime: response.headers.get('content-type') ?? 'application/octet-stream' };
  }
  /** Fetches a (signed) media URL from a MediaItem, relative to the server. */
  fetchFile(url: string, init: RequestInit = {}): Promise<Response> {
    return this.fetchImpl(new URL(url, this.baseUrl).toString(), init);
  }

  /** A request whose non-2xx answer becomes an MmdError; the caller reads the body. */
  private async raw(path: string, init: RequestInit): Promise<Response> {
    let response: Response;
    try {
      response = await this.fetchImpl(`${this.baseUrl}${path}`, init);
    } catch (err) {
      throw new MmdError(0, null, `cannot reach ${this.baseUrl}: ${(err as Error).message}`);
    }
    if (!response.ok) {
      const text = await response.text();
      let problem: Problem | null = null;
      try {
        problem = JSON.parse(text) as Problem;
      } catch {
        // not problem+json
      }
      throw new MmdError(response.status, problem, `HTTP ${response.status}`);
    }
    return response;
  }

  // Sync
  /**
   * Events after `cursor`; with `timeout` (seconds) waits for one when none is ready. Fails with
   * `cursor_expired` (410) when the cursor is beyond the newest event (the server's database was
   * restored from a backup): reload, then continue from `updatesState()`.
   */
  updates(options: { cursor?: number; timeout?: number; limit?: number } = {}, signal?: AbortSignal) {
    return this.request<UpdatesReply>('GET', `/v1/updates${query(options)}`, undefined, { signal });
  }
  /** The newest cursor: read it before loading lists, then `stream({ cursor })` misses nothing. */
  async updatesState(): Promise<number> {
    return (await this.request<{ cursor: number }>('GET', '/v1/updates/state')).cursor;
  }
  ack(cursor: number) {
    return this.request<void>('POST', '/v1/updates/ack', { cursor });
  }

  /** Follows every conversation live over one WebSocket, resuming from `cursor`. */
  stream(options: StreamOptions): Stream {
    const token = this.token;
    if (!token) throw new MmdError(401, null, 'stream needs a token');
    const wsBase = this.baseUrl.replace(/^http/, 'ws');
    const factory = this.webSocket ?? defaultWebSocketFactory();
    return openStream({
      ...options,
      connect: factory,
      url: (cursor) => `${wsBase}/v1/stream?cursor=${cursor}&token=${encodeURIComponent(token)}`,
      newestCursor: () => this.updatesState(),
    });
  }

  // Trust and safety. Reports: any member. Protection: anyone, no token. The rest: moderators.
  /** Reports a message you can read. */
  /** Reports an account from a chat it is in: its newest messages there (at most 5) are reported. */
  reportAccount(input: ReportAccountBody) {
    return this.request<ReportAccountReply>('POST', '/v1/reports/account', { ...input, handle: input.handle.replace(/^@/, '') });
  }
  report(input: CreateReportBody) {
    return this.request<Report>('POST', '/v1/reports', input);
  }
  createBank(input: CreateBankBody) {
    return this.request<Bank>('POST', '/v1/safety/banks', input);
  }
  async banks() {
    return (await this.request<BankList>('GET', '/v1/safety/banks')).banks;
  }
  bank(id: string) {
    return this.request<Bank>('GET', `/v1/safety/banks/${enc(id)}`);
  }
  /** Marks a bank trusted (or not); audited. */
  updateBank(id: string, body: UpdateBankBody) {
    return this.request<Bank>('PATCH', `/v1/safety/banks/${enc(id)}`, body);
  }
  /** Adds pasted hashes; the reply names the sweep job that looks for existing copies. */
  addSignals(bankId: string, hashes: AddSignalsBody['hashes']) {
    return this.request<AddSignalsReply>('POST', `/v1/safety/banks/${enc(bankId)}/signals`, { hashes });
  }
  /** Takes one signal out of a bank (moderators); every server stops matching it. */
  async removeSignal(bankId: string, signalId: number): Promise<void> {
    await this.request<unknown>('DELETE', `/v1/safety/banks/${enc(bankId)}/signals/${signalId}`);
  }
  /** Adds a file's hashes (the server hashes it and keeps only the hashes). */
  async addSignalsFromFile(bankId: string, data: Uint8Array | Blob, options: { filename?: string; label?: string } = {}) {
    const form = new FormData();
    if (options.label) form.append('label', options.label);
    form.append('file', data instanceof Blob ? data : new Blob([data as BlobPart]), options.filename ?? 'file');
    return (await (await this.raw(`/v1/safety/banks/${enc(bankId)}/signals/file`, { method: 'POST', headers: this.auth(), body: form })).json()) as AddSignalsReply;
  }
  /** Imports a bank file: `hma` text, `te` (ThreatExchange) or `json` (MMD). */
  async importBank(bankId: string, file: string | Uint8Array, format: BankFormat) {
    const contentType = format === 'hma' ? 'text/plain; charset=utf-8' : 'application/json';
    const response = await this.raw(`/v1/safety/banks/${enc(bankId)}/import?format=${format}`, { method: 'POST', headers: { ...this.auth(), 'content-type': contentType }, body: file as BodyInit });
    return (await response.json()) as ImportReply;
  }
  /** A bank as a file, with the name the server suggests; `skipped` counts signals the format cannot carry (vPDQ in te). */
  async exportBank(bankId: string, format: BankFormat): Promise<{ body: string; contentType: string; filename: string; skipped: number }> {
    const response = await this.raw(`/v1/safety/banks/${enc(bankId)}/export?format=${format}`, { headers: this.auth() });
    const filename = /filename="([^"]+)"/.exec(response.headers.get('content-disposition') ?? '')?.[1] ?? `bank.${format}`;
    return { body: await response.text(), contentType: response.headers.get('content-type') ?? '', filename, skipped: Number(response.headers.get('x-mmd-skipped') ?? 0) };
  }
  /** Checks a file against every bank. */
  async matchFile(data: Uint8Array | Blob, options: { filename?: string } = {}) {
    const form = new FormData();
    form.append('file', data instanceof Blob ? data : new Blob([data as BlobPart]), options.filename ?? 'file');
    return (await (await this.raw('/v1/safety/match', { method: 'POST', headers: this.auth(), body: form })).json()) as MatchReply;
  }
  /** Your own reports, newest first, with their outcomes (`status`, `outcome`, `resolved_at`). */
  myReports(options: { limit?: number; before?: number } = {}) {
    return this.request<ReportList>('GET', `/v1/reports${query(options)}`);
  }
  reviews(options: { status?: 'open' | 'escalated' | 'closed'; limit?: number; before?: number } = {}) {
    return this.request<ReviewList>('GET', `/v1/safety/reviews${query(options)}`);
  }
  review(id: string) {
    return this.request<Review>('GET', `/v1/safety/reviews/${enc(id)}`);
  }
  /** The blurred preview (JPEG bytes) of an item under review. */
  async reviewPreview(reviewId: string, mediaId: string): Promise<Uint8Array> {
    const response = await this.raw(`/v1/safety/reviews/${enc(reviewId)}/media/${enc(mediaId)}/preview`, { headers: this.auth() });
    return new Uint8Array(await response.arrayBuffer());
  }
  /** The real preview; the server audits every reveal. */
  async revealMedia(reviewId: string, mediaId: string): Promise<Uint8Array> {
    const response = await this.raw(`/v1/safety/reviews/${enc(reviewId)}/media/${enc(mediaId)}/reveal`, { method: 'POST', headers: this.auth() });
    return new Uint8Array(await response.arrayBuffer());
  }
  decideReview(id: string, body: DecisionBody) {
    return this.request<DecisionReply>('POST', `/v1/safety/reviews/${enc(id)}/decision`, body);
  }
  /** Spreading near-duplicate clusters: held ones first, then the fastest (moderators). */
  spreadClusters(options: { hours?: number; limit?: number } = {}) {
    return this.request<SpreadClusterList>('GET', `/v1/safety/clusters${query(options)}`);
  }
  /** One cluster's spread over time, by hops, its chats and sharers (moderators). */
  spreadCluster(id: string) {
    return this.request<SpreadClusterDetail>('GET', `/v1/safety/clusters/${enc(id)}`);
  }
  /** Hold, clear (release what waits) or take down a whole cluster (moderators). */
  decideSpreadCluster(id: string, body: SpreadDecisionBody) {
    return this.request<SpreadDecisionReply>('POST', `/v1/safety/clusters/${enc(id)}/decision`, body);
  }
  /** The blurred preview (JPEG bytes) of an item of a spreading cluster (moderators). */
  async clusterPreview(clusterId: string, mediaId: string): Promise<Uint8Array> {
    const response = await this.raw(`/v1/safety/clusters/${enc(clusterId)}/media/${enc(mediaId)}/preview`, { headers: this.auth() });
    return new Uint8Array(await response.arrayBuffer());
  }
  /** Suspected coordinated amplification networks with their evidence (moderators). */
  amplificationNetworks(options: { hours?: number } = {}) {
    return this.request<AmplificationList>('GET', `/v1/safety/networks${query(options)}`);
  }
  /** Rate-limit an account's shares, hold them for review, suspend it, or lift that (moderators). */
  restrictAccount(accountId: string, body: RestrictAccountBody) {
    return this.request<{ account_id: string; mode: string; released: number; rejected: number }>('POST', `/v1/safety/accounts/${enc(accountId)}/restriction`, body);
  }
  /** Runs a takedown to the end; while it runs, `takedowns()` and `takedownStatus()` show its progress. */
  takedown(body: TakedownBody) {
    return this.request<Takedown>('POST', '/v1/safety/takedowns', body);
  }
  /** Takedowns newest first, with their progress; page back with `before: next_before`. */
  takedowns(options: { status?: TakedownRecord['status']; before?: number; limit?: number } = {}) {
    return this.request<TakedownList>('GET', `/v1/safety/takedowns${query(options)}`);
  }
  takedownStatus(id: string) {
    return this.request<TakedownRecord>('GET', `/v1/safety/takedowns/${enc(id)}`);
  }
  /** This instance's federation identity (its Ed25519 key), as peers read it. */
  federationIdentity() {
    return this.request<FederationIdentity>('GET', '/.well-known/mmd-federation');
  }
  /** Connects a peer platform (admins); without `public_key`, its key is fetched from its well-known document. */
  connectPeer(body: CreatePeerBody) {
    return this.request<Peer>('POST', '/v1/federation/peers', body);
  }
  peers() {
    return this.request<PeerList>('GET', '/v1/federation/peers');
  }
  peer(id: string) {
    return this.request<Peer>('GET', `/v1/federation/peers/${enc(id)}`);
  }
  updatePeer(id: string, body: UpdatePeerBody) {
    return this.request<Peer>('PATCH', `/v1/federation/peers/${enc(id)}`, body);
  }
  /** Asks a peer now for the messages this instance missed (admins). */
  pullPeer(id: string) {
    return this.request<{ received: number; skipped: number }>('POST', `/v1/federation/peers/${enc(id)}/pull`);
  }
  /** Takedowns shared with peers, with each peer's outcome (moderators). */
  sharedCases(options: { takedown_id?: string; before?: number; limit?: number } = {}) {
    return this.request<SharedList>('GET', `/v1/federation/shared${query(options)}`);
  }
  sharedCase(id: string) {
    return this.request<SharedCase>('GET', `/v1/federation/shared/${enc(id)}`);
  }
  /** Withdraws a shared case from every peer it went to (moderators). */
  retractShared(id: string) {
    return this.request<SharedCase>('POST', `/v1/federation/shared/${enc(id)}/retract`);
  }
  /** Cases peers shared with this instance (moderators). */
  /** Rotates this instance's federation key; peers accept the old one for the grace period (admins). */
  rotateFederationKey(body: RotateIdentityBody = {}) {
    return this.request<FederationIdentity>('POST', '/v1/federation/identity/rotate', body);
  }
  /** HMA deployments allowed to fetch banks (admins). */
  hmaConsumers() {
    return this.request<HmaConsumerList>('GET', '/v1/federation/hma/consumers');
  }
  /** Lets an HMA deployment fetch some banks; the token is shown only in this answer (admins). */
  createHmaConsumer(body: CreateHmaConsumerBody) {
    return this.request<HmaConsumerCreated>('POST', '/v1/federation/hma/consumers', body);
  }
  updateHmaConsumer(id: string, body: UpdateHmaConsumerBody) {
    return this.request<HmaConsumer>('PATCH', `/v1/federation/hma/consumers/${enc(id)}`, body);
  }
    receivedCases(options: { status?: ReceivedCase['status']; limit?: number } = {}) {
    return this.request<ReceivedList>('GET', `/v1/federation/received${query(options)}`);
  }
  decideReceived(id: string, action: 'hold' | 'dismiss') {
    return this.request<ReceivedCase>('POST', `/v1/federation/received/${enc(id)}/decision`, { action });
  }
  /** The audit log, newest first; `actor` is an account id or `@handle`. */
  audit(options: { action?: string; actor?: string; since?: number; until?: number; before?: number; limit?: number } = {}) {
    return this.request<AuditList>('GET', `/v1/safety/audit${query(options)}`);
  }
  /** Submits hashes computed on this device (see @mmd/phash); returns the case reference. */
  protect(body: ProtectBody) {
    return this.request<ProtectReceipt>('POST', '/v1/safety/protect', body);
  }
  /** The case page: the case, each connected platform's answer, its removal requests (reference + key). */
  caseView(reference: string, secret: string) {
    return this.request<CaseView>('POST', `/v1/safety/protect/${enc(reference)}/view`, { secret });
  }
  /** Shares the case's hashes with the connected platforms (reference + key). */
  shareCase(reference: string, secret: string) {
    return this.request<CaseView>('POST', `/v1/safety/protect/${enc(reference)}/share`, { secret });
  }
  /** Withdraws the case here and from every platform it was shared with (reference + key). */
  withdrawCase(reference: string, secret: string) {
    return this.request<CaseView>('POST', `/v1/safety/protect/${enc(reference)}/withdraw`, { secret });
  }
  /** Asks for every copy of media you appear in to be removed (signed in, or with `case`); a moderator decides. */
  requestErasure(body: ErasureBody) {
    return this.request<ErasureRequest>('POST', '/v1/safety/erasure', body);
  }
  /** Your own removal requests with decisions and reasons. */
  async myErasureRequests() {
    return (await this.request<ErasureList>('GET', '/v1/safety/erasure')).requests;
  }
  /** Removal requests for moderators: by default those waiting, with what each matches. */
  async erasureQueue(options: { status?: ErasureStatus; limit?: number } = {}) {
    return (await this.request<ErasureQueue>('GET', `/v1/safety/erasure-requests${query(options)}`)).requests;
  }
  erasureRequest(id: string) {
    return this.request<ErasureDetail>('GET', `/v1/safety/erasure-requests/${enc(id)}`);
  }
  /** A strongly blurred preview of an item a waiting removal request matches (moderators). */
  async erasurePreview(id: string, mediaId: string): Promise<Uint8Array> {
    const response = await this.raw(`/v1/safety/erasure-requests/${enc(id)}/media/${enc(mediaId)}/preview`, { headers: this.auth() });
    return new Uint8Array(await response.arrayBuffer());
  }
  /** Removes every matching copy, or declines, with reasons the requester sees (moderators). */
  decideErasure(id: string, body: ErasureDecisionBody) {
    return this.request<ErasureDetail>('POST', `/v1/safety/erasure-requests/${enc(id)}/decision`, body);
  }
  /** The submitter's view of a case: its state and dates, nothing else. */
  protectStatus(reference: string) {
    return this.request<ProtectCase>('GET', `/v1/safety/protect/${enc(reference)}`);
  }
  /** Protection cases for moderators: by default the open ones that matched something. */
  cases(options: { status?: CaseStatus; matched?: boolean; before?: number; limit?: number } = {}) {
    return this.request<CaseList>(
      'GET',
      `/v1/safety/cases${query({ ...options, matched: options.matched === undefined ? undefined : String(options.matched) })}`,
    );
  }
  /** One protection case with what it matched (moderators). */
  protectCase(reference: string) {
    return this.request<CaseDetail>('GET', `/v1/safety/cases/${enc(reference)}`);
  }
  /** Confirms (takedown + block) or rejects (release) a protection case (moderators). */
  decideCase(reference: string, body: CaseDecisionBody) {
    return this.request<CaseDecisionReply>('POST', `/v1/safety/cases/${enc(reference)}/decision`, body);
  }

  // Bots and webhooks
  /** Creates a bot you own (people only); the token in the reply is shown once. */
  createBot(input: { handle: string; name: string }) {
    return this.request<BotWithToken>('POST', '/v1/bots', input);
  }
  /** The bots you own. */
  async bots() {
    return (await this.request<{ bots: Bot[] }>('GET', '/v1/bots')).bots;
  }
  /** The calling bot (with a bot token; people get `bot_only`). */
  botMe() {
    return this.request<Bot>('GET', '/v1/bots/me');
  }
  /** A bot you own, or (with the bot's token) the bot itself. */
  bot(id: string) {
    return this.request<Bot>('GET', `/v1/bots/${enc(id)}`);
  }
  updateBot(id: string, input: { name?: string }) {
    return this.request<Bot>('PATCH', `/v1/bots/${enc(id)}`, input);
  }
  /** Deletes a bot: its token stops working, its connections close, its webhooks stop. */
  deleteBot(id: string) {
    return this.request<void>('DELETE', `/v1/bots/${enc(id)}`);
  }
  /** A new token for a bot; the old one stops working at once. Shown once. */
  rotateBotToken(id: string) {
    return this.request<BotWithToken>('POST', `/v1/bots/${enc(id)}/token`);
  }
  /** Replaces a bot's commands (its owner, or the bot itself). */
  async setBotCommands(id: string, commands: BotCommand[]) {
    return (await this.request<{ commands: BotCommand[] }>('PUT', `/v1/bots/${enc(id)}/commands`, { commands })).commands;
  }
  async botCommands(id: string) {
    return (await this.request<{ commands: BotCommand[] }>('GET', `/v1/bots/${enc(id)}/commands`)).commands;
  }
  /** A bot's commands by handle, for a "/" menu (empty for accounts that are not bots). */
  async commandsOf(handle: string) {
    return (await this.request<{ commands: BotCommand[] }>('GET', `/v1/accounts/${enc(handle)}/commands`)).commands;
  }
  /**
   * Registers a webhook: for your own account (a bot with its token, a business), or with
   * `bot` for a bot you own. The `whsec_` secret in the reply is shown once.
   */
  createWebhook(input: { url: string; events?: string[]; bot?: string }) {
    const { bot, ...body } = input;
    return this.request<CreatedWebhook>('POST', bot ? `/v1/bots/${enc(bot)}/webhooks` : '/v1/webhooks', body);
  }
  /** Your account's webhooks, or (with `bot`) your bot's. */
  async webhooks(options: { bot?: string } = {}) {
    return (await this.request<{ webhooks: Webhook[] }>('GET', options.bot ? `/v1/bots/${enc(options.bot)}/webhooks` : '/v1/webhooks')).webhooks;
  }
  webhook(id: string) {
    return this.request<Webhook>('GET', `/v1/webhooks/${enc(id)}`);
  }
  /** `enabled: true` re-enables a disabled webhook; `events: null` means every event type. */
  updateWebhook(id: string, input: { enabled?: boolean; events?: string[] | null }) {
    return this.request<Webhook>('PATCH', `/v1/webhooks/${enc(id)}`, input);
  }
  deleteWebhook(id: string) {
    return this.request<void>('DELETE', `/v1/webhooks/${enc(id)}`);
  }
  /** A webhook's delivery log, newest first (pass `next` back as `before`). */
  webhookDeliveries(id: string, options: { before?: string; limit?: number; status?: 'pending' | 'succeeded' | 'failed' | 'dropped' } = {}) {
    return this.request<DeliveryList>('GET', `/v1/webhooks/${enc(id)}/deliveries${query(options)}`);
  }
  /** Sends a delivery again, with the same webhook-id. */
  replayDelivery(webhookId: string, deliveryId: string) {
    return this.request<WebhookDelivery>('POST', `/v1/webhooks/${enc(webhookId)}/deliveries/${enc(deliveryId)}/replay`);
  }

  private auth(): Record<string, string> {
    const headers: Record<string, string> = this.token ? { authorization: `Bearer ${this.token}` } : {};
    if (this.business) headers['x-mmd-business'] = this.business;
    return headers;
  }

  // Business messaging: the business, its settings and its team. Call on forBusiness(id) as a
  // team member, or on the business account's own client.
  /** The business this client acts for, its settings and your role on its team. */
  businessSelf() {
    return this.request<BusinessSelf>('GET', '/v1/business');
  }
  updateBusiness(body: UpdateBusinessBody) {
    return this.request<BusinessSelf>('PATCH', '/v1/business', body);
  }
  businessMembers() {
    return this.request<BusinessMemberList>('GET', '/v1/business/members');
  }
  /** Adds a person (by handle) to the team, or changes their role. */
  putBusinessMember(handle: string, role: BusinessRole) {
    return this.request<BusinessMember>('PUT', `/v1/business/members/${enc(handle)}`, { role });
  }
  /** Removes someone (account id or handle) from the team; your own id or handle leaves it. */
  async removeBusinessMember(account: string) {
    await this.request<void>('DELETE', `/v1/business/members/${enc(account)}`);
  }
  /** The businesses you work for, with your role. */
  myBusinesses() {
    return this.request<MyBusinesses>('GET', '/v1/me/businesses');
  }
  /** A business's public profile (display name, photo, verified mark). */
  businessProfile(handle: string) {
    return this.request<BusinessProfile>('GET', `/v1/businesses/${enc(handle)}`);
  }
  // Templates of a business (read: any role; write and approve: owners and admins).
  /** The business's templates by name (archived ones too with `archived: true`). */
  listTemplates(options: { archived?: boolean; limit?: number; after?: string } = {}) {
    const query = new URLSearchParams();
    if (options.archived) query.set('archived', 'true');
    if (options.limit !== undefined) query.set('limit', String(options.limit));
    if (options.after !== undefined) query.set('after', options.after);
    const qs = query.toString();
    return this.request<MessageTemplateList>('GET', `/v1/business/templates${qs ? `?${qs}` : ''}`);
  }
  /** Creates a template; its first version is a draft. */
  createTemplate(body: CreateMessageTemplateBody) {
    return this.request<MessageTemplate>('POST', '/v1/business/templates', body);
  }
  getTemplate(id: string) {
    return this.request<MessageTemplate>('GET', `/v1/business/templates/${enc(id)}`);
  }
  /** Renames, or changes the content: a content change is a new draft version. */
  updateTemplate(id: string, body: UpdateMessageTemplateBody) {
    return this.request<MessageTemplate>('PATCH', `/v1/business/templates/${enc(id)}`, body);
  }
  /** Archives a template (its versions stay for campaigns that name them). */
  async archiveTemplate(id: string) {
    await this.request<void>('DELETE', `/v1/business/templates/${enc(id)}`);
  }
  /** Approves a draft (the newest by default): only approved versions are sent. */
  approveTemplate(id: string, body: ApproveTemplateBody = {}) {
    return this.request<MessageTemplate>('POST', `/v1/business/templates/${enc(id)}/approve`, body);
  }
  /** Renders a version for a contact or given variables, with the personalised media as a link. */
  previewTemplate(id: string, body: PreviewTemplateBody) {
    return this.request<TemplatePreview>('POST', `/v1/business/templates/${enc(id)}/preview`, body);
  }
  /** Public profiles of those of these accounts (at most 100) that are businesses: name and verified mark, for chat lists. */
  async businessProfiles(accountIds: string[]) {
    return (await this.request<{ businesses: BusinessProfile[] }>('GET', `/v1/businesses?ids=${accountIds.map(enc).join(',')}`)).businesses;
  }
  /** Sets or clears a business's verified mark (instance admins). */
  setBusinessVerified(businessId: string, verified: boolean) {
    return this.request<BusinessProfile>('PUT', `/v1/admin/businesses/${enc(businessId)}/verified`, { verified });
  }

  // Campaigns: call on forBusiness(id) as a team member, or on the business account's client.
  /** The business's campaigns, newest first (pass `next_cursor` back as `cursor`). */
  campaigns(options: { cursor?: string; limit?: number } = {}) {
    return this.request<CampaignList>('GET', `/v1/business/campaigns${query(options)}`);
  }
  /** Creates a campaign as a draft; every problem (past schedule, throttle 0, empty audience…) is refused here. */
  createCampaign(body: CreateCampaignBody) {
    return this.request<Campaign>('POST', '/v1/business/campaigns', body);
  }
  /** A campaign with its runs and funnel counts, overall and per variant. */
  campaign(id: string) {
    return this.request<CampaignDetail>('GET', `/v1/business/campaigns/${enc(id)}`);
  }
  startCampaign(id: string) {
    return this.request<CampaignDetail>('POST', `/v1/business/campaigns/${enc(id)}/start`);
  }
  pauseCampaign(id: string) {
    return this.request<CampaignDetail>('POST', `/v1/business/campaigns/${enc(id)}/pause`);
  }
  resumeCampaign(id: string) {
    return this.request<CampaignDetail>('POST', `/v1/business/campaigns/${enc(id)}/resume`);
  }
  cancelCampaign(id: string) {
    return this.request<CampaignDetail>('POST', `/v1/business/campaigns/${enc(id)}/cancel`);
  }
  /** A follow-up run to the last run's failed or unread recipients. */
  resendCampaign(id: string, body: ResendCampaignBody) {
    return this.request<CampaignDetail>('POST', `/v1/business/campaigns/${enc(id)}/resend`, body);
  }
  /** Sends each variant, marked as a test, to team members (default: yourself). */
  testCampaign(id: string, body: TestCampaignBody = {}) {
    return this.request<TestCampaignReply>('POST', `/v1/business/campaigns/${enc(id)}/test`, body);
  }
  /** Recipients and their status, a page at a time. */
  campaignRecipients(id: string, options: { status?: RecipientStatus; cursor?: string; limit?: number } = {}) {
    return this.request<CampaignRecipientList>('GET', `/v1/business/campaigns/${enc(id)}/recipients${query(options)}`);
  }
  /** A transactional message to one contact; the same idempotency key returns the same notification and never sends twice. */
  notify(body: CreateNotificationBody) {
    return this.request<Notification>('POST', '/v1/notifications', body);
  }
  notification(id: string) {
    return this.request<Notification>('GET', `/v1/notifications/${enc(id)}`);
  }
  /** Every recipient and their status as CSV. */
  async exportCampaign(id: string): Promise<string> {
    const response = await this.raw(`/v1/business/campaigns/${enc(id)}/export`, { headers: this.auth() });
    return response.text();
  }
}

function enc(s: string) {
  return encodeURIComponent(s);
}

function query(options: Record<string, string | number | undefined>) {
  const entries = Object.entries(options).filter(([, v]) => v !== undefined) as [string, string | number][];
  return entries.length ? `?${entries.map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`).join('&')}` : '';
}

let wsModule: Promise<typeof import('ws')> | null = null;
function defaultWebSocketFactory(): WebSocketFactory {
  const Native = (globalThis as { WebSocket?: new (url: string) => WebSocketLikeCtor }).WebSocket;
  if (Native) return (url) => new Native(url) as unknown as ReturnType<WebSocketFactory>;
  // Node 20 has no global WebSocket: load `ws` lazily so browsers never bundle it.
  wsModule ??= import('ws');
  return (url) => lazySocket(url, wsModule!);
}
type WebSocketLikeCtor = unknown;

/** A WebSocketLike that queues listeners until the `ws` module has loaded. */
function lazySocket(url: string, mod: Promise<typeof import('ws')>): ReturnType<WebSocketFactory> {
  const listeners: [string, (e: { data?: unknown; code?: number; reason?: string }) => void][] = [];
  let real: import('ws').WebSocket | null = null;
  let closeRequested: [number | undefined, string | undefined] | null = null;
  let failed = false;
  mod
    .then(({ WebSocket }) => {
      real = new WebSocket(url);
      for (const [type, fn] of listeners) real.addEventListener(type as 'message', fn as never);
      if (closeRequested) real.close(...closeRequested);
    })
    .catch((err: unknown) => {
      // `ws` failed to load or refused the URL: report it as an abnormal close (1006), as a
      // browser's socket would, so the stream's own reconnect and disconnect handling applies.
      failed = true;
      const reason = err instanceof Error ? err.message : String(err);
      for (const [type, fn] of listeners) if (type === 'error') fn({});
      for (const [type, fn] of listeners) if (type === 'close') fn({ code: 1006, reason });
    });
  return {
    get readyState() {
      if (failed) return 3;
      return real ? real.readyState : 0;
    },
    send(data) {
      real?.send(data);
    },
    close(code, reason) {
      if (real) real.close(code, reason);
      else closeRequested = [code, reason];
    },
    addEventListener(type, fn) {
      listeners.push([type, fn]);
      real?.addEventListener(type as 'message', fn as never);
    },
  };
}
