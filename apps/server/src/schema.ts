/**
 * The server's database, as its capabilities define it: each folder owns its tables (`schema.ts`)
 * and their migrations (`migrations.ts`); this file only lists them. A new table belongs in the
 * capability that owns it, plus one line here.
 */
import type { AccountsTables } from './accounts/schema.ts';
import type { AutomationTables } from './automation/schema.ts';
import { automationMigrations } from './automation/migrations.ts';
import { botsMigrations } from './bots/migrations.ts';
import type { BotsTables } from './bots/schema.ts';
import { businessMigrations } from './business/migrations.ts';
import type { BusinessTables } from './business/schema.ts';
import { inboxMigrations } from './inbox/migrations.ts';
import type { InboxTables } from './inbox/schema.ts';
import { templatesMigrations } from './templates/migrations.ts';
import type { TemplatesTables } from './templates/schema.ts';
import { campaignsMigrations } from './campaigns/migrations.ts';
import type { CampaignsTables } from './campaigns/schema.ts';
import { accountsMigrations } from './accounts/migrations.ts';
import type { ContactsTables } from './contacts/schema.ts';
import { contactsMigrations } from './contacts/migrations.ts';
import type { ContactImportTables } from './contacts/import-schema.ts';
import { contactImportMigrations } from './contacts/import-migrations.ts';
import type { SegmentsTables } from './segments/schema.ts';
import { segmentsMigrations } from './segments/migrations.ts';
import type { ConversationsTables } from './conversations/schema.ts';
import { conversationsMigrations } from './conversations/migrations.ts';
import type { InteractiveTables } from './interactive/schema.ts';
import { interactiveMigrations } from './interactive/migrations.ts';
import type { MediaTables } from './media/schema.ts';
import { mediaMigrations } from './media/migrations.ts';
import type { MessagingTables } from './messaging/schema.ts';
import { messagingMigrations } from './messaging/migrations.ts';
import type { MigrationSteps } from './platform/db/migrations.ts';
import { queueMigrations } from './platform/queue/migrations.ts';
import type { QueueTables } from './platform/queue/schema.ts';
import { type SecretsTables, secretsMigrations } from './platform/secrets-migrations.ts';
import { safetyMigrations } from './safety/migrations.ts';
import { federationMigrations } from './federation/migrations.ts';
import type { FederationTables } from './federation/schema.ts';
import type { SafetyTables } from './safety/schema.ts';
import { syncMigrations } from './sync/migrations.ts';
import type { SyncTables } from './sync/schema.ts';
import { telegramMigrations } from './telegram/migrations.ts';
import { profilesMigrations } from './profiles/migrations.ts';
import type { ProfilesTables } from './profiles/schema.ts';
import type { TelegramTables } from './telegram/schema.ts';
import { pushMigrations } from './push/migrations.ts';
import type { PushTables } from './push/schema.ts';

export type DB = AccountsTables &
  ConversationsTables &
  MessagingTables &
  SyncTables &
  QueueTables &
  MediaTables &
  SecretsTables &
  SafetyTables &
  TelegramTables &
  BotsTables &
  AutomationTables &
  InteractiveTables &
  BusinessTables &
  InboxTables &
  TemplatesTables &
  ContactsTables &
  ContactImportTables &
  SegmentsTables &
  CampaignsTables &
  ProfilesTables &
  FederationTables &
  PushTables;

/** In dependency order: a table's steps run after those of the tables it references. */
export const migrationParts: readonly MigrationSteps[] = [
  accountsMigrations,
  conversationsMigrations,
  messagingMigrations,
  syncMigrations,
  queueMigrations,
  mediaMigrations,
  secretsMigrations,
  safetyMigrations,
  telegramMigrations,
  botsMigrations,
  automationMigrations,
  interactiveMigrations,
  businessMigrations,
  inboxMigrations,
  templatesMigrations,
  contactsMigrations,
  contactImportMigrations,
  segmentsMigrations,
  campaignsMigrations,
  profilesMigrations,
  federationMigrations,
  pushMigrations,
];
