/**
 * Coordinated-sharing detection on a worker thread (platform/queue thread pool): over a busy
 * day's 200,000 shares it takes seconds of CPU, which must not stall the event loop that serves
 * every request. Inputs and outputs are plain data.
 */
import { type AmplificationParams, type ShareRecord, type SuspectNetwork, detectNetworks } from './amplification.ts';

export function detect(shares: ShareRecord[], createdAt: [string, number][], params: AmplificationParams): SuspectNetwork[] {
  return detectNetworks(shares, new Map(createdAt), params);
}
