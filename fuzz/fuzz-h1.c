/*
 * fuzz-h1.c: libFuzzer target for the dispatcher's fast-path HTTP/1.1 client
 * (lib/net/h1.c), which reads responses from any server a tag names. Each input
 * is one server's answer: a loopback listener in this process accepts the
 * client's connection, reads its request and sends the input back in pieces
 * (the first byte sets the piece size, so the status line, headers, chunk
 * sizes and trailers are cut at every place), then closes. The client must
 * end the request exactly once, with a result in range, and leave nothing
 * behind; a second request on a kept-alive connection is parsed too.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/h1.h"
#include "net/net-int.h"

static int lfd = -1;
static struct sockaddr_in laddr;
static int done_count;

static void on_done(void *ctx, vast__h1_req *r) {
  (void)ctx;
  if (r->result < VAST__H1_OK || r->result > VAST__H1_NOMEM) abort();
  done_count++;
}

static void setup(void) {
  lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  memset(&laddr, 0, sizeof laddr);
  laddr.sin_family = AF_INET;
  laddr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t al = sizeof laddr;
  if (lfd < 0 || bind(lfd, (struct sockaddr *)&laddr, sizeof laddr) != 0 || listen(lfd, 16) != 0 ||
      getsockname(lfd, (struct sockaddr *)&laddr, &al) != 0)
    abort();
}

/* Runs the client until `want` requests ended (or a bounded number of
   rounds); connections it opens meanwhile (a retry, a second request) are
   accepted and closed at once, so they end with an EOF. */
static void run_until_done(vast__h1 *h, int want) {
  for (int i = 0; i < 300 && done_count < want; i++) {
    vast__h1_run(h, 1);
    int x;
    while ((x = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) >= 0)
      close(x);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (lfd < 0) setup();
  if (size < 1) return 0;
  size_t piece = data[0] ? data[0] : 1;
  data++, size--;
  vast__h1 *h = vast__h1_create(4, on_done, NULL);
  if (!h) return 0;
  static char msg[] = "GET /px HTTP/1.1\r\nHost: f\r\n\r\n";
  vast__h1_req r[2];
  memset(r, 0, sizeof r);
  for (int k = 0; k < 2; k++) {
    memcpy(&r[k].addr, &laddr, sizeof laddr);
    r[k].addrlen = sizeof laddr;
    snprintf(r[k].key, sizeof r[k].key, "127.0.0.1:%u", ntohs(laddr.sin_port));
    r[k].msg = msg;
    r[k].msg_len = sizeof msg - 1;
    r[k].deadline_us = vast__now_us() + 2000000u;
  }
  done_count = 0;
  vast__h1_start(h, &r[0]);
  struct pollfd lp = {.fd = lfd, .events = POLLIN};
  int s = poll(&lp, 1, 1000) == 1 ? accept4(lfd, NULL, NULL, SOCK_CLOEXEC) : -1;
  if (s < 0) abort();
  vast__h1_run(h, 0); /* connected: the request goes out */
  char rq[256];
  struct pollfd p = {.fd = s, .events = POLLIN};
  if (poll(&p, 1, 1000) == 1) (void)recv(s, rq, sizeof rq, 0);
  /* the answer, in pieces; the client reads after each */
  for (size_t off = 0; off < size && done_count == 0; off += piece) {
    size_t n = size - off < piece ? size - off : piece;
    if (send(s, data + off, n, MSG_NOSIGNAL) < 0) break;
    vast__h1_run(h, 0);
  }
  if (done_count == 0 || r[0].result == VAST__H1_OK) {
    /* a second request on the same connection when it was kept: the server
       has nothing more to say and closes */
    if (done_count == 1 && r[0].result == VAST__H1_OK) vast__h1_start(h, &r[1]);
    shutdown(s, SHUT_WR);
    run_until_done(h, done_count == 0 ? 1 : 2);
  }
  close(s);
  run_until_done(h, 1);
  if (done_count == 0) vast__h1_cancel(h, &r[0]);
  if (done_count == 1 && r[1].conn) vast__h1_cancel(h, &r[1]);
  for (int k = 0; k < 2; k++)
    free(r[k].location);
  vast__h1_free(h);
  return 0;
}
