/**
 * A progress bar on stderr when it is a terminal (`[######------]  45%  talon.db`); nothing
 * otherwise, so logs and scripts see only the final line.
 */
export function progressBar(label: string): {
  update(step: { done: number; total: number; what: string }): void;
  done(): void;
} {
  const tty = process.stderr.isTTY === true;
  let last = '';
  return {
    update({ done, total, what }) {
      if (!tty) return;
      const ratio = total > 0 ? Math.min(1, done / total) : 1;
      const width = 30;
      const filled = Math.round(ratio * width);
      const line =
        `${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.round(ratio * 100)).padStart(3)}%  ${what}`.slice(
          0,
          (process.stderr.columns || 100) - 1,
        );
      if (line === last) return;
      last = line;
      process.stderr.write(`\r\x1b[K${line}`);
    },
    done() {
      if (tty && last) process.stderr.write('\r\x1b[K');
    },
  };
}
