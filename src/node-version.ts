// The Node.js lines the package is tested on, and the note given on any other.
// package.json's `engines` says the same (a unit test keeps them equal).

/** Major versions of the supported lines (CI runs the suite on each). */
export const SUPPORTED_NODE_LINES = [22, 24, 26] as const;

/** The warning for `version` (process.versions.node), or null when its line is supported. */
export function unsupportedNodeMessage(version: string): string | null {
  const major = Number(version.split('.')[0]);
  if ((SUPPORTED_NODE_LINES as readonly number[]).includes(major)) return null;
  const lines = SUPPORTED_NODE_LINES.join(', ');
  if (major < SUPPORTED_NODE_LINES[0]) {
    return (
      `netfilter-collector is tested on Node.js ${lines}; this is ${version}, an older line ` +
      '(end of life): it may work (the addon is N-API), but nothing checks it. Upgrade Node.js.'
    );
  }
  if (major % 2 === 1) {
    return `netfilter-collector is tested on Node.js ${lines}; this is ${version}, an odd (short-lived) line: it may work, but nothing checks it.`;
  }
  return `netfilter-collector is tested on Node.js ${lines}; this is ${version}, a newer line than it was tested on: it should work (the addon is N-API).`;
}

let warned = false;

/** Says once, as a process warning, that this Node.js line is not one the package is tested on. */
export function warnIfUnsupportedNode(version = process.versions.node): void {
  const message = unsupportedNodeMessage(version);
  if (message === null || warned) return;
  warned = true;
  process.emitWarning(message, { code: 'NETFILTER_COLLECTOR_NODE_VERSION' });
}
