/*
 * Gratuitous ARP for ipmpd: raw-socket cannot send ARP (it is not IP), and
 * iputils arping cannot send a quick burst or report what it sent. This sends
 * ARP requests with sender IP = target IP = the moved address, sender MAC =
 * the interface's MAC, to the Ethernet broadcast address (as keepalived does),
 * through an AF_PACKET socket, and returns how many left.
 *
 * sendGratuitousArp(ifindex: number, mac: Buffer(6), ipv4: Buffer(4), count: number): number
 * Throws an Error naming the system call and errno on failure.
 */
#include <node_api.h>
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char msg[160];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_throw_error(env, NULL, msg);
  return NULL;
}

static napi_value send_garp(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc != 4) {
    napi_throw_type_error(env, NULL, "sendGratuitousArp(ifindex, mac, ipv4, count)");
    return NULL;
  }
  int32_t ifindex = 0, count = 0;
  void *mac = NULL, *ip = NULL;
  size_t mac_len = 0, ip_len = 0;
  if (napi_get_value_int32(env, argv[0], &ifindex) != napi_ok || napi_get_buffer_info(env, argv[1], &mac, &mac_len) != napi_ok ||
      napi_get_buffer_info(env, argv[2], &ip, &ip_len) != napi_ok || napi_get_value_int32(env, argv[3], &count) != napi_ok ||
      mac_len != 6 || ip_len != 4 || ifindex <= 0 || count < 0 || count > 255) {
    napi_throw_type_error(env, NULL, "sendGratuitousArp: want ifindex > 0, a 6-byte MAC, a 4-byte IPv4 address, count 0..255");
    return NULL;
  }

  unsigned char frame[ETH_HLEN + 28];
  memset(frame, 0, sizeof frame);
  memset(frame, 0xff, 6);               /* destination: broadcast */
  memcpy(frame + 6, mac, 6);            /* source: our MAC */
  frame[12] = 0x08; frame[13] = 0x06;   /* ethertype ARP */
  unsigned char *arp = frame + ETH_HLEN;
  arp[0] = 0x00; arp[1] = 0x01;         /* hardware: Ethernet */
  arp[2] = 0x08; arp[3] = 0x00;         /* protocol: IPv4 */
  arp[4] = 6; arp[5] = 4;
  arp[6] = 0x00; arp[7] = ARPOP_REQUEST;
  memcpy(arp + 8, mac, 6);              /* sender MAC */
  memcpy(arp + 14, ip, 4);              /* sender IP = the address */
  memset(arp + 18, 0xff, 6);            /* target MAC: broadcast, as keepalived */
  memcpy(arp + 24, ip, 4);              /* target IP = the address */

  /* One socket for the life of the process: closing an AF_PACKET socket waits
   * for an RCU grace period (synchronize_net, ~13 ms here), which made a
   * failover of 128 addresses spend 1.7 s in close(). Protocol 0: send only,
   * nothing is queued to it on receive. */
  static int fd = -1;
  if (fd < 0) fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket(AF_PACKET)", errno);
  struct sockaddr_ll to;
  memset(&to, 0, sizeof to);
  to.sll_family = AF_PACKET;
  to.sll_protocol = htons(ETH_P_ARP);
  to.sll_ifindex = ifindex;
  to.sll_halen = 6;
  memset(to.sll_addr, 0xff, 6);

  int sent = 0;
  for (int i = 0; i < count; i++) {
    if (sendto(fd, frame, sizeof frame, 0, (struct sockaddr *)&to, sizeof to) == (ssize_t)sizeof frame) {
      sent++;
    } else if (sent == 0) {
      return throw_errno(env, "sendto(AF_PACKET)", errno);
    }
  }
  napi_value result;
  napi_create_int32(env, sent, &result);
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "sendGratuitousArp", NAPI_AUTO_LENGTH, send_garp, NULL, &fn);
  napi_set_named_property(env, exports, "sendGratuitousArp", fn);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
