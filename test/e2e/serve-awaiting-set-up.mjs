// Runs serve-awaiting-set-up.ts through tsx, as bin/talon.mjs runs the CLI.
import { register } from 'tsx/esm/api';

register();
await import('./serve-awaiting-set-up.ts');
