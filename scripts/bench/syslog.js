#!/usr/bin/env node
// Lines per second and CPU per line through the syslog output to a real
// rsyslogd on loopback (TCP with octet counting, TLS, UDP, the unix datagram
// socket), beside a plain file. The collector's side is the CLI's path from a
// formatted line on: encode, frame, queue, send. rsyslogd writes %msg% to a
// file; a transport's figure is taken when rsyslog has written every line (or,
// for the datagram transports, when it stops writing: what it lost is shown).
// Usage: node scripts/bench/syslog.js [LINES] (default 200000); needs rsyslog,
// rsyslog-gnutls and openssl (scripts/setup-system.sh) and npm run build.
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '../..');
const LINES = Number(process.argv[2] ?? 200_000);
const BATCH = 1000;
const { openSink, parseSinkTarget } = require(path.join(root, 'dist/sink'));
const { LineEncoder } = require(path.join(root, 'dist/format/line-target'));

// A kernel LOG line of a dropped SYN, as --format log writes it (~230 bytes).
const line = (i) =>
  `[FW DROP] IN=eth0 OUT= MAC=00:11:22:33:44:55:66:77:88:99:aa:bb:08:00 SRC=192.0.2.${i % 250} DST=198.51.100.7 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=${i % 65536} DF PROTO=TCP SPT=${1024 + (i % 60000)} DPT=22 WINDOW=64240 RES=0x00 SYN URGP=0 `;

function openssl(dir, args) {
  const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
}

async function freePort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
  const { port } = /** @type {net.AddressInfo} */ (server.address());
  await new Promise((resolve) => server.close(() => resolve(undefined)));
  return port;
}

/** utime + stime of a process, seconds. */
function cpuSeconds(pid) {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // USER_HZ 100
}

function countLines(file) {
  if (!fs.existsSync(file)) return 0;
  const bytes = fs.readFileSync(file);
  let n = 0;
  for (let at = bytes.indexOf(10); at >= 0; at = bytes.indexOf(10, at + 1)) n++;
  return n;
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nfc-bench-syslog-'));
  const subj = (cn) => ['-subj', `/CN=${cn}`];
  openssl(dir, [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-days',
    '1',
    ...subj('bench ca'),
    '-keyout',
    'ca-key.pem',
    '-out',
    'ca.pem',
  ]);
  openssl(dir, [
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    ...subj('localhost'),
    '-keyout',
    'key.pem',
    '-out',
    'srv.csr',
  ]);
  fs.writeFileSync(path.join(dir, 'ext'), 'subjectAltName=IP:127.0.0.1\n');
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    'srv.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca-key.pem',
    '-CAcreateserial',
    '-days',
    '1',
    '-extfile',
    'ext',
    '-out',
    'cert.pem',
  ]);
  const ports = { tcp: await freePort(), tls: await freePort(), udp: await freePort() };
  const sock = path.join(dir, 'log.sock');
  const out = (name) => path.join(dir, `${name}.out`);
  fs.mkdirSync(path.join(dir, 'work'));
  const conf = path.join(dir, 'rsyslog.conf');
  fs.writeFileSync(
    conf,
    `global(workDirectory="${dir}/work" maxMessageSize="64k" defaultNetstreamDriverCAFile="${dir}/ca.pem"
  defaultNetstreamDriverCertFile="${dir}/cert.pem" defaultNetstreamDriverKeyFile="${dir}/key.pem")
module(load="imudp")
module(load="imtcp" maxSessions="10")
module(load="imuxsock" sysSock.use="off")
template(name="msg" type="string" string="%msg%\\n")
ruleset(name="tcp") { action(type="omfile" file="${out('tcp')}" template="msg") }
ruleset(name="tls") { action(type="omfile" file="${out('tls')}" template="msg") }
ruleset(name="udp") { action(type="omfile" file="${out('udp')}" template="msg") }
ruleset(name="unix") { action(type="omfile" file="${out('unix')}" template="msg") }
input(type="imtcp" address="127.0.0.1" port="${ports.tcp}" ruleset="tcp")
input(type="imtcp" address="127.0.0.1" port="${ports.tls}" ruleset="tls" streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon")
input(type="imudp" address="127.0.0.1" port="${ports.udp}" ruleset="udp" rcvBufSize="8m")
input(type="imuxsock" socket="${sock}" rateLimit.interval="0" ruleset="unix")
`,
  );
  const rsyslog = spawn('/usr/sbin/rsyslogd', ['-n', '-f', conf, '-i', path.join(dir, 'pid')], { stdio: 'inherit' });
  await new Promise((resolve) => setTimeout(resolve, 1500));
  /** @type {Array<[string, string, object]>} */
  const targets = [
    ['file', path.join(dir, 'file.out'), {}],
    ['tcp', `syslog:tcp:127.0.0.1:${ports.tcp}`, {}],
    ['tls', `syslog:tls:127.0.0.1:${ports.tls}`, { tls: { ca: path.join(dir, 'ca.pem') } }],
    ['udp', `syslog:udp:127.0.0.1:${ports.udp}`, {}],
    ['unix', `syslog:unix:${sock}`, {}],
  ];
  console.log(
    `${LINES} LOG lines of ~${Buffer.byteLength(line(0))} bytes, batches of ${BATCH}; node ${process.version}, ${os.cpus().length} CPUs, load ${os.loadavg()[0].toFixed(2)}`,
  );
  console.log('transport  lines/s (sent)  lines/s (end to end)  collector µs CPU/line  rsyslogd µs CPU/line  received  collector dropped');
  for (const [name, target, options] of targets) {
    const sink = openSink(parseSinkTarget(target), options);
    const encoder = new LineEncoder();
    const rsyslogCpu0 = cpuSeconds(rsyslog.pid);
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < LINES; i += BATCH) {
      for (let j = i; j < i + BATCH && j < LINES; j++) encoder.line(line(j));
      for (const chunk of encoder.take()) sink.write(chunk);
      await sink.ready();
      await new Promise((resolve) => setImmediate(resolve));
    }
    await sink.close(120_000);
    const sentSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = process.cpuUsage(cpu0);
    // Until rsyslog has written every line, or stopped writing for a second.
    const file = name === 'file' ? target : out(name);
    let received = countLines(file);
    let still = Date.now();
    while (received < LINES && Date.now() - still < 1000) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      const now = countLines(file);
      if (now !== received) still = Date.now();
      received = now;
    }
    const endSeconds = Number(process.hrtime.bigint() - t0) / 1e9 - (received < LINES ? 1 : 0);
    const collectorUs = ((cpu.user + cpu.system) / LINES).toFixed(2);
    const rsyslogUs = name === 'file' ? '-' : (((cpuSeconds(rsyslog.pid) - rsyslogCpu0) * 1e6) / LINES).toFixed(2);
    const stats = sink.stats();
    console.log(
      `${name.padEnd(9)}  ${Math.round(LINES / sentSeconds)
        .toString()
        .padStart(13)}  ${Math.round(received / endSeconds)
        .toString()
        .padStart(20)}  ${collectorUs.padStart(21)}  ${rsyslogUs.padStart(20)}  ${String(received).padStart(8)}  ${stats.droppedLines}`,
    );
  }
  rsyslog.kill('SIGTERM');
  await new Promise((resolve) => rsyslog.once('exit', resolve));
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
