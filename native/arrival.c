/*
 * Proof that a failover converged: the first inbound packet addressed to a
 * moved address on its new NIC. An AF_PACKET socket bound to that NIC and to
 * IPv4 or IPv6 runs a classic BPF filter in the kernel that keeps only packets
 * the NIC received for itself (PACKET_HOST: a frame flooded by a switch to the
 * old holder's MAC does not count, the kernel drops it) whose IP destination is
 * the address; nothing else wakes the process. Each arrival is reported with
 * the kernel's receive stamp of the first packet queued (SO_TIMESTAMPNS, before
 * any event-loop delay), converted to CLOCK_MONOTONIC milliseconds
 * (process.hrtime's clock).
 *
 * open(ifindex, address: Buffer(4|16), onArrival(ms), onError(errno)) -> handle
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

typedef struct {
  napi_env env;
  uv_poll_t poll;
  int fd;
  int closing;
  napi_ref on_arrival;
  napi_ref on_error;
  napi_async_context async;
} watch;

static void call_js(watch *w, napi_ref ref, napi_value arg) {
  napi_env env = w->env;
  napi_value fn, global, ignored;
  if (napi_get_reference_value(env, ref, &fn) != napi_ok || fn == NULL) return;
  napi_get_global(env, &global);
  if (napi_make_callback(env, w->async, global, fn, 1, &arg, &ignored) != napi_ok) {
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

/* Reads one queued packet; *at gets its arrival (the read time if the kernel gave no stamp). */
static ssize_t read_one(int fd, double *at) {
  unsigned char byte;
  union {
    struct cmsghdr align;
    char buf[CMSG_SPACE(sizeof(struct timespec))];
  } control;
  struct iovec iov = {&byte, sizeof byte};
  struct msghdr msg = {NULL, 0, &iov, 1, control.buf, sizeof control.buf, 0};
  ssize_t n = recvmsg(fd, &msg, MSG_DONTWAIT | MSG_TRUNC);
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
  watch *w = handle->data;
  if (w->closing) return;
  napi_handle_scope scope;
  if (napi_open_handle_scope(w->env, &scope) != napi_ok) return;
  if (status < 0) uv_poll_start(&w->poll, UV_READABLE, on_readable); /* EPOLLERR stops the poll: re-arm */
  double at = 0, later = 0;
  int arrived = 0, err = 0;
  for (int i = 0; i < 64; i++) { /* drain what queued: one report per wake-up (the first packet's time) is enough */
    ssize_t n = read_one(w->fd, arrived ? &later : &at);
    if (n >= 0) {
      arrived = 1;
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) err = errno;
    break;
  }
  napi_value v;
  if (arrived) {
    napi_create_double(w->env, at, &v);
    call_js(w, w->on_arrival, v);
  } else if (err && !w->closing) {
    napi_create_int32(w->env, err, &v);
    call_js(w, w->on_error, v);
  }
  napi_close_handle_scope(w->env, scope);
}

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char msg[160];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_throw_error(env, NULL, msg);
  return NULL;
}

/* Keeps PACKET_HOST packets whose IP destination is the address (the socket is bound to one protocol). */
static int build_filter(struct sock_filter *f, const unsigned char *addr, size_t len) {
  int words = len == 4 ? 1 : 4;
  int offset = len == 4 ? 16 : 24; /* destination in the IPv4 / IPv6 header */
  int drop = 2 + 2 * words + 1;    /* index of the last instruction */
  int n = 0;
  f[n] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_PKTTYPE);
  n++;
  f[n] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_HOST, 0, (unsigned char)(drop - n - 1));
  n++;
  for (int i = 0; i < words; i++) {
    uint32_t word = ((uint32_t)addr[4 * i] << 24) | ((uint32_t)addr[4 * i + 1] << 16) | ((uint32_t)addr[4 * i + 2] << 8) | addr[4 * i + 3];
    f[n] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offset + 4 * i);
    n++;
    f[n] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, word, 0, (unsigned char)(drop - n - 1));
    n++;
  }
  f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 1); /* keep one byte: only the arrival matters */
  f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0);
  return n;
}

static watch *handle_arg(napi_env env, napi_value v) {
  watch *w = NULL;
  if (napi_get_value_external(env, v, (void **)&w) != napi_ok) return NULL;
  return w;
}

static napi_value open_watch(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t ifindex = 0;
  void *addr = NULL;
  size_t len = 0;
  napi_valuetype t2, t3;
  if (argc != 4 || napi_get_value_int32(env, argv[0], &ifindex) != napi_ok || napi_get_buffer_info(env, argv[1], &addr, &len) != napi_ok ||
      (len != 4 && len != 16) || ifindex <= 0 || napi_typeof(env, argv[2], &t2) != napi_ok || t2 != napi_function ||
      napi_typeof(env, argv[3], &t3) != napi_ok || t3 != napi_function) {
    napi_throw_type_error(env, NULL, "open(ifindex > 0, address: Buffer(4|16), onArrival, onError)");
    return NULL;
  }
  /* Protocol 0 until the filter is attached: nothing unfiltered is queued meanwhile. */
  int fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return throw_errno(env, "socket(AF_PACKET)", errno);
  struct sock_filter code[12];
  struct sock_fprog prog = {(unsigned short)build_filter(code, addr, len), code};
  int rcvbuf = 4096; /* a flood after the first packet need not be kept */
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
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
  at.sll_protocol = htons(len == 4 ? ETH_P_IP : ETH_P_IPV6);
  at.sll_ifindex = ifindex;
  if (bind(fd, (struct sockaddr *)&at, sizeof at) != 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, "bind(AF_PACKET)", err);
  }
  watch *w = calloc(1, sizeof *w);
  if (!w) {
    close(fd);
    return throw_errno(env, "calloc", ENOMEM);
  }
  w->env = env;
  w->fd = fd;
  napi_create_reference(env, argv[2], 1, &w->on_arrival);
  napi_create_reference(env, argv[3], 1, &w->on_error);
  napi_value name;
  napi_create_string_utf8(env, "ipmpd.arrival", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &w->async);
  uv_loop_t *loop;
  napi_get_uv_event_loop(env, &loop);
  uv_poll_init(loop, &w->poll, fd);
  w->poll.data = w;
  uv_poll_start(&w->poll, UV_READABLE, on_readable);
  napi_value handle;
  napi_create_external(env, w, NULL, NULL, &handle);
  return handle;
}

static void on_poll_closed(uv_handle_t *handle) {
  watch *w = handle->data;
  close_packet_socket_later(handle->loop, w->fd, w);
}

static napi_value close_watch(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  watch *w = argc == 1 ? handle_arg(env, argv[0]) : NULL;
  if (!w || w->closing) return NULL;
  w->closing = 1;
  napi_delete_reference(env, w->on_arrival);
  napi_delete_reference(env, w->on_error);
  napi_async_destroy(env, w->async);
  uv_poll_stop(&w->poll);
  uv_close((uv_handle_t *)&w->poll, on_poll_closed);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "open", NAPI_AUTO_LENGTH, open_watch, NULL, &fn);
  napi_set_named_property(env, exports, "open", fn);
  napi_create_function(env, "close", NAPI_AUTO_LENGTH, close_watch, NULL, &fn);
  napi_set_named_property(env, exports, "close", fn);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
