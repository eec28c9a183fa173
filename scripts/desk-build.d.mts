/** Types of desk-build.mjs, for the TypeScript callers (the end-to-end tests' global set-up). */
export declare const root: string;
export declare function buildDeskIfStale(options?: { preload?: boolean }): string[];
