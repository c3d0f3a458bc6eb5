// Waiting on a sink's progress: whoever waits registers a check, and the sink
// says when something moved (bytes written, a connection made or lost, a
// failure). Shared by the descriptor and socket sinks.

export const RESOLVED: Promise<void> = Promise.resolve();

export class Progress {
  private readonly checks = new Set<() => boolean>();

  /** Something moved: every check runs again, and those that return true are done with. */
  tell(): void {
    for (const check of [...this.checks]) if (check()) this.checks.delete(check);
  }

  /** Runs `check` at each tell() until it returns true. */
  watch(check: () => boolean): void {
    this.checks.add(check);
  }

  /** Resolves when `done()` holds (looked at on each tell()) or after `ms`, whichever comes first. */
  until(done: () => boolean, ms: number): Promise<void> {
    if (done()) return RESOLVED;
    return new Promise<void>((resolve) => {
      const check = (): boolean => {
        if (!done()) return false;
        clearTimeout(timer);
        resolve();
        return true;
      };
      const timer = setTimeout(
        () => {
          this.checks.delete(check);
          resolve();
        },
        Math.max(0, ms),
      );
      this.watch(check);
    });
  }
}
