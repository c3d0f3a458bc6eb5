// Log prefix → firewall verdict (event.action / event.type / event.outcome),
// and for the prefixes firewall front-ends write, the rule they name
// (rule.ruleset / rule.id / rule.name).
//
// Operators encode the verdict of a LOG/NFLOG rule in its prefix; SIEM intakes
// read it back. The user's rules come first (createActionMapper's `rules`);
// then the default rules, in this order:
//
//   1. the conventions of firewall front-ends (prefix-conventions.ts, each
//      read as its source writes it): Ubiquiti EdgeOS/UniFi and VyOS
//      `[WAN_IN-10-D]`, UFW `[UFW BLOCK]`, firewalld `filter_IN_public_REJECT: `,
//      OpenWrt fw4/fw3 `reject wan in: `, Shorewall `Shorewall:net-fw:DROP:`;
//      these also give the rule set, the rule id and the rule's name;
//   2. short tags `[XX-A]` / `[XX-D]` / `[XX-R]` (with or without a trailing
//      colon, anywhere in the prefix) → accept / drop / reject;
//   3. otherwise the prefix is split into words at every character that is not
//      a letter or digit (spaces, colons, dots, dashes, brackets, `->` …) and the
//      LAST word that is a verdict verb wins: `IPTABLES: DROP`, `INPUT DFLT DROP`,
//      `DA->FEDERATEUR ACCEPT`, `tcp.in.dropped`, `udp.out.accepted`, `FW-DROP-IN`.
//
// Verbs (case-insensitive) and the action they normalise to:
//   allowed: accept(ed), allow(ed), pass(ed), permit(ted)
//   denied:  drop(ped), deny / denied, block(ed), reject(ed)
//
// event.outcome: ECS defines it as success or failure "from the perspective of
// the entity that produced the event", and its categorization guide says that
// domain-specific verdicts such as allow and deny belong in event.type /
// event.action, not in event.outcome (its firewall example, a blocked
// connection, is "a successfully blocked network connection"). The firewall
// carried out its rule in both cases, so a known verdict — allowed or denied —
// gives outcome 'success'. When the verdict is unknown the outcome is left out
// (ECS: not populated for event.type:info).

import { prefixConvention, type PrefixConventionName } from './prefix-conventions';

export type ActionType = 'allowed' | 'denied';
export type ActionOutcome = 'success' | 'failure' | 'unknown';

export interface ActionResult {
  /**
   * Normalised verb, lower case: accept, allow, pass, permit, drop, deny, block, reject; a
   * convention's own word where it names no verdict (audit, limit, log); or a user rule's action.
   */
  action: string;
  type?: ActionType;
  outcome?: ActionOutcome;
  /** ECS rule.ruleset: the rule set, zone, policy or chain a convention's prefix names. */
  ruleset?: string;
  /** ECS rule.id: the rule's number in its rule set, where the convention carries one. */
  ruleId?: string;
  /**
   * ECS rule.name where a convention names the rule: the prefix's label without brackets,
   * trailing colon and spaces (`UFW BLOCK`, `WAN_IN-10-D`). Absent otherwise: the document's
   * rule.name is then the whole prefix, trimmed.
   */
  ruleName?: string;
  /** Which convention matched: ubiquiti, ufw, firewalld, openwrt, shorewall. Absent for the other rules. */
  convention?: PrefixConventionName;
}

export interface ActionRule {
  /** A string matches as a case-insensitive substring of the prefix; a RegExp is tested as given (g/y flags dropped). */
  match: string | RegExp;
  /** The event.action to report. */
  action: string;
  /** The event.type verdict; when omitted it is derived from `action` if that is a known verb. */
  type?: ActionType;
  /** Defaults to 'success' when the verdict (type) is known, absent otherwise. */
  outcome?: ActionOutcome;
}

export interface ActionMapperOptions {
  /** Tried first, in order. */
  rules?: ActionRule[];
  /** Apply the default rules after the user's (default true). */
  defaults?: boolean;
  /** Distinct prefixes remembered (default 1024); 0 disables the cache. */
  cacheSize?: number;
}

export type ActionMapper = (prefix: string) => ActionResult | undefined;

function result(action: string, type: ActionType | undefined, outcome?: ActionOutcome): ActionResult {
  const r: ActionResult = { action };
  if (type !== undefined) r.type = type;
  const o = outcome ?? (type !== undefined ? 'success' : undefined);
  if (o !== undefined) r.outcome = o;
  return Object.freeze(r);
}

const VERBS = new Map<string, ActionResult>();
for (const [base, type, forms] of [
  ['accept', 'allowed', ['accept', 'accepted']],
  ['allow', 'allowed', ['allow', 'allowed']],
  ['pass', 'allowed', ['pass', 'passed']],
  ['permit', 'allowed', ['permit', 'permitted']],
  ['drop', 'denied', ['drop', 'dropped']],
  ['deny', 'denied', ['deny', 'denied']],
  ['block', 'denied', ['block', 'blocked']],
  ['reject', 'denied', ['reject', 'rejected']],
] as const) {
  const r = result(base, type);
  for (const f of forms) VERBS.set(f, r);
}

const TAG_RESULTS: Record<string, ActionResult> = {
  a: VERBS.get('accept')!,
  d: VERBS.get('drop')!,
  r: VERBS.get('reject')!,
};

// `[OY-D]`, `[fw1-a]:` … : a bracketed tag whose last dash-separated part is A, D or R.
const SHORT_TAG = /\[[^\]\s]+-([adr])\]/i;

/** The verdict of a known verb (any case), or undefined. */
export function verbAction(word: string): ActionResult | undefined {
  return VERBS.get(word.toLowerCase());
}

function isAlnum(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/** The default rules alone, uncached. */
export function defaultAction(prefix: string): ActionResult | undefined {
  const known = prefixConvention(prefix);
  if (known !== undefined) {
    const r: ActionResult = { action: known.action };
    if (known.type !== undefined) {
      r.type = known.type;
      r.outcome = 'success';
    }
    if (known.ruleset !== undefined) r.ruleset = known.ruleset;
    if (known.ruleId !== undefined) r.ruleId = known.ruleId;
    r.ruleName = known.ruleName;
    r.convention = known.convention;
    return Object.freeze(r);
  }
  const tag = SHORT_TAG.exec(prefix);
  if (tag !== null) return TAG_RESULTS[tag[1].toLowerCase()];
  // Walk the words from the end; the last verb wins.
  let end = prefix.length;
  while (end > 0) {
    while (end > 0 && !isAlnum(prefix.charCodeAt(end - 1))) end--;
    let start = end;
    while (start > 0 && isAlnum(prefix.charCodeAt(start - 1))) start--;
    const len = end - start;
    // Verbs are 4 to 9 letters long: skip the lookup (and the substring) otherwise.
    if (len >= 4 && len <= 9) {
      const r = VERBS.get(prefix.slice(start, end).toLowerCase());
      if (r !== undefined) return r;
    }
    end = start;
  }
  return undefined;
}

interface CompiledRule {
  needle?: string;
  re?: RegExp;
  result: ActionResult;
}

function compile(rule: ActionRule): CompiledRule {
  let type = rule.type;
  if (type === undefined) type = verbAction(rule.action)?.type;
  const r = result(rule.action, type, rule.outcome);
  if (typeof rule.match === 'string') return { needle: rule.match.toLowerCase(), result: r };
  const re = rule.match;
  return { re: /[gy]/.test(re.flags) ? new RegExp(re.source, re.flags.replace(/[gy]/g, '')) : re, result: r };
}

/**
 * A prefix → verdict function: the user's rules first (in order), then the
 * default rules unless `defaults: false`. Results are cached per prefix in a
 * bounded map (prefixes repeat: a rule set has few of them). Returned objects
 * are frozen and shared between calls.
 */
export function createActionMapper(options?: ActionMapperOptions): ActionMapper {
  const rules = (options?.rules ?? []).map(compile);
  const useDefaults = options?.defaults !== false;
  const cacheSize = options?.cacheSize ?? 1024;
  const cache = new Map<string, ActionResult | null>();

  const compute = (prefix: string): ActionResult | undefined => {
    if (rules.length > 0) {
      const lower = prefix.toLowerCase();
      for (const rule of rules) {
        if (rule.needle !== undefined ? lower.includes(rule.needle) : rule.re!.test(prefix)) return rule.result;
      }
    }
    return useDefaults ? defaultAction(prefix) : undefined;
  };

  if (cacheSize <= 0) return compute;

  return (prefix: string): ActionResult | undefined => {
    const hit = cache.get(prefix);
    if (hit !== undefined) return hit ?? undefined;
    const r = compute(prefix);
    if (cache.size >= cacheSize) cache.delete(cache.keys().next().value as string);
    cache.set(prefix, r ?? null);
    return r;
  };
}

/** The default mapper (default rules, shared cache). */
export const defaultActionMapper: ActionMapper = createActionMapper();
