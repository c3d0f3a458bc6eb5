// observer.*: this collector on this host, shared by packet and flow documents.
import { jsonString } from './json-string';

export interface EcsObserver {
  type: 'firewall';
  product: 'netfilter';
  hostname?: string;
  name?: string;
}

/** A fresh observer object (callers add interfaces to it). */
export function ecsObserver(options: { observer?: { hostname?: string; name?: string } } | undefined): EcsObserver {
  const observer: EcsObserver = { type: 'firewall', product: 'netfilter' };
  const obs = options?.observer;
  if (obs !== undefined) {
    if (obs.hostname !== undefined) observer.hostname = obs.hostname;
    if (obs.name !== undefined) observer.name = obs.name;
  }
  return observer;
}

/** The same as JSON text for the hand-written lines, left open for interfaces: '"observer":{"type":"firewall",…'. */
export function ecsObserverJsonOpen(options: { observer?: { hostname?: string; name?: string } } | undefined): string {
  let json = '"observer":{"type":"firewall","product":"netfilter"';
  const obs = options?.observer;
  if (obs !== undefined) {
    if (obs.hostname !== undefined) json += ',"hostname":' + jsonString(obs.hostname);
    if (obs.name !== undefined) json += ',"name":' + jsonString(obs.name);
  }
  return json;
}
