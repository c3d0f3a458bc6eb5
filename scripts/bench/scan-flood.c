/*
 * scan-flood: what a gateway sees when it is scanned or flooded: COUNT
 * packets, each to the next of PORTS destination ports and, at the same time,
 * the next of ADDRS destination addresses, so that with ADDRS prime to PORTS
 * no two of up to PORTS*ADDRS packets share a flow. Sent as fast as sendmmsg
 * goes, bounded by COUNT and MAX_SECONDS; prints one JSON line on stdout:
 *   {"sent":N,"errors":E,"seconds":S,"pps":R}
 * Exit status 0 when every packet was sent, 1 when it stopped early, 2 on a
 * usage or setup error.
 *
 * usage: scan-flood MODE COUNT MAX_SECONDS PORT PORTS ADDRS
 *   MODE  udp4: UDP datagrams (64 bytes) to 127.1.0.0 + i % ADDRS, port PORT + i % PORTS
 *         syn4: TCP SYNs with an MSS option (as a SYN scanner sends them) from
 *               127.0.0.1, source port 1024 + i % 64499, to the same targets (raw socket)
 *         udp6: UDP datagrams to 2001:db8:5ca::1 + i % ADDRS, port PORT + i % PORTS
 *               (the caller routes 2001:db8:5ca::/64 locally: ip -6 route add local … dev lo)
 *
 * Build: cc -O2 -o scan-flood scan-flood.c
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
#include <unistd.h>

#include "bench-util.h"

#define BATCH 128
#define PAYLOAD 64
#define SYN_BYTES 44 /* IPv4 header 20 + TCP header 20 + MSS option 4 */

static uint16_t checksum_finish(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return (uint16_t)~sum;
}

static uint32_t checksum_add(uint32_t sum, const uint8_t *p, size_t n) {
  for (size_t i = 0; i + 1 < n; i += 2) sum += (uint32_t)(p[i] << 8 | p[i + 1]);
  if (n & 1) sum += (uint32_t)(p[n - 1] << 8);
  return sum;
}

/* A SYN from 127.0.0.1:sport to daddr:dport, checksums included. */
static void write_syn(uint8_t *b, uint32_t daddr, uint16_t sport, uint16_t dport, uint32_t seq) {
  memset(b, 0, SYN_BYTES);
  b[0] = 0x45;
  b[2] = 0;
  b[3] = SYN_BYTES;
  b[4] = (uint8_t)(seq >> 8);
  b[5] = (uint8_t)seq;
  b[8] = 64;
  b[9] = IPPROTO_TCP;
  uint32_t saddr = 0x7f000001;
  for (int i = 0; i < 4; i++) {
    b[12 + i] = (uint8_t)(saddr >> (24 - 8 * i));
    b[16 + i] = (uint8_t)(daddr >> (24 - 8 * i));
  }
  uint16_t ipsum = checksum_finish(checksum_add(0, b, 20));
  b[10] = (uint8_t)(ipsum >> 8);
  b[11] = (uint8_t)ipsum;
  uint8_t *t = b + 20;
  t[0] = (uint8_t)(sport >> 8);
  t[1] = (uint8_t)sport;
  t[2] = (uint8_t)(dport >> 8);
  t[3] = (uint8_t)dport;
  for (int i = 0; i < 4; i++) t[4 + i] = (uint8_t)(seq >> (24 - 8 * i));
  t[12] = 6 << 4; /* data offset: 24 bytes */
  t[13] = 0x02;   /* SYN */
  t[14] = 0x04;   /* window 1024, as nmap's SYN scan */
  t[15] = 0x00;
  t[20] = 2; /* MSS 1460 */
  t[21] = 4;
  t[22] = 0x05;
  t[23] = 0xb4;
  uint8_t pseudo[12] = {0};
  memcpy(pseudo, b + 12, 8);
  pseudo[9] = IPPROTO_TCP;
  pseudo[11] = SYN_BYTES - 20;
  uint16_t tsum = checksum_finish(checksum_add(checksum_add(0, pseudo, 12), t, SYN_BYTES - 20));
  t[16] = (uint8_t)(tsum >> 8);
  t[17] = (uint8_t)tsum;
}

int main(int argc, char **argv) {
  unsigned long long count, max_seconds, port, ports, addrs;
  if (argc != 7 || parse_u64(argv[2], &count) || parse_u64(argv[3], &max_seconds) || max_seconds == 0 ||
      max_seconds > 3600 || parse_u64(argv[4], &port) || port == 0 || parse_u64(argv[5], &ports) || ports == 0 ||
      port + ports - 1 > 65535 || parse_u64(argv[6], &addrs) || addrs == 0 || addrs > 65535) {
    fprintf(stderr, "usage: %s udp4|syn4|udp6 COUNT MAX_SECONDS(1-3600) PORT PORTS ADDRS(1-65535), PORT+PORTS-1 <= 65535\n",
            argv[0]);
    return 2;
  }
  const char *mode = argv[1];
  int syn = strcmp(mode, "syn4") == 0, v6 = strcmp(mode, "udp6") == 0;
  if (!syn && !v6 && strcmp(mode, "udp4") != 0) {
    fprintf(stderr, "scan-flood: MODE must be udp4, syn4 or udp6, got '%s'\n", mode);
    return 2;
  }

  int fd = syn ? socket(AF_INET, SOCK_RAW, IPPROTO_RAW) : socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) {
    perror("scan-flood: socket");
    return 2;
  }
  int sndbuf = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);

  static uint8_t payload[PAYLOAD];
  memset(payload, 'x', sizeof payload);
  static uint8_t syns[BATCH][SYN_BYTES];
  static struct sockaddr_in6 dsts[BATCH];
  static struct mmsghdr msgs[BATCH];
  static struct iovec iov[BATCH];
  for (unsigned i = 0; i < BATCH; i++) {
    iov[i].iov_base = syn ? (void *)syns[i] : (void *)payload;
    iov[i].iov_len = syn ? SYN_BYTES : PAYLOAD;
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    msgs[i].msg_hdr.msg_name = &dsts[i];
    msgs[i].msg_hdr.msg_namelen = v6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
  }
  struct in6_addr base6;
  inet_pton(AF_INET6, "2001:db8:5ca::1", &base6);

  const double start = now_seconds();
  const double deadline = start + (double)max_seconds;
  unsigned long long sent = 0, errors = 0;
  int stopped_early = 0;
  while (sent < count) {
    if (now_seconds() >= deadline) {
      stopped_early = 1;
      break;
    }
    unsigned want = (unsigned)((count - sent) < BATCH ? (count - sent) : BATCH);
    for (unsigned i = 0; i < want; i++) {
      unsigned long long n = sent + i;
      uint16_t dport = (uint16_t)(port + n % ports);
      uint32_t a = (uint32_t)(n % addrs);
      memset(&dsts[i], 0, sizeof dsts[i]);
      if (v6) {
        dsts[i].sin6_family = AF_INET6;
        dsts[i].sin6_port = htons(dport);
        dsts[i].sin6_addr = base6;
        uint16_t low = (uint16_t)(1 + a);
        dsts[i].sin6_addr.s6_addr[14] = (uint8_t)(low >> 8);
        dsts[i].sin6_addr.s6_addr[15] = (uint8_t)low;
      } else {
        struct sockaddr_in *d = (struct sockaddr_in *)&dsts[i];
        uint32_t daddr = 0x7f010000 | a;
        d->sin_family = AF_INET;
        d->sin_port = syn ? 0 : htons(dport);
        d->sin_addr.s_addr = htonl(daddr);
        if (syn) write_syn(syns[i], daddr, (uint16_t)(1024 + n % 64499), dport, (uint32_t)(n * 2654435761u));
      }
    }
    int n = sendmmsg(fd, msgs, want, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      errors++;
      if (errors > 1000) {
        perror("scan-flood: sendmmsg");
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
  close(fd);
  return stopped_early || sent < count ? 1 : 0;
}
