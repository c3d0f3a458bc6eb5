/*
 * ct-flood: creates COUNT distinct UDP flows (conntrack entries) as fast as it
 * can: one datagram per distinct 5-tuple, sent with sendmmsg in batches where
 * every message carries its own destination. From one socket bound to
 * SRC:ephemeral, flow i goes to
 *   127.0.0.(FIRST + i / 64512) : (1024 + i % 64512)
 * i.e. it walks ports 1024..65535 on 127.0.0.FIRST, then on the next address,
 * and so on (COUNT ≤ 64512 × (255 − FIRST), about 16 M).
 * Always bounded: it stops after COUNT datagrams or MAX_SECONDS, whichever
 * comes first, and prints one JSON line on stdout:
 *   {"sent":N,"errors":E,"seconds":S,"pps":R,"addresses":A,"src_port":P}
 * Exit status 0 when every datagram was sent, 1 when it stopped early (time
 * bound or errors), 2 on a usage or setup error.
 *
 * It must run inside the namespace whose conntrack table it fills (the
 * benchmark drops these datagrams in the input hook, after conntrack has
 * confirmed the entry, so no ICMP port-unreachable comes back):
 *   ip netns exec NAME ct-flood COUNT MAX_SECONDS [BATCH] [FIRST]
 *   BATCH   datagrams per sendmmsg call, 1..1024 (default 256)
 *   FIRST   last octet of the first destination address, 1..254 (default 1)
 *
 * Build: cc -O2 -o ct-flood ct-flood.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench-util.h"

#define MAX_BATCH 1024
#define FIRST_PORT 1024u
#define PORTS (65536u - FIRST_PORT) /* 64512 ports per address */
#define PAYLOAD 16

int main(int argc, char **argv) {
  if (argc < 3 || argc > 5) {
    fprintf(stderr, "usage: %s COUNT MAX_SECONDS [BATCH] [FIRST]\n", argv[0]);
    return 2;
  }
  unsigned long long count, max_seconds, batch = 256, first = 1;
  if (parse_u64(argv[1], &count) || count == 0 || parse_u64(argv[2], &max_seconds) || max_seconds == 0 ||
      max_seconds > 3600 || (argc > 3 && parse_u64(argv[3], &batch)) || batch == 0 || batch > MAX_BATCH ||
      (argc > 4 && parse_u64(argv[4], &first)) || first == 0 || first > 254) {
    fprintf(stderr, "ct-flood: bad arguments (COUNT ≥ 1, MAX_SECONDS 1-3600, BATCH 1-%d, FIRST 1-254)\n", MAX_BATCH);
    return 2;
  }
  const unsigned long long addresses = (count + PORTS - 1) / PORTS;
  if (first + addresses - 1 > 254) {
    fprintf(stderr, "ct-flood: %llu flows need %llu addresses from 127.0.0.%llu: past 127.0.0.254\n", count, addresses,
            first);
    return 2;
  }

  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) {
    perror("ct-flood: socket");
    return 2;
  }
  struct sockaddr_in src;
  memset(&src, 0, sizeof src);
  src.sin_family = AF_INET;
  src.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  src.sin_port = 0;
  socklen_t src_len = sizeof src;
  if (bind(fd, (struct sockaddr *)&src, sizeof src) < 0 || getsockname(fd, (struct sockaddr *)&src, &src_len) < 0) {
    perror("ct-flood: bind");
    return 2;
  }
  int sndbuf = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);

  static char payload[PAYLOAD];
  memset(payload, 'c', sizeof payload);
  static struct mmsghdr msgs[MAX_BATCH];
  static struct iovec iov[MAX_BATCH];
  static struct sockaddr_in dst[MAX_BATCH];
  for (unsigned i = 0; i < batch; i++) {
    iov[i].iov_base = payload;
    iov[i].iov_len = sizeof payload;
    dst[i].sin_family = AF_INET;
    msgs[i].msg_hdr.msg_name = &dst[i];
    msgs[i].msg_hdr.msg_namelen = sizeof dst[i];
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }

  const double start = now_seconds();
  const double deadline = start + (double)max_seconds;
  unsigned long long sent = 0, errors = 0;
  int stopped_early = 0;
  while (sent < count) {
    if (now_seconds() >= deadline) {
      stopped_early = 1;
      break;
    }
    unsigned want = (unsigned)((count - sent) < batch ? (count - sent) : batch);
    for (unsigned i = 0; i < want; i++) {
      unsigned long long flow = sent + i;
      dst[i].sin_addr.s_addr = htonl((127u << 24) | (uint32_t)(first + flow / PORTS));
      dst[i].sin_port = htons((uint16_t)(FIRST_PORT + flow % PORTS));
      msgs[i].msg_len = 0;
    }
    int n = sendmmsg(fd, msgs, want, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      /* A refused or dropped datagram (EPERM from a full conntrack table,
       * ENOBUFS) is counted and skipped, its flow with it; bounded, so a
       * broken setup cannot spin. */
      errors++;
      sent++;
      if (errors > 1000) {
        perror("ct-flood: sendmmsg");
        stopped_early = 1;
        break;
      }
      continue;
    }
    sent += (unsigned long long)n;
  }
  const double seconds = now_seconds() - start;
  printf("{\"sent\":%llu,\"errors\":%llu,\"seconds\":%.6f,\"pps\":%.0f,\"addresses\":%llu,\"src_port\":%u}\n",
         sent - errors, errors, seconds, seconds > 0 ? (double)(sent - errors) / seconds : 0.0, addresses,
         (unsigned)ntohs(src.sin_port));
  fflush(stdout);
  close(fd);
  return stopped_early || errors ? 1 : 0;
}
