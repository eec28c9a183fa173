#!/usr/bin/env node
// The `talon` command: runs the TypeScript CLI through tsx, with no build step.
import { register } from 'tsx/esm/api';

register();
await import('../main/cli/talon.ts');
