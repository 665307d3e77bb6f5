// sd_notify(3) for ipmpd: one datagram on the unix socket systemd names in
// $NOTIFY_SOCKET ("READY=1", "WATCHDOG=1", ...). Node has no unix datagram
// sockets, and the protocol is this one sendto(); libsystemd is not needed.
// Never blocks the event loop (MSG_DONTWAIT): a full queue is reported, not
// waited for.

#include <errno.h>
#include <node_api.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

// send(path, message): 0 when sent, else the errno. A path starting with '@'
// is in the abstract namespace, as systemd writes it.
static napi_value send_notify(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], result;
  char path[sizeof(((struct sockaddr_un *)0)->sun_path) + 1];
  char message[4096];
  size_t path_len = 0, message_len = 0;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc != 2 || napi_get_value_string_utf8(env, argv[0], path, sizeof(path), &path_len) != napi_ok ||
      napi_get_value_string_utf8(env, argv[1], message, sizeof(message), &message_len) != napi_ok) {
    napi_throw_type_error(env, NULL, "want (socket path, message)");
    return NULL;
  }
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof(addr));
  addr.sun_family = AF_UNIX;
  int err = 0;
  if (path_len == 0 || path_len >= sizeof(addr.sun_path) || (path[0] != '/' && path[0] != '@')) {
    err = EINVAL;
  } else {
    memcpy(addr.sun_path, path, path_len);
    if (path[0] == '@') addr.sun_path[0] = '\0';
    socklen_t addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + path_len + (path[0] == '@' ? 0 : 1));
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      err = errno;
    } else {
      if (sendto(fd, message, message_len, MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&addr, addr_len) < 0) err = errno;
      close(fd);
    }
  }
  napi_create_int32(env, err, &result);
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "send", NAPI_AUTO_LENGTH, send_notify, NULL, &fn);
  napi_set_named_property(env, exports, "send", fn);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
