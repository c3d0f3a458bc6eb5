// Log prefixes that firewall front-ends write, read back into the rule they
// name: ECS rule.ruleset, rule.id, rule.name, and the verdict (event.action,
// event.type). Each convention is read as its own source writes it; the
// source is cited beside it (and in test/unit/verdict/prefix-conventions.test.ts).
// The whole prefix stays in netfilter.prefix: nothing here replaces it.
//
// A convention that does not say the verdict (UFW AUDIT, an OpenWrt rule
// that only logs) gives an action word and no type: event.type stays 'info'.

import type { ActionType } from './action';

export type PrefixConventionName = 'ubiquiti' | 'ufw' | 'firewalld' | 'openwrt' | 'shorewall';

export interface PrefixConvention {
  convention: PrefixConventionName;
  /** event.action: a verdict verb (accept, drop, reject, block, allow) or the convention's own word (audit, limit, log). */
  action: string;
  type?: ActionType;
  /** rule.ruleset: the rule set, zone, policy or chain the prefix names. */
  ruleset?: string;
  /** rule.id: the rule's number within its rule set. */
  ruleId?: string;
  /** rule.name: the prefix's label without its brackets, trailing colon and spaces. */
  ruleName: string;
}

function verdict(word: string): { action: string; type?: ActionType } {
  switch (word.toLowerCase()) {
    case 'a':
    case 'accept':
      return { action: 'accept', type: 'allowed' };
    case 'd':
    case 'drop':
      return { action: 'drop', type: 'denied' };
    case 'r':
    case 'reject':
      return { action: 'reject', type: 'denied' };
    default:
      return { action: word.toLowerCase() };
  }
}

// Ubiquiti EdgeOS / UniFi USG (Vyatta's firewall, as VyOS still writes it):
// "[RULESET-RULEID-X]", X the first letter of the rule's action — VyOS
// python/vyos/firewall.py: log prefix "[{fw_name[:19]}-{rule_id}-{action[:1].upper()}]";
// VyOS 1.4+: "[{family}-{hook}-{fw_name}-{rule_id}-{A}]"; a rule set's
// default action logs with rule id "default". Elastic's iptables pipeline
// reads the same label (UBIQUITI_LABEL: rule set, rule number, action) and
// maps A to accept and D to drop. Anywhere in the prefix, as the short tags.
const UBIQUITI = /\[([^\]\s]+)-(\d+|default)-([ADR])\]/i;

// UFW (ufw 0.36, src/backend_iptables.py and iptables/user.rules):
// "[UFW BLOCK] " deny policies and the logging-deny chain; "[UFW ALLOW] "
// allow policies and the logging-allow chain; "[UFW AUDIT] " the before-*
// chains at log level high/full, every packet before any verdict;
// "[UFW AUDIT INVALID] " conntrack-INVALID packets in the logging-deny chain
// (before.rules then drops them); "[UFW LIMIT BLOCK] " the user-limit chain,
// followed by -j REJECT; "[UFW LIMIT] " a `ufw limit log` rule's new
// connections, before the limit is applied.
const UFW = /^\[UFW (BLOCK|ALLOW|AUDIT INVALID|AUDIT|LIMIT BLOCK|LIMIT)\]/;
const UFW_ACTIONS: Record<string, { action: string; type?: ActionType }> = {
  BLOCK: { action: 'block', type: 'denied' },
  ALLOW: { action: 'allow', type: 'allowed' },
  AUDIT: { action: 'audit' },
  'AUDIT INVALID': { action: 'block', type: 'denied' },
  'LIMIT BLOCK': { action: 'block', type: 'denied' },
  LIMIT: { action: 'limit' },
};

// firewalld with LogDenied (firewalld 1.3, src/firewall/core/nftables.py and
// ipXtables.py): a zone's or policy's catch-all rule logs
// "filter_<IN|FWD|OUT>_<zone>_<REJECT|DROP>: " (nftables backend) or
// "<IN|FWD|OUT>_<zone>_<REJECT|DROP>: " (iptables backend); older releases
// "<zone>_<REJECT|DROP>: "; a policy's chain is "policy_<name>" in place of
// the zone; ICMP blocks "…_<zone>_ICMP_BLOCK: ". The table-wide rules:
// "FINAL_REJECT: ", "STATE_INVALID_DROP: ", "rpfilter_DROP: ",
// "RFC3964_IPv4_REJECT: ".
const FIREWALLD_GLOBAL = /^(FINAL_REJECT|STATE_INVALID_DROP|rpfilter_DROP|RFC3964_IPv4_REJECT): ?$/;
const FIREWALLD_ZONE = /^((?:filter_)?(?:(?:IN|FWD|OUT)_)?([A-Za-z0-9][\w.-]*?)_(REJECT|DROP|ICMP_BLOCK)): ?$/;

// OpenWrt zones with `option log 1`: fw4 (templates/zone-verdict.uc)
// "<verdict> <zone> <in|out>: " with the verdict lower case, and
// (zone-drop-invalid.uc) "drop <zone> invalid ct state: "; fw3 (zones.c)
// "<VERDICT> <zone> <in|out>: " upper case. fw4 rules with `option log 1`
// log their name, "@<section>[<index>]: " when unnamed (tests/03_rules/11_log):
// the section type and index say which rule, not what it did. fw3 rules have
// no log option (firewall3 rules.c); "!fw3: …" is the iptables comment fw3
// marks its rules with, which no log line carries: no convention to read.
const OPENWRT_ZONE = /^((accept|drop|reject) (\w+) (in|out|invalid ct state)): ?$/i;
const OPENWRT_UNNAMED = /^(@(rule|redirect|nat)\[(\d+)\]): ?$/;

// Shorewall: LOGFORMAT="Shorewall:%s:%s:" (chain, disposition) when unset or
// empty, with an optional %d rule number ("Shorewall:%s:%d:%s:") —
// shorewall.conf(5), Shorewall 5.2. Audited dispositions (A_DROP …) are the
// same verdicts. Since 5.1 the sample file sets "%s %s " (chain disposition),
// which the generic verb rule reads.
const SHOREWALL = /^(Shorewall:([^:\s]+):(?:(\d+):)?([A-Z_]+)):/;

/** The convention a prefix follows, or undefined. Pure; allocates only on a match. */
export function prefixConvention(prefix: string): PrefixConvention | undefined {
  const first = prefix.charCodeAt(0);
  if (first === 91 /* [ */) {
    const ufw = UFW.exec(prefix);
    if (ufw !== null) return { convention: 'ufw', ...UFW_ACTIONS[ufw[1]], ruleName: `UFW ${ufw[1]}` };
  }
  if (first === 83 /* S */) {
    const sw = SHOREWALL.exec(prefix);
    if (sw !== null) {
      const v = verdict(sw[4].startsWith('A_') ? sw[4].slice(2) : sw[4]);
      const r: PrefixConvention = { convention: 'shorewall', ...v, ruleset: sw[2], ruleName: sw[1] };
      if (sw[3] !== undefined) r.ruleId = sw[3];
      return r;
    }
  }
  const trimmed = prefix.trim();
  const global = FIREWALLD_GLOBAL.exec(trimmed);
  if (global !== null) {
    return { convention: 'firewalld', ...verdict(global[1].endsWith('REJECT') ? 'reject' : 'drop'), ruleName: global[1] };
  }
  const zone = FIREWALLD_ZONE.exec(trimmed);
  if (zone !== null) {
    const v = zone[3] === 'ICMP_BLOCK' ? { action: 'block', type: 'denied' as const } : verdict(zone[3]);
    return { convention: 'firewalld', ...v, ruleset: zone[2], ruleName: zone[1] };
  }
  const owrt = OPENWRT_ZONE.exec(trimmed);
  if (owrt !== null) return { convention: 'openwrt', ...verdict(owrt[2]), ruleset: owrt[3], ruleName: owrt[1] };
  const unnamed = OPENWRT_UNNAMED.exec(trimmed);
  if (unnamed !== null) return { convention: 'openwrt', action: 'log', ruleset: unnamed[2], ruleId: unnamed[3], ruleName: unnamed[1] };
  const ubnt = UBIQUITI.exec(prefix);
  if (ubnt !== null) {
    return { convention: 'ubiquiti', ...verdict(ubnt[3]), ruleset: ubnt[1], ruleId: ubnt[2], ruleName: `${ubnt[1]}-${ubnt[2]}-${ubnt[3]}` };
  }
  return undefined;
}
