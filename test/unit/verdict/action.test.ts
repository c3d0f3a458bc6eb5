import { describe, expect, it } from 'vitest';
import { createActionMapper, defaultAction, defaultActionMapper } from '../../../src/verdict/action';

const ALLOWED = 'allowed';
const DENIED = 'denied';

// prefix → [action, type] (undefined: no verdict)
const TABLE: Array<[string, [string, 'allowed' | 'denied'] | undefined]> = [
  // last word
  ['IPTABLES: DROP', ['drop', DENIED]],
  ['IPTABLES: DROP ', ['drop', DENIED]],
  ['IPTABLES: DROP: ', ['drop', DENIED]],
  ['INPUT DFLT DROP', ['drop', DENIED]],
  ['INPUT DFLT DROP:', ['drop', DENIED]],
  ['DA->FEDERATEUR ACCEPT', ['accept', ALLOWED]],
  ['DA->FEDERATEUR ACCEPT ', ['accept', ALLOWED]],
  ['iptables: accepted ', ['accept', ALLOWED]],
  ['FW REJECT', ['reject', DENIED]],
  ['FW rejected', ['reject', DENIED]],
  ['FWD DENY', ['deny', DENIED]],
  ['FWD denied:', ['deny', DENIED]],
  ['Blocked', ['block', DENIED]],
  // (prefixes of firewall front-ends: prefix-conventions.test.ts)
  ['out allowed', ['allow', ALLOWED]],
  ['pass', ['pass', ALLOWED]],
  ['PASSED', ['pass', ALLOWED]],
  ['PERMIT', ['permit', ALLOWED]],
  ['permitted: ', ['permit', ALLOWED]],
  ['Dropped', ['drop', DENIED]],
  // the last verb wins, wherever it is
  ['FW-DROP-IN', ['drop', DENIED]],
  ['DROP INVALID', ['drop', DENIED]],
  ['ACCEPT then DROP', ['drop', DENIED]],
  // short tags
  ['[OY-A]:', ['accept', ALLOWED]],
  ['[OY-D]:', ['drop', DENIED]],
  ['[OY-R]:', ['reject', DENIED]],
  ['[OY-A]', ['accept', ALLOWED]],
  ['[OY-D] ', ['drop', DENIED]],
  ['[oy-r]', ['reject', DENIED]],
  ['[XX-A]:', ['accept', ALLOWED]],
  ['[FW1-D]: ', ['drop', DENIED]],
  ['[OY-D]: ACCEPT', ['drop', DENIED]],
  ['[OY-X]:', undefined],
  ['[-D]', undefined],
  // dotted names
  ['tcp.in.dropped', ['drop', DENIED]],
  ['udp.out.accepted', ['accept', ALLOWED]],
  ['icmp.fwd.rejected', ['reject', DENIED]],
  ['tcp.in.dropped:', ['drop', DENIED]],
  ['INPUT_DROP', ['drop', DENIED]],
  // no verdict
  ['', undefined],
  ['   ', undefined],
  ['LOG', undefined],
  ['INPUT NEW', undefined],
  ['dropzone', undefined],
  ['bypass', undefined],
  ['passwd', undefined],
];

describe('default action rules', () => {
  for (const [prefix, expected] of TABLE) {
    it(`${JSON.stringify(prefix)} -> ${expected ? expected.join('/') : 'none'}`, () => {
      const r = defaultActionMapper(prefix);
      expect(defaultAction(prefix)).toEqual(r);
      if (expected === undefined) {
        expect(r).toBeUndefined();
      } else {
        expect(r).toEqual({ action: expected[0], type: expected[1], outcome: 'success' });
      }
    });
  }

  it('is case-insensitive', () => {
    expect(defaultAction('iptables: drop')?.action).toBe('drop');
    expect(defaultAction('IpTaBlEs: DrOp')?.action).toBe('drop');
  });
});

describe('createActionMapper', () => {
  it('tries user rules first, then the defaults', () => {
    const map = createActionMapper({
      rules: [
        { match: 'honeypot', action: 'trap', type: 'denied' },
        { match: /^LAN-(\d+)$/i, action: 'accept' },
        { match: 'audit', action: 'audit' },
      ],
    });
    expect(map('HONEYPOT ACCEPT')).toEqual({ action: 'trap', type: 'denied', outcome: 'success' });
    // type derived from a known verb
    expect(map('lan-12')).toEqual({ action: 'accept', type: 'allowed', outcome: 'success' });
    // unknown verb, no type: no outcome either
    expect(map('[UFW AUDIT] ')).toEqual({ action: 'audit' });
    expect(map('IPTABLES: DROP')).toEqual({ action: 'drop', type: 'denied', outcome: 'success' });
    expect(map('nothing here')).toBeUndefined();
  });

  it('matches strings as case-insensitive substrings', () => {
    const map = createActionMapper({ rules: [{ match: 'Guest-Net', action: 'deny' }], defaults: false });
    expect(map('from GUEST-NET to lan')).toEqual({ action: 'deny', type: 'denied', outcome: 'success' });
    expect(map('guest net')).toBeUndefined();
  });

  it('defaults: false disables the default rules', () => {
    const map = createActionMapper({ defaults: false });
    expect(map('IPTABLES: DROP')).toBeUndefined();
  });

  it('honours an explicit outcome', () => {
    const map = createActionMapper({ rules: [{ match: 'probe', action: 'probe', outcome: 'unknown' }] });
    expect(map('probe')).toEqual({ action: 'probe', outcome: 'unknown' });
  });

  it('tolerates global/sticky regular expressions (no lastIndex state)', () => {
    const map = createActionMapper({ rules: [{ match: /drop-me/gi, action: 'drop' }], cacheSize: 0 });
    for (let i = 0; i < 3; i++) expect(map('DROP-ME')?.action).toBe('drop');
  });

  it('caches per prefix, bounded', () => {
    let calls = 0;
    const re = /x/;
    const counting = { match: { test: (s: string) => (calls++, re.test(s)) } as unknown as RegExp, action: 'x' };
    Object.defineProperty(counting.match, 'flags', { value: '' });
    const map = createActionMapper({ rules: [counting], cacheSize: 2 });
    map('x1');
    map('x1');
    expect(calls).toBe(1);
    map('x2');
    map('x3'); // evicts x1
    map('x2');
    expect(calls).toBe(3);
    map('x1');
    expect(calls).toBe(4);
  });

  it('returns the same frozen result objects', () => {
    const a = defaultActionMapper('IPTABLES: DROP');
    const b = defaultActionMapper('tcp.in.dropped');
    expect(a).toBe(b);
    expect(Object.isFrozen(a)).toBe(true);
  });
});
