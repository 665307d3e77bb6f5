/* Closing an AF_PACKET socket bound to a protocol waits for an RCU grace period
 * (~13 ms): done on the libuv thread pool, so the event loop (the probes, a
 * failover of many addresses) never stalls in close(). Shared by arpprobe.c and
 * arrival.c; `owner` (the addon's per-socket struct) is freed once the fd is. */
#ifndef IPMPD_PACKET_CLOSE_H
#define IPMPD_PACKET_CLOSE_H

#include <stdlib.h>
#include <unistd.h>
#include <uv.h>

typedef struct {
  uv_work_t req;
  int fd;
  void *owner;
} packet_close;

static void packet_close_work(uv_work_t *req) {
  packet_close *c = req->data;
  close(c->fd);
}

static void packet_close_done(uv_work_t *req, int status) {
  (void)status;
  packet_close *c = req->data;
  free(c->owner);
  free(c);
}

static void close_packet_socket_later(uv_loop_t *loop, int fd, void *owner) {
  packet_close *c = malloc(sizeof *c);
  if (c) {
    c->req.data = c;
    c->fd = fd;
    c->owner = owner;
    if (uv_queue_work(loop, &c->req, packet_close_work, packet_close_done) == 0) return;
    free(c);
  }
  close(fd); /* no thread pool: close here, stalling once rather than leaking */
  free(owner);
}

#endif
