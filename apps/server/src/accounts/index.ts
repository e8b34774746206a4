/**
 * Accounts' public surface: what app.ts wires and what other capabilities may use. Other
 * capabilities import from this file only, and never query `accounts`, `devices` or `api_keys`.
 */
export { createAccounts, type Accounts, type AccountsDeps, type Principal, toAccount, ALL_SCOPES } from './service.ts';
export { accountRoutes } from './routes.ts';
export { hasBlocked, blocksBetween, blockersOf, blockedBy, addPolicies, privacySettingsOf, readsShownBetween, createPrivacy, type PrivacyService } from './privacy.ts';
export { claimHandle, type HandleOwner } from './handles.ts';
export { handlesOf, accountIdByHandle, accountsByIds, accountsByHandles, accountsByHandlePrefix } from './lookup.ts';
export { insertBotAccount, accountBasics, accountByHandle, setSuspended, accountStates } from './bot-accounts.ts';
