// epoll-echo: a single-threaded C epoll echo server on 127.0.0.1:PORT, the benchmarks' ceiling.
//
// Usage: epoll-echo PORT [--source BYTES]
//   Echoes every byte back. While a write is incomplete it stops reading that connection (the
//   kernel's buffers then push back on the sender), so memory stays bounded.
//   With --source BYTES it is instead a raw sender: it writes BYTES to each connection, shuts
//   its side down and discards whatever it reads (the raw loopback throughput of the static file
//   workload).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define CHUNK (256 * 1024)
#define MAX_EVENTS 512

struct conn {
  int fd;
  char *pending; /* bytes read and not yet written back */
  size_t pending_len, pending_off;
  uint64_t remaining; /* --source: bytes still to send */
};

static int ep;
static char buf[CHUNK];
static uint64_t source_bytes;
static int source_mode;

static void die(const char *what) {
  fprintf(stderr, "epoll-echo: %s: %s\n", what, strerror(errno));
  exit(1);
}

static void watch(struct conn *c, int op, uint32_t events) {
  struct epoll_event ev = {.events = events, .data.ptr = c};
  if (epoll_ctl(ep, op, c->fd, &ev) < 0) die("epoll_ctl");
}

static void drop(struct conn *c) {
  close(c->fd);
  free(c->pending);
  free(c);
}

/* Writes what is pending; returns 1 when all of it is written, 0 when the socket is full. */
static int flush(struct conn *c) {
  while (c->pending_off < c->pending_len) {
    ssize_t w = write(c->fd, c->pending + c->pending_off, c->pending_len - c->pending_off);
    if (w < 0) return errno == EAGAIN ? 0 : -1;
    c->pending_off += (size_t)w;
  }
  free(c->pending);
  c->pending = NULL;
  c->pending_len = c->pending_off = 0;
  return 1;
}

static void echo_readable(struct conn *c) {
  ssize_t r = read(c->fd, buf, sizeof buf);
  if (r == 0 || (r < 0 && errno != EAGAIN)) {
    drop(c);
    return;
  }
  if (r < 0) return;
  ssize_t w = write(c->fd, buf, (size_t)r);
  if (w < 0 && errno != EAGAIN) {
    drop(c);
    return;
  }
  if (w < 0) w = 0;
  if (w == r) return;
  c->pending_len = (size_t)(r - w);
  c->pending = malloc(c->pending_len);
  if (c->pending == NULL) die("malloc");
  memcpy(c->pending, buf + w, c->pending_len);
  c->pending_off = 0;
  watch(c, EPOLL_CTL_MOD, EPOLLOUT);
}

static void echo_writable(struct conn *c) {
  int done = flush(c);
  if (done < 0) drop(c);
  else if (done == 1) watch(c, EPOLL_CTL_MOD, EPOLLIN);
}

static void source_event(struct conn *c, uint32_t events) {
  if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
    ssize_t r = read(c->fd, buf, sizeof buf);
    if (r == 0 || (r < 0 && errno != EAGAIN)) {
      drop(c);
      return;
    }
  }
  if (c->remaining > 0 && (events & EPOLLOUT)) {
    static char zeros[CHUNK];
    while (c->remaining > 0) {
      size_t n = c->remaining < CHUNK ? (size_t)c->remaining : CHUNK;
      ssize_t w = write(c->fd, zeros, n);
      if (w < 0) {
        if (errno == EAGAIN) return;
        drop(c);
        return;
      }
      c->remaining -= (uint64_t)w;
    }
    /* all sent: half-close and wait for the client to close (closing now could reset) */
    shutdown(c->fd, SHUT_WR);
    watch(c, EPOLL_CTL_MOD, EPOLLIN);
  }
}

static void accept_all(int listener) {
  for (;;) {
    int fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EAGAIN || errno == ECONNABORTED) return;
      if (errno == EMFILE || errno == ENFILE) {
        fprintf(stderr, "epoll-echo: out of file descriptors\n");
        return;
      }
      die("accept4");
    }
    struct conn *c = calloc(1, sizeof *c);
    if (c == NULL) die("calloc");
    c->fd = fd;
    c->remaining = source_bytes;
    watch(c, EPOLL_CTL_ADD, source_mode ? (EPOLLIN | EPOLLOUT) : EPOLLIN);
  }
}

int main(int argc, char **argv) {
  if (argc != 2 && !(argc == 4 && strcmp(argv[2], "--source") == 0)) {
    fputs("usage: epoll-echo PORT [--source BYTES]\n", stderr);
    return 2;
  }
  if (argc == 4) {
    source_mode = 1;
    source_bytes = strtoull(argv[3], NULL, 10);
  }
  signal(SIGPIPE, SIG_IGN);
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (listener < 0) die("socket");
  int one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1]))};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(listener, (struct sockaddr *)&addr, sizeof addr) < 0) die("bind");
  if (listen(listener, 511) < 0) die("listen");
  ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("epoll_create1");
  struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
  if (epoll_ctl(ep, EPOLL_CTL_ADD, listener, &lev) < 0) die("epoll_ctl");
  struct epoll_event events[MAX_EVENTS];
  for (;;) {
    int k = epoll_wait(ep, events, MAX_EVENTS, -1);
    if (k < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait");
    }
    for (int i = 0; i < k; i++) {
      struct conn *c = events[i].data.ptr;
      if (c == NULL) accept_all(listener);
      else if (source_mode) source_event(c, events[i].events);
      else if (events[i].events & EPOLLOUT) echo_writable(c);
      else echo_readable(c);
    }
  }
}
