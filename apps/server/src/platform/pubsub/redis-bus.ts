/**
 * The event bus across processes: Redis pub/sub. Each process delivers its own publishes to its
 * own handlers at once (no round trip to Redis for a local reader) and publishes them to one
 * channel per MMD (its key prefix) for the others, tagged with its node id so it skips its own.
 *
 * Pub/sub is at most once: while a subscriber is disconnected, what was published is gone. That
 * is fine here because nothing depends on a publish arriving — the sync hub fills gaps from the
 * database. What the bus must do is say when it may have missed something: after every
 * (re)connection it asks for a resync, and the hub reads the newest cursor from the database.
 * The one case left (a publisher killed between commit and publish, and no later event to reveal
 * the gap) is what the hub's slow safety-net poll (pollMs, 10 s by default) is for.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { type EventBus, type PublishedEvent, createLocalEventBus } from './index.ts';

interface Envelope {
  /** The publishing process. */
  o: string;
  e?: PublishedEvent[];
  /** A signal: topic and message. */
  t?: string;
  m?: string;
}

export function createRedisEventBus(options: {
  /** A connected client for publishing; the bus makes its own subscriber connection from it. */
  redis: Redis;
  /** Key prefix of this MMD (`mmd:<schema>:`): MMDs sharing a Redis never hear each other. */
  prefix: string;
  /** The hub's safety-net poll; see above. */
  pollMs?: number;
  log?: { warn(obj: object, msg: string): void };
}): EventBus {
  const node = randomBytes(8).toString('hex');
  const channel = `${options.prefix}events`;
  const local = createLocalEventBus({ pollMs: options.pollMs ?? 10_000 });
  const publisher = options.redis;
  // A subscribed connection can do nothing else, so it is a connection of its own. ioredis
  // reconnects and resubscribes by itself; each time it is ready, the hub resyncs.
  const subscriber = publisher.duplicate({ maxRetriesPerRequest: null });
  // 'ready' comes as the resubscription is sent, not answered: a publish in between would be
  // missed, so the hub is asked once more a second later.
  subscriber.on('ready', () => {
    local.resync();
    setTimeout(() => local.resync(), 1000).unref();
  });
  subscriber.on('error', (err) => options.log?.warn({ err }, 'event bus: Redis subscriber error'));
  subscriber.on('message', (_channel: string, raw: string) => {
    let envelope: Envelope;
    try {
      envelope = JSON.parse(raw) as Envelope;
    } catch {
      return;
    }
    if (envelope.o === node) return;
    if (envelope.e) local.deliver(envelope.e);
    else if (envelope.t !== undefined && envelope.m !== undefined) local.deliverSignal(envelope.t, envelope.m);
  });
  const subscribed = subscriber.subscribe(channel).catch((err) => options.log?.warn({ err }, 'event bus: subscribe failed'));

  const send = (envelope: Envelope) => {
    // Best effort: a publish lost while Redis is away is read from the database by the others
    // (they resync when they reconnect), so nothing piles up in memory waiting for it.
    if (publisher.status !== 'ready') return;
    publisher.publish(channel, JSON.stringify(envelope)).catch((err) => options.log?.warn({ err }, 'event bus: publish failed'));
  };

  return {
    pollMs: local.pollMs,
    publish(events) {
      if (events.length === 0) return;
      local.deliver(events);
      send({ o: node, e: events });
    },
    subscribe: local.subscribe,
    signal(topic, message) {
      local.deliverSignal(topic, message);
      send({ o: node, t: topic, m: message });
    },
    onSignal: local.onSignal,
    onResync: local.onResync,
    async close() {
      await subscribed;
      await local.close();
      subscriber.disconnect();
    },
  };
}
