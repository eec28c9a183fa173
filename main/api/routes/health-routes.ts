import type { FastifyInstance } from 'fastify';
import { type Engine, TalonError } from '../../engine/index.js';

/** Public: whether Talon runs, whether it is locked, and whether its token answers. */
export function registerHealthRoutes(app: FastifyInstance, engine: Engine, version: string): void {
  app.get('/v1/health', async () => ({ status: 'ok', locked: !engine.isUnlocked, version }));

  app.get('/v1/health/hsm', async () => {
    const { token } = engine.status();
    if (!token) {
      throw new TalonError(
        'hsm_unavailable',
        'The token does not answer. Check that it is connected (and, for a YubiHSM 2, that its connector runs), then restart Talon.',
      );
    }
    // The serial number stays out: this route needs no credential.
    return {
      status: 'ok',
      locked: !engine.isUnlocked,
      token: { label: token.label, manufacturer: token.manufacturer, model: token.model },
    };
  });
}
