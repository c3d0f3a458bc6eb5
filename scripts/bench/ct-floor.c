/*
 * ct-floor: the floor contender of the conntrack benchmark. The least a
 * reader of conntrack events can do with libnetfilter_conntrack: subscribe to
 * NEW and DESTROY events, let the library parse each one (nfct_catch with a
 * callback registered for NFCT_T_ALL) and count it in the callback; no
 * decoding of its own, no output. Whatever a real collector spends above this
 * is its own cost.
 *
 * nfct_open(CONNTRACK, NF_NETLINK_CONNTRACK_NEW | NF_NETLINK_CONNTRACK_DESTROY),
 * SO_RCVBUFFORCE to RCVBUF bytes (the kernel doubles it), then poll + nfct_catch
 * on the non-blocking socket. nfct_catch returning -1 with ENOBUFS means the
 * kernel dropped events on this socket: counted, and reading goes on.
 * It stops IDLE_MS after the last event (once the first has arrived), after
 * MAX_SECONDS, or on SIGINT/SIGTERM, and prints one JSON line on stdout:
 *   {"new":N,"destroy":D,"other":O,"enobufs":E,"rcvbuf":B,"seconds":S,
 *    "cpu_user":U,"cpu_sys":Y,"max_rss_kib":M}
 * rcvbuf is what the kernel reports (SO_RCVBUF) after the request. Once
 * subscribed, it writes "ready" on stderr.
 *
 * It must run inside the namespace whose conntrack table it watches:
 *   ip netns exec NAME ct-floor IDLE_MS MAX_SECONDS [RCVBUF]
 *
 * Build: cc -O2 -o ct-floor ct-floor.c -lnetfilter_conntrack
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench-util.h"

#define PROG "ct-floor"

struct counters {
  unsigned long long new_events, destroy_events, other_events, enobufs;
};

static int on_event(enum nf_conntrack_msg_type type, struct nf_conntrack *ct, void *data) {
  (void)ct;
  struct counters *c = data;
  if (type == NFCT_T_NEW)
    c->new_events++;
  else if (type == NFCT_T_DESTROY)
    c->destroy_events++;
  else
    c->other_events++;
  return NFCT_CB_CONTINUE;
}

int main(int argc, char **argv) {
  if (argc < 3 || argc > 4) {
    fprintf(stderr, "usage: %s IDLE_MS MAX_SECONDS [RCVBUF_BYTES]\n", argv[0]);
    return 2;
  }
  const long idle_ms = parse_long(PROG, argv[1], "IDLE_MS", 1, 3600000);
  const long max_seconds = parse_long(PROG, argv[2], "MAX_SECONDS", 1, 3600);
  const int rcvbuf = argc > 3 ? (int)parse_long(PROG, argv[3], "RCVBUF_BYTES", 4096, 1L << 30) : 256 << 20;

  on_stop_signals();

  struct nfct_handle *h = nfct_open(CONNTRACK, NF_NETLINK_CONNTRACK_NEW | NF_NETLINK_CONNTRACK_DESTROY);
  if (!h) {
    perror("ct-floor: nfct_open");
    return 1;
  }
  const int fd = nfct_fd(h);
  if (force_rcvbuf(PROG, fd, rcvbuf) < 0) return 1;
  int actual = 0;
  socklen_t actual_len = sizeof actual;
  getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &actual, &actual_len);
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
    perror("ct-floor: O_NONBLOCK");
    return 1;
  }

  struct counters c;
  memset(&c, 0, sizeof c);
  if (nfct_callback_register(h, NFCT_T_ALL, on_event, &c) < 0) {
    perror("ct-floor: nfct_callback_register");
    return 1;
  }
  fprintf(stderr, "ready\n");

  const double start = now_ms();
  const double deadline = start + (double)max_seconds * 1e3;
  double last_event = 0;
  unsigned long long seen = 0;
  while (!stop_requested) {
    const double now = now_ms();
    if (now >= deadline) break;
    if (seen > 0 && now - last_event >= (double)idle_ms) break;
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    int ready = poll(&pfd, 1, 100);
    if (ready < 0) {
      if (errno == EINTR) continue;
      perror("ct-floor: poll");
      break;
    }
    if (ready == 0) continue;
    /* Reads until the socket is empty (EAGAIN) or the kernel reports an overrun. */
    if (nfct_catch(h) == -1) {
      if (errno == ENOBUFS) {
        c.enobufs++;
      } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        perror("ct-floor: nfct_catch");
        break;
      }
    }
    const unsigned long long total = c.new_events + c.destroy_events + c.other_events;
    if (total != seen) {
      seen = total;
      last_event = now_ms();
    }
  }
  const double seconds = (now_ms() - start) / 1e3;

  printf("{\"new\":%llu,\"destroy\":%llu,\"other\":%llu,\"enobufs\":%llu,\"rcvbuf\":%d,\"seconds\":%.3f,",
         c.new_events, c.destroy_events, c.other_events, c.enobufs, actual, seconds);
  print_rusage_json();
  fflush(stdout);
  nfct_close(h);
  return 0;
}
