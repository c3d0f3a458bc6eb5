import { describe, expect, it } from 'vitest';
import {
  ecsMac,
  ecsMacFromHex,
  familyName,
  hookDirection,
  hookName,
  ianaNumber,
  ipv4FlagNames,
  transportName,
} from '../../../src/ecs/names';
import { tcpFlagNames } from '../../../src/packet/tcp';

describe('names', () => {
  it('transport names per IANA keywords, numbers otherwise', () => {
    expect(transportName(6)).toBe('tcp');
    expect(transportName(17)).toBe('udp');
    expect(transportName(1)).toBe('icmp');
    expect(transportName(58)).toBe('ipv6-icmp');
    expect(transportName(132)).toBe('sctp');
    expect(transportName(47)).toBe('gre');
    expect(transportName(50)).toBe('esp');
    expect(transportName(51)).toBe('ah');
    expect(transportName(136)).toBe('udplite');
    expect(transportName(253)).toBe('253');
    expect(ianaNumber(6)).toBe('6');
    expect(ianaNumber(300)).toBe('300');
  });

  it('families, hooks and directions', () => {
    expect(familyName(2)).toBe('ipv4');
    expect(familyName(10)).toBe('ipv6');
    expect(familyName(7)).toBe('bridge');
    expect(familyName(99)).toBeUndefined();
    expect([0, 1, 2, 3, 4].map((h) => hookName(2, h))).toEqual(['prerouting', 'input', 'forward', 'output', 'postrouting']);
    expect(hookName(1, 5)).toBe('ingress');
    expect(hookName(5, 0)).toBe('ingress');
    expect(hookName(5, 1)).toBe('egress');
    expect(hookName(3, 1)).toBe('output');
    expect(hookName(0, 0)).toBeUndefined();
    expect(hookName(2, 9)).toBeUndefined();
    expect([0, 1, 2, 3, 4].map((h) => hookDirection(10, h))).toEqual([undefined, 'ingress', undefined, 'egress', undefined]);
    expect(hookDirection(5, 0)).toBe('ingress');
    expect(hookDirection(0, 1)).toBeUndefined();
  });

  it('TCP and IPv4 flags', () => {
    expect(tcpFlagNames(0)).toEqual([]);
    expect(tcpFlagNames(0x12)).toEqual(['ack', 'syn']);
    expect(tcpFlagNames(0x11)).toEqual(['ack', 'fin']);
    expect(tcpFlagNames(0xc2)).toEqual(['cwr', 'ece', 'syn']);
    const a = tcpFlagNames(0x12);
    a.push('x');
    expect(tcpFlagNames(0x12)).toEqual(['ack', 'syn']);
    expect(ipv4FlagNames(true, true, true)).toEqual(['ce', 'df', 'mf']);
    expect(ipv4FlagNames(false, false, false)).toEqual([]);
  });

  it('MAC addresses in ECS form', () => {
    expect(ecsMac('00:00:5e:00:53:23')).toBe('00-00-5E-00-53-23');
    expect(ecsMac('aa-bb-cc-dd-ee-ff')).toBe('AA-BB-CC-DD-EE-FF');
    expect(ecsMac('00:11:22:33:44:55:66:77')).toBe('00-11-22-33-44-55-66-77');
    expect(ecsMac('00:11:22:33:44')).toBeUndefined();
    expect(ecsMac('00:11:22:33:44:5g')).toBeUndefined();
    expect(ecsMac('001:12:23:34:45:56')).toBeUndefined();
    expect(ecsMacFromHex('aabbccddeeff0011223344550800', 0)).toBe('AA-BB-CC-DD-EE-FF');
    expect(ecsMacFromHex('aabbccddeeff0011223344550800', 12)).toBe('00-11-22-33-44-55');
    expect(ecsMacFromHex('aabbcc', 0)).toBeUndefined();
    expect(ecsMacFromHex('zzbbccddeeff', 0)).toBeUndefined();
  });
});
