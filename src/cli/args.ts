// Command-line arguments of `netfilter-collector`: parsing and --help.
import { isIP } from 'node:net';
import {
  type CollectorOptions,
  type FileRotation,
  fileRotationOf,
  IPFIX_RECORD_KINDS,
  type IpfixOptions,
  type IpfixRecordKind,
  type ResolvedIpfixOptions,
  resolveIpfixOptions,
  resolveOptions,
} from '../options';
import { type IpfixTarget, parseIpfixTarget } from '../sink/ipfix';
import {
  headerFieldProblem,
  parseFacility,
  parseSeverity,
  SYSLOG_FRAMINGS,
  SYSLOG_PROTOCOLS,
  type SyslogFraming,
  type SyslogProtocol,
} from '../format/syslog';
import { parseSinkTarget, type SinkTarget } from '../sink/target';
import type { SyslogSinkOptions, TlsClientOptions } from '../sink';
import { LINE_FORMAT_NAMES, LINE_FORMATS, type LineFormatName } from '../format/registry';
import { parseInterfaceNames, readInterfaceNamesFile } from './interface-names';

/** The registry's line formats, and IPFIX (messages to a flow collector, not lines). */
export type OutputFormat = LineFormatName | 'ipfix';

export const OUTPUT_FORMATS: readonly OutputFormat[] = [...LINE_FORMAT_NAMES, 'ipfix'];

/** prefix: the line starts with netns=NAME; hostname: LOGEMU's header names the namespace; none. */
export type LogNetns = 'prefix' | 'hostname' | 'none';

const LOG_NETNS: readonly LogNetns[] = ['prefix', 'hostname', 'none'];

/** The kernel's LOG flags, for --format log/logemu (nft `log flags`, iptables --log-*). */
export type LogFlag = 'tcpseq' | 'tcpopt' | 'ipopt' | 'uid' | 'macdecode';

const LOG_FLAGS: readonly LogFlag[] = ['tcpseq', 'tcpopt', 'ipopt', 'uid', 'macdecode'];

export interface CliConntrackArgs {
  events: Array<'new' | 'update' | 'destroy'>;
  dump: boolean;
  resync: boolean;
  reliable: boolean;
  protocols: string[];
  sources: string[];
  destinations: string[];
  mark?: { value: number; mask: number };
  zone?: number;
  completed: boolean;
  enableSysctls: boolean;
}

/** What an output takes: packet events, flow records, gap (loss) records. */
export type TakeKind = 'packets' | 'flows' | 'gaps';

export const TAKE_KINDS: readonly TakeKind[] = ['packets', 'flows', 'gaps'];

/** One output: where lines go, in which format, and which records it takes. */
export interface OutputSpec {
  format: OutputFormat;
  /** -, FILE, unix:PATH, tcp:…, tls:…, syslog:…; undefined: stdout. */
  output?: string;
  outputQueue?: number;
  logFlags: LogFlag[];
  logemuHostname?: string;
  syslog: SyslogSinkOptions;
  tls: TlsClientOptions;
  take: TakeKind[];
  /** NFLOG groups whose packets this output takes; empty: all. */
  groups: number[];
  /** --ipfix-*: the exporter's options, for format ipfix (checked and resolved by ipfixOutputOf). */
  ipfixOptions: IpfixOptions;
  /** --file-max-size, --file-keep: a file output rotated by size. */
  fileMaxSize?: number;
  fileKeep?: number;
}

/** The flags that describe one output: the keys of an entry of a config file's `outputs:`. */
export const OUTPUT_FLAGS: readonly string[] = [
  '--output',
  '--format',
  '--output-queue',
  '--file-max-size',
  '--file-keep',
  '--take',
  '--groups',
  '--log-flags',
  '--logemu-hostname',
  '--syslog-protocol',
  '--syslog-facility',
  '--syslog-severity',
  '--syslog-hostname',
  '--syslog-app-name',
  '--syslog-framing',
  '--syslog-max-size',
  '--tls-ca',
  '--tls-cert',
  '--tls-key',
  '--tls-servername',
  '--ipfix-records',
  '--ipfix-domain',
  '--ipfix-mtu',
  '--ipfix-template-refresh',
];

export interface CliArgs {
  help: boolean;
  version: boolean;
  nflog: number[];
  conntrack?: CliConntrackArgs;
  /** --netns: namespaces to collect in (names under /run/netns or paths). */
  netns: string[];
  /** --all-netns: every namespace, with the --netns-* options in netnsWatch. */
  allNetns?: boolean;
  netnsWatch: { dir?: string; match?: string; processes?: boolean; pollMs?: number };
  /** --log-netns: how log/logemu lines say a packet's namespace. */
  logNetns?: LogNetns;
  /** --file-mode: permissions of an output file the collector creates. */
  fileMode?: number;
  /** --file-max-size, --file-keep: rotate the output file by size, keeping that many files. */
  fileMaxSize?: number;
  fileKeep?: number;
  format: OutputFormat;
  /** Where NDJSON/lines go; undefined means stdout, or nothing when --write-pcap is given. */
  output?: string;
  /** Bound of a socket output's queue, bytes. */
  outputQueue?: number;
  /** --syslog-*: the header and framing of a syslog output. */
  syslog: SyslogSinkOptions;
  /** --tls-*: CA, client certificate and name for tls: and syslog:tls: outputs. */
  tls: TlsClientOptions;
  /** --take: which records the output takes (default all). */
  take: TakeKind[];
  /** --groups: the NFLOG groups whose packets the output takes (default all). */
  groups: number[];
  /** --ipfix-*: the exporter's options, for --format ipfix. */
  ipfixOptions: IpfixOptions;
  /** Several outputs (the config file's `outputs:`); when absent, the flags above make the one output. */
  outputs?: OutputSpec[];
  /** --metrics HOST:PORT: serve Prometheus metrics. */
  metrics?: { host: string; port: number };
  /** --config FILE (read by config.ts before the flags). */
  config?: string;
  logFlags: LogFlag[];
  /** Host name in LOGEMU's line header (default: this host's). */
  logemuHostname?: string;
  /** ECS observer.hostname (default: this host's), observer.name, observer.ip. */
  observerHostname?: string;
  observerName?: string;
  observerIps?: string[];
  /** ECS agent.name (default: observer.name, else observer.hostname). */
  agentName?: string;
  /** Where agent.id is kept (made with a new id when absent); default: derived from /etc/machine-id. */
  agentIdFile?: string;
  /** --read FILE.pcap: decode a capture instead of collecting live. */
  read?: string;
  /** --interface-names / --interface-names-file: names of the capture's interface indexes (with --read). */
  interfaceNames?: Map<number, string>;
  /** --write-pcap FILE: write the packets collected as an NFLOG pcap. */
  writePcap?: string;
  /** Seconds between progress lines on stderr; 0 turns them off; undefined: on when stderr is a terminal. */
  statsInterval?: number;
  /** --user USER[:GROUP]: drop to this user once the sockets are bound. */
  user?: string;
  maxEvents?: number;
  idleExitMs?: number;
  /** How long a shutdown gives the output to take what is queued (--drain-timeout), ms. */
  drainTimeoutMs?: number;
  stats: boolean;
  labels: Map<number, string>;
  socketBuffer?: number;
  ringSize?: number;
  qthreshold?: number;
  flushTimeoutMs?: number;
  copyRange?: number;
}

/** Words of `text` in lines of at most `width` characters, each but the first indented by `indent` spaces. */
function wrap(text: string, indent: number, width = 100): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line.length > 0 && indent + line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line.length > 0 ? `${line} ${word}` : word;
  }
  lines.push(line);
  return lines.join(`\n${' '.repeat(indent)}`);
}

// --format's help: each line format's summary from the registry (one definition), then IPFIX, which is an output kind.
const FORMAT_HELP = `  --format FORMAT         ${[
  ...LINE_FORMAT_NAMES.map((name) => `${name}${name === 'ecs' ? ' (the default)' : ''}: ${LINE_FORMATS[name].summary};`),
  'ipfix: IPFIX (RFC 7011) NAT events (RFC 8158) and flow records of --conntrack to a collector (--output udp:HOST[:PORT] or tcp:HOST[:PORT], port 4739 by default), e.g. nfcapd',
]
  .map((item) => wrap(item, 26))
  .join(`\n${' '.repeat(26)}`)}`;

export const HELP = `Usage: netfilter-collector [--nflog GROUPS] [--conntrack EVENTS] [options]
       netfilter-collector --read FILE.pcap [output options]
       netfilter-collector demo [--format FORMAT] [--duration SECONDS]

Collects packets logged to NFLOG groups (nft "log group N", iptables -j NFLOG)
and conntrack events (NAT flow records), and writes one document per line.
Give --nflog, --conntrack or both; or --read to decode an NFLOG capture.
"demo" builds a throwaway lab of namespaces and shows live events (needs root;
"demo --help" lists its options).

Collection:
  --nflog GROUPS          NFLOG groups to bind, comma-separated: 1,2
  --netns NAMES           collect inside network namespaces, comma-separated (/run/netns/NAME or a
                          path such as /proc/PID/ns/net), all into one stream; records say which
  --all-netns             every namespace under /run/netns, attached as it appears and detached
                          (with a note on stderr) when it goes; combines with --netns
  --netns-match GLOB      with --all-netns: only names matching GLOB (* and ?), e.g. 'tenant-*'
  --netns-dir DIR         with --all-netns: look in DIR instead of /run/netns
  --netns-processes       with --all-netns: also every other namespace a running process is in
                          (/proc/PID/ns/net, told apart by inode; named net:[INODE])
  --netns-poll MS         with --all-netns: how often to look for namespaces (default 1000)
  --label GROUP=TEXT      a label for a group, carried as netfilter.group_label (repeatable)
  --qthreshold N          entries the kernel batches per datagram (default 1024)
  --flush-timeout MS      longest the kernel holds a batch, ms (default 10)
  --copy-range BYTES      bytes of each packet to copy (default 65535: all)
  --socket-buffer BYTES   socket receive buffer, SO_RCVBUFFORCE (default 268435456)
  --ring-size BYTES       ring between reader thread and JS, a power of two (default 67108864)
  --user USER[:GROUP]     once the sockets are bound, drop to this user and group (and so all
                          capabilities); a conntrack resync dump then fails, counted as a gap

Conntrack (NAT flow records):
  --conntrack EVENTS      conntrack events: new,update,destroy (any subset) or all
  --ct-dump               dump the table at start: open flows arrive with event "dump"
  --ct-completed          one record per flow at its end (DESTROY) with start, end,
                          duration and counters
  --ct-proto LIST         kernel-side filter: protocols (tcp,udp,icmp,icmpv6,sctp or numbers)
  --ct-src CIDRS          kernel-side filter: original source addresses/networks, comma-separated
  --ct-dst CIDRS          kernel-side filter: original destination addresses/networks
  --ct-mark VALUE[/MASK]  kernel-side filter: (ct mark & MASK) == VALUE
  --ct-zone N             only flows of conntrack zone N
  --ct-resync             after the kernel dropped events (ENOBUFS), dump the table again
  --ct-reliable           reliable event delivery: the kernel drops packets rather than events
  --ct-enable-sysctls     turn on nf_conntrack_acct and nf_conntrack_timestamp in each
                          namespace collected in (byte counts and start/end times)

Output:
${FORMAT_HELP}
  --log-flags LIST        for log: tcpseq,tcpopt,ipopt,uid,macdecode or all
                          (the kernel's log flags, as nft "log flags" / iptables --log-*; default none)
  --logemu-hostname NAME  for logemu: the host name in the line's syslog-style header
                          (default: this host's)
  --log-netns MODE        for log and logemu, a packet from another namespace: prefix (the line
                          starts with netns=NAME; default for log with several namespaces),
                          hostname (logemu's header names the namespace; default for logemu with
                          several) or none (default with one --netns: the kernel's line as it is)
  --observer-hostname NAME
                          for ecs: observer.hostname, the gateway's host name (default: this host's)
  --observer-name NAME    for ecs: observer.name, the name the gateway goes by in the SIEM
  --observer-ip LIST      for ecs: observer.ip, the gateway's addresses (comma-separated; default none)
  --agent-name NAME       for ecs: agent.name (default: observer.name, else observer.hostname)
  --agent-id-file FILE    for ecs: agent.id is the first line of FILE, which is made with a new
                          random id if absent (default: an id derived from /etc/machine-id)
  --output TARGET         -: stdout (default); FILE: appended to, reopened on SIGHUP;
                          unix:PATH: a unix stream socket; tcp:HOST:PORT: TCP ([::1]:PORT for IPv6);
                          tls:HOST:PORT and syslog…: see TLS and Syslog below; for ipfix udp:/tcp:.
                          Sockets reconnect; a slow or absent receiver never blocks collection:
                          lines beyond --output-queue are dropped and counted.
                          Repeatable: each --output is another output, and the output flags
                          (--format, --take, --groups, --log-flags, --syslog-*, --tls-*,
                          --ipfix-*, --file-*, --output-queue) given after it, up to the next
                          --output, are its own (the first output's may also come before it):
                          --output a.json --output syslog --format log --take packets
  --output-queue BYTES    bound of a socket output's queue (default 67108864)
  --ipfix-records LIST    for ipfix: nat-events (NAT session create/delete of translated flows, at NEW
                          and DESTROY), flows (a flow record with both directions' counters at DESTROY),
                          flow-starts (a flow start record at NEW too: firewallEvent 1, no counters),
                          untranslated (NAT events of untranslated flows too); default nat-events,flows
  --ipfix-domain N        for ipfix: the Observation Domain ID, 0-4294967295 (default 1)
  --ipfix-mtu BYTES       for ipfix: path MTU to the collector; messages fill it less the IP and UDP
                          headers (default 1500, 576-65535)
  --ipfix-template-refresh SEC
                          for ipfix over UDP: send the templates again after SEC seconds, so a collector
                          (re)started meanwhile can decode (default 60); over TCP they open each connection
  --file-mode MODE        permissions of an output file the collector creates, octal (default 0640:
                          firewall logs name hosts and users); an existing file keeps its own
  --file-max-size SIZE    rotate the output file before it grows past SIZE (bytes, or with K, M, G:
                          100M), at a line boundary: FILE becomes FILE.1, FILE.1 FILE.2 …
  --file-keep N           with --file-max-size: rotated files kept, FILE.1 … FILE.N (default 5)
  --take LIST             what the output takes: packets,flows,gaps (default all three)
  --groups LIST           the NFLOG groups whose packets the output takes (default all)

Syslog output (--output syslog, syslog:unix:PATH, syslog:udp|tcp|tls:HOST[:PORT]):
  --syslog-protocol P     rfc3164 (default: <4>Dec  3 06:10:42 HOST kernel: MSG, as syslogd
                          forwards the kernel's lines) or rfc5424 (<4>1 2026-12-03T06:10:42.123Z …)
  --syslog-facility F     kern (default), user, daemon, local0-local7 … or 0-23
  --syslog-severity S     warning (default: the LOG target's level 4), info, notice … or 0-7
  --syslog-hostname NAME  HOSTNAME of the header (default: this host's short name)
  --syslog-app-name NAME  RFC 3164 TAG / RFC 5424 APP-NAME (default: kernel)
  --syslog-framing F      tcp and tls: octet-counting (default, RFC 6587) or lf
  --syslog-max-size BYTES udp and unix: longest message, header included (default 8192);
                          longer ones are cut on a character boundary and counted, never split
  Ports default to 514 (udp, tcp) and 6514 (tls, RFC 5425). Any --format can be the message;
  with --format log the defaults read like the kernel's own LOG line through syslog.

TLS (--output tls:HOST:PORT or syslog:tls:HOST[:PORT]):
  --tls-ca FILE           PEM CA(s) the server's certificate must chain to (default: the
                          system's); the host name is checked; nothing is ever sent in clear
  --tls-cert FILE         client certificate, PEM (mutual TLS), with --tls-key FILE
  --tls-key FILE
  --tls-servername NAME   the name the server's certificate must carry (default: the host)

Captures, limits and statistics:
  --write-pcap FILE       write the NFLOG packets to FILE as a pcap (link type NFLOG, as
                          tcpdump -i nflog:N -w writes); documents go to --output only if given
  --read FILE.pcap        decode an NFLOG pcap (tcpdump -i nflog:N -w FILE) instead of collecting
  --interface-names LIST  with --read: names of the capture's interface indexes, 2=eth0,10=wlan0
                          (a capture holds indexes only); used by every format. An index without
                          a name: ECS gives observer.*.interface.id alone, log/logemu print IN=#2
  --interface-names-file FILE
                          the same from a file: INDEX=NAME or INDEX NAME a line, or the output
                          of 'ip link' / 'ip -o link' on the capturing host
  --max-events N          exit after N events (packets and flows)
  --idle-exit MS          exit after MS without events, once the first has arrived
  --drain-timeout MS      at exit, how long the output may take to deliver what is queued
                          (default 5000); what it cannot take is dropped at a line boundary,
                          counted, and the exit status is 3 (a line the reader has part of
                          gets as long again to finish)
  --stats-interval SEC    a progress line on stderr every SEC seconds (events/s, lost, queue);
                          default 10 when stderr is a terminal, else off; 0 turns it off
  --stats                 at exit, print one JSON object with the counters
                          (delivered, lost, gaps, enobufs, output drops …, and latencyMs: p50/p99/max
                          from the kernel's timestamp, where packets have one, and from the reader
                          thread's receive time, to output) as the last line on stderr

Operation:
  --config FILE           options from a YAML file: the flags' names without "--" as keys,
                          and "outputs:", a list of outputs each with its own output, format,
                          take, groups, syslog-*, tls-* and ipfix-* keys (see README), e.g. ECS to a
                          file and IPFIX to a flow collector at once. Flags override it
  --metrics HOST:PORT     serve Prometheus metrics on http://HOST:PORT/metrics (and /healthz)

  -h, --help              this help
  --version               the version

Loss is never silent: a record of kind "gap" (format record), a document with
event.kind "pipeline_error" and netfilter.gap.* (format ecs), or a line on
stderr (formats log, logemu, ulogd) says what was lost, where and how many.
Signals: SIGINT/SIGTERM flush and exit, saying what could not be delivered;
SIGHUP reopens an output file (log rotation). A line is never cut: a reader of
stdout, a file, a FIFO or a unix or TLS socket gets whole lines only (over TCP,
a receiver that reads nothing during the second drain deadline can be left the
part of one line the kernel took: counted dropped and said).
Exit status: 0 done; 1 an error (a capture not read to its end); 2 bad usage;
3 the output dropped lines at exit (--drain-timeout ran out; counted on stderr).
Needs CAP_NET_ADMIN (root), and CAP_SYS_ADMIN for --netns and --all-netns.

Examples:
  netfilter-collector --nflog 1 --max-events 10
  netfilter-collector --nflog 1,2 --netns router --format record --output /var/log/nflog.ndjson --stats
  netfilter-collector --conntrack new,destroy --netns router --ct-enable-sysctls
  netfilter-collector --nflog 1 --conntrack new,destroy --all-netns --netns-match 'tenant-*'
  netfilter-collector --nflog 5 --format log --log-flags all --output tcp:127.0.0.1:5140
  netfilter-collector --conntrack new,destroy --ct-enable-sysctls --format ipfix --output udp:192.0.2.9:4739
  netfilter-collector --nflog 5 --format log --output syslog
  netfilter-collector --nflog 5 --output syslog:tls:logs.example --tls-ca /etc/ssl/logs-ca.pem
  netfilter-collector --read capture.pcap --format ecs
  netfilter-collector --read capture.pcap --interface-names 2=eth0,3=wan0 --format log
`;

function fail(message: string): never {
  const error = new Error(message);
  (error as Error & { usage: boolean }).usage = true;
  throw error;
}

function conntrackArgs(args: CliArgs): CliConntrackArgs {
  args.conntrack ??= {
    events: ['new', 'update', 'destroy'],
    dump: false,
    resync: false,
    reliable: false,
    protocols: [],
    sources: [],
    destinations: [],
    completed: false,
    enableSysctls: false,
  };
  return args.conntrack;
}

function list(flag: string, text: string | undefined): string[] {
  if (!text) fail(`${flag} needs a comma-separated list`);
  return text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0);
}

function nonEmpty(flag: string, text: string | undefined, what: string): string {
  if (!text) fail(`${flag} needs ${what}`);
  return text;
}

/** Bytes: a whole number, or with K, M or G (KiB, MiB, GiB: 100M is 104857600). */
function byteSize(flag: string, text: string | undefined): number {
  const match = /^([0-9]+)([KMG])?(?:i?B)?$/i.exec(text ?? '');
  if (!match) fail(`${flag} needs a size in bytes, or with K, M or G (100M), got '${text ?? ''}'`);
  const unit = { K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[(match[2] ?? '').toUpperCase() as 'K' | 'M' | 'G'] ?? 1;
  return Number(match[1]) * unit;
}

function positiveInteger(flag: string, text: string | undefined, min = 1): number {
  if (text === undefined) fail(`${flag} needs a value`);
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) fail(`${flag} must be an integer ≥ ${min}, got '${text}'`);
  return n;
}

/**
 * Parses the command line. partial: only the flags given, without the checks of the whole
 * (something to collect, options that go together): for a config file's keys one at a time.
 */
export function parseArgs(argv: string[], options: { partial?: boolean } = {}): CliArgs {
  const args: CliArgs = {
    help: false,
    version: false,
    nflog: [],
    netns: [],
    netnsWatch: {},
    stats: false,
    labels: new Map(),
    ...defaultOutput(),
  };
  let ipfixOptions = args.ipfixOptions;
  // A second --output starts another output: the output flags before it describe the one before.
  const listed: OutputSpec[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const inline = eq > 0 ? arg.slice(eq + 1) : undefined;
    let consumed = false;
    const value = (): string | undefined => {
      consumed = true;
      return inline !== undefined ? inline : argv[++i];
    };
    switch (flag) {
      case '-h':
      case '--help':
        args.help = true;
        break;
      case '--version':
        args.version = true;
        break;
      case '--nflog': {
        const text = value();
        if (!text) fail('--nflog needs a list of groups, e.g. --nflog 1,2');
        for (const part of text.split(',')) {
          const group = positiveInteger('--nflog', part.trim(), 0);
          if (group > 65535) fail(`--nflog: group ${group} is out of range (0-65535)`);
          if (!args.nflog.includes(group)) args.nflog.push(group);
        }
        break;
      }
      case '--conntrack': {
        const text = value();
        const events = text === 'all' ? ['new', 'update', 'destroy'] : list(flag, text);
        for (const e of events)
          if (e !== 'new' && e !== 'update' && e !== 'destroy') fail(`--conntrack: '${e}' is not new, update, destroy or all`);
        conntrackArgs(args).events = events as CliConntrackArgs['events'];
        break;
      }
      case '--ct-dump':
        conntrackArgs(args).dump = true;
        break;
      case '--ct-completed':
        conntrackArgs(args).completed = true;
        break;
      case '--ct-resync':
        conntrackArgs(args).resync = true;
        break;
      case '--ct-reliable':
        conntrackArgs(args).reliable = true;
        break;
      case '--ct-enable-sysctls':
        conntrackArgs(args).enableSysctls = true;
        break;
      case '--ct-proto':
        conntrackArgs(args).protocols.push(...list(flag, value()));
        break;
      case '--ct-src':
        conntrackArgs(args).sources.push(...list(flag, value()));
        break;
      case '--ct-dst':
        conntrackArgs(args).destinations.push(...list(flag, value()));
        break;
      case '--ct-mark': {
        const text = value() ?? '';
        const [v, m] = text.split('/');
        const parse = (t: string): number => {
          const n = Number(t);
          if (t === '' || !Number.isInteger(n) || n < 0 || n > 0xffffffff)
            fail(`--ct-mark needs VALUE[/MASK] (numbers, 0x… allowed), got '${text}'`);
          return n;
        };
        conntrackArgs(args).mark = { value: parse(v), mask: m === undefined ? 0xffffffff : parse(m) };
        break;
      }
      case '--ct-zone':
        conntrackArgs(args).zone = positiveInteger(flag, value(), 0);
        break;
      case '--netns':
        for (const name of list(flag, value())) if (!args.netns.includes(name)) args.netns.push(name);
        break;
      case '--all-netns':
        args.allNetns = true;
        break;
      case '--netns-match': {
        const text = value();
        if (!text) fail("--netns-match needs a glob, e.g. 'tenant-*'");
        args.netnsWatch.match = text;
        break;
      }
      case '--netns-dir': {
        const text = value();
        if (!text) fail('--netns-dir needs a directory');
        args.netnsWatch.dir = text;
        break;
      }
      case '--netns-processes':
        args.netnsWatch.processes = true;
        break;
      case '--netns-poll':
        args.netnsWatch.pollMs = positiveInteger(flag, value(), 50);
        break;
      case '--log-netns':
        args.logNetns = oneOf(flag, value(), LOG_NETNS) as LogNetns;
        break;
      case '--file-mode': {
        const text = value() ?? '';
        if (!/^0?[0-7]{3}$/.test(text)) fail(`--file-mode needs an octal mode such as 0640 or 600, got '${text}'`);
        args.fileMode = Number.parseInt(text, 8);
        break;
      }
      case '--label': {
        const text = value() ?? '';
        const at = text.indexOf('=');
        if (at <= 0) fail(`--label needs GROUP=TEXT, got '${text}'`);
        args.labels.set(positiveInteger('--label', text.slice(0, at), 0), text.slice(at + 1));
        break;
      }
      case '--format': {
        const text = value();
        if (!OUTPUT_FORMATS.includes(text as OutputFormat))
          fail(`--format must be one of ${OUTPUT_FORMATS.join(', ')}, got '${text ?? ''}'`);
        args.format = text as OutputFormat;
        break;
      }
      case '--log-flags':
        for (const name of list(flag, value())) {
          const known = name === 'all' ? LOG_FLAGS : LOG_FLAGS.filter((f) => f === name);
          if (known.length === 0) fail(`--log-flags: '${name}' is not one of ${LOG_FLAGS.join(', ')} or all`);
          for (const f of known) if (!args.logFlags.includes(f)) args.logFlags.push(f);
        }
        break;
      case '--logemu-hostname': {
        const text = value();
        if (!text) fail('--logemu-hostname needs a host name');
        args.logemuHostname = text;
        break;
      }
      case '--observer-hostname':
        args.observerHostname = nonEmpty(flag, value(), 'a host name');
        break;
      case '--observer-name':
        args.observerName = nonEmpty(flag, value(), 'a name');
        break;
      case '--observer-ip':
        for (const ip of list(flag, value())) {
          if (isIP(ip) === 0) fail(`--observer-ip: '${ip}' is not an IPv4 or IPv6 address`);
          (args.observerIps ??= []).push(ip);
        }
        break;
      case '--agent-name':
        args.agentName = nonEmpty(flag, value(), 'a name');
        break;
      case '--agent-id-file':
        args.agentIdFile = nonEmpty(flag, value(), 'a file path');
        break;
      case '--output': {
        const text = value();
        if (!text) fail('--output needs -, a file path, unix:PATH or tcp:HOST:PORT');
        if (args.output !== undefined) {
          listed.push(outputSpecFromArgs(args));
          Object.assign(args, defaultOutput());
          ipfixOptions = args.ipfixOptions;
        }
        args.output = text;
        break;
      }
      case '--file-max-size':
        args.fileMaxSize = byteSize(flag, value());
        break;
      case '--file-keep':
        args.fileKeep = positiveInteger(flag, value());
        break;
      case '--output-queue':
        args.outputQueue = positiveInteger(flag, value(), 1024);
        break;
      case '--syslog-protocol':
        args.syslog.protocol = oneOf(flag, value(), SYSLOG_PROTOCOLS) as SyslogProtocol;
        break;
      case '--syslog-framing':
        args.syslog.framing = oneOf(flag, value(), SYSLOG_FRAMINGS) as SyslogFraming;
        break;
      case '--syslog-facility':
        args.syslog.facility = syslogCode(flag, value(), parseFacility);
        break;
      case '--syslog-severity':
        args.syslog.severity = syslogCode(flag, value(), parseSeverity);
        break;
      case '--syslog-hostname':
      case '--syslog-app-name': {
        const text = value() ?? '';
        const field = flag === '--syslog-hostname' ? 'hostname' : 'appName';
        const problem = headerFieldProblem(field, text);
        if (problem) fail(`${flag} ${problem}, got '${text}'`);
        args.syslog[field] = text;
        break;
      }
      case '--syslog-max-size':
        args.syslog.maxMessageBytes = positiveInteger(flag, value(), 480);
        if (args.syslog.maxMessageBytes > 65507) fail(`${flag}: a UDP datagram holds at most 65507 bytes`);
        break;
      case '--tls-ca':
      case '--tls-cert':
      case '--tls-key':
      case '--tls-servername': {
        const text = value();
        if (!text) fail(`${flag} needs ${flag === '--tls-servername' ? 'a host name' : 'a PEM file'}`);
        args.tls[flag === '--tls-ca' ? 'ca' : flag === '--tls-cert' ? 'cert' : flag === '--tls-key' ? 'key' : 'servername'] = text;
        break;
      }
      case '--read': {
        const text = value();
        if (!text) fail('--read needs a pcap file (- for stdin is not supported)');
        args.read = text;
        break;
      }
      case '--interface-names':
      case '--interface-names-file': {
        const text = value();
        if (!text)
          fail(
            flag === '--interface-names'
              ? '--interface-names needs INDEX=NAME,…, e.g. 2=eth0,10=wlan0'
              : '--interface-names-file needs a file path',
          );
        try {
          args.interfaceNames =
            flag === '--interface-names'
              ? parseInterfaceNames(text, args.interfaceNames)
              : readInterfaceNamesFile(text, args.interfaceNames);
        } catch (err) {
          fail((err as Error).message);
        }
        break;
      }
      case '--write-pcap': {
        const text = value();
        if (!text) fail('--write-pcap needs a file path');
        args.writePcap = text;
        break;
      }
      case '--stats-interval': {
        const text = value();
        const n = Number(text);
        if (text === undefined || text === '' || !Number.isFinite(n) || n < 0)
          fail(`--stats-interval needs seconds (0 turns progress off), got '${text ?? ''}'`);
        args.statsInterval = n;
        break;
      }
      case '--user': {
        const text = value();
        if (!text || text.startsWith(':')) fail('--user needs USER or USER:GROUP');
        args.user = text;
        break;
      }
      case '--max-events':
        args.maxEvents = positiveInteger(flag, value());
        break;
      case '--idle-exit':
        args.idleExitMs = positiveInteger(flag, value());
        break;
      case '--drain-timeout':
        args.drainTimeoutMs = positiveInteger(flag, value(), 0);
        break;
      case '--stats':
        args.stats = true;
        break;
      case '--qthreshold':
        args.qthreshold = positiveInteger(flag, value());
        break;
      case '--flush-timeout':
        args.flushTimeoutMs = positiveInteger(flag, value(), 0);
        break;
      case '--copy-range':
        args.copyRange = positiveInteger(flag, value(), 0);
        break;
      case '--socket-buffer':
        args.socketBuffer = positiveInteger(flag, value());
        break;
      case '--ring-size':
        args.ringSize = positiveInteger(flag, value());
        break;
      case '--take': {
        const kinds = list(flag, value());
        for (const kind of kinds)
          if (!TAKE_KINDS.includes(kind as TakeKind)) fail(`--take: '${kind}' is not one of ${TAKE_KINDS.join(', ')}`);
        args.take = kinds as TakeKind[];
        break;
      }
      case '--groups':
        args.groups = list(flag, value()).map((part) => positiveInteger(flag, part, 0));
        break;
      case '--metrics': {
        const text = value() ?? '';
        const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:]*)):([0-9]{1,5})$/.exec(text);
        const port = match ? Number(match[3]) : 0;
        if (!match || port < 1 || port > 65535)
          fail(`--metrics needs HOST:PORT (e.g. 127.0.0.1:9100, [::1]:9100, 0.0.0.0:9100), got '${text}'`);
        args.metrics = { host: match[1] ?? (match[2] || '127.0.0.1'), port };
        break;
      }
      case '--config': {
        const text = value();
        if (!text) fail('--config needs a file path');
        args.config = text;
        break;
      }
      case '--ipfix-records': {
        const kinds = list(flag, value());
        for (const k of kinds)
          if (!IPFIX_RECORD_KINDS.includes(k as IpfixRecordKind))
            fail(`--ipfix-records: '${k}' is not one of ${IPFIX_RECORD_KINDS.join(', ')}`);
        ipfixOptions.records = kinds as IpfixRecordKind[];
        break;
      }
      case '--ipfix-domain':
        ipfixOptions.observationDomainId = positiveInteger(flag, value(), 0);
        break;
      case '--ipfix-mtu':
        ipfixOptions.mtu = positiveInteger(flag, value());
        break;
      case '--ipfix-template-refresh':
        ipfixOptions.templateRefreshSeconds = positiveInteger(flag, value());
        break;
      default:
        fail(`unknown option '${arg}' (see --help)`);
    }
    // --stats=yes (or `stats: yes` in a config file): a switch given a value is a mistake, not a yes.
    if (inline !== undefined && !consumed) fail(`${flag} takes no value, got '${arg}'`);
  }
  if (listed.length > 0) {
    listed.push(outputSpecFromArgs(args));
    args.outputs = listed;
  }
  return options.partial ? args : checkArgs(args);
}

/** An output's flags before any is given: ECS to stdout, every record kind, every group. */
function defaultOutput(): OutputSpec {
  return {
    format: 'ecs',
    output: undefined,
    outputQueue: undefined,
    logFlags: [],
    logemuHostname: undefined,
    syslog: {},
    tls: {},
    take: [...TAKE_KINDS],
    groups: [],
    ipfixOptions: {},
    fileMaxSize: undefined,
    fileKeep: undefined,
  };
}

/** The checks of the whole command line. */
function checkArgs(args: CliArgs): CliArgs {
  if (args.help || args.version) return args;
  // A companion alone would silently do nothing: --netns-match without --all-netns is a mistake.
  const watch = Object.keys(args.netnsWatch);
  if (watch.length > 0 && !args.allNetns)
    fail(`--netns-${watch[0] === 'processes' ? 'processes' : watch[0] === 'pollMs' ? 'poll' : watch[0]} goes with --all-netns`);
  const formats = (args.outputs ?? [args]).map((spec) => spec.format);
  if (args.logNetns === 'hostname' && !formats.includes('logemu'))
    fail('--log-netns hostname applies to --format logemu (the LOG line has no host name)');
  if (args.logNetns !== undefined && !formats.includes('log') && !formats.includes('logemu')) {
    fail('--log-netns applies to --format log and logemu (ecs, record and ulogd carry the namespace as fields)');
  }
  if (args.read !== undefined) {
    if (args.nflog.length > 0 || args.conntrack) fail('--read decodes a capture: it does not take --nflog or --conntrack');
    if (args.netns.length > 0 || args.allNetns || args.user !== undefined) {
      fail('--read decodes a capture: --netns, --all-netns and --user are for live collection');
    }
  } else if (args.interfaceNames !== undefined) {
    fail('--interface-names names the interfaces of a capture (--read); live collection resolves them through rtnetlink');
  } else if (args.nflog.length === 0 && !args.conntrack) {
    fail('nothing to collect: give --nflog GROUPS and/or --conntrack EVENTS, or --read FILE.pcap (see --help)');
  }
  if (args.writePcap !== undefined && args.nflog.length === 0 && args.read === undefined) {
    fail('--write-pcap writes NFLOG packets: give --nflog GROUPS too');
  }
  for (const [given, flag] of [
    [args.observerHostname, '--observer-hostname'],
    [args.observerName, '--observer-name'],
    [args.observerIps, '--observer-ip'],
    [args.agentName, '--agent-name'],
    [args.agentIdFile, '--agent-id-file'],
  ] as const) {
    if (given !== undefined && !formats.includes('ecs')) fail(`${flag} applies to --format ecs`);
  }
  if (args.outputs !== undefined) {
    for (const spec of args.outputs) checkOutputOptions(spec, { listed: true });
  } else {
    checkOutputOptions(outputSpecFromArgs(args));
  }
  checkFlowsTaken(args);
  checkIpfixRun(args);
  if (args.read === undefined) checkCollectorOptions(args);
  return args;
}

/** The collector's options the flags describe (without onNamespace, which the run adds). */
export function collectorOptionsOf(args: CliArgs): CollectorOptions {
  return {
    nflog: args.nflog.map((group) => ({ group, label: args.labels.get(group) })),
    conntrack: args.conntrack,
    netns: args.netns.length > 0 ? args.netns : undefined,
    allNetns: args.allNetns ? args.netnsWatch : undefined,
    qthreshold: args.qthreshold,
    flushTimeoutMs: args.flushTimeoutMs,
    copyRange: args.copyRange,
    socketBuffer: args.socketBuffer,
    ringSize: args.ringSize,
    // The pcap writer needs the packet's bytes.
    includePayload: args.writePcap !== undefined,
  };
}

/** The collector's own option names, as the flags that set them. */
const OPTION_FLAG_NAMES: Record<string, string> = {
  socketBuffer: '--socket-buffer',
  ringSize: '--ring-size',
  qthreshold: '--qthreshold',
  copyRange: '--copy-range',
  flushTimeoutMs: '--flush-timeout',
  'conntrack.sources': '--ct-src',
  'conntrack.destinations': '--ct-dst',
  'conntrack.zone': '--ct-zone',
  'conntrack.mark value': '--ct-mark',
  'conntrack.mark mask': '--ct-mark',
  'allNetns.pollMs': '--netns-poll',
};

/**
 * The values the collector checks (src/options.ts: ranges, a power of two, networks, protocols) checked
 * now, so a bad one is a usage error (exit 2) that names the flag, before anything is opened.
 */
function checkCollectorOptions(args: CliArgs): void {
  try {
    resolveOptions(collectorOptionsOf(args));
  } catch (err) {
    const message = (err as Error).message.replace(/^netfilter-collector: /, '');
    fail(
      message
        .replace(/^option (?:nflog\[\d+\]\.)?([\w.]+(?: value| mask)?)/, (whole, name: string) => OPTION_FLAG_NAMES[name] ?? whole)
        .replace(/^conntrack protocol /, '--ct-proto: protocol '),
    );
  }
}

/** With --conntrack, an output that takes flows writes them: log and logemu have no line for a flow. */
export function checkFlowsTaken(args: CliArgs): void {
  if (!args.conntrack) return;
  for (const spec of outputSpecs(args)) {
    if (spec.format === 'ipfix' || !spec.take.includes('flows') || LINE_FORMATS[spec.format].writes.includes('flow')) continue;
    const other = spec.take.filter((kind) => kind !== 'flows');
    fail(
      `--format ${spec.format} renders packets only: use ecs, record or ulogd with --conntrack` +
        (other.length > 0 ? `, or give this output --take ${other.join(',')}` : ''),
    );
  }
}

/** The output the flags describe (when no config file lists outputs). */
export function outputSpecFromArgs(args: CliArgs): OutputSpec {
  const { format, output, outputQueue, logFlags, logemuHostname, syslog, tls, take, groups, ipfixOptions, fileMaxSize, fileKeep } = args;
  return { format, output, outputQueue, logFlags, logemuHostname, syslog, tls, take, groups, ipfixOptions, fileMaxSize, fileKeep };
}

/** The outputs of a run: the config file's list, or the one the flags describe. */
export function outputSpecs(args: CliArgs): OutputSpec[] {
  return args.outputs ?? [outputSpecFromArgs(args)];
}

/** The output's format options go with its format; its target parses; its syslog and TLS options go with it. */
export function checkOutputOptions(args: OutputSpec, { listed = false } = {}): void {
  if (args.format === 'ipfix') ipfixOutputOf(args);
  else if (Object.keys(args.ipfixOptions).length > 0)
    fail(
      `--ipfix-records, --ipfix-domain, --ipfix-mtu and --ipfix-template-refresh apply to ${listed ? 'format: ipfix' : '--format ipfix'}`,
    );
  if (args.logFlags.length > 0 && args.format !== 'log') {
    fail("--log-flags applies to --format log (ulogd's LOGEMU line has no flags)");
  }
  if (args.logemuHostname !== undefined && args.format !== 'logemu') fail('--logemu-hostname applies to --format logemu');
  let target: SinkTarget | undefined;
  // An IPFIX collector (udp:/tcp:) is parsed by ipfixArgs.
  if (args.output !== undefined && args.format !== 'ipfix') {
    try {
      target = parseSinkTarget(args.output);
    } catch (err) {
      fail(`--output: ${(err as Error).message}`);
    }
  }
  const transport = target?.kind === 'syslog' ? target.transport.kind : undefined;
  const used = (options: object): string[] => Object.keys(options).filter((k) => (options as Record<string, unknown>)[k] !== undefined);
  if (used(args.syslog).length > 0 && transport === undefined)
    fail('--syslog-* options apply to a syslog output (--output syslog, syslog:udp|tcp|tls:HOST[:PORT], syslog:unix:PATH)');
  if (args.syslog.framing !== undefined && transport !== 'tcp' && transport !== 'tls')
    fail('--syslog-framing applies to syslog over tcp or tls (datagrams need no framing)');
  if (args.syslog.maxMessageBytes !== undefined && transport !== 'udp' && transport !== 'unix')
    fail('--syslog-max-size applies to syslog over udp or unix (streams carry whole messages)');
  if (used(args.tls).length > 0 && target?.kind !== 'tls' && transport !== 'tls')
    fail('--tls-* options apply to a TLS output (--output tls:HOST:PORT or syslog:tls:HOST[:PORT])');
  if ((args.tls.cert === undefined) !== (args.tls.key === undefined))
    fail('--tls-cert and --tls-key go together (a client certificate needs its key)');
  fileRotationOfSpec(args);
}

/** The rotation of a file output, checked (fileRotationOf), or undefined. */
export function fileRotationOfSpec(args: OutputSpec): FileRotation | undefined {
  if (args.fileMaxSize === undefined) {
    if (args.fileKeep !== undefined) fail('--file-keep goes with --file-max-size (how many files a rotation by size keeps)');
    return undefined;
  }
  const target = args.output === undefined || args.format === 'ipfix' ? undefined : parseSinkTarget(args.output);
  if (target?.kind !== 'file') fail('--file-max-size and --file-keep apply to a file output (--output FILE)');
  try {
    return fileRotationOf({ maxBytes: args.fileMaxSize, keep: args.fileKeep });
  } catch (err) {
    fail(`--file-max-size/--file-keep: ${(err as Error).message}`);
  }
}

function oneOf(flag: string, text: string | undefined, allowed: readonly string[]): string {
  if (text === undefined || !allowed.includes(text)) fail(`${flag} must be one of ${allowed.join(', ')}, got '${text ?? ''}'`);
  return text;
}

function syslogCode(flag: string, text: string | undefined, parse: (text: string) => number): number {
  try {
    return parse(text ?? '');
  } catch (err) {
    fail(`${flag}: ${(err as Error).message}`);
  }
}

/** An ipfix output's collector and exporter options; fails with the flag's name when either is wrong. */
export function ipfixOutputOf(spec: OutputSpec): { target: IpfixTarget; options: ResolvedIpfixOptions } {
  if (spec.output === undefined) fail('--format ipfix sends to a collector: give --output udp:HOST[:PORT] or tcp:HOST[:PORT]');
  if (!spec.take.includes('flows')) fail('--format ipfix exports flows: its --take must include flows');
  try {
    return { target: parseIpfixTarget(spec.output), options: resolveIpfixOptions(spec.ipfixOptions) };
  } catch (err) {
    fail(
      (err as Error).message.replace(
        /^netfilter-collector: option ipfix\.(\w+)/,
        (_m, name: string) => `--ipfix-${IPFIX_FLAG_NAMES[name] ?? name}`,
      ),
    );
  }
}

/** What an IPFIX output needs of the run: conntrack, with DESTROY events; alone, it cannot take packets. */
export function checkIpfixRun(args: CliArgs): void {
  const specs = outputSpecs(args);
  if (!specs.some((spec) => spec.format === 'ipfix')) return;
  const alone = specs.every((spec) => spec.format === 'ipfix');
  if (!args.conntrack || (alone && (args.nflog.length > 0 || args.writePcap !== undefined)) || args.read !== undefined) {
    fail('--format ipfix exports conntrack flows: give --conntrack (NFLOG packets and captures have no IPFIX form here)');
  }
  if (!args.conntrack.completed && !args.conntrack.events.includes('destroy')) {
    fail('--format ipfix: flows and NAT session deletes come from DESTROY events: give --conntrack new,destroy (or all)');
  }
  const flowStarts = specs.some((spec) => spec.format === 'ipfix' && ipfixOutputOf(spec).options.flowStarts);
  if (flowStarts && (args.conntrack.completed || !args.conntrack.events.includes('new'))) {
    fail('--ipfix-records flow-starts: flow starts come from NEW events: give --conntrack new,destroy (not --ct-completed)');
  }
}

const IPFIX_FLAG_NAMES: Record<string, string> = {
  observationDomainId: 'domain',
  mtu: 'mtu',
  templateRefreshSeconds: 'template-refresh',
  records: 'records',
};
