#!/usr/bin/env node
// Records real NFLOG and rtnetlink datagrams from this kernel into
// test/fixtures/*.json, for the unit tests. Builds its own lab of namespaces,
// sends a little traffic of each kind, and removes the lab at the end.
//   npm run record-fixtures
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { loadNative } = require('../dist/native');
const { RingReader } = require('../dist/ring/reader');
const { NetnsLab } = require('../dist/lab/netns');
const { sendUdp, connectTcp, ping, sendTcp, startServer, udpExchange } = require('../dist/lab/traffic');
const { buildGateway, GATEWAY } = require('../dist/lab/gateway');

const OUT_DIR = path.join(__dirname, '..', 'test', 'fixtures');

/** Opens a raw reader (no decoding) and returns a function that collects what it got so far. */
function openRecorder(netns, groups, conntrack) {
  const ring = new RingReader(1 << 22);
  const native = loadNative();
  const reader = new native.NativeReader({
    ring: ring.buffer,
    maxDatagram: 69632,
    netns,
    rcvbuf: 1 << 22,
    nflogGroups: groups.map((group) => ({ group, copyMode: 2, copyRange: 0xffff, qthreshold: 1, flushTimeoutCs: 1, flags: 1 })),
    nflogBufferSize: 0,
    links: true,
    conntrack,
    onData: () => {},
  });
  const datagrams = [];
  const take = () => {
    ring.drain((bytes, _view, offset, length, source, flags, receivedUs) => {
      datagrams.push({ source, flags, receivedUs, hex: Buffer.from(bytes.subarray(offset, offset + length)).toString('hex') });
      return 1;
    }, Infinity);
    reader.release();
    return datagrams;
  };
  return { take, close: () => reader.close() };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function write(name, description, datagrams) {
  const file = path.join(OUT_DIR, name);
  fs.writeFileSync(file, JSON.stringify({ description, kernel: require('node:os').release(), datagrams }, null, 1) + '\n');
  console.log(`wrote ${file}: ${datagrams.length} datagrams`);
}

async function main() {
  const lab = new NetnsLab('nfc-rec');
  try {
    lab.addNamespace('a');
    lab.addNamespace('b');
    lab.addLink({
      a: { ns: 'a', ifname: 'veth-a', mac: '02:00:00:66:01:01', addresses: ['10.66.1.1/24', 'fd66:1::1/64'] },
      b: { ns: 'b', ifname: 'veth-b', mac: '02:00:00:66:01:02', addresses: ['10.66.1.2/24', 'fd66:1::2/64'] },
    });
    lab.nft(
      'b',
      `table inet rec {
        chain input {
          type filter hook input priority 0;
          udp dport 5001 meta mark set 0x2a log prefix "IPTABLES: ACCEPT " group 41
          tcp dport 5002 log prefix "[OY-D]: " group 41
          icmp type echo-request log prefix "INPUT DFLT DROP " group 41
          icmpv6 type echo-request log prefix "tcp.in.dropped" group 41
        }
      }`,
    );
    lab.nft(
      'a',
      'table inet rec { chain out { type filter hook output priority 0; meta skuid 4242 udp dport 5003 log prefix "OUT " group 42; }; }',
    );

    const inbound = openRecorder(lab.name('b'), [41]);
    const outbound = openRecorder(lab.name('a'), [42]);
    await sleep(200);
    sendUdp(lab, 'a', '10.66.1.2', 5001, 1, 24, { srcPort: 40001 });
    sendUdp(lab, 'a', 'fd66:1::2', 5001, 1, 24, { srcPort: 40002 });
    connectTcp(lab, 'a', '10.66.1.2', 5002);
    connectTcp(lab, 'a', 'fd66:1::2', 5002);
    ping(lab, 'a', '10.66.1.2');
    ping(lab, 'a', 'fd66:1::2');
    sendUdp(lab, 'a', '10.66.1.2', 5003, 2, 8, { uid: 4242 });
    await sleep(500);

    write(
      'nflog-inbound.json',
      'ns b input hook, group 41: UDP 10.66.1.1:40001->10.66.1.2:5001 (mark 0x2a), UDP [fd66:1::1]:40002->[fd66:1::2]:5001, ' +
        'TCP SYN to 10.66.1.2:5002 and [fd66:1::2]:5002, ICMP echo, ICMPv6 echo; veth-a 02:00:00:66:01:01 -> veth-b 02:00:00:66:01:02',
      inbound.take(),
    );
    write('nflog-outbound-uid.json', 'ns a output hook, group 42: 2 UDP datagrams to 10.66.1.2:5003 from uid 4242', outbound.take());
    inbound.close();
    outbound.close();
  } finally {
    lab.destroy();
  }
  await recordConntrack(write);
}

/** Conntrack events of a masquerading, port-forwarding router, with accounting and timestamps on. */
async function recordConntrack(write) {
  const lab = new NetnsLab('nfc-rec-ct');
  const servers = [];
  try {
    buildGateway(lab);
    servers.push(await startServer(lab, 'server', 'tcp-sink', 5000, GATEWAY.server4));
    servers.push(await startServer(lab, 'server', 'udp-echo', 5001, GATEWAY.server6));
    servers.push(await startServer(lab, 'client', 'tcp-sink', 80, GATEWAY.client4));
    const recorder = openRecorder(lab.name('router'), [], {
      events: 7,
      dump: false,
      resyncOnOverflow: false,
      reliable: false,
      filter: { protocols: [], sources: [], destinations: [] },
      enableAccounting: true,
      enableTimestamps: true,
    });
    await sleep(200);
    const tcpPort = sendTcp(lab, 'client', GATEWAY.server4, 5000, 1000);
    udpExchange(lab, 'client', GATEWAY.server6, 5001, 2, 40, 44001);
    ping(lab, 'client', GATEWAY.server4, 1);
    const forwardedPort = sendTcp(lab, 'server', GATEWAY.routerOut4, GATEWAY.forwardedPort, 300);
    await sleep(300);
    lab.exec('router', 'conntrack', ['-F']);
    await sleep(300);
    write(
      'conntrack-gateway.json',
      `router namespace of the gateway lab (src/lab/gateway.ts), acct and timestamps on: TCP ${GATEWAY.client4}:${tcpPort} -> ` +
        `${GATEWAY.server4}:5000 (1000 bytes, masqueraded), UDP [${GATEWAY.client6}]:44001 -> [${GATEWAY.server6}]:5001 (2 x 40 bytes echoed), ` +
        `ICMP echo ${GATEWAY.client4} -> ${GATEWAY.server4}, TCP ${GATEWAY.server4}:${forwardedPort} -> ${GATEWAY.routerOut4}:8080 ` +
        `(port forward to ${GATEWAY.client4}:80, 300 bytes); then conntrack -F`,
      recorder.take(),
    );
    recorder.close();
  } finally {
    for (const s of servers) s.kill('SIGKILL');
    lab.destroy();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
