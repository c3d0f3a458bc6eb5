// Who wrote a document: ecs.version, observer.* (this gateway) and agent.*
// (this collector), the same on every packet, flow and gap document, so
// documents of a fleet of gateways can be told apart once they meet in a SIEM.
//
//   observer.hostname  os.hostname() unless set; observer.name and observer.ip only when set
//   agent.type         'netfilter-collector'; agent.version: the package's version
//   agent.name         set, else observer.name, else observer.hostname (as Beats name themselves)
//   agent.id           set (the CLI reads it from --agent-id-file), else derived from
//                      /etc/machine-id: stable across restarts and reinstalls of one machine,
//                      and not the machine id itself (an app-specific id, as systemd's
//                      sd_id128_get_machine_app_specific derives them); absent without either.
import { createHmac, randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { DocWriter } from './doc-writer';

/**
 * ecs.version: the ECS release whose field reference the tests check every
 * document against (test/fixtures/reference/ecs.json, extracted from
 * elastic/ecs 9.5.0-dev; the schema tests fail if the two part).
 */
export const ECS_VERSION = '9.5.0';

export const AGENT_TYPE = 'netfilter-collector';

export const AGENT_VERSION: string = (require('../../package.json') as { version: string }).version;

/** The identity options of every document (EcsOptions, FlowEcsOptions and GapEcsOptions share them). */
export interface EcsIdentityOptions {
  /** observer.hostname (default: os.hostname()), observer.name, observer.ip (the gateway's addresses). */
  observer?: { hostname?: string; name?: string; ip?: readonly string[] };
  /** agent.name (default: observer.name, else observer.hostname) and agent.id (default: derived from /etc/machine-id). */
  agent?: { name?: string; id?: string };
}

/** The identity fields of one options object, resolved once. */
export interface EcsIdentity {
  hostname: string;
  name: string | undefined;
  ips: readonly string[] | undefined;
  agentName: string;
  agentId: string | undefined;
}

const IDENTITIES = new WeakMap<object, EcsIdentity>();
let defaultIdentity: EcsIdentity | undefined;

/** The identity of documents written with these options (kept per options object: resolve once, write per document). */
export function ecsIdentity(options: EcsIdentityOptions | undefined): EcsIdentity {
  if (options === undefined) return (defaultIdentity ??= resolve(undefined));
  let id = IDENTITIES.get(options);
  if (id === undefined) IDENTITIES.set(options, (id = resolve(options)));
  return id;
}

function resolve(options: EcsIdentityOptions | undefined): EcsIdentity {
  const obs = options?.observer;
  const hostname = obs?.hostname ?? os.hostname();
  const ips = obs?.ip !== undefined && obs.ip.length > 0 ? obs.ip.slice() : undefined;
  return {
    hostname,
    name: obs?.name,
    ips,
    agentName: options?.agent?.name ?? obs?.name ?? hostname,
    agentId: options?.agent?.id ?? machineAgentId(),
  };
}

/** Writes ecs.version. */
export function writeEcsVersion(w: DocWriter): void {
  w.open('ecs');
  w.str('version', ECS_VERSION);
  w.close();
}

/** Opens observer and writes its identity; the caller adds interfaces and closes it. */
export function openObserver(w: DocWriter, id: EcsIdentity): void {
  w.open('observer');
  w.str('type', 'firewall');
  w.str('product', 'netfilter');
  w.str('hostname', id.hostname);
  if (id.name !== undefined) w.str('name', id.name);
  if (id.ips !== undefined) w.strs('ip', id.ips);
}

/** Writes agent.*. */
export function writeAgent(w: DocWriter, id: EcsIdentity): void {
  w.open('agent');
  w.str('type', AGENT_TYPE);
  w.str('version', AGENT_VERSION);
  w.str('name', id.agentName);
  if (id.agentId !== undefined) w.str('id', id.agentId);
  w.close();
}

// A fixed, random application id: agent ids derived for this program differ from other programs' on the same machine.
const APP_ID = Buffer.from('6f3c1e0a9b2d4f57a1c8e2d94b7f0a63', 'hex');
let machineId: string | null | undefined;

/** An agent id derived from /etc/machine-id (a UUID), or undefined when the machine has none. */
export function machineAgentId(file = '/etc/machine-id'): string | undefined {
  if (file === '/etc/machine-id' && machineId !== undefined) return machineId ?? undefined;
  let derived: string | null = null;
  try {
    const text = fs.readFileSync(file, 'ascii').trim();
    if (/^[0-9a-f]{32}$/i.test(text)) derived = appSpecificUuid(Buffer.from(text, 'hex'));
  } catch {
    // No machine id (containers, minimal images): no agent.id unless one is given.
  }
  if (file === '/etc/machine-id') machineId = derived;
  return derived ?? undefined;
}

/** HMAC-SHA256(machine id, APP_ID), its first 16 bytes as a version-4 UUID (sd_id128_get_machine_app_specific). */
function appSpecificUuid(machine: Buffer): string {
  const b = createHmac('sha256', machine).update(APP_ID).digest().subarray(0, 16);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * The agent id kept in `file`: its first line, or a new random UUID written
 * there (directories made) when the file does not exist. Throws a readable
 * Error when the file cannot be read or made, or holds no usable id.
 */
export function agentIdFromFile(file: string): string {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new Error(`cannot read the agent id file ${file}: ${(err as Error).message}`);
    const id = randomUUID();
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, `${id}\n`, { flag: 'wx', mode: 0o644 });
    } catch (e) {
      // Another process made it first: use theirs.
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return agentIdFromFile(file);
      throw new Error(`cannot create the agent id file ${file}: ${(e as Error).message}`);
    }
    return id;
  }
  const id = text.split('\n')[0].trim();
  if (!/^[\x21-\x7e]{1,128}$/.test(id))
    throw new Error(`the agent id file ${file} must hold an id (1-128 printable ASCII characters) on its first line`);
  return id;
}
