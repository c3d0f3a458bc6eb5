/*
 * udp-flood: sends COUNT UDP datagrams of SIZE payload bytes to HOST:PORT as
 * fast as it can with sendmmsg, or at a steady RATE packets per second.
 * Always bounded: it stops after COUNT datagrams or MAX_SECONDS, whichever
 * comes first, and prints one JSON line on stdout:
 *   {"sent":N,"errors":E,"seconds":S,"pps":R}
 * Exit status 0 when every datagram was sent, 1 when it stopped early (time
 * bound or errors), 2 on a usage or setup error.
 *
 * usage: udp-flood HOST PORT COUNT SIZE MAX_SECONDS [RATE_PPS] [BATCH] [PORTS]
 *   HOST        an IPv4 or IPv6 literal (the benchmark uses 127.0.0.1 inside
 *               its own network namespace)
 *   RATE_PPS    0 or absent: as fast as possible
 *   BATCH       datagrams per sendmmsg call, 1..1024 (default 128)
 *   PORTS       1 or absent: every datagram to PORT (one flow); N > 1: to
 *               PORT .. PORT+N-1 in turn, so that no two datagrams in a row
 *               belong to the same flow
 *
 * Build: cc -O2 -o udp-flood udp-flood.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench-util.h"

#define MAX_BATCH 1024

static void sleep_until(double deadline) {
  double delta = deadline - now_seconds();
  if (delta <= 0) return;
  struct timespec ts;
  ts.tv_sec = (time_t)delta;
  ts.tv_nsec = (long)((delta - (double)ts.tv_sec) * 1e9);
  while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
  }
}

int main(int argc, char **argv) {
  if (argc < 6 || argc > 9) {
    fprintf(stderr, "usage: %s HOST PORT COUNT SIZE MAX_SECONDS [RATE_PPS] [BATCH] [PORTS]\n", argv[0]);
    return 2;
  }
  unsigned long long port, count, size, max_seconds, rate = 0, batch = 128, ports = 1;
  if (parse_u64(argv[2], &port) || port == 0 || port > 65535 || parse_u64(argv[3], &count) ||
      parse_u64(argv[4], &size) || size > 65507 || parse_u64(argv[5], &max_seconds) || max_seconds == 0 ||
      max_seconds > 3600 || (argc > 6 && parse_u64(argv[6], &rate)) || (argc > 7 && parse_u64(argv[7], &batch)) ||
      batch == 0 || batch > MAX_BATCH || (argc > 8 && parse_u64(argv[8], &ports)) || ports == 0 ||
      port + ports - 1 > 65535) {
    fprintf(stderr,
            "udp-flood: bad arguments (PORT 1-65535, SIZE ≤ 65507, MAX_SECONDS 1-3600, BATCH 1-%d, "
            "PORT+PORTS-1 ≤ 65535)\n",
            MAX_BATCH);
    return 2;
  }

  struct sockaddr_storage dst;
  socklen_t dst_len;
  memset(&dst, 0, sizeof dst);
  struct sockaddr_in *v4 = (struct sockaddr_in *)&dst;
  struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&dst;
  if (inet_pton(AF_INET, argv[1], &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons((uint16_t)port);
    dst_len = sizeof *v4;
  } else if (inet_pton(AF_INET6, argv[1], &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons((uint16_t)port);
    dst_len = sizeof *v6;
  } else {
    fprintf(stderr, "udp-flood: HOST must be an IP literal, got '%s'\n", argv[1]);
    return 2;
  }

  int fd = socket(dst.ss_family, SOCK_DGRAM, 0);
  /* One flow: connected. Several: each message names its destination. */
  if (fd < 0 || (ports == 1 && connect(fd, (struct sockaddr *)&dst, dst_len) < 0)) {
    perror("udp-flood: socket/connect");
    return 2;
  }
  struct sockaddr_storage *dsts = NULL;
  if (ports > 1) {
    dsts = calloc(ports, sizeof *dsts);
    if (!dsts) return 2;
    for (unsigned long long i = 0; i < ports; i++) {
      dsts[i] = dst;
      uint16_t p = htons((uint16_t)(port + i));
      if (dst.ss_family == AF_INET)
        ((struct sockaddr_in *)&dsts[i])->sin_port = p;
      else
        ((struct sockaddr_in6 *)&dsts[i])->sin6_port = p;
    }
  }
  int sndbuf = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);

  char *payload = calloc(1, size ? size : 1);
  if (!payload) return 2;
  memset(payload, 'x', size);
  static struct mmsghdr msgs[MAX_BATCH];
  static struct iovec iov[MAX_BATCH];
  for (unsigned i = 0; i < batch; i++) {
    iov[i].iov_base = payload;
    iov[i].iov_len = size;
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }

  const double start = now_seconds();
  const double deadline = start + (double)max_seconds;
  unsigned long long sent = 0, errors = 0;
  int stopped_early = 0;
  while (sent < count) {
    if (rate > 0) sleep_until(start + (double)sent / (double)rate);
    double t = now_seconds();
    if (t >= deadline) {
      stopped_early = 1;
      break;
    }
    unsigned want = (unsigned)((count - sent) < batch ? (count - sent) : batch);
    if (dsts)
      for (unsigned i = 0; i < want; i++) {
        msgs[i].msg_hdr.msg_name = &dsts[(sent + i) % ports];
        msgs[i].msg_hdr.msg_namelen = dst_len;
      }
    int n = sendmmsg(fd, msgs, want, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      /* A refused or dropped datagram (ECONNREFUSED, ENOBUFS, EPERM) is
       * counted and skipped; bounded, so a broken setup cannot spin. */
      errors++;
      if (errors > 1000) {
        perror("udp-flood: sendmmsg");
        stopped_early = 1;
        break;
      }
      continue;
    }
    sent += (unsigned long long)n;
  }
  const double seconds = now_seconds() - start;
  printf("{\"sent\":%llu,\"errors\":%llu,\"seconds\":%.6f,\"pps\":%.0f}\n", sent, errors, seconds,
         seconds > 0 ? (double)sent / seconds : 0.0);
  fflush(stdout);
  free(payload);
  free(dsts);
  close(fd);
  return stopped_early || sent < count ? 1 : 0;
}
