/**
 * Federation's public surface: what app.ts wires. It talks to safety only through safety's
 * index.ts (listen, peerBanks, recordAudit); nothing imports federation but app.ts.
 */
export { createFederation, type Federation, type FederationDeps } from './service.ts';
export { federationRoutes, type FederationRouteDeps } from './routes.ts';
