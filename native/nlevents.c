/*
 * rtnetlink notifications for ipmpd, read in C and handed to JavaScript one
 * datagram at a time. The netlink package's reader aborts the whole process
 * (a C++ Napi::Error thrown from its poll handler) when recvmsg() fails with
 * ENOBUFS, which a burst of route changes causes; a failover daemon must
 * survive that and re-read instead. Here every error becomes a call to
 * onError(errno), and nothing thrown by JavaScript escapes into C.
 *
 * open(groupsMask, rcvbufBytes, onDatagram(Buffer), onError(errno)) -> handle
 *   binds an AF_NETLINK/NETLINK_ROUTE socket to the multicast groups in the
 *   mask; SO_RCVBUFFORCE (CAP_NET_ADMIN) lifts the rmem_max cap on the buffer.
 * receiveBufferBytes(handle) -> what the kernel granted
 * close(handle)
 */
#include <errno.h>
#include <linux/netlink.h>
#include <node_api.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#define DATAGRAM_MAX 65536
#define DATAGRAMS_PER_TURN 64 /* then yield to the event loop */

typedef struct {
  napi_env env;
  uv_poll_t poll;
  int fd;
  int closing;
  int lost; /* ENOBUFS seen, not reported yet */
  napi_ref on_datagram;
  napi_ref on_error;
  napi_async_context async;
  unsigned char buf[DATAGRAM_MAX];
} listener;

/* Calls a JS callback; an exception it throws is cleared here, never left pending. */
static void call_js(listener *l, napi_ref ref, napi_value arg) {
  napi_env env = l->env;
  napi_value fn, global, ignored;
  if (napi_get_reference_value(env, ref, &fn) != napi_ok || fn == NULL) return;
  napi_get_global(env, &global);
  if (napi_make_callback(env, l->async, global, fn, 1, &arg, &ignored) != napi_ok) {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) {
      napi_value err;
      napi_get_and_clear_last_exception(env, &err);
    }
  }
}

static void report_errno(listener *l, int err) {
  napi_value v;
  napi_create_int32(l->env, err, &v);
  call_js(l, l->on_error, v);
}

static void on_readable(uv_poll_t *handle, int status, int events) {
  (void)events;
  listener *l = handle->data;
  napi_handle_scope scope;
  if (napi_open_handle_scope(l->env, &scope) != napi_ok) return;
  /* A pending socket error (ENOBUFS) shows as EPOLLERR, which libuv reports as
   * UV_EBADF and answers by stopping the poll handle: read anyway (recvmsg hands
   * over the error and clears it) and re-arm. */
  if (status < 0 && !l->closing) uv_poll_start(&l->poll, UV_READABLE, on_readable);
  {
    for (int i = 0; i < DATAGRAMS_PER_TURN && !l->closing; i++) {
      struct sockaddr_nl from;
      struct iovec iov = {l->buf, sizeof l->buf};
      struct msghdr msg = {&from, sizeof from, &iov, 1, NULL, 0, 0};
      ssize_t n = recvmsg(l->fd, &msg, MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
          /* Lost notifications are reported once the queue is drained: until then
           * the kernel drops more without saying so (the socket stays "congested"),
           * and a re-read started earlier could miss them. */
          if (l->lost) {
            l->lost = 0;
            report_errno(l, ENOBUFS);
          }
          break;
        }
        if (errno == ENOBUFS) {
          l->lost = 1;
          continue;
        }
        report_errno(l, errno);
        break;
      }
      if (msg.msg_flags & MSG_TRUNC) {
        report_errno(l, EMSGSIZE);
        continue;
      }
      if (from.nl_pid != 0) continue; /* only the kernel speaks here */
      napi_value data;
      if (napi_create_buffer_copy(l->env, (size_t)n, l->buf, NULL, &data) != napi_ok) break;
      call_js(l, l->on_datagram, data);
    }
  }
  napi_close_handle_scope(l->env, scope);
}

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char msg[160];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_throw_error(env, NULL, msg);
  return NULL;
}

static listener *handle_arg(napi_env env, napi_value v) {
  listener *l = NULL;
  if (napi_get_value_external(env, v, (void **)&l) != napi_ok) return NULL;
  return l;
}

static napi_value open_listener(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  uint32_t groups = 0;
  int32_t rcvbuf = 0;
  napi_valuetype t2, t3;
  if (argc != 4 || napi_get_value_uint32(env, argv[0], &groups) != napi_ok || napi_get_value_int32(env, argv[1], &rcvbuf) != napi_ok ||
      napi_typeof(env, argv[2], &t2) != napi_ok || t2 != napi_function || napi_typeof(env, argv[3], &t3) != napi_ok || t3 != napi_function) {
    napi_throw_type_error(env, NULL, "open(groupsMask, rcvbufBytes, onDatagram, onError)");
    return NULL;
  }
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
  if (fd < 0) return throw_errno(env, "socket(AF_NETLINK)", errno);
  if (rcvbuf > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) != 0) {
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf); /* capped at net.core.rmem_max */
  }
  struct sockaddr_nl addr;
  memset(&addr, 0, sizeof addr);
  addr.nl_family = AF_NETLINK;
  addr.nl_groups = groups;
  if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, "bind(AF_NETLINK)", err);
  }
  listener *l = calloc(1, sizeof *l);
  if (!l) {
    close(fd);
    return throw_errno(env, "calloc", ENOMEM);
  }
  l->env = env;
  l->fd = fd;
  napi_create_reference(env, argv[2], 1, &l->on_datagram);
  napi_create_reference(env, argv[3], 1, &l->on_error);
  napi_value name;
  napi_create_string_utf8(env, "ipmpd.rtnetlink", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &l->async);
  uv_loop_t *loop;
  napi_get_uv_event_loop(env, &loop);
  uv_poll_init(loop, &l->poll, fd);
  l->poll.data = l;
  uv_poll_start(&l->poll, UV_READABLE, on_readable);
  napi_value handle;
  napi_create_external(env, l, NULL, NULL, &handle);
  return handle;
}

static void on_closed(uv_handle_t *handle) {
  listener *l = handle->data;
  close(l->fd);
  free(l);
}

static napi_value close_listener(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  listener *l = argc == 1 ? handle_arg(env, argv[0]) : NULL;
  if (!l || l->closing) return NULL;
  l->closing = 1;
  napi_delete_reference(env, l->on_datagram);
  napi_delete_reference(env, l->on_error);
  napi_async_destroy(env, l->async);
  uv_poll_stop(&l->poll);
  uv_close((uv_handle_t *)&l->poll, on_closed);
  return NULL;
}

static napi_value receive_buffer_bytes(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  listener *l = argc == 1 ? handle_arg(env, argv[0]) : NULL;
  int size = 0;
  socklen_t len = sizeof size;
  if (l && !l->closing) getsockopt(l->fd, SOL_SOCKET, SO_RCVBUF, &size, &len);
  napi_value v;
  napi_create_int32(env, size, &v);
  return v;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "open", NAPI_AUTO_LENGTH, open_listener, NULL, &fn);
  napi_set_named_property(env, exports, "open", fn);
  napi_create_function(env, "close", NAPI_AUTO_LENGTH, close_listener, NULL, &fn);
  napi_set_named_property(env, exports, "close", fn);
  napi_create_function(env, "receiveBufferBytes", NAPI_AUTO_LENGTH, receive_buffer_bytes, NULL, &fn);
  napi_set_named_property(env, exports, "receiveBufferBytes", fn);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
