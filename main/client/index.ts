/**
 * Talon's TypeScript client (`import { createClient } from 'talon-vault'`): 1Claw's SDK names over
 * Talon's local `/v1` API. The CLI uses it; so can any script.
 */
export {
  type ClientOptions,
  type GatedOptions,
  TalonClient,
  createClient,
  defaultBaseUrl,
  encodeSecretPath,
  isApprovalPending,
  settle,
} from './talon-client.js';
export { TalonClientError } from './talon-client-error.js';
export { refreshBeforeExpiryMs } from './bearer-source.js';
export type * from './wire-types.js';
