// tcpload: the epoll TCP load generator of the Twisted.ts benchmarks (connects to 127.0.0.1 only).
//
// Usage:
//   tcpload pingpong PORT CONNS SECONDS WARMUP_SECONDS [SIZE]
//       CONNS connections, each with one SIZE-byte (default 64) message in flight: send, wait
//       for the whole echo, send again. Round trips/s and latency p50/p99 over SECONDS, after
//       WARMUP_SECONDS that are not counted.
//   tcpload bulk PORT BYTES
//       One connection streams BYTES through an echo server and checks every byte that comes
//       back. MB/s (10^6 bytes) from the first byte sent to the last byte echoed.
//   tcpload idle PORT CONNS HOLD_SECONDS
//       Opens CONNS connections (each proves it was accepted with a 1-byte echo), prints its
//       result line, then holds them until stdin closes or HOLD_SECONDS pass.
//   tcpload get PORT REQUEST BODY_BYTES
//       Sends REQUEST ("-": nothing, a raw stream), skips an HTTP response head if REQUEST was
//       sent, then reads BODY_BYTES. MB/s from connect to the last byte.
//
// Each mode prints one JSON object on one line to stdout; errors go to stderr, exit status 1.
// Every loop is bounded by a deadline.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (256 * 1024)
#define CONNECT_WINDOW 128
#define HIST_US 1000000 /* latency histogram: 1 µs buckets up to 1 s, then one overflow bucket */
#define MAX_EVENTS 1024

static struct sockaddr_in target;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what) {
  fprintf(stderr, "tcpload: %s: %s\n", what, strerror(errno));
  exit(1);
}

static void fail(const char *msg) {
  fprintf(stderr, "tcpload: %s\n", msg);
  exit(1);
}

static long parse_long(const char *s, const char *name) {
  char *end;
  long v = strtol(s, &end, 10);
  if (*s == '\0' || *end != '\0' || v < 0) {
    fprintf(stderr, "tcpload: invalid %s: %s\n", name, s);
    exit(2);
  }
  return v;
}

static double parse_double(const char *s, const char *name) {
  char *end;
  double v = strtod(s, &end);
  if (*s == '\0' || *end != '\0' || v < 0) {
    fprintf(stderr, "tcpload: invalid %s: %s\n", name, s);
    exit(2);
  }
  return v;
}

static void raise_nofile(void) {
  struct rlimit r;
  if (getrlimit(RLIMIT_NOFILE, &r) == 0) {
    r.rlim_cur = r.rlim_max;
    setrlimit(RLIMIT_NOFILE, &r);
  }
}

static int open_socket(void) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(fd, (struct sockaddr *)&target, sizeof target) < 0 && errno != EINPROGRESS)
    die("connect");
  return fd;
}

static void ep_set(int ep, int op, int fd, uint32_t events, uint32_t index) {
  struct epoll_event ev = {.events = events, .data.u32 = index};
  if (epoll_ctl(ep, op, fd, &ev) < 0) die("epoll_ctl");
}

/*
 * Opens n connections with at most CONNECT_WINDOW handshakes at a time (a burst of thousands of
 * SYNs would overflow the server's backlog and measure SYN retransmits instead). Each connection
 * sends one byte and waits for its echo, which proves that the server has accepted it. The
 * returned descriptors are not registered with ep.
 */
static int *connect_all(int ep, int n, double deadline) {
  int *fds = calloc((size_t)n, sizeof *fds);
  unsigned char *state = calloc((size_t)n, 1); /* 0 connecting, 1 probing, 2 done */
  if (fds == NULL || state == NULL) fail("out of memory");
  int opened = 0, done = 0, inflight = 0;
  struct epoll_event events[MAX_EVENTS];
  while (done < n) {
    while (opened < n && inflight < CONNECT_WINDOW) {
      fds[opened] = open_socket();
      ep_set(ep, EPOLL_CTL_ADD, fds[opened], EPOLLOUT, (uint32_t)opened);
      opened++;
      inflight++;
    }
    if (now() > deadline) {
      fprintf(stderr, "tcpload: only %d of %d connections made before the deadline\n", done, n);
      exit(1);
    }
    int k = epoll_wait(ep, events, MAX_EVENTS, 100);
    if (k < 0 && errno != EINTR) die("epoll_wait");
    for (int e = 0; e < k; e++) {
      uint32_t i = events[e].data.u32;
      int fd = fds[i];
      if (state[i] == 0) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
          errno = err;
          die("connect");
        }
        if (write(fd, "x", 1) != 1) die("write");
        state[i] = 1;
        ep_set(ep, EPOLL_CTL_MOD, fd, EPOLLIN, i);
      } else if (state[i] == 1) {
        char c;
        ssize_t r = read(fd, &c, 1);
        if (r == 0) fail("server closed a connection while connecting");
        if (r < 0) {
          if (errno == EAGAIN) continue;
          die("read");
        }
        state[i] = 2;
        ep_set(ep, EPOLL_CTL_DEL, fd, 0, i);
        done++;
        inflight--;
      }
    }
  }
  free(state);
  return fds;
}

static uint32_t percentile(const uint32_t *hist, uint64_t count, double p) {
  uint64_t rank = (uint64_t)(p * (double)count);
  if (rank >= count) rank = count - 1;
  uint64_t seen = 0;
  for (uint32_t us = 0; us <= HIST_US; us++) {
    seen += hist[us];
    if (seen > rank) return us;
  }
  return HIST_US;
}

static void pingpong(int conns, double seconds, double warmup, int size) {
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("epoll_create1");
  double t0 = now();
  int *fds = connect_all(ep, conns, t0 + 60);
  double connect_seconds = now() - t0;
  double *sent_at = calloc((size_t)conns, sizeof *sent_at);
  int *got = calloc((size_t)conns, sizeof *got);
  uint32_t *hist = calloc(HIST_US + 1, sizeof *hist);
  char *msg = malloc((size_t)size);
  char buf[65536];
  if (sent_at == NULL || got == NULL || hist == NULL || msg == NULL) fail("out of memory");
  memset(msg, 'm', (size_t)size);
  double start = now();
  double warm_end = start + warmup, end = warm_end + seconds;
  for (int i = 0; i < conns; i++) {
    ep_set(ep, EPOLL_CTL_ADD, fds[i], EPOLLIN, (uint32_t)i);
    sent_at[i] = now();
    if (write(fds[i], msg, (size_t)size) != size) die("write");
  }
  uint64_t count = 0, all = 0;
  double sum_us = 0;
  struct epoll_event events[MAX_EVENTS];
  double t = start;
  while (t < end) {
    int k = epoll_wait(ep, events, MAX_EVENTS, 50);
    if (k < 0 && errno != EINTR) die("epoll_wait");
    t = now();
    for (int e = 0; e < k; e++) {
      uint32_t i = events[e].data.u32;
      ssize_t r = read(fds[i], buf, sizeof buf);
      if (r == 0) fail("server closed a connection");
      if (r < 0) {
        if (errno == EAGAIN) continue;
        die("read");
      }
      got[i] += (int)r;
      if (got[i] > size) fail("received more bytes than were sent");
      if (got[i] < size) continue;
      got[i] = 0;
      all++;
      if (t >= warm_end && t < end) {
        double us = (t - sent_at[i]) * 1e6;
        sum_us += us;
        hist[us < HIST_US ? (uint32_t)us : HIST_US]++;
        count++;
      }
      sent_at[i] = t;
      if (write(fds[i], msg, (size_t)size) != size) die("write");
    }
  }
  if (count == 0) fail("no round trip completed");
  printf(
      "{\"mode\":\"pingpong\",\"connections\":%d,\"size\":%d,\"seconds\":%.3f,"
      "\"connect_seconds\":%.3f,\"round_trips\":%llu,\"all_round_trips\":%llu,"
      "\"rtt_per_s\":%.1f,\"p50_us\":%u,\"p99_us\":%u,\"mean_us\":%.1f}\n",
      conns, size, seconds, connect_seconds, (unsigned long long)count, (unsigned long long)all,
      (double)count / seconds,
      percentile(hist, count, 0.50), percentile(hist, count, 0.99), sum_us / (double)count);
  for (int i = 0; i < conns; i++) close(fds[i]);
}

static int connect_blocking(void) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(fd, (struct sockaddr *)&target, sizeof target) < 0) die("connect");
  return fd;
}

static void set_nonblocking(int fd) {
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) die("fcntl");
}

static void bulk(uint64_t total) {
  /* pattern[o] = o % 251 for every stream offset o, so any slice compares with memcmp */
  unsigned char *pattern = malloc(CHUNK + 251);
  unsigned char *rbuf = malloc(CHUNK);
  if (pattern == NULL || rbuf == NULL) fail("out of memory");
  for (int i = 0; i < CHUNK + 251; i++) pattern[i] = (unsigned char)(i % 251);
  int fd = connect_blocking();
  set_nonblocking(fd);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("epoll_create1");
  ep_set(ep, EPOLL_CTL_ADD, fd, EPOLLIN | EPOLLOUT, 0);
  uint64_t sent = 0, received = 0;
  double start = now(), deadline = start + 300;
  struct epoll_event events[1];
  while (received < total) {
    if (now() > deadline) fail("bulk transfer did not finish before the deadline");
    int k = epoll_wait(ep, events, 1, 100);
    if (k < 0 && errno != EINTR) die("epoll_wait");
    if (k <= 0) continue;
    if (events[0].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
      for (;;) {
        ssize_t r = read(fd, rbuf, CHUNK);
        if (r == 0) fail("server closed the connection before echoing everything");
        if (r < 0) {
          if (errno == EAGAIN) break;
          die("read");
        }
        if (received + (uint64_t)r > sent) fail("received more bytes than were sent");
        if (memcmp(rbuf, pattern + received % 251, (size_t)r) != 0)
          fail("echoed bytes differ from the bytes sent");
        received += (uint64_t)r;
      }
    }
    if (sent < total && (events[0].events & EPOLLOUT)) {
      uint64_t left = total - sent;
      size_t n = left < CHUNK ? (size_t)left : CHUNK;
      ssize_t w = write(fd, pattern + sent % 251, n);
      if (w < 0 && errno != EAGAIN) die("write");
      if (w > 0) sent += (uint64_t)w;
      if (sent == total) ep_set(ep, EPOLL_CTL_MOD, fd, EPOLLIN, 0);
    }
  }
  double seconds = now() - start;
  printf("{\"mode\":\"bulk\",\"bytes\":%llu,\"seconds\":%.3f,\"mb_per_s\":%.1f}\n",
         (unsigned long long)total, seconds, (double)total / seconds / 1e6);
  close(fd);
}

static void idle(int conns, double hold) {
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("epoll_create1");
  double t0 = now();
  int *fds = connect_all(ep, conns, t0 + 120);
  printf("{\"mode\":\"idle\",\"connections\":%d,\"connect_seconds\":%.3f}\n", conns, now() - t0);
  fflush(stdout);
  /* hold until stdin reaches end of file (the runner is done measuring) or the time is up */
  double end = now() + hold;
  char buf[256];
  for (double t = now(); t < end; t = now()) {
    struct pollfd p = {.fd = 0, .events = POLLIN};
    int r = poll(&p, 1, (int)((end - t) * 1000) + 1);
    if (r < 0 && errno != EINTR) die("poll");
    if (r > 0 && read(0, buf, sizeof buf) <= 0) break;
  }
  for (int i = 0; i < conns; i++) close(fds[i]);
}

static void get(const char *request, uint64_t body_bytes) {
  char *buf = malloc(CHUNK);
  if (buf == NULL) fail("out of memory");
  double start = now(), deadline = start + 300;
  int fd = connect_blocking();
  size_t rlen = strcmp(request, "-") == 0 ? 0 : strlen(request);
  for (size_t off = 0; off < rlen;) {
    ssize_t w = write(fd, request + off, rlen - off);
    if (w < 0) die("write");
    off += (size_t)w;
  }
  struct timeval tv = {.tv_sec = 5};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  /* the response head, when a request was sent: read until the blank line */
  size_t head = 0;
  uint64_t body = 0;
  int status = 0;
  if (rlen > 0) {
    for (;;) {
      if (head == CHUNK) fail("response head too long");
      ssize_t r = read(fd, buf + head, CHUNK - head);
      if (r <= 0) fail(r == 0 ? "server closed before the response head" : "read timed out");
      head += (size_t)r;
      char *end = memmem(buf, head, "\r\n\r\n", 4);
      if (end == NULL) continue;
      if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1) fail("malformed status line");
      body = head - (size_t)(end + 4 - buf);
      break;
    }
    if (status != 200) {
      fprintf(stderr, "tcpload: HTTP status %d\n", status);
      exit(1);
    }
  }
  while (body < body_bytes) {
    if (now() > deadline) fail("download did not finish before the deadline");
    ssize_t r = read(fd, buf, CHUNK);
    if (r == 0) break;
    if (r < 0) die("read");
    body += (uint64_t)r;
  }
  double seconds = now() - start;
  if (body < body_bytes) {
    fprintf(stderr, "tcpload: short body: %llu of %llu bytes\n", (unsigned long long)body,
            (unsigned long long)body_bytes);
    exit(1);
  }
  printf("{\"mode\":\"get\",\"bytes\":%llu,\"status\":%d,\"seconds\":%.3f,\"mb_per_s\":%.1f}\n",
         (unsigned long long)body, status, seconds, (double)body / seconds / 1e6);
  close(fd);
}

static void usage(void) {
  fputs(
      "usage: tcpload pingpong PORT CONNS SECONDS WARMUP_SECONDS [SIZE]\n"
      "       tcpload bulk PORT BYTES\n"
      "       tcpload idle PORT CONNS HOLD_SECONDS\n"
      "       tcpload get PORT REQUEST BODY_BYTES\n",
      stderr);
  exit(2);
}

int main(int argc, char **argv) {
  if (argc < 3) usage();
  signal(SIGPIPE, SIG_IGN);
  raise_nofile();
  target.sin_family = AF_INET;
  target.sin_port = htons((uint16_t)parse_long(argv[2], "port"));
  target.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const char *mode = argv[1];
  if (strcmp(mode, "pingpong") == 0 && (argc == 6 || argc == 7)) {
    int size = argc == 7 ? (int)parse_long(argv[6], "size") : 64;
    if (size < 1 || size > 65536) fail("size must be 1..65536");
    pingpong((int)parse_long(argv[3], "connections"), parse_double(argv[4], "seconds"),
             parse_double(argv[5], "warm-up seconds"), size);
  } else if (strcmp(mode, "bulk") == 0 && argc == 4) {
    bulk((uint64_t)parse_long(argv[3], "bytes"));
  } else if (strcmp(mode, "idle") == 0 && argc == 5) {
    idle((int)parse_long(argv[3], "connections"), parse_double(argv[4], "hold seconds"));
  } else if (strcmp(mode, "get") == 0 && argc == 5) {
    get(argv[3], (uint64_t)parse_long(argv[4], "body bytes"));
  } else {
    usage();
  }
  return 0;
}
