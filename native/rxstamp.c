// Kernel receive timestamps for the probe sockets: ping's accuracy without a
// recvmsg() of our own. raw-socket reads replies with recvfrom(), which drops
// control messages; but once a socket has been asked for SIOCGSTAMPNS, the kernel
// keeps the arrival time of the last packet read from it (sk_stamp), so one
// ioctl right after each read returns when that reply reached the host, before
// any event-loop delay. The stamp is CLOCK_REALTIME; probes are timed on
// CLOCK_MONOTONIC, so it is converted with both clocks read back to back.

#include <errno.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <node_api.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>

static int fd_arg(napi_env env, napi_callback_info info, int *fd) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc != 1 || napi_get_value_int32(env, argv[0], fd) != napi_ok || *fd < 0) {
    napi_throw_type_error(env, NULL, "want a file descriptor");
    return 0;
  }
  return 1;
}

// enable(fd): true if fd is a raw ICMP or ICMPv6 socket, now keeping receive stamps
static napi_value enable(napi_env env, napi_callback_info info) {
  int fd;
  napi_value result;
  if (!fd_arg(env, info, &fd)) return NULL;
  int type = 0, protocol = 0;
  socklen_t len = sizeof(type);
  int ok = getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_RAW;
  len = sizeof(protocol);
  ok = ok && getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &protocol, &len) == 0 && (protocol == IPPROTO_ICMP || protocol == IPPROTO_ICMPV6);
  if (ok) {
    struct timespec ts;
    // the first call turns stamping on; ENOENT just says nothing was read yet
    ok = ioctl(fd, SIOCGSTAMPNS, &ts) == 0 || errno == ENOENT;
  }
  napi_get_boolean(env, ok, &result);
  return result;
}

// lastReceivedMs(fd): arrival of the last packet read from fd, in CLOCK_MONOTONIC
// milliseconds (process.hrtime's clock), or -1 if the kernel has none
static napi_value last_received_ms(napi_env env, napi_callback_info info) {
  int fd;
  napi_value result;
  if (!fd_arg(env, info, &fd)) return NULL;
  struct timespec stamp, real, mono;
  double ms = -1;
  if (ioctl(fd, SIOCGSTAMPNS, &stamp) == 0 && clock_gettime(CLOCK_REALTIME, &real) == 0 && clock_gettime(CLOCK_MONOTONIC, &mono) == 0) {
    long long age_ns = (long long)(real.tv_sec - stamp.tv_sec) * 1000000000LL + (real.tv_nsec - stamp.tv_nsec);
    long long mono_ns = (long long)mono.tv_sec * 1000000000LL + mono.tv_nsec;
    ms = (double)(mono_ns - age_ns) / 1e6;
  }
  napi_create_double(env, ms, &result);
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "enable", NAPI_AUTO_LENGTH, enable, NULL, &fn);
  napi_set_named_property(env, exports, "enable", fn);
  napi_create_function(env, "lastReceivedMs", NAPI_AUTO_LENGTH, last_received_ms, NULL, &fn);
  napi_set_named_property(env, exports, "lastReceivedMs", fn);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
