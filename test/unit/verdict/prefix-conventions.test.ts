// The log prefixes of firewall front-ends, each as its own source writes
// it (the source is cited per convention), read into the verdict and the
// rule: event.action, event.type, rule.ruleset, rule.id, rule.name.
import { describe, expect, it } from 'vitest';
import { createActionMapper, defaultAction, defaultActionMapper, type ActionResult } from '../../../src/verdict/action';

type Expected = Omit<ActionResult, 'outcome'>;

function check(prefix: string, expected: Expected): void {
  const r = defaultActionMapper(prefix);
  expect(defaultAction(prefix)).toEqual(r);
  // A known verdict is carried out: outcome success; no verdict, no outcome.
  expect(r).toEqual(expected.type !== undefined ? { ...expected, outcome: 'success' } : expected);
}

function table(rows: Array<[string, Expected]>): void {
  for (const [prefix, expected] of rows) it(JSON.stringify(prefix), () => check(prefix, expected));
}

describe('Ubiquiti EdgeOS / UniFi USG, VyOS: "[RULESET-RULEID-X]"', () => {
  // VyOS python/vyos/firewall.py (vyos/vyos-1x): log prefix "[{fw_name[:19]}-{rule_id}-{action[:1].upper()}]",
  // 1.4+: "[{family}-{hook}-{fw_name}-{rule_id}-{action[:1].upper()}]"; a rule set's default action logs as rule "default".
  // Elastic's iptables pipeline (elastic/integrations packages/iptables, UBIQUITI_LABEL) reads rule set, rule number and action.
  table([
    ['[WAN_IN-10-D]', { action: 'drop', type: 'denied', ruleset: 'WAN_IN', ruleId: '10', ruleName: 'WAN_IN-10-D', convention: 'ubiquiti' }],
    [
      '[WAN_LOCAL-default-D]',
      { action: 'drop', type: 'denied', ruleset: 'WAN_LOCAL', ruleId: 'default', ruleName: 'WAN_LOCAL-default-D', convention: 'ubiquiti' },
    ],
    [
      '[LAN_IN-3000-A]',
      { action: 'accept', type: 'allowed', ruleset: 'LAN_IN', ruleId: '3000', ruleName: 'LAN_IN-3000-A', convention: 'ubiquiti' },
    ],
    [
      '[GUEST_IN-20-R]',
      { action: 'reject', type: 'denied', ruleset: 'GUEST_IN', ruleId: '20', ruleName: 'GUEST_IN-20-R', convention: 'ubiquiti' },
    ],
    // A zone-pair rule set keeps its dash (Elastic's pipeline splits it into ingress and egress zones).
    [
      '[LAN-WAN-40-A]',
      { action: 'accept', type: 'allowed', ruleset: 'LAN-WAN', ruleId: '40', ruleName: 'LAN-WAN-40-A', convention: 'ubiquiti' },
    ],
    [
      '[ipv4-FWD-filter-10-A]',
      {
        action: 'accept',
        type: 'allowed',
        ruleset: 'ipv4-FWD-filter',
        ruleId: '10',
        ruleName: 'ipv4-FWD-filter-10-A',
        convention: 'ubiquiti',
      },
    ],
    // The three prefixes of Elastic's test lines (packages/iptables/data_stream/log/_dev/test/pipeline/test-ubiquiti.log):
    // Elastic makes the same rule id and action of them (and puts the rule set in rule.name).
    [
      '[LAN_LOCAL-default-A]',
      {
        action: 'accept',
        type: 'allowed',
        ruleset: 'LAN_LOCAL',
        ruleId: 'default',
        ruleName: 'LAN_LOCAL-default-A',
        convention: 'ubiquiti',
      },
    ],
    [
      '[WAN_OUT-2000-A]',
      { action: 'accept', type: 'allowed', ruleset: 'WAN_OUT', ruleId: '2000', ruleName: 'WAN_OUT-2000-A', convention: 'ubiquiti' },
    ],
    [
      '[source-dest-default-D]',
      {
        action: 'drop',
        type: 'denied',
        ruleset: 'source-dest',
        ruleId: 'default',
        ruleName: 'source-dest-default-D',
        convention: 'ubiquiti',
      },
    ],
    // Text may follow the label.
    [
      '[WAN_LOCAL-2000-D]DESCR="drop all"',
      { action: 'drop', type: 'denied', ruleset: 'WAN_LOCAL', ruleId: '2000', ruleName: 'WAN_LOCAL-2000-D', convention: 'ubiquiti' },
    ],
  ]);
  it('a two-part tag stays a short tag: no rule id', () => {
    expect(defaultAction('[OY-D]:')).toEqual({ action: 'drop', type: 'denied', outcome: 'success' });
    // A middle part that is no rule number is not a rule id either.
    expect(defaultAction('[LAN-WAN-D]')).toEqual({ action: 'drop', type: 'denied', outcome: 'success' });
  });
});

describe('UFW: "[UFW BLOCK] " …', () => {
  // ufw 0.36 src/backend_iptables.py: "[UFW BLOCK] " / "[UFW ALLOW] " (policies, logging-deny/-allow chains),
  // "[UFW AUDIT] " (before-* chains, log level high/full, before any verdict), "[UFW AUDIT INVALID] " (INVALID packets
  // in the logging-deny chain; before.rules drops them), "[UFW %s] " for `ufw … log` rules (ALLOW, BLOCK, LIMIT);
  // iptables/user.rules: "[UFW LIMIT BLOCK] " then -j REJECT.
  table([
    ['[UFW BLOCK] ', { action: 'block', type: 'denied', ruleName: 'UFW BLOCK', convention: 'ufw' }],
    ['[UFW ALLOW] ', { action: 'allow', type: 'allowed', ruleName: 'UFW ALLOW', convention: 'ufw' }],
    ['[UFW AUDIT] ', { action: 'audit', ruleName: 'UFW AUDIT', convention: 'ufw' }],
    ['[UFW AUDIT INVALID] ', { action: 'block', type: 'denied', ruleName: 'UFW AUDIT INVALID', convention: 'ufw' }],
    ['[UFW LIMIT BLOCK] ', { action: 'block', type: 'denied', ruleName: 'UFW LIMIT BLOCK', convention: 'ufw' }],
    ['[UFW LIMIT] ', { action: 'limit', ruleName: 'UFW LIMIT', convention: 'ufw' }],
  ]);
});

describe('firewalld with LogDenied: "filter_IN_public_REJECT: " …', () => {
  // firewalld 1.3 src/firewall/core/nftables.py: "filter_%s_%s: " % (chain, REJECT|DROP) with the chain
  // IN_/FWD_/OUT_ + zone (or policy_<name>), "%s_%s_ICMP_BLOCK: ", "FINAL_REJECT: ", "STATE_INVALID_DROP: ",
  // "rpfilter_DROP: ", "RFC3964_IPv4_REJECT: "; ipXtables.py: "%s_REJECT: " / "%s_DROP: " % chain.
  table([
    ['FINAL_REJECT: ', { action: 'reject', type: 'denied', ruleName: 'FINAL_REJECT', convention: 'firewalld' }],
    ['STATE_INVALID_DROP: ', { action: 'drop', type: 'denied', ruleName: 'STATE_INVALID_DROP', convention: 'firewalld' }],
    ['rpfilter_DROP: ', { action: 'drop', type: 'denied', ruleName: 'rpfilter_DROP', convention: 'firewalld' }],
    ['RFC3964_IPv4_REJECT: ', { action: 'reject', type: 'denied', ruleName: 'RFC3964_IPv4_REJECT', convention: 'firewalld' }],
    [
      'filter_IN_public_REJECT: ',
      { action: 'reject', type: 'denied', ruleset: 'public', ruleName: 'filter_IN_public_REJECT', convention: 'firewalld' },
    ],
    [
      'filter_FWD_internal_DROP: ',
      { action: 'drop', type: 'denied', ruleset: 'internal', ruleName: 'filter_FWD_internal_DROP', convention: 'firewalld' },
    ],
    [
      'filter_IN_policy_allow-host-ipv6_REJECT: ',
      {
        action: 'reject',
        type: 'denied',
        ruleset: 'policy_allow-host-ipv6',
        ruleName: 'filter_IN_policy_allow-host-ipv6_REJECT',
        convention: 'firewalld',
      },
    ],
    [
      'filter_IN_public_ICMP_BLOCK: ',
      { action: 'block', type: 'denied', ruleset: 'public', ruleName: 'filter_IN_public_ICMP_BLOCK', convention: 'firewalld' },
    ],
    ['IN_public_DROP: ', { action: 'drop', type: 'denied', ruleset: 'public', ruleName: 'IN_public_DROP', convention: 'firewalld' }],
    ['public_DROP: ', { action: 'drop', type: 'denied', ruleset: 'public', ruleName: 'public_DROP', convention: 'firewalld' }],
    ['dmz_REJECT:', { action: 'reject', type: 'denied', ruleset: 'dmz', ruleName: 'dmz_REJECT', convention: 'firewalld' }],
  ]);
});

describe('OpenWrt fw4 / fw3: "reject wan in: " …', () => {
  // openwrt/firewall4 templates/zone-verdict.uc: log prefix "{{ verdict }} {{ zone.name }} {{ egress ? "out" : "in" }}: ";
  // zone-drop-invalid.uc: "drop {{ zone.name }} invalid ct state: "; tests/03_rules/11_log: an unnamed rule logs
  // "@rule[0]: " (also @redirect, @nat). openwrt/firewall3 zones.c: "%s %s in: " / "%s %s out: " with fw3_flag_names (REJECT, DROP).
  table([
    ['reject wan in: ', { action: 'reject', type: 'denied', ruleset: 'wan', ruleName: 'reject wan in', convention: 'openwrt' }],
    ['drop wan out: ', { action: 'drop', type: 'denied', ruleset: 'wan', ruleName: 'drop wan out', convention: 'openwrt' }],
    [
      'drop wan invalid ct state: ',
      { action: 'drop', type: 'denied', ruleset: 'wan', ruleName: 'drop wan invalid ct state', convention: 'openwrt' },
    ],
    ['REJECT wan in: ', { action: 'reject', type: 'denied', ruleset: 'wan', ruleName: 'REJECT wan in', convention: 'openwrt' }],
    ['DROP guest out: ', { action: 'drop', type: 'denied', ruleset: 'guest', ruleName: 'DROP guest out', convention: 'openwrt' }],
    ['@rule[0]: ', { action: 'log', ruleset: 'rule', ruleId: '0', ruleName: '@rule[0]', convention: 'openwrt' }],
    ['@redirect[2]: ', { action: 'log', ruleset: 'redirect', ruleId: '2', ruleName: '@redirect[2]', convention: 'openwrt' }],
  ]);
});

describe('Shorewall: "Shorewall:<chain>:<disposition>:"', () => {
  // shorewall.conf(5), Shorewall 5.2: LOGFORMAT unset or empty is "Shorewall:%s:%s:" (chain, disposition); "%d" adds
  // the rule number. Audited dispositions (A_DROP, A_REJECT, A_ACCEPT) are the same verdicts.
  table([
    [
      'Shorewall:net-fw:DROP:',
      { action: 'drop', type: 'denied', ruleset: 'net-fw', ruleName: 'Shorewall:net-fw:DROP', convention: 'shorewall' },
    ],
    [
      'Shorewall:net2fw:REJECT:',
      { action: 'reject', type: 'denied', ruleset: 'net2fw', ruleName: 'Shorewall:net2fw:REJECT', convention: 'shorewall' },
    ],
    [
      'Shorewall:loc-net:ACCEPT:',
      { action: 'accept', type: 'allowed', ruleset: 'loc-net', ruleName: 'Shorewall:loc-net:ACCEPT', convention: 'shorewall' },
    ],
    [
      'Shorewall:net-fw:12:A_DROP:',
      { action: 'drop', type: 'denied', ruleset: 'net-fw', ruleId: '12', ruleName: 'Shorewall:net-fw:12:A_DROP', convention: 'shorewall' },
    ],
    [
      'Shorewall:net-fw:CONTINUE:',
      { action: 'continue', ruleset: 'net-fw', ruleName: 'Shorewall:net-fw:CONTINUE', convention: 'shorewall' },
    ],
  ]);
  it('5.1\'s sample LOGFORMAT "%s %s " reads by the verb rule', () => {
    expect(defaultAction('net-fw DROP ')).toEqual({ action: 'drop', type: 'denied', outcome: 'success' });
  });
});

describe('the conventions already handled, and what is no convention', () => {
  it('the generic rules still give the verdict alone', () => {
    expect(defaultAction('IPTABLES: DROP')).toEqual({ action: 'drop', type: 'denied', outcome: 'success' });
    expect(defaultAction('tcp.in.dropped')).toEqual({ action: 'drop', type: 'denied', outcome: 'success' });
    expect(defaultAction('INPUT_DROP')).toEqual({ action: 'drop', type: 'denied', outcome: 'success' });
    expect(defaultAction('LOG')).toBeUndefined();
    expect(defaultAction('[UFW SOMETHING] ')).toBeUndefined();
  });
});

describe("the user's rules come first", () => {
  it('a user rule wins over a convention, and defaults: false turns the conventions off', () => {
    const mapper = createActionMapper({ rules: [{ match: '[UFW BLOCK]', action: 'quarantine', type: 'denied' }] });
    expect(mapper('[UFW BLOCK] ')).toEqual({ action: 'quarantine', type: 'denied', outcome: 'success' });
    expect(mapper('[UFW ALLOW] ')).toMatchObject({ action: 'allow', ruleName: 'UFW ALLOW' });
    expect(createActionMapper({ defaults: false })('[WAN_IN-10-D]')).toBeUndefined();
  });

  it('results are frozen and cached per prefix', () => {
    const r = defaultActionMapper('[WAN_IN-10-D]');
    expect(Object.isFrozen(r)).toBe(true);
    expect(defaultActionMapper('[WAN_IN-10-D]')).toBe(r);
  });
});
