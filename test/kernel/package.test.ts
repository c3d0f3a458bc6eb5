// The package as npm publishes it: `npm pack` of this clone, installed into a
// new empty project, used there as a user would — require(), import, a strict
// TypeScript consumer, the bin's --help, and the bin collecting one logged
// packet in a namespace — from the prebuilt addon, without compiling.
// scripts/test.sh packs once and passes the tarball in NFC_PACKED_TARBALL;
// without it this test packs by itself.
import { spawn, spawnSync, type SpawnSyncOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { NetnsLab } from '../../src/lab/netns';
import { sendUdp } from '../../src/lab/traffic';
import { nflogGroupBound } from '../helpers/nflog-bound';
import { describeKernel } from './kernel-env';

const ROOT = path.resolve(__dirname, '../..');
const NODE_BIN = path.dirname(process.execPath);
// npm and npx run on the Node.js line under test (the node on PATH first).
const ENV = { ...process.env, PATH: `${NODE_BIN}:${process.env.PATH ?? ''}`, npm_config_audit: 'false', npm_config_fund: 'false' };

function sh(command: string, args: string[], options: SpawnSyncOptions = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(command, args, { encoding: 'utf8', timeout: 240_000, env: ENV, ...options });
  return { status: r.status, stdout: String(r.stdout), stderr: String(r.stderr) };
}

function ok(r: { status: number | null; stdout: string; stderr: string }, what: string): string {
  expect(r.status, `${what}\n${r.stdout}\n${r.stderr}`).toBe(0);
  return r.stdout;
}

const CONSUMER_TS = `import { createCollector, packetToEcs, type CollectorRecord, type PacketRecord } from 'netfilter-collector';

export async function ship(signal: AbortSignal): Promise<number> {
  const collector = createCollector({ nflog: [{ group: 5 }], signal });
  let documents = 0;
  for await (const batch of collector.batches()) {
    for (const record of batch as CollectorRecord[]) {
      if (record.kind !== 'packet') continue;
      const packet: PacketRecord = record;
      const doc = packetToEcs(packet);
      documents += doc['@timestamp'].length > 0 ? 1 : 0;
    }
  }
  return documents;
}
`;

describeKernel('the packed package, installed into a new project', () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'nfc-package-'));
  const lab = new NetnsLab('nfc-pkg');
  let tarball = process.env.NFC_PACKED_TARBALL ?? '';
  const project = path.join(work, 'project');
  const bare = path.join(work, 'bare');
  const installed = path.join(project, 'node_modules', 'netfilter-collector');

  beforeAll(() => {
    fs.chmodSync(work, 0o755);
    if (!tarball) {
      const out = ok(sh('npm', ['pack', '--silent', '--pack-destination', work], { cwd: ROOT }), 'npm pack');
      tarball = path.join(work, out.trim().split('\n').pop()!);
    }
    for (const dir of [project, bare]) {
      fs.mkdirSync(dir);
      fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: path.basename(dir), version: '1.0.0', private: true }));
    }
    // With install scripts (node-gyp-build finds the prebuild and builds nothing) and without any.
    ok(sh('npm', ['install', tarball], { cwd: project }), 'npm install');
    ok(sh('npm', ['install', '--ignore-scripts', tarball], { cwd: bare }), 'npm install --ignore-scripts');
    lab.addNamespace('a');
    lab.nft(
      'a',
      'table inet pkg { chain out { type filter hook output priority 0; udp dport 7300 log prefix "IPTABLES: DROP " group 17; }; }',
    );
  }, 600_000);
  afterAll(() => {
    lab.destroy();
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('carries the built JavaScript, the types, the prebuilds, the licence and the changelog', () => {
    const list = ok(sh('tar', ['-tzf', tarball]), 'tar').split('\n');
    for (const file of ['dist/index.js', 'dist/index.d.ts', 'dist/decode.js', 'dist/cli/main.js', 'LICENSE', 'CHANGELOG.md', 'README.md']) {
      expect(list, file).toContain(`package/${file}`);
    }
    expect(list).toContain(`package/prebuilds/linux-${process.arch}/netfilter-collector.glibc.node`);
    const license = fs.readFileSync(path.join(installed, 'LICENSE'), 'utf8');
    const pkg = JSON.parse(fs.readFileSync(path.join(installed, 'package.json'), 'utf8')) as { license: string };
    expect(pkg.license).toBe('MIT');
    expect(license).toMatch(/^MIT License/);
  });

  it('carries a linux-arm64 prebuild for aarch64 that needs only the runtime libraries (when built, always in CI)', (ctx) => {
    const arm = path.join(installed, 'prebuilds', 'linux-arm64', 'netfilter-collector.glibc.node');
    if (!fs.existsSync(arm)) {
      expect(process.env.NFC_PREBUILD_REQUIRE_ARM64, 'CI packs with the arm64 prebuild').not.toBe('1');
      ctx.skip();
    }
    const header = ok(sh('readelf', ['-h', arm]), 'readelf -h');
    expect(header).toMatch(/Machine:\s+AArch64/);
    const needed = [...ok(sh('readelf', ['-d', arm]), 'readelf -d').matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map(
      (m) => m[1],
    );
    expect(needed.sort()).toEqual([
      'libc.so.6',
      'libgcc_s.so.1',
      'libmnl.so.0',
      'libnetfilter_conntrack.so.3',
      'libnetfilter_log.so.1',
      'libstdc++.so.6',
    ]);
  });

  it('loads the linux-arm64 prebuild in an arm64 Node.js (under qemu-user; when built, always in CI)', (ctx) => {
    const arm = path.join(installed, 'prebuilds', 'linux-arm64', 'netfilter-collector.glibc.node');
    if (!fs.existsSync(arm)) {
      expect(process.env.NFC_PREBUILD_REQUIRE_ARM64, 'CI packs with the arm64 prebuild').not.toBe('1');
      ctx.skip();
    }
    const node = sh('bash', [path.join(ROOT, 'scripts', 'arm64-node.sh')]);
    if (node.status !== 0) {
      expect(process.env.NFC_PREBUILD_REQUIRE_ARM64, `CI can run arm64 code: ${node.stderr}`).not.toBe('1');
      ctx.skip();
    }
    const script = `const m = require(${JSON.stringify(arm)}); console.log(process.arch, typeof m.NativeReader)`;
    const loaded = sh(node.stdout.trim(), ['-e', script], { timeout: 180_000 });
    expect(ok(loaded, 'arm64 node')).toBe('arm64 function\n');
  }, 200_000);

  it('loads the prebuilt addon with and without install scripts, from require() and import', () => {
    // No local build: the addon is the prebuild (install scripts did not compile).
    expect(fs.existsSync(path.join(installed, 'build'))).toBe(false);
    for (const dir of [project, bare]) {
      const where = ok(
        sh(
          process.execPath,
          [
            '-e',
            `const nc = require('netfilter-collector');
          console.log(typeof nc.createCollector, require('node-gyp-build').resolve(require('path').dirname(require.resolve('netfilter-collector/package.json'))))`,
          ],
          { cwd: dir },
        ),
        'require',
      );
      expect(where).toMatch(
        new RegExp(`^function .*/node_modules/netfilter-collector/prebuilds/linux-${process.arch}/netfilter-collector\\.glibc\\.node\\n$`),
      );
    }
    const esm = ok(
      sh(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `import { createCollector, packetToEcs } from 'netfilter-collector';
        import { decodePacket } from 'netfilter-collector/decode';
        console.log(typeof createCollector, typeof packetToEcs, typeof decodePacket);`,
        ],
        { cwd: project },
      ),
      'import',
    );
    expect(esm).toBe('function function function\n');
  });

  it('typechecks a consumer under --strict --module nodenext', () => {
    fs.writeFileSync(path.join(project, 'consumer.ts'), CONSUMER_TS);
    const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const args = [
      '--noEmit',
      '--strict',
      '--module',
      'nodenext',
      '--moduleResolution',
      'nodenext',
      '--target',
      'es2022',
      '--types',
      'node',
      '--typeRoots',
      path.join(ROOT, 'node_modules', '@types'),
      'consumer.ts',
    ];
    ok(sh(process.execPath, [tsc, ...args], { cwd: project }), 'tsc');
    // And a consumer that misuses the API is refused (the check can fail).
    fs.writeFileSync(path.join(project, 'wrong.ts'), CONSUMER_TS.replace('{ group: 5 }', "{ group: 'five' }"));
    const wrong = sh(process.execPath, [tsc, ...args.slice(0, -1), 'wrong.ts'], { cwd: project });
    expect(wrong.status).not.toBe(0);
    expect(wrong.stdout).toMatch(/wrong\.ts.*Type 'string' is not assignable to type 'number'/);
  }, 300_000);

  it('npx netfilter-collector --help, and the installed bin collects a logged packet in a namespace', async () => {
    const help = ok(sh('npx', ['--no-install', 'netfilter-collector', '--help'], { cwd: project }), 'npx --help');
    expect(help).toMatch(/--nflog/);
    const bin = path.join(project, 'node_modules', '.bin', 'netfilter-collector');
    const run = new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(bin, ['--nflog', '17', '--netns', lab.name('a'), '--max-events', '1', '--format', 'ecs'], {
        cwd: project,
        env: ENV,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const send = setTimeout(() => {
        void nflogGroupBound(lab.name('a'), 17).then(() => sendUdp(lab, 'a', '127.0.0.1', 7300, 1, 10, { srcPort: 47000 }));
      }, 0);
      const kill = setTimeout(() => child.kill('SIGKILL'), 20_000);
      child.on('exit', (status: number | null) => {
        clearTimeout(send);
        clearTimeout(kill);
        resolve({ status, stdout, stderr });
      });
    });
    const out = ok(await run, 'installed bin');
    const doc = JSON.parse(out.trim());
    expect(doc.event).toMatchObject({ action: 'drop', type: ['connection', 'denied'] });
    expect(doc.source).toMatchObject({ ip: '127.0.0.1', port: 47000 });
    expect(doc.destination).toMatchObject({ ip: '127.0.0.1', port: 7300 });
    expect(doc.netfilter.group).toBe(17);
  });
});
