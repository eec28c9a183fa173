export { KeyStore, keyLabels, type KeyStoreOptions, type TokenInfo } from './key-store.js';
export { HsmError, type HsmErrorKind } from './hsm-error.js';
export { defaultSoftHsmModule } from './pkcs11-module.js';
export {
  createEmbeddedToken,
  embeddedTokenPaths,
  embeddedTokenState,
  removeEmbeddedToken,
  unsealSoPin,
  useEmbeddedSoftHsm,
  type CreateEmbeddedTokenOptions,
  type EmbeddedTokenPaths,
  type EmbeddedTokenStep,
} from './softhsm-token.js';
export { wrapMechanisms, type WrapMechanism } from './wrapped-key-blob.js';
export type { EcPublicKey, EcdsaSignature } from './ecdsa-signature.js';
