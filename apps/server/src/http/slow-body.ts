/**
 * Cuts request bodies that trickle. Node's requestTimeout bounds a whole request, but a client
 * sending one byte every few seconds still holds its connection (and a handler's spool file) for
 * that long; here every request that carries a body must deliver at least `minBytesPerSecond`
 * over each `windowMs`, or its socket is closed. Progress is read from the socket's byte count,
 * so nothing consumes the body on the handler's behalf.
 */
import type { FastifyInstance } from 'fastify';

const ignore = () => {};

export function installSlowBodyGuard(
  app: FastifyInstance,
  options: { windowMs: number; minBytesPerSecond: number },
) {
  const minPerWindow = Math.ceil((options.minBytesPerSecond * options.windowMs) / 1000);
  app.addHook('onRequest', (request, reply, done) => {
    const raw = request.raw;
    const hasBody =
      Number(raw.headers['content-length'] ?? 0) > 0 || raw.headers['transfer-encoding'] !== undefined;
    if (!hasBody || raw.complete) return done();
    // A cut connection fails the body stream with "aborted"; whoever reads the body hears it, but
    // before a handler attaches its listener (still authenticating) it must not be uncaught.
    raw.on('error', ignore);
    if (options.minBytesPerSecond <= 0) return done();
    const socket = raw.socket;
    let last = socket.bytesRead;
    const timer = setInterval(() => {
      if (raw.complete || socket.destroyed) return clearInterval(timer);
      const now = socket.bytesRead;
      if (now - last < minPerWindow) {
        clearInterval(timer);
        request.log.info(
          { bytesPerWindow: now - last, windowMs: options.windowMs },
          'request body too slow; connection closed',
        );
        socket.destroy();
        return;
      }
      last = now;
    }, options.windowMs);
    timer.unref();
    const stop = () => clearInterval(timer);
    raw.once('end', stop);
    reply.raw.once('close', stop);
    done();
  });
}
