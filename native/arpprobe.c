/*
 * ARP probing for ipmpd (probe_method: arp): one AF_PACKET socket per member
 * NIC, bound to that NIC and to ARP. Its classic BPF filter keeps only ARP
 * replies the NIC received for itself (PACKET_HOST: a reply flooded by a switch
 * to another member's MAC does not count) whose target hardware address is
 * this NIC's MAC and whose target protocol address is 0.0.0.0 (answers to
 * probes, not to the kernel's own ARP requests), so the process wakes for
 * nothing else. Replies are handed to JavaScript as the ARP packet (28 bytes)
 * with the kernel's receive stamp (SO_TIMESTAMPNS) converted to CLOCK_MONOTONIC
 * milliseconds (process.hrtime's clock). Building requests and matching replies to probes is JavaScript's job
 * (src/net/arp); this file only makes system calls and moves buffers.
 *
 * open(ifindex, mac: Buffer(6), onReply(packet: Buffer, atMs), onError(errno)) -> handle
 * send(handle, packet: Buffer(28)[, to: Buffer(6)]) -> monotonic ms just before sendto(), or -errno
 *   (to: the Ethernet destination, broadcast by default)
 * close(handle)
 * Every JS callback's exception is cleared here; nothing escapes into C.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <node_api.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "packet_close.h"

#define ARP_LEN 28

typedef struct {
  napi_env env;
  uv_poll_t poll;
  int fd;
  int ifindex;
  int closing;
  napi_ref on_reply;
  napi_ref on_error;
  napi_async_context async;
} prober;

static void call_js(prober *p, napi_ref ref, size_t argc, napi_value *argv) {
  napi_env env = p->env;
  napi_value fn, global, ignored;
  if (napi_get_reference_value(env, ref, &fn) != napi_ok || fn == NULL) return;
  napi_get_global(env, &global);
  if (napi_make_callback(env, p->async, global, fn, argc, argv, &ignored) != napi_ok) {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) {
      napi_value err;
      napi_get_and_clear_last_exception(env, &err);
    }
  }
}

static double monotonic_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* A CLOCK_REALTIME stamp on the monotonic clock, both clocks read back to back. */
static double stamp_to_monotonic_ms(const struct timespec *stamp) {
  struct timespec real, mono;
  clock_gettime(CLOCK_REALTIME, &real);
  clock_gettime(CLOCK_MONOTONIC, &mono);
  long long age_ns = (long long)(real.tv_sec - stamp->tv_sec) * 1000000000LL + (real.tv_nsec - stamp->tv_nsec);
  long long mono_ns = (long long)mono.tv_sec * 1000000000LL + mono.tv_nsec;
  return (double)(mono_ns - age_ns) / 1e6;
}

/* Reads one queued reply into buf; *at gets its arrival (the read time if the kernel gave no stamp). */
static ssize_t read_one(int fd, unsigned char *buf, double *at) {
  union {
    struct cmsghdr align;
    char buf[CMSG_SPACE(sizeof(struct timespec))];
  } control;
  struct iovec iov = {buf, ARP_LEN};
  struct msghdr msg = {NULL, 0, &iov, 1, control.buf, sizeof control.buf, 0};
  ssize_t n = recvmsg(fd, &msg, MSG_DONTWAIT);
  if (n < 0) return n;
  *at = monotonic_ms();
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS && c->cmsg_len >= CMSG_LEN(sizeof(struct timespec))) {
      struct timespec stamp;
      memcpy(&stamp, CMSG_DATA(c), sizeof stamp);
      *at = stamp_to_monotonic_ms(&stamp);
    }
  }
  return n;
}

static void on_readable(uv_poll_t *handle, int status, int events) {
  (void)events;
  prober *p = handle->data;
  if (p->closing) return;
  if (status < 0) uv_poll_start(&p->poll, UV_READABLE, on_readable); /* EPOLLERR stops the poll: re-arm */
  for (int i = 0; i < 64 && !p->closing; i++) { /* a bounded drain: the loop has other work */
    unsigned char buf[ARP_LEN];
    double at = 0;
    ssize_t n = read_one(p->fd, buf, &at);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        napi_handle_scope scope;
        if (napi_open_handle_scope(p->env, &scope) != napi_ok) return;
        napi_value v;
        napi_create_int32(p->env, errno, &v);
        call_js(p, p->on_error, 1, &v);
        napi_close_handle_scope(p->env, scope);
      }
      return;
    }
    napi_handle_scope scope;
    if (napi_open_handle_scope(p->env, &scope) != napi_ok) return;
    napi_value argv[2];
    void *copy = NULL;
    napi_create_buffer_copy(p->env, (size_t)n, buf, &copy, &argv[0]);
    napi_create_double(p->env, at, &argv[1]);
    call_js(p, p->on_reply, 2, argv);
    napi_close_handle_scope(p->env, scope);
  }
}

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char msg[160];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_throw_error(env, NULL, msg);
  return NULL;
}

/*
 * On a SOCK_DGRAM packet socket the filter sees the ARP packet itself: keep
 * PACKET_HOST Ethernet/IPv4 ARP replies whose target hardware address is ours
 * and whose target protocol address is 0.0.0.0: answers to a probe (RFC 826
 * swaps sender and target), not to the kernel's own ARP requests.
 */
static int build_filter(struct sock_filter *f, const unsigned char *mac) {
  uint32_t mac_hi = ((uint32_t)mac[0] << 24) | ((uint32_t)mac[1] << 16) | ((uint32_t)mac[2] << 8) | mac[3];
  uint32_t mac_lo = ((uint32_t)mac[4] << 8) | mac[5];
  int n = 0;
  f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_PKTTYPE);
  f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_HOST, 0, 11);
  f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0); /* hardware and protocol type */
  f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x00010800, 0, 9);
  f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 4); /* lengths 6 and 4, opcode */
  f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x06040002, 0, 7);
  f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 18); /* target hardware address */
  f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, mac_hi, 0, 5);
  f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 22);
  f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, mac_lo, 0, 3);
  f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 24); /* target protocol address */
  f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1);
  f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, ARP_LEN);
  f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0);
  return n;
}

static prober *handle_arg(napi_env env, napi_value v) {
  prober *p = NULL;
  if (napi_get_value_external(env, v, (void **)&p) != napi_ok) return NULL;
  return p;
}

static napi_value open_prober(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t ifindex = 0;
  void *mac = NULL;
  size_t len = 0;
  napi_valuetype t2, t3;
  if (argc != 4 || napi_get_value_int32(env, argv[0], &ifindex) != napi_ok || napi_get_buffer_info(env, argv[1], &mac, &len) != napi_ok ||
      len != 6 || ifindex <= 0 || napi_typeof(env, argv[2], &t2) != napi_ok || t2 != napi_function ||
      napi_typeof(env, argv[3], &t3) != napi_ok || t3 != napi_function) {
    napi_throw_type_error(env, NULL, "open(ifindex > 0, mac: Buffer(6), onReply, onError)");
    return NULL;
  }
  /* Protocol 0 until the filter is attached: nothing unfiltered is queued meanwhile. */
  int fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return throw_errno(env, "socket(AF_PACKET)", errno);
  struct sock_filter code[14];
  struct sock_fprog prog = {(unsigned short)build_filter(code, mac), code};
  int on = 1;
  setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on); /* without it, the read time stands in */
  if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) != 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, "setsockopt(SO_ATTACH_FILTER)", err);
  }
  struct sockaddr_ll at;
  memset(&at, 0, sizeof at);
  at.sll_family = AF_PACKET;
  at.sll_protocol = htons(ETH_P_ARP);
  at.sll_ifindex = ifindex;
  if (bind(fd, (struct sockaddr *)&at, sizeof at) != 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, "bind(AF_PACKET)", err);
  }
  prober *p = calloc(1, sizeof *p);
  if (!p) {
    close(fd);
    return throw_errno(env, "calloc", ENOMEM);
  }
  p->env = env;
  p->fd = fd;
  p->ifindex = ifindex;
  napi_create_reference(env, argv[2], 1, &p->on_reply);
  napi_create_reference(env, argv[3], 1, &p->on_error);
  napi_value name;
  napi_create_string_utf8(env, "ipmpd.arpprobe", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &p->async);
  uv_loop_t *loop;
  napi_get_uv_event_loop(env, &loop);
  uv_poll_init(loop, &p->poll, fd);
  p->poll.data = p;
  uv_poll_start(&p->poll, UV_READABLE, on_readable);
  napi_value handle;
  napi_create_external(env, p, NULL, NULL, &handle);
  return handle;
}

/* Sends one ARP packet out of the socket's NIC (broadcast unless told); the kernel adds the Ethernet header with the NIC's MAC. */
static napi_value send_probe(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  prober *p = argc >= 2 ? handle_arg(env, argv[0]) : NULL;
  void *packet = NULL, *dst = NULL;
  size_t len = 0, dst_len = 6;
  if (!p || napi_get_buffer_info(env, argv[1], &packet, &len) != napi_ok || len != ARP_LEN ||
      (argc == 3 && (napi_get_buffer_info(env, argv[2], &dst, &dst_len) != napi_ok || dst_len != 6))) {
    napi_throw_type_error(env, NULL, "send(handle, packet: Buffer(28)[, to: Buffer(6)])");
    return NULL;
  }
  double result = -EBADF;
  if (!p->closing) {
    struct sockaddr_ll to;
    memset(&to, 0, sizeof to);
    to.sll_family = AF_PACKET;
    to.sll_protocol = htons(ETH_P_ARP);
    to.sll_ifindex = p->ifindex;
    to.sll_halen = 6;
    if (dst) memcpy(to.sll_addr, dst, 6);
    else memset(to.sll_addr, 0xff, 6);
    double at = monotonic_ms(); /* the RTT starts right before sendto(), as ping's does */
    result = sendto(p->fd, packet, len, 0, (struct sockaddr *)&to, sizeof to) == (ssize_t)len ? at : -errno;
  }
  napi_value v;
  napi_create_double(env, result, &v);
  return v;
}

static void on_poll_closed(uv_handle_t *handle) {
  prober *p = handle->data;
  close_packet_socket_later(handle->loop, p->fd, p);
}

static napi_value close_prober(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  prober *p = argc == 1 ? handle_arg(env, argv[0]) : NULL;
  if (!p || p->closing) return NULL;
  p->closing = 1;
  napi_delete_reference(env, p->on_reply);
  napi_delete_reference(env, p->on_error);
  napi_async_destroy(env, p->async);
  uv_poll_stop(&p->poll);
  uv_close((uv_handle_t *)&p->poll, on_poll_closed);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "open", NAPI_AUTO_LENGTH, open_prober, NULL, &fn);
  napi_set_named_property(env, exports, "open", fn);
  napi_create_function(env, "send", NAPI_AUTO_LENGTH, send_probe, NULL, &fn);
  napi_set_named_property(env, exports, "send", fn);
  napi_create_function(env, "close", NAPI_AUTO_LENGTH, close_prober, NULL, &fn);
  napi_set_named_property(env, exports, "close", fn);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
