/*
 * The probe sockets: one raw ICMP (or ICMPv6) socket per address family for
 * every probed NIC, system calls and packet buffers only (which reply answers
 * which probe is decided in TypeScript, src/net/icmp/prober.ts).
 *
 * Receiving: when the socket is readable, one recvmmsg() reads every pending
 * echo reply (up to the slot count) into the caller's buffers, each with the
 * NIC it arrived on (IP_PKTINFO / IPV6_PKTINFO), its source address and the
 * kernel's arrival stamp (SO_TIMESTAMPNS, CLOCK_REALTIME, converted here to
 * CLOCK_MONOTONIC milliseconds, process.hrtime's clock); then one JS callback
 * gets the count. Sending: sendmsg() with a PKTINFO control message naming the
 * NIC; the packet carries its own IP header (IP_HDRINCL / IPV6_HDRINCL), so the
 * source is the test address. A send returns 0 or the errno, never throws.
 *
 * open(family 4|6, rcvbufBytes, packets: Buffer(slots * SLOT), meta: Float64Array(slots * 3),
 *      sources: Buffer(slots * 16), onBatch(count), onError(errno)) -> handle
 *   meta per message: [length, arrival ifindex, arrival ms (monotonic)]
 * send(handle, packet: Buffer, destination: Buffer(4|16), ifindex) -> 0 | errno
 * close(handle)
 * Every JS callback's exception is cleared here; nothing escapes into C.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <node_api.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#ifndef IPV6_HDRINCL
#define IPV6_HDRINCL 36
#endif

#ifndef ICMP_FILTER
#define ICMP_FILTER 1 /* linux/icmp.h, which clashes with netinet/ip_icmp.h */
#endif

#define SLOT 2048
#define MAX_SLOTS 256

typedef struct {
  napi_env env;
  uv_poll_t poll;
  int fd;
  int family;
  int closing;
  unsigned char *packets;
  double *meta;
  unsigned char *sources;
  unsigned slots;
  napi_ref packets_ref, meta_ref, sources_ref;
  napi_ref on_batch;
  napi_ref on_error;
  napi_async_context async;
  struct mmsghdr msgs[MAX_SLOTS];
  struct iovec iov[MAX_SLOTS];
  struct sockaddr_in6 names[MAX_SLOTS]; /* big enough for either family */
  char control[MAX_SLOTS][CMSG_SPACE(sizeof(struct timespec)) + CMSG_SPACE(sizeof(struct in6_pktinfo))];
} probe_socket;

static void call_js(probe_socket *s, napi_ref ref, napi_value arg) {
  napi_env env = s->env;
  napi_value fn, global, ignored;
  if (napi_get_reference_value(env, ref, &fn) != napi_ok || fn == NULL) return;
  napi_get_global(env, &global);
  if (napi_make_callback(env, s->async, global, fn, 1, &arg, &ignored) != napi_ok) {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) {
      napi_value err;
      napi_get_and_clear_last_exception(env, &err);
    }
  }
}

/* One recvmmsg() of every pending reply into the socket's buffers: the count, 0 when
 * nothing was pending, or -errno. */
static int read_pending(probe_socket *s) {
  for (unsigned i = 0; i < s->slots; i++) {
    s->iov[i].iov_base = s->packets + (size_t)i * SLOT;
    s->iov[i].iov_len = SLOT;
    struct msghdr *h = &s->msgs[i].msg_hdr;
    h->msg_name = &s->names[i];
    h->msg_namelen = sizeof s->names[i];
    h->msg_iov = &s->iov[i];
    h->msg_iovlen = 1;
    h->msg_control = s->control[i];
    h->msg_controllen = sizeof s->control[i];
    h->msg_flags = 0;
  }
  int n;
  do n = recvmmsg(s->fd, s->msgs, s->slots, MSG_DONTWAIT, NULL);
  while (n < 0 && errno == EINTR);
  if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
  /* the kernel's stamps are CLOCK_REALTIME: both clocks read once, back to back, for the batch */
  struct timespec real, mono;
  clock_gettime(CLOCK_REALTIME, &real);
  clock_gettime(CLOCK_MONOTONIC, &mono);
  double read_at = (double)mono.tv_sec * 1e3 + (double)mono.tv_nsec / 1e6;
  for (int i = 0; i < n; i++) {
    struct msghdr *h = &s->msgs[i].msg_hdr;
    double *m = s->meta + 3 * i;
    m[0] = s->msgs[i].msg_len;
    m[1] = 0;
    m[2] = read_at;
    unsigned char *src = s->sources + 16 * i;
    memset(src, 0, 16);
    if (s->family == 4)
      memcpy(src, &((struct sockaddr_in *)&s->names[i])->sin_addr, 4);
    else
      memcpy(src, &s->names[i].sin6_addr, 16);
    for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c != NULL; c = CMSG_NXTHDR(h, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
        struct timespec stamp;
        memcpy(&stamp, CMSG_DATA(c), sizeof stamp);
        long long age_ns = (long long)(real.tv_sec - stamp.tv_sec) * 1000000000LL + (real.tv_nsec - stamp.tv_nsec);
        m[2] = read_at - (double)age_ns / 1e6;
      } else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
        struct in_pktinfo info;
        memcpy(&info, CMSG_DATA(c), sizeof info);
        m[1] = info.ipi_ifindex;
      } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
        struct in6_pktinfo info;
        memcpy(&info, CMSG_DATA(c), sizeof info);
        m[1] = info.ipi6_ifindex;
      }
    }
  }
  return n;
}

static void on_readable(uv_poll_t *handle, int status, int events) {
  (void)events;
  probe_socket *s = handle->data;
  if (s->closing) return;
  if (status < 0) uv_poll_start(&s->poll, UV_READABLE, on_readable); /* EPOLLERR stops the poll: re-arm */
  int n = read_pending(s);
  if (n == 0) return;
  napi_handle_scope scope;
  if (napi_open_handle_scope(s->env, &scope) != napi_ok) return;
  napi_value v;
  if (n < 0) {
    napi_create_int32(s->env, -n, &v);
    call_js(s, s->on_error, v);
  } else {
    napi_create_uint32(s->env, (uint32_t)n, &v);
    call_js(s, s->on_batch, v);
  }
  napi_close_handle_scope(s->env, scope);
}

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char msg[160];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_throw_error(env, NULL, msg);
  return NULL;
}

static probe_socket *handle_arg(napi_env env, napi_value v) {
  probe_socket *s = NULL;
  if (napi_get_value_external(env, v, (void **)&s) != napi_ok) return NULL;
  return s;
}

#define SETOPT(level, name, value)                                        \
  do {                                                                    \
    if (setsockopt(fd, level, name, &(value), sizeof(value)) != 0) {      \
      int err = errno;                                                    \
      close(fd);                                                          \
      return throw_errno(env, "setsockopt(" #level ", " #name ")", err); \
    }                                                                     \
  } while (0)

static napi_value open_socket(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t family = 0, rcvbuf = 0;
  void *packets = NULL, *sources = NULL, *meta = NULL;
  size_t packets_len = 0, sources_len = 0, meta_len = 0;
  napi_typedarray_type meta_type;
  napi_valuetype t5, t6;
  bool ok = argc == 7 && napi_get_value_int32(env, argv[0], &family) == napi_ok && (family == 4 || family == 6) &&
            napi_get_value_int32(env, argv[1], &rcvbuf) == napi_ok &&
            napi_get_buffer_info(env, argv[2], &packets, &packets_len) == napi_ok &&
            napi_get_typedarray_info(env, argv[3], &meta_type, &meta_len, &meta, NULL, NULL) == napi_ok &&
            meta_type == napi_float64_array && napi_get_buffer_info(env, argv[4], &sources, &sources_len) == napi_ok &&
            napi_typeof(env, argv[5], &t5) == napi_ok && t5 == napi_function && napi_typeof(env, argv[6], &t6) == napi_ok &&
            t6 == napi_function;
  unsigned slots = ok ? (unsigned)(packets_len / SLOT) : 0;
  if (!ok || slots == 0 || slots > MAX_SLOTS || meta_len < 3 * slots || sources_len < 16 * slots) {
    napi_throw_type_error(env, NULL,
                          "open(family 4|6, rcvbuf, packets: Buffer(n * 2048), meta: Float64Array(n * 3), sources: Buffer(n * 16), "
                          "onBatch, onError), n <= 256");
    return NULL;
  }
  int fd = socket(family == 4 ? AF_INET : AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
                  family == 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6);
  if (fd < 0) return throw_errno(env, family == 4 ? "socket(AF_INET, SOCK_RAW, IPPROTO_ICMP)" : "socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6)", errno);
  int on = 1, off = 0;
  /* keep only echo replies, before anything is queued */
  if (family == 4) {
    uint32_t filter = ~(1U << ICMP_ECHOREPLY); /* struct icmp_filter: a mask of types to drop */
    SETOPT(SOL_RAW, ICMP_FILTER, filter);
  } else {
    struct icmp6_filter filter;
    ICMP6_FILTER_SETBLOCKALL(&filter);
    ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &filter);
    SETOPT(IPPROTO_ICMPV6, ICMP6_FILTER, filter);
  }
  /* a flood of someone else's echo replies must not crowd ours out while the loop is busy:
     as root SO_RCVBUFFORCE lifts net.core.rmem_max, else SO_RCVBUF gets what it allows */
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) != 0) SETOPT(SOL_SOCKET, SO_RCVBUF, rcvbuf);
  SETOPT(SOL_SOCKET, SO_TIMESTAMPNS, on);
  if (family == 4) {
    SETOPT(IPPROTO_IP, IP_HDRINCL, on);
    SETOPT(IPPROTO_IP, IP_PKTINFO, on);
  } else {
    SETOPT(IPPROTO_IPV6, IPV6_HDRINCL, on); /* Linux 4.5 or later */
    SETOPT(IPPROTO_IPV6, IPV6_RECVPKTINFO, on);
    SETOPT(IPPROTO_IPV6, IPV6_MULTICAST_LOOP, off);
  }
  probe_socket *s = calloc(1, sizeof *s);
  if (!s) {
    close(fd);
    return throw_errno(env, "calloc", ENOMEM);
  }
  s->env = env;
  s->fd = fd;
  s->family = family;
  s->packets = packets;
  s->meta = meta;
  s->sources = sources;
  s->slots = slots;
  napi_create_reference(env, argv[2], 1, &s->packets_ref);
  napi_create_reference(env, argv[3], 1, &s->meta_ref);
  napi_create_reference(env, argv[4], 1, &s->sources_ref);
  napi_create_reference(env, argv[5], 1, &s->on_batch);
  napi_create_reference(env, argv[6], 1, &s->on_error);
  napi_value name;
  napi_create_string_utf8(env, "ipmpd.icmpsock", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &s->async);
  uv_loop_t *loop;
  napi_get_uv_event_loop(env, &loop);
  uv_poll_init(loop, &s->poll, fd);
  s->poll.data = s;
  uv_poll_start(&s->poll, UV_READABLE, on_readable);
  napi_value handle;
  napi_create_external(env, s, NULL, NULL, &handle);
  return handle;
}

static napi_value send_probe(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4], result;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  probe_socket *s = argc == 4 ? handle_arg(env, argv[0]) : NULL;
  void *packet = NULL, *dest = NULL;
  size_t packet_len = 0, dest_len = 0;
  int32_t ifindex = 0;
  if (!s || napi_get_buffer_info(env, argv[1], &packet, &packet_len) != napi_ok ||
      napi_get_buffer_info(env, argv[2], &dest, &dest_len) != napi_ok || dest_len != (s->family == 4 ? 4u : 16u) ||
      napi_get_value_int32(env, argv[3], &ifindex) != napi_ok || ifindex <= 0) {
    napi_throw_type_error(env, NULL, "send(handle, packet: Buffer, destination: Buffer(4|16), ifindex > 0)");
    return NULL;
  }
  if (s->closing) {
    napi_create_int32(env, EBADF, &result);
    return result;
  }
  struct iovec iov = {packet, packet_len};
  union {
    struct cmsghdr align;
    char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
  } control;
  memset(&control, 0, sizeof control);
  struct msghdr msg = {0};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.buf;
  struct cmsghdr *c = (struct cmsghdr *)control.buf;
  struct sockaddr_in to4;
  struct sockaddr_in6 to6;
  if (s->family == 4) {
    memset(&to4, 0, sizeof to4);
    to4.sin_family = AF_INET;
    memcpy(&to4.sin_addr, dest, 4);
    msg.msg_name = &to4;
    msg.msg_namelen = sizeof to4;
    /* the NIC it leaves by (what SO_BINDTODEVICE did for a socket per NIC); the source is in our header */
    struct in_pktinfo pi = {0};
    pi.ipi_ifindex = ifindex;
    c->cmsg_level = IPPROTO_IP;
    c->cmsg_type = IP_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof pi);
    memcpy(CMSG_DATA(c), &pi, sizeof pi);
    msg.msg_controllen = CMSG_SPACE(sizeof pi);
  } else {
    memset(&to6, 0, sizeof to6);
    to6.sin6_family = AF_INET6;
    memcpy(&to6.sin6_addr, dest, 16);
    /* link-local and link-scope multicast destinations need their zone */
    if (IN6_IS_ADDR_LINKLOCAL(&to6.sin6_addr) || IN6_IS_ADDR_MC_LINKLOCAL(&to6.sin6_addr)) to6.sin6_scope_id = (uint32_t)ifindex;
    msg.msg_name = &to6;
    msg.msg_namelen = sizeof to6;
    struct in6_pktinfo pi;
    memset(&pi, 0, sizeof pi);
    pi.ipi6_ifindex = (unsigned)ifindex;
    c->cmsg_level = IPPROTO_IPV6;
    c->cmsg_type = IPV6_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof pi);
    memcpy(CMSG_DATA(c), &pi, sizeof pi);
    msg.msg_controllen = CMSG_SPACE(sizeof pi);
  }
  ssize_t n;
  do n = sendmsg(s->fd, &msg, MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);
  napi_create_int32(env, n < 0 ? errno : 0, &result);
  return result;
}

/* read(handle): what on_readable does, now and synchronously (the caller handles the
 * batch): the count of replies in the buffers, 0 if none was pending, or -errno. */
static napi_value read_now(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  probe_socket *s = argc == 1 ? handle_arg(env, argv[0]) : NULL;
  if (!s) {
    napi_throw_type_error(env, NULL, "read(handle)");
    return NULL;
  }
  napi_create_int32(env, s->closing ? 0 : read_pending(s), &result);
  return result;
}

static void on_poll_closed(uv_handle_t *handle) {
  probe_socket *s = handle->data;
  close(s->fd);
  free(s);
}

static napi_value close_socket(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  probe_socket *s = argc == 1 ? handle_arg(env, argv[0]) : NULL;
  if (!s || s->closing) return NULL;
  s->closing = 1;
  napi_delete_reference(env, s->on_batch);
  napi_delete_reference(env, s->on_error);
  napi_delete_reference(env, s->packets_ref);
  napi_delete_reference(env, s->meta_ref);
  napi_delete_reference(env, s->sources_ref);
  napi_async_destroy(env, s->async);
  uv_poll_stop(&s->poll);
  uv_close((uv_handle_t *)&s->poll, on_poll_closed);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "open", NAPI_AUTO_LENGTH, open_socket, NULL, &fn);
  napi_set_named_property(env, exports, "open", fn);
  napi_create_function(env, "send", NAPI_AUTO_LENGTH, send_probe, NULL, &fn);
  napi_set_named_property(env, exports, "send", fn);
  napi_create_function(env, "close", NAPI_AUTO_LENGTH, close_socket, NULL, &fn);
  napi_set_named_property(env, exports, "close", fn);
  napi_create_function(env, "read", NAPI_AUTO_LENGTH, read_now, NULL, &fn);
  napi_set_named_property(env, exports, "read", fn);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
