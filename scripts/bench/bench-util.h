/*
 * bench-util.h: what the benchmark's C helpers share (udp-flood.c,
 * ct-flood.c, nflog-floor.c, ct-floor.c): a monotonic clock, argument
 * parsing, SO_RCVBUFFORCE, a stop flag set by SIGINT/SIGTERM and the rusage
 * fields that end a floor's JSON line. Header only, found next to the .c files, so each still
 * builds with one command (cc -O2 -o NAME NAME.c [-l...]).
 */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

/* CLOCK_MONOTONIC in seconds. */
static inline double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CLOCK_MONOTONIC in milliseconds. */
static inline double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* A decimal unsigned integer, the whole text: 0, else -1. */
static inline int parse_u64(const char *text, unsigned long long *out) {
  char *end;
  errno = 0;
  unsigned long long v = strtoull(text, &end, 10);
  if (errno || end == text || *end != '\0' || text[0] == '-') return -1;
  *out = v;
  return 0;
}

/* A decimal integer in min..max, the whole text; else a message naming prog and what, and exit status 2. */
static inline long parse_long(const char *prog, const char *text, const char *what, long min, long max) {
  char *end;
  errno = 0;
  long v = strtol(text, &end, 10);
  if (errno || end == text || *end != '\0' || v < min || v > max) {
    fprintf(stderr, "%s: %s must be an integer in %ld..%ld, got '%s'\n", prog, what, min, max, text);
    exit(2);
  }
  return v;
}

/* SO_RCVBUFFORCE to bytes (the kernel doubles it): 0, else -1 after a message naming prog. */
static inline int force_rcvbuf(const char *prog, int fd, int bytes) {
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) == 0) return 0;
  fprintf(stderr, "%s: SO_RCVBUFFORCE: %s\n", prog, strerror(errno));
  return -1;
}

/* Set by SIGINT and SIGTERM once on_stop_signals() has run. */
static volatile sig_atomic_t stop_requested __attribute__((unused)) = 0;

static inline void request_stop(int sig) {
  (void)sig;
  stop_requested = 1;
}

static inline void on_stop_signals(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = request_stop;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
}

/* The end of a floor's JSON line: its own CPU and peak RSS so far. */
static inline void print_rusage_json(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  printf("\"cpu_user\":%.3f,\"cpu_sys\":%.3f,\"max_rss_kib\":%ld}\n",
         (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6,
         (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6, ru.ru_maxrss);
}

#endif
