// --metrics against the real thing: the collector collecting in a lab
// namespace serves /metrics; Debian's promtool accepts the exposition
// (`promtool check metrics`), and a Prometheus server started here on
// loopback scrapes it and answers a query with the collector's delivered count.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { NetnsLab } from '../../src/lab/netns';
import { sendUdp } from '../../src/lab/traffic';
import { nflogGroupBound } from '../helpers/nflog-bound';
import { freePort } from '../helpers/rsyslog';
import { describeKernel } from './kernel-env';

const CLI = path.resolve(__dirname, '../../dist/cli/main.js');
const GROUP = 44;
const PORT = 7440;
const PROMETHEUS = '/usr/bin/prometheus';
const PROMTOOL = '/usr/bin/promtool';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(what: string, check: () => Promise<T | undefined> | T | undefined, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

async function get(url: string): Promise<{ status: number; type: string; body: string } | undefined> {
  try {
    const res = await fetch(url);
    return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
  } catch {
    return undefined;
  }
}

/** The value of one sample line of the exposition, e.g. netfilter_collector_packets_total{group="44"}. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describeKernel('--metrics: Prometheus exposition, promtool and a Prometheus server', () => {
  const lab = new NetnsLab('nfc-m');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nfc-metrics-'));
  const children: ChildProcess[] = [];
  let ns: string;

  beforeAll(() => {
    for (const tool of [PROMETHEUS, PROMTOOL])
      if (!fs.existsSync(tool)) throw new Error(`${tool} is missing: apt-get install prometheus (scripts/setup-system.sh)`);
    if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build`);
    ns = lab.addNamespace('a');
    lab.nft(
      'a',
      `table inet m { chain o { type filter hook output priority 0; udp dport ${PORT} log prefix "METRICS " group ${GROUP}; }; }`,
    );
  });
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    lab.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('serves counters promtool accepts, which Prometheus scrapes and queries', async () => {
    const metricsPort = await freePort('tcp');
    const collector = spawn(
      process.execPath,
      [CLI, '--nflog', String(GROUP), '--netns', ns, '--output', path.join(dir, 'events.ndjson'), '--metrics', `127.0.0.1:${metricsPort}`],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    children.push(collector);
    let stderr = '';
    collector.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    await nflogGroupBound(ns, GROUP);
    sendUdp(lab, 'a', '127.0.0.1', PORT, 25, 20);
    const base = `http://127.0.0.1:${metricsPort}`;
    const scraped = await until('25 packets in /metrics', async () => {
      const res = await get(`${base}/metrics`);
      // Records from another namespace are labelled with it.
      return res && sample(res.body, `netfilter_collector_packets_total{netns="${ns}",group="${GROUP}"}`) === 25 ? res : undefined;
    });
    expect(scraped.status).toBe(200);
    expect(scraped.type).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(sample(scraped.body, 'netfilter_collector_delivered_events_total')).toBe(25);
    expect(sample(scraped.body, `netfilter_collector_output_written_lines_total{output="${path.join(dir, 'events.ndjson')}"}`)).toBe(25);
    expect(sample(scraped.body, 'netfilter_collector_delivery_latency_seconds_count{from="reader"}')).toBe(25);
    expect((await get(`${base}/healthz`))?.status).toBe(200);

    const check = spawnSync(PROMTOOL, ['check', 'metrics'], { input: scraped.body, encoding: 'utf8', timeout: 30_000 });
    expect(check.stdout + check.stderr).toBe('');
    expect(check.status).toBe(0);

    const promPort = await freePort('tcp');
    const config = path.join(dir, 'prometheus.yml');
    fs.writeFileSync(
      config,
      `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: nfc\n    static_configs:\n      - targets: ['127.0.0.1:${metricsPort}']\n`,
    );
    const prometheus = spawn(
      PROMETHEUS,
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${path.join(dir, 'tsdb')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    children.push(prometheus);
    const query = `http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent('netfilter_collector_delivered_events_total')}`;
    const value = await until(
      'Prometheus to scrape the collector',
      async () => {
        const res = await get(query);
        if (res?.status !== 200) return undefined;
        const result = (JSON.parse(res.body) as { data: { result: Array<{ value: [number, string] }> } }).data.result;
        return result.length > 0 ? Number(result[0].value[1]) : undefined;
      },
      60_000,
    );
    expect(value).toBe(25);
    prometheus.kill('SIGTERM');
    collector.kill('SIGTERM');
    await new Promise((resolve) => collector.once('exit', resolve));
    expect(stderr).not.toMatch(/error/i);
  });

  it('a metrics port in use: a clear error and exit status 1 before anything is bound', async () => {
    const port = await freePort('tcp');
    const holder = spawn(process.execPath, ['-e', `require('net').createServer().listen(${port}, '127.0.0.1', () => console.log('up'))`], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    children.push(holder);
    await new Promise((resolve) => holder.stdout!.once('data', resolve));
    const run = spawnSync(process.execPath, [CLI, '--nflog', String(GROUP), '--netns', ns, '--metrics', `127.0.0.1:${port}`], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    holder.kill('SIGKILL');
    expect(run.status).toBe(1);
    expect(run.stderr).toBe(`netfilter-collector: --metrics 127.0.0.1:${port}: cannot listen: the address is in use\n`);
  });
});
