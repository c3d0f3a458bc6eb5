// Output files safe by default and whole lines only: mode 0640 whatever the
// umask (or the mode asked for), a partial last line left by a killed writer
// cut off at open, a full device said once, counted, and never a stop.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NdjsonOutput } from '../../../src/cli/output';
import { cutPartialLine } from '../../../src/sink/file';
import { unixSocketPathProblem } from '../../../src/sink/socket';

let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nfc-file-safety-'));
});

afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('output files', () => {
  it('are created 0640 whatever the umask, or with the mode asked for; an existing file keeps its own', async () => {
    const old = process.umask(0o000);
    try {
      const a = path.join(dir, 'a.ndjson');
      await new NdjsonOutput(a).close();
      expect(fs.statSync(a).mode & 0o777).toBe(0o640);
      process.umask(0o077);
      const b = path.join(dir, 'b.ndjson');
      await new NdjsonOutput(b, { fileMode: 0o644 }).close();
      expect(fs.statSync(b).mode & 0o777).toBe(0o644);
      const c = path.join(dir, 'c.ndjson');
      fs.writeFileSync(c, '', { mode: 0o600 });
      await new NdjsonOutput(c, { fileMode: 0o666 }).close();
      expect(fs.statSync(c).mode & 0o777).toBe(0o600);
    } finally {
      process.umask(old);
    }
  });

  it('cut a partial last line off at open, so the next line starts on its own, and say so', async () => {
    const file = path.join(dir, 'out.ndjson');
    fs.writeFileSync(file, '{"seq":1}\n{"seq":2}\n{"seq":3,"pa');
    const said: string[] = [];
    const output = new NdjsonOutput(file, { onError: (m) => said.push(m) });
    output.line('{"seq":4}');
    await output.flush();
    await output.close();
    expect(fs.readFileSync(file, 'utf8')).toBe('{"seq":1}\n{"seq":2}\n{"seq":4}\n');
    expect(said).toEqual([
      `${file}: cut off a partial last line (12 bytes) an interrupted write left, so new lines start on a line of their own`,
    ]);
  });

  it('cutPartialLine: nothing to cut, a long partial line, no newline at all', () => {
    const file = path.join(dir, 'x');
    const cut = (text: string) => {
      fs.writeFileSync(file, text);
      const fd = fs.openSync(file, 'r+');
      try {
        return [cutPartialLine(fd), fs.readFileSync(file, 'utf8')];
      } finally {
        fs.closeSync(fd);
      }
    };
    expect(cut('')).toEqual([0, '']);
    expect(cut('a\nb\n')).toEqual([0, 'a\nb\n']);
    const long = 'y'.repeat(200_000);
    expect(cut(`a\n${long}`)).toEqual([200_000, 'a\n']);
    expect(cut('no newline')).toEqual([10, '']);
  });

  it('a full device: said once, every line dropped counted, and flush never stops collection', async () => {
    const said: string[] = [];
    const output = new NdjsonOutput('/dev/full', { onError: (m) => said.push(m) });
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 100; i++) output.line(`{"seq":${i}}`);
      await output.flush(); // resolves: no rejection, no wait
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const stats = output.stats();
    expect(stats.dropped.writeError.lines).toBe(300);
    expect(stats.writtenLines).toBe(0);
    expect(stats.connected).toBe(false);
    expect(stats.lastError).toMatch(/ENOSPC/);
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(/^\/dev\/full: .*ENOSPC.*: dropping lines \(counted\) and trying again every 1 s; collection goes on$/);
    await output.close(100);
  });
});

describe('unix socket outputs', () => {
  it("refuse another user's link, a non-socket, and a socket anyone could have put there", async () => {
    const real = path.join(dir, 'real.sock');
    const server = net.createServer().listen(real);
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      expect(unixSocketPathProblem(real)).toBeNull();
      expect(unixSocketPathProblem(path.join(dir, 'absent.sock'))).toBeNull();
      expect(unixSocketPathProblem('@abstract')).toBeNull();
      // A link of this user (or root) is followed, as /dev/log → /run/systemd/journal/dev-log is.
      const link = path.join(dir, 'link.sock');
      fs.symlinkSync(real, link);
      expect(unixSocketPathProblem(link)).toBeNull();
      // Another user's link is not.
      const planted = path.join(dir, 'planted.sock');
      fs.symlinkSync(real, planted);
      fs.lchownSync(planted, 65534, 65534);
      expect(unixSocketPathProblem(planted)).toBe(
        `${planted} is a symbolic link of uid 65534, neither this process's user nor root: refusing it`,
      );
      const toPlain = path.join(dir, 'to-plain');
      fs.writeFileSync(path.join(dir, 'plain-target'), '');
      fs.symlinkSync(path.join(dir, 'plain-target'), toPlain);
      expect(unixSocketPathProblem(toPlain)).toBe(`${toPlain} leads to ${fs.realpathSync(path.join(dir, 'plain-target'))} is not a socket`);
      const plain = path.join(dir, 'plain');
      fs.writeFileSync(plain, '');
      expect(unixSocketPathProblem(plain)).toBe(`${plain} is not a socket`);
      fs.chmodSync(dir, 0o777);
      expect(unixSocketPathProblem(real)).toMatch(/is writable by everyone without the sticky bit/);
      fs.chmodSync(dir, 0o1777);
      expect(unixSocketPathProblem(real)).toBeNull();
      // A directory another user owns: its owner could swap the socket between the check and the connect.
      fs.chmodSync(dir, 0o700);
      fs.chownSync(dir, 65534, 65534);
      expect(unixSocketPathProblem(real)).toBe(
        `${dir} belongs to uid 65534, neither this process's user nor root: refusing a socket its owner could replace`,
      );
    } finally {
      fs.chownSync(dir, process.getuid?.() ?? 0, process.getgid?.() ?? 0);
      fs.chmodSync(dir, 0o700);
      server.close();
    }
  });

  it('a refused path is said, counted as a failed connect, and nothing is sent there', async () => {
    const real = path.join(dir, 'real.sock');
    let received = '';
    const server = net.createServer((c) => c.on('data', (d) => (received += d))).listen(real);
    await new Promise((resolve) => server.once('listening', resolve));
    const link = path.join(dir, 'link.sock');
    fs.symlinkSync(real, link);
    fs.lchownSync(link, 65534, 65534);
    const said: string[] = [];
    const output = new NdjsonOutput(`unix:${link}`, { onError: (m) => said.push(m), reconnectMinMs: 10, reconnectMaxMs: 20 });
    try {
      output.line('{"secret":1}');
      await output.flush();
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(said[0]).toMatch(/is a symbolic link of uid 65534, neither this process's user nor root: refusing it/);
      expect(output.stats().connectFailures).toBeGreaterThan(1);
      expect(received).toBe('');
    } finally {
      await output.close(0);
      server.close();
    }
  });

  it("syslog over a unix datagram socket refuses another user's link too, and keeps the lines to try again", async () => {
    const link = path.join(dir, 'log');
    fs.symlinkSync(path.join(dir, 'elsewhere'), link);
    fs.lchownSync(link, 65534, 65534);
    const said: string[] = [];
    const output = new NdjsonOutput(`syslog:unix:${link}`, { onError: (m) => said.push(m), reconnectMinMs: 10, reconnectMaxMs: 20 });
    try {
      output.line('secret');
      await output.flush();
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(said[0]).toMatch(/refused: .*\/log is a symbolic link of uid 65534/);
      expect(output.stats().writtenLines).toBe(0);
      expect(output.stats().droppedLines).toBe(0); // waiting, not dropped
    } finally {
      await output.close(0);
    }
  });
});
