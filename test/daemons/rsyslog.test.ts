// The syslog output against a real rsyslogd (Debian's rsyslog and
// rsyslog-gnutls), started here on loopback ports and a unix socket with its
// own configuration: every message arrives once, whole, with the PRI,
// hostname, tag/app-name and message we meant, over UDP, TCP (octet counting
// and LF framing), TLS (and mutual TLS) and the local datagram socket. A
// server certificate from another CA is refused, said and counted; rsyslog
// restarted during a burst: nothing twice, nothing torn, the rest counted.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NdjsonOutput } from '../../src/cli/output';
import type { SinkOptions } from '../../src/sink';
import { makePki, rsyslogUnavailable, startRsyslog, type Rsyslog, type TestPki } from '../helpers/rsyslog';

const unavailable = rsyslogUnavailable();
const describeRsyslog = unavailable === null ? describe : process.env.CI === 'true' ? describe : describe.skip;
const CLI = path.resolve(__dirname, '../../dist/cli/main.js');
const PCAP = path.resolve(__dirname, '../fixtures/peers/tcpdump/nflog.pcap');

let dir: string;
let pki: TestPki;
let rsyslog: Rsyslog;

/** Messages as the formats make them: a LOG line with a prefix, and an ECS-like JSON document with non-ASCII. */
function logLine(i: number): string {
  return `[FW DROP ${i}] IN=eth0 OUT= MAC=00:11:22:33:44:55:66:77:88:99:aa:bb:08:00 SRC=192.0.2.1 DST=198.51.100.7 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=${i} DF PROTO=TCP SPT=40000 DPT=22 WINDOW=64240 RES=0x00 SYN URGP=0 `;
}
function jsonLine(i: number): string {
  return JSON.stringify({ seq: i, message: 'größe ✓', pad: 'x'.repeat(i % 300) });
}

async function send(target: string, lines: string[], options: SinkOptions = {}): Promise<NdjsonOutput> {
  const output = new NdjsonOutput(target, { reconnectMinMs: 20, reconnectMaxMs: 200, ...options });
  for (let i = 0; i < lines.length; i += 100) {
    for (const line of lines.slice(i, i + 100)) output.line(line);
    await output.flush();
    await new Promise((resolve) => setImmediate(resolve));
  }
  return output;
}

/** rsyslog keeps RFC 3164's space after the tag's colon in the message. */
function message3164(msg: string): string {
  expect(msg.startsWith(' ')).toBe(true);
  return msg.slice(1);
}

describeRsyslog(`syslog output to rsyslogd${unavailable ? ` (${unavailable})` : ''}`, () => {
  let seen = 0;
  /** The messages rsyslog wrote since the last call. */
  async function received(count: number, input: string): Promise<Array<ReturnType<Rsyslog['messages']>[number]>> {
    const all = await rsyslog.waitFor(seen + count);
    const fresh = all.slice(seen);
    seen = all.length;
    for (const m of fresh) expect(m.input).toBe(input);
    return fresh;
  }

  beforeAll(async () => {
    if (unavailable) throw new Error(unavailable);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nfc-rsyslog-'));
    pki = makePki(dir);
    rsyslog = await startRsyslog(dir, pki);
  });

  afterAll(async () => {
    await rsyslog?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('udp, RFC 3164 defaults: kern.warning, tag kernel, the LOG line as the kernel sends it', async () => {
    const lines = Array.from({ length: 200 }, (_, i) => logLine(i));
    const output = await send(`syslog:udp:127.0.0.1:${rsyslog.ports.udp}`, lines, { syslog: { hostname: 'gw1' } });
    expect((await output.close(5000)).complete).toBe(true);
    const got = await received(lines.length, 'udp');
    // Loopback UDP into a listening rsyslog: nothing lost, in order.
    expect(got.map((m) => message3164(m.msg))).toEqual(lines);
    for (const m of got) {
      expect(m.pri).toBe(4); // kern (0) * 8 + warning (4)
      expect(m.hostname).toBe('gw1');
      expect(m.tag).toBe('kernel:');
      expect(m.appName).toBe('kernel');
    }
    expect(output.stats()).toMatchObject({ writtenLines: 200, droppedLines: 0, truncatedLines: 0 });
  });

  it('tcp with octet counting (RFC 6587) and RFC 5424: JSON messages whole, fields as set', async () => {
    const lines = Array.from({ length: 2000 }, (_, i) => jsonLine(i));
    const syslog = { protocol: 'rfc5424', facility: 16, severity: 6, hostname: 'gw2', appName: 'netfilter' } as const;
    const output = await send(`syslog:tcp:127.0.0.1:${rsyslog.ports.tcp}`, lines, { syslog });
    expect((await output.close(5000)).complete).toBe(true);
    const got = await received(lines.length, 'tcp');
    expect(got.map((m) => m.msg)).toEqual(lines);
    for (const m of got) {
      expect(m.pri).toBe(16 * 8 + 6);
      expect(m.hostname).toBe('gw2');
      expect(m.appName).toBe('netfilter');
      expect(Math.abs(Date.parse(m.timestamp) - Date.now())).toBeLessThan(60_000);
    }
  });

  it('tcp with LF framing', async () => {
    const lines = Array.from({ length: 500 }, (_, i) => logLine(i));
    const output = await send(`syslog:tcp:127.0.0.1:${rsyslog.ports.tcp}`, lines, { syslog: { framing: 'lf' } });
    expect((await output.close(5000)).complete).toBe(true);
    const got = await received(lines.length, 'tcp');
    expect(got.map((m) => message3164(m.msg))).toEqual(lines);
  });

  it('tls: verified against the CA the test made; mutual TLS with a client certificate', async () => {
    const lines = Array.from({ length: 1000 }, (_, i) => jsonLine(i));
    const output = await send(`syslog:tls:127.0.0.1:${rsyslog.ports.tls}`, lines, { syslog: { protocol: 'rfc5424' }, tls: { ca: pki.ca } });
    expect((await output.close(5000)).complete).toBe(true);
    expect((await received(lines.length, 'tls')).map((m) => m.msg)).toEqual(lines);

    const mutual = await send(`syslog:tls:localhost:${rsyslog.ports.mtls}`, lines.slice(0, 10), {
      syslog: { protocol: 'rfc5424' },
      tls: { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey },
    });
    expect((await mutual.close(5000)).complete).toBe(true);
    expect((await received(10, 'mtls')).map((m) => m.msg)).toEqual(lines.slice(0, 10));
  });

  it('tls: a server certificate from another CA is refused, said and counted; nothing goes in clear', async () => {
    const errors: string[] = [];
    const output = await send(`syslog:tls:127.0.0.1:${rsyslog.ports.tls}`, ['never sent'], {
      tls: { ca: pki.otherCa },
      onError: (m) => errors.push(m),
    });
    const until = Date.now() + 10_000;
    while (errors.length === 0 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 20));
    const report = await output.close(300);
    expect(errors[0]).toMatch(/syslog:tls:127\.0\.0\.1:\d+: .*(certificate|self.signed|issuer)/i);
    expect(report.droppedLines).toBe(1);
    expect(output.stats()).toMatchObject({ writtenLines: 0, droppedLines: 1, connected: false });
    expect(output.stats().connectFailures).toBeGreaterThan(0);
    // The host name is checked too: the certificate names 127.0.0.1 and localhost, not 127.0.0.2's name.
    const wrongName = await send(`syslog:tls:127.0.0.1:${rsyslog.ports.tls}`, ['never sent'], {
      tls: { ca: pki.ca, servername: 'logs.example' },
      onError: (m) => errors.push(m),
    });
    while (errors.length < 2 && Date.now() < until + 10_000) await new Promise((resolve) => setTimeout(resolve, 20));
    await wrongName.close(300);
    expect(errors[1]).toMatch(/logs\.example/);
    expect(rsyslog.messages().length).toBe(seen);
  });

  it('unix datagram socket (/dev/log style): local header without hostname, rsyslog adds its own', async () => {
    const lines = Array.from({ length: 300 }, (_, i) => logLine(i));
    const output = await send(`syslog:unix:${rsyslog.socket}`, lines);
    expect((await output.close(5000)).complete).toBe(true);
    const got = await received(lines.length, 'imuxsock');
    expect(got.map((m) => message3164(m.msg))).toEqual(lines);
    for (const m of got) {
      expect(m.tag).toBe('kernel:');
      expect(m.hostname).toBe(os.hostname().split('.')[0]);
    }
  });

  it('unix socket: rsyslog restarted meanwhile; messages wait for it and arrive once, in order', async () => {
    const output = await send(`syslog:unix:${rsyslog.socket}`, ['before 0', 'before 1']);
    await received(2, 'imuxsock');
    await rsyslog.stop();
    const during = Array.from({ length: 50 }, (_, i) => `during ${i}`);
    for (const line of during) output.line(line);
    await output.flush();
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Nobody listens: the messages wait in the queue, retried with backoff.
    expect(output.stats()).toMatchObject({ connected: false, droppedLines: 0 });
    expect(output.stats().queuedBytes).toBeGreaterThan(0);
    await rsyslog.restart();
    const got = await received(during.length, 'imuxsock');
    expect(got.map((m) => message3164(m.msg))).toEqual(during);
    expect((await output.close(5000)).complete).toBe(true);
  });

  it('udp: a message longer than --syslog-max-size is cut on a character boundary and counted, never split', async () => {
    const long = `${'é'.repeat(600)}END`;
    const output = await send(`syslog:udp:127.0.0.1:${rsyslog.ports.udp}`, [long, 'short'], {
      syslog: { maxMessageBytes: 512, hostname: 'h' },
    });
    await output.close(5000);
    const got = await received(2, 'udp');
    const cut = message3164(got[0].msg);
    expect(long.startsWith(cut)).toBe(true);
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(512);
    expect(message3164(got[1].msg)).toBe('short');
    expect(output.stats().truncatedLines).toBe(1);
  });

  it('the CLI: --read a capture, --format log to syslog over tcp: the same lines as on stdout', () => {
    const plain = spawnSync(process.execPath, [CLI, '--read', PCAP, '--format', 'log'], { encoding: 'utf8' });
    expect(plain.status).toBe(0);
    const expected = plain.stdout.split('\n').slice(0, -1);
    expect(expected.length).toBeGreaterThan(0);
    const run = spawnSync(
      process.execPath,
      [CLI, '--read', PCAP, '--format', 'log', '--output', `syslog:tcp:127.0.0.1:${rsyslog.ports.tcp}`, '--stats'],
      { encoding: 'utf8' },
    );
    expect(run.stderr).not.toMatch(/the output dropped|gave up/);
    expect(run.status).toBe(0);
    return received(expected.length, 'tcp').then((got) => expect(got.map((m) => message3164(m.msg))).toEqual(expected));
  });

  it('rsyslog stopped and started during a burst: reconnects; nothing twice, nothing torn, the rest counted', async () => {
    const total = 30_000;
    const output = new NdjsonOutput(`syslog:tcp:127.0.0.1:${rsyslog.ports.tcp}`, {
      reconnectMinMs: 20,
      reconnectMaxMs: 100,
      queueBytes: 256 * 1024,
    });
    let restarted: Promise<void> | undefined;
    for (let i = 0; i < total; i += 100) {
      for (let j = i; j < i + 100; j++) output.line(jsonLine(j));
      await output.flush();
      await new Promise((resolve) => setTimeout(resolve, 0));
      if (i === 10_000) restarted = rsyslog.stop().then(() => rsyslog.restart());
      if (i === 20_000) await restarted;
    }
    const report = await output.close(10_000);
    expect(report.complete).toBe(true);
    const stats = output.stats();
    expect(stats.reconnects).toBeGreaterThanOrEqual(1);
    const until = Date.now() + 10_000;
    while (Date.now() < until && rsyslog.messages().length - seen < stats.writtenLines - stats.dropped.connectionLost.lines)
      await new Promise((resolve) => setTimeout(resolve, 50));
    const got = rsyslog.messages().slice(seen);
    seen += got.length;
    const seqs = got.map((m) => (JSON.parse(m.msg) as { seq: number }).seq);
    expect(new Set(seqs).size).toBe(seqs.length);
    // Whatever did not arrive was counted as dropped, save what the dying rsyslog had read but not written.
    expect(seqs.length + stats.droppedLines).toBeGreaterThanOrEqual(total - 2000);
    expect(seqs.length + stats.droppedLines).toBeLessThanOrEqual(total);
    expect(seqs.length).toBeGreaterThan(15_000);
  });
});
