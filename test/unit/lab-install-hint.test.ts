// What the demo and the lab say to install when a tool is missing: Debian packages, which a user of the
// installed package can act on (the clone's scripts/setup-system.sh is not beside them).
import { expect, it } from 'vitest';
import { installHint } from '../../src/lab/netns';

it('names the Debian package of each missing tool, once', () => {
  expect(installHint(['iptables-restore', 'ping'])).toBe('apt-get install iptables iputils-ping');
  expect(installHint(['nft'])).toBe('apt-get install nftables');
  expect(installHint(['ip', 'ip'])).toBe('apt-get install iproute2');
  // A tool without a known package is named as it is.
  expect(installHint(['tcpdump'])).toBe('apt-get install tcpdump');
});
