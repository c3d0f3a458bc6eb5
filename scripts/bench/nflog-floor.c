/*
 * nflog-floor: the floor contender of the NFLOG benchmark. The least a reader
 * can do with libnetfilter_log: bind one group, copy whole packets, ask the
 * kernel for sequence numbers, and count entries in the callback; no decoding,
 * no output. Whatever any real collector spends above this is its own cost.
 *
 * It binds GROUP (copy mode NFULNL_COPY_PACKET, range 0xffff, NFULNL_CFG_F_SEQ,
 * the given qthreshold and flush timeout, SO_RCVBUFFORCE), reads with recv +
 * nflog_handle_packet, counts entries in the callback, detects gaps in
 * NFULA_SEQ and counts ENOBUFS from recv. It stops IDLE_MS after the last
 * entry (once the first has arrived), after MAX_SECONDS, or on SIGINT/SIGTERM,
 * and prints one JSON line on stdout:
 *   {"delivered":N,"lost_seq":L,"enobufs":E,"first_seq":F,"last_seq":S,
 *    "datagrams":D,"bytes":B,"cpu_user":U,"cpu_sys":Y,"max_rss_kib":M}
 * lost_seq counts the sequence numbers that never arrived, including those
 * before the first one received (the group's instance is new, so its
 * numbering starts at 0). Once bound, it writes "ready" on stderr.
 * A hole in NFULA_SEQ shows only when a later entry arrives: entries dropped
 * at the end of a burst (socket overrun, then nothing more logged) are not in
 * lost_seq, only in enobufs. The benchmark takes loss from the nft rule
 * counter minus what was delivered (nflog-burst.js --sentinel logs one more
 * packet after the drain to reveal such a tail).
 *
 * It must run inside the namespace whose traffic it counts:
 *   ip netns exec NAME nflog-floor GROUP QTHRESHOLD TIMEOUT_10MS IDLE_MS MAX_SECONDS [RCVBUF] [NLBUFSIZ]
 *
 * Build: cc -O2 -o nflog-floor nflog-floor.c -lnetfilter_log
 */
#define _GNU_SOURCE
#include <errno.h>
#include <libnetfilter_log/libnetfilter_log.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench-util.h"

#define PROG "nflog-floor"

struct counters {
  unsigned long long delivered, lost_seq, enobufs, datagrams, bytes, no_seq;
  uint32_t first_seq, last_seq;
  int have_seq;
};

static int on_entry(struct nflog_g_handle *gh, struct nfgenmsg *nfmsg, struct nflog_data *nfa, void *data) {
  (void)gh;
  (void)nfmsg;
  struct counters *c = data;
  uint32_t seq;
  c->delivered++;
  if (nflog_get_seq(nfa, &seq) == 0) {
    if (!c->have_seq) {
      c->have_seq = 1;
      c->first_seq = seq;
      c->lost_seq += seq; /* a fresh instance numbers from 0 */
    } else {
      uint32_t expected = c->last_seq + 1;
      if (seq != expected) c->lost_seq += (uint32_t)(seq - expected); /* wraps like the kernel's u32 */
    }
    c->last_seq = seq;
  } else {
    c->no_seq++;
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 6 || argc > 8) {
    fprintf(stderr, "usage: %s GROUP QTHRESHOLD TIMEOUT_10MS IDLE_MS MAX_SECONDS [RCVBUF_BYTES] [NLBUFSIZ]\n",
            argv[0]);
    return 2;
  }
  const uint16_t group = (uint16_t)parse_long(PROG, argv[1], "GROUP", 0, 65535);
  const uint32_t qthreshold = (uint32_t)parse_long(PROG, argv[2], "QTHRESHOLD", 1, 1000000);
  const uint32_t timeout = (uint32_t)parse_long(PROG, argv[3], "TIMEOUT_10MS", 0, 100000);
  const long idle_ms = parse_long(PROG, argv[4], "IDLE_MS", 1, 3600000);
  const long max_seconds = parse_long(PROG, argv[5], "MAX_SECONDS", 1, 3600);
  const int rcvbuf = argc > 6 ? (int)parse_long(PROG, argv[6], "RCVBUF_BYTES", 4096, 1L << 30) : 64 << 20;
  const long nlbufsiz = argc > 7 ? parse_long(PROG, argv[7], "NLBUFSIZ", 0, 1L << 30) : 0;

  on_stop_signals();

  struct nflog_handle *h = nflog_open();
  if (!h) {
    perror("nflog-floor: nflog_open");
    return 1;
  }
  /* Harmless on kernels that ignore PF binding (≥ 3.17); needed on older ones. */
  nflog_unbind_pf(h, AF_INET);
  nflog_bind_pf(h, AF_INET);
  struct nflog_g_handle *gh = nflog_bind_group(h, group);
  if (!gh) {
    fprintf(stderr, "nflog-floor: cannot bind group %u (taken by another process?): %s\n", group, strerror(errno));
    return 1;
  }
  if (nflog_set_mode(gh, NFULNL_COPY_PACKET, 0xffff) < 0 || nflog_set_qthresh(gh, qthreshold) < 0 ||
      nflog_set_timeout(gh, timeout) < 0 || nflog_set_flags(gh, NFULNL_CFG_F_SEQ) < 0) {
    perror("nflog-floor: configuring the group");
    return 1;
  }
  if (nlbufsiz > 0 && nflog_set_nlbufsiz(gh, (uint32_t)nlbufsiz) < 0) {
    perror("nflog-floor: nflog_set_nlbufsiz");
    return 1;
  }
  const int fd = nflog_fd(h);
  if (force_rcvbuf(PROG, fd, rcvbuf) < 0) return 1;

  struct counters c;
  memset(&c, 0, sizeof c);
  nflog_callback_register(gh, on_entry, &c);
  fprintf(stderr, "ready\n");

  static char buf[1 << 20] __attribute__((aligned(8)));
  const double started = now_ms();
  double last_entry = 0;
  while (!stop_requested) {
    const double t = now_ms();
    if (t - started >= (double)max_seconds * 1e3) break;
    if (c.delivered > 0 && t - last_entry >= (double)idle_ms) break;
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    int ready = poll(&pfd, 1, 50);
    if (ready < 0 && errno != EINTR) {
      perror("nflog-floor: poll");
      break;
    }
    if (ready <= 0) continue;
    /* Drain everything that is queued before polling again. */
    for (;;) {
      ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n < 0) {
        if (errno == ENOBUFS) {
          c.enobufs++;
          continue;
        }
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) perror("nflog-floor: recv");
        break;
      }
      if (n == 0) break;
      c.datagrams++;
      c.bytes += (unsigned long long)n;
      const unsigned long long before = c.delivered;
      nflog_handle_packet(h, buf, (int)n);
      if (c.delivered != before) last_entry = now_ms();
    }
  }

  nflog_unbind_group(gh);
  nflog_close(h);
  printf("{\"delivered\":%llu,\"lost_seq\":%llu,\"enobufs\":%llu,\"first_seq\":%u,\"last_seq\":%u,"
         "\"no_seq\":%llu,\"datagrams\":%llu,\"bytes\":%llu,",
         c.delivered, c.lost_seq, c.enobufs, c.first_seq, c.last_seq, c.no_seq, c.datagrams, c.bytes);
  print_rusage_json();
  fflush(stdout);
  return 0;
}
