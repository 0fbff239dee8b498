// ircload: the IRC fan-out load generator of the Twisted.ts benchmarks (127.0.0.1 only).
//
// Usage:
//   ircload PORT CLIENTS MESSAGES SECONDS WINDOW HOLD_SECONDS NICK_PREFIX
//
// Setup: CLIENTS receivers and one sender connect (at most CONNECT_WINDOW = 8 of them connecting,
// registering or joining at a time), each sends `PASS bench`, `NICK <prefix><i>` and `USER`,
// and on 001 joins #bench; a client counts as joined at 366 (end of NAMES). Then one JSON line
// with the setup time is printed, and, when HOLD_SECONDS > 0, the clients are held (still
// reading and answering PING) until stdin gives a line or closes, or HOLD_SECONDS pass; after
// the fan-out's result line they are held again in the same way before they disconnect.
//
// Fan-out: the sender sends `PRIVMSG #bench :<seq> <padding>` for seq = 0, 1, … until MESSAGES
// were sent or SECONDS passed, never more than WINDOW messages ahead of the last one that every
// receiver has got (so the server's buffers stay bounded). Each receiver parses its lines and
// counts the PRIVMSGs, checking that each carries the next sequence number. The result line
// gives deliveries (messages × receivers) per second, from the first message sent to the moment
// every receiver had every message, and the p50/p99 time from sending a message to its delivery
// to the last receiver, and the CPU time the load generator itself used meanwhile.
//
// Errors go to stderr with exit status 1: an ERROR line, a 4xx/5xx numeric, a closed
// connection, a lost or reordered message, a deadline missed. Every loop is bounded in time.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
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

#define CONNECT_WINDOW 8
#define SETUP_SECONDS 240.0
#define DRAIN_SECONDS 60.0
#define MAX_LINE 1024
#define RECV_CHUNK 65536
#define MAX_EVENTS 1024
#define STDIN_INDEX 0xffffffffu
#define HIST_BUCKETS 1000000 /* fan-out latency: 10 µs buckets up to 10 s, then overflow */
#define CHANNEL "#bench"

enum { CONNECTING, REGISTERING, JOINING, JOINED };

struct client {
  int fd;
  int state;
  uint32_t events;       /* what the descriptor is registered for */
  uint64_t got;          /* PRIVMSGs received */
  size_t carry_len;      /* bytes of an unfinished line */
  char carry[MAX_LINE];
  size_t out_len, out_cap; /* bytes waiting to be written */
  char *out;
};

static struct sockaddr_in target;
static struct client *clients;
static int receivers, total, ep;
static int inflight, joined, opened;
static uint64_t sent, done_upto, delivered, window;
static uint32_t *ring;      /* ring[k % ring_size]: receivers that have got message k */
static double *sent_at;    /* sent_at[k % ring_size]: when message k was sent */
static uint64_t ring_size;
static uint32_t *hist;
static double last_complete;
static double t_now;

/* CPU seconds this process has used (user + system). */
static double cpu_seconds(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what) {
  fprintf(stderr, "ircload: %s: %s\n", what, strerror(errno));
  exit(1);
}

static void fail(const char *msg) {
  fprintf(stderr, "ircload: %s\n", msg);
  exit(1);
}

static void fail_line(const char *why, int i, const char *line, size_t len) {
  fprintf(stderr, "ircload: %s (client %d): %.*s\n", why, i, (int)(len > 300 ? 300 : len), line);
  exit(1);
}

static double parse_number(const char *s, const char *name) {
  char *end;
  double v = strtod(s, &end);
  if (*s == '\0' || *end != '\0' || v < 0) {
    fprintf(stderr, "ircload: invalid %s: %s\n", name, s);
    exit(2);
  }
  return v;
}

static void ep_set(int op, int fd, uint32_t events, uint32_t index) {
  struct epoll_event ev = {.events = events, .data.u32 = index};
  if (epoll_ctl(ep, op, fd, &ev) < 0) die("epoll_ctl");
}

static void watch(int i, uint32_t events) {
  struct client *c = &clients[i];
  if (c->events == events) return;
  ep_set(EPOLL_CTL_MOD, c->fd, events, (uint32_t)i);
  c->events = events;
}

/* Writes what is waiting; asks for EPOLLOUT while something still is. */
static void flush_out(int i) {
  struct client *c = &clients[i];
  size_t off = 0;
  while (off < c->out_len) {
    ssize_t w = write(c->fd, c->out + off, c->out_len - off);
    if (w < 0) {
      if (errno == EAGAIN) break;
      die("write");
    }
    off += (size_t)w;
  }
  memmove(c->out, c->out + off, c->out_len - off);
  c->out_len -= off;
  if (c->state != CONNECTING) watch(i, c->out_len > 0 ? EPOLLIN | EPOLLOUT : EPOLLIN);
}

/* Queues bytes for client i (false: no room now). */
static int queue(int i, const char *data, size_t len) {
  struct client *c = &clients[i];
  if (c->out_cap - c->out_len < len) return 0;
  memcpy(c->out + c->out_len, data, len);
  c->out_len += len;
  return 1;
}

static void send_line(int i, const char *line) {
  if (!queue(i, line, strlen(line))) fail("output buffer full while registering");
  flush_out(i);
}

static void open_client(int i) {
  struct client *c = &clients[i];
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c->fd < 0) die("socket");
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(c->fd, (struct sockaddr *)&target, sizeof target) < 0 && errno != EINPROGRESS)
    die("connect");
  c->state = CONNECTING;
  c->events = EPOLLOUT;
  ep_set(EPOLL_CTL_ADD, c->fd, EPOLLOUT, (uint32_t)i);
}

static void registered_connection(int i, const char *prefix) {
  struct client *c = &clients[i];
  int err = 0;
  socklen_t len = sizeof err;
  getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0) {
    errno = err;
    die("connect");
  }
  char line[256];
  snprintf(line, sizeof line, "PASS bench\r\nNICK %s%d\r\nUSER u%d 0 * :bench client\r\n",
           prefix, i, i);
  c->state = REGISTERING;
  send_line(i, line); /* and watch for input from now on */
}

/* A message reached every receiver: the window moves on. */
static void advance_complete(void) {
  while (done_upto < sent && ring[done_upto % ring_size] == (uint32_t)receivers) {
    double us = (t_now - sent_at[done_upto % ring_size]) * 1e6;
    uint32_t b = us < 10.0 * HIST_BUCKETS ? (uint32_t)(us / 10.0) : HIST_BUCKETS;
    hist[b]++;
    done_upto++;
    last_complete = t_now;
  }
}

static int is_command(const char *cmd, size_t n, const char *name) {
  return strlen(name) == n && memcmp(cmd, name, n) == 0;
}

static void on_line(int i, char *line, size_t len) {
  struct client *c = &clients[i];
  char *p = line, *end = line + len;
  if (p < end && *p == '@') { /* message tags */
    while (p < end && *p != ' ') p++;
    while (p < end && *p == ' ') p++;
  }
  if (p < end && *p == ':') { /* source */
    while (p < end && *p != ' ') p++;
    while (p < end && *p == ' ') p++;
  }
  char *cmd = p;
  while (p < end && *p != ' ') p++;
  size_t n = (size_t)(p - cmd);
  if (is_command(cmd, n, "PRIVMSG")) {
    if (i == receivers) fail_line("the sender got a PRIVMSG", i, line, len);
    char *text = memmem(p, (size_t)(end - p), " :", 2);
    if (text == NULL) fail_line("PRIVMSG without text", i, line, len);
    uint64_t seq = strtoull(text + 2, NULL, 10);
    if (seq != c->got) fail_line("message lost or out of order", i, line, len);
    if (seq >= sent) fail_line("message received before it was sent", i, line, len);
    ring[seq % ring_size]++;
    c->got++;
    delivered++;
    if (seq == done_upto) advance_complete();
  } else if (is_command(cmd, n, "PING")) {
    char pong[MAX_LINE + 8];
    int m = snprintf(pong, sizeof pong, "PONG%.*s\r\n", (int)(end - p), p);
    if (!queue(i, pong, (size_t)m)) fail("output buffer full answering PING");
    flush_out(i);
  } else if (is_command(cmd, n, "001")) {
    if (c->state != REGISTERING) return;
    c->state = JOINING;
    send_line(i, "JOIN " CHANNEL "\r\n");
  } else if (is_command(cmd, n, "366")) {
    if (c->state != JOINING) return;
    c->state = JOINED;
    joined++;
    inflight--;
  } else if (is_command(cmd, n, "ERROR")) {
    fail_line("server sent ERROR", i, line, len);
  } else if (n == 3 && (cmd[0] == '4' || cmd[0] == '5') && !is_command(cmd, n, "422")) {
    /* 422: no message of the day, not an error */
    fail_line("server sent an error numeric", i, line, len);
  }
}

/* Reads what client i has, hands each complete line to on_line. */
static void on_readable(int i, char *buf) {
  struct client *c = &clients[i];
  ssize_t r = read(c->fd, buf, RECV_CHUNK);
  if (r == 0) {
    fprintf(stderr, "ircload: server closed client %d (state %d); last partial line: %.*s\n", i,
            c->state, (int)c->carry_len, c->carry);
    exit(1);
  }
  if (r < 0) {
    if (errno == EAGAIN) return;
    die("read");
  }
  char *p = buf, *end = buf + r;
  while (p < end) {
    char *nl = memchr(p, '\n', (size_t)(end - p));
    if (nl == NULL) {
      size_t rest = (size_t)(end - p);
      if (c->carry_len + rest > MAX_LINE) fail("a line longer than 1024 bytes");
      memcpy(c->carry + c->carry_len, p, rest);
      c->carry_len += rest;
      break;
    }
    char *line = p;
    size_t len = (size_t)(nl - p);
    if (c->carry_len > 0) {
      if (c->carry_len + len > MAX_LINE) fail("a line longer than 1024 bytes");
      memcpy(c->carry + c->carry_len, p, len);
      line = c->carry;
      len += c->carry_len;
      c->carry_len = 0;
    }
    if (len > 0 && line[len - 1] == '\r') len--;
    if (len > 0) on_line(i, line, len);
    p = nl + 1;
  }
}

static void handle(struct epoll_event *e, char *buf, const char *prefix) {
  uint32_t i = e->data.u32;
  struct client *c = &clients[i];
  if (c->state == CONNECTING) {
    registered_connection((int)i, prefix);
    return;
  }
  if (e->events & (EPOLLIN | EPOLLHUP | EPOLLERR)) on_readable((int)i, buf);
  if ((e->events & EPOLLOUT) && c->out_len > 0) flush_out((int)i);
}

/* The sender sends while the window allows. */
static void pump_sender(uint64_t messages, double send_end, const char *padding) {
  int s = receivers;
  char line[256];
  while (sent < messages && t_now < send_end && sent - done_upto < window) {
    int m = snprintf(line, sizeof line, "PRIVMSG " CHANNEL " :%llu %s\r\n",
                     (unsigned long long)sent, padding);
    if (!queue(s, line, (size_t)m)) break;
    ring[sent % ring_size] = 0;
    sent_at[sent % ring_size] = t_now;
    sent++;
  }
  if (clients[s].out_len > 0) flush_out(s);
}

/*
 * Keeps the clients (reading late JOINs, answering PINGs) until stdin gives a line or closes,
 * or `seconds` pass. A stdin that epoll refuses (a regular file such as /dev/null) or that has
 * already closed gives nothing to wait for.
 */
static void hold_phase(double seconds, char *buf, const char *prefix) {
  static int stdin_closed;
  if (stdin_closed) return;
  struct epoll_event in = {.events = EPOLLIN, .data.u32 = STDIN_INDEX};
  if (epoll_ctl(ep, EPOLL_CTL_ADD, 0, &in) != 0) return;
  struct epoll_event events[MAX_EVENTS];
  double end = now() + seconds;
  int released = 0;
  while (!released && (t_now = now()) < end) {
    int k = epoll_wait(ep, events, MAX_EVENTS, 100);
    if (k < 0 && errno != EINTR) die("epoll_wait");
    for (int e = 0; e < k; e++) {
      if (events[e].data.u32 == STDIN_INDEX) {
        char b[64];
        ssize_t r = read(0, b, sizeof b);
        if (r <= 0) stdin_closed = 1;
        if (r <= 0 || memchr(b, '\n', (size_t)r) != NULL) released = 1;
      } else {
        handle(&events[e], buf, prefix);
      }
    }
  }
  epoll_ctl(ep, EPOLL_CTL_DEL, 0, NULL);
}

static uint32_t percentile(uint64_t count, double p) {
  uint64_t rank = (uint64_t)(p * (double)count), seen = 0;
  if (rank >= count) rank = count - 1;
  for (uint32_t b = 0; b <= HIST_BUCKETS; b++) {
    seen += hist[b];
    if (seen > rank) return b * 10;
  }
  return HIST_BUCKETS * 10;
}

int main(int argc, char **argv) {
  if (argc != 8) {
    fputs("usage: ircload PORT CLIENTS MESSAGES SECONDS WINDOW HOLD_SECONDS NICK_PREFIX\n", stderr);
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  target.sin_family = AF_INET;
  target.sin_port = htons((uint16_t)parse_number(argv[1], "port"));
  target.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  receivers = (int)parse_number(argv[2], "clients");
  uint64_t messages = (uint64_t)parse_number(argv[3], "messages");
  double seconds = parse_number(argv[4], "seconds");
  window = (uint64_t)parse_number(argv[5], "window");
  double hold = parse_number(argv[6], "hold seconds");
  const char *prefix = argv[7];
  if (receivers < 1 || receivers > 100000) fail("clients must be 1..100000");
  if (window < 1 || window > 100000) fail("window must be 1..100000");
  if (messages < 1) fail("messages must be at least 1");
  if (strlen(prefix) < 1 || strlen(prefix) > 3) fail("nick prefix must be 1 to 3 characters");
  total = receivers + 1; /* the last one sends */
  ring_size = window * 2;
  clients = calloc((size_t)total, sizeof *clients);
  ring = calloc(ring_size, sizeof *ring);
  sent_at = calloc(ring_size, sizeof *sent_at);
  hist = calloc(HIST_BUCKETS + 1, sizeof *hist);
  char *buf = malloc(RECV_CHUNK);
  if (clients == NULL || ring == NULL || sent_at == NULL || hist == NULL || buf == NULL)
    fail("out of memory");
  for (int i = 0; i < total; i++) {
    clients[i].out_cap = i == receivers ? 65536 : 2048;
    clients[i].out = malloc(clients[i].out_cap);
    if (clients[i].out == NULL) fail("out of memory");
  }
  ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("epoll_create1");
  struct epoll_event events[MAX_EVENTS];

  /* setup: connect, register and join everyone */
  double t0 = now(), setup_end = t0 + SETUP_SECONDS;
  while (joined < total) {
    while (opened < total && inflight < CONNECT_WINDOW) {
      open_client(opened++);
      inflight++;
    }
    t_now = now();
    if (t_now > setup_end) {
      fprintf(stderr, "ircload: only %d of %d clients joined %s within %.0f s\n", joined, total,
              CHANNEL, SETUP_SECONDS);
      return 1;
    }
    int k = epoll_wait(ep, events, MAX_EVENTS, 100);
    if (k < 0 && errno != EINTR) die("epoll_wait");
    for (int e = 0; e < k; e++) handle(&events[e], buf, prefix);
  }
  double setup_seconds = now() - t0;
  printf("{\"mode\":\"ircfanout-setup\",\"clients\":%d,\"setup_seconds\":%.3f}\n", total,
         setup_seconds);
  fflush(stdout);

  if (hold > 0) hold_phase(hold, buf, prefix);

  /* fan-out */
  for (int i = 0; i < receivers; i++) {
    if (clients[i].got != 0) fail("a receiver got a PRIVMSG before the fan-out started");
  }
  const char *padding = "the quick brown fox jumps over the lazy dog";
  double cpu0 = cpu_seconds();
  t_now = now();
  double start = t_now, send_end = start + seconds, drain_end = send_end + DRAIN_SECONDS;
  last_complete = start;
  pump_sender(messages, send_end, padding);
  while (sent == 0 || done_upto < sent || (sent < messages && t_now < send_end)) {
    if (t_now > drain_end) {
      fprintf(stderr, "ircload: %llu of %llu deliveries within %.0f s of the last message\n",
              (unsigned long long)delivered, (unsigned long long)(sent * (uint64_t)receivers),
              DRAIN_SECONDS);
      return 1;
    }
    int k = epoll_wait(ep, events, MAX_EVENTS, 50);
    if (k < 0 && errno != EINTR) die("epoll_wait");
    t_now = now();
    for (int e = 0; e < k; e++) handle(&events[e], buf, prefix);
    pump_sender(messages, send_end, padding);
    if (sent == 0 && t_now >= send_end) fail("the sender could not send one message");
  }
  double elapsed = last_complete - start;
  double load_cpu = cpu_seconds() - cpu0;
  if (delivered != sent * (uint64_t)receivers) fail("deliveries do not add up");
  printf(
      "{\"mode\":\"ircfanout\",\"clients\":%d,\"receivers\":%d,\"window\":%llu,"
      "\"setup_seconds\":%.3f,\"messages\":%llu,\"deliveries\":%llu,\"seconds\":%.3f,"
      "\"deliveries_per_s\":%.1f,\"fanout_p50_us\":%u,\"fanout_p99_us\":%u,"
      "\"load_cpu_seconds\":%.3f}\n",
      total, receivers, (unsigned long long)window, setup_seconds, (unsigned long long)sent,
      (unsigned long long)delivered, elapsed, (double)delivered / elapsed,
      percentile(sent, 0.5), percentile(sent, 0.99), load_cpu);
  fflush(stdout);
  /* the clients stay until stdin closes, so that the server's CPU can be read before they go */
  if (hold > 0) hold_phase(hold, buf, prefix);
  for (int i = 0; i < total; i++) close(clients[i].fd);
  return 0;
}
