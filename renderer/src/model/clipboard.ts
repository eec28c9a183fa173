/**
 * Copy a secret to the clipboard and clear it again after `clearAfterMs` (30 s), unless something
 * else was copied meanwhile (checked where the page may read the clipboard; otherwise it clears
 * anyway, the safer guess). The value is never kept by the page after the copy.
 */
export const clipboardClearMs = 30_000;

export interface ClipboardLike {
  writeText(text: string): Promise<void>;
  readText?(): Promise<string>;
}

function systemClipboard(): ClipboardLike {
  const clipboard = (globalThis as { navigator?: { clipboard?: ClipboardLike } }).navigator?.clipboard;
  if (!clipboard)
    throw new Error('This window has no clipboard access; select the value and copy it by hand.');
  return clipboard;
}

let pendingClear: ReturnType<typeof setTimeout> | undefined;

export async function copyWithClearing(
  value: string,
  clipboard: ClipboardLike = systemClipboard(),
  clearAfterMs = clipboardClearMs,
): Promise<void> {
  await clipboard.writeText(value);
  if (pendingClear !== undefined) clearTimeout(pendingClear);
  const copiedLength = value.length;
  pendingClear = setTimeout(() => {
    pendingClear = undefined;
    void (async () => {
      try {
        if (clipboard.readText) {
          const current = await clipboard.readText();
          if (current.length !== copiedLength) return;
        }
      } catch {
        // Reading is not allowed here: clear anyway.
      }
      await clipboard.writeText('').catch(() => undefined);
    })();
  }, clearAfterMs);
}
