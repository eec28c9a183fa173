import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { buildDeskIfStale, root } from '../../scripts/desk-build.mjs';

/** Builds the renderer when its sources are newer than renderer/dist, and makes the screens folder. */
export default function globalSetup(): void {
  buildDeskIfStale();
  mkdirSync(join(root, 'test-results', 'screens'), { recursive: true });
}
