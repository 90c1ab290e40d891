#include "proxy/client_connection.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

#include "proxy/worker.h"

namespace baton::proxy {

std::string peerAddressText(const sockaddr* peer) {
  char text[INET6_ADDRSTRLEN] = "-";
  if (peer->sa_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(peer)->sin_addr, text, sizeof(text));
  } else if (peer->sa_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(peer)->sin6_addr, text,
              sizeof(text));
  }
  return text;
}

DownstreamInfo makeDownstreamInfo(const ProxySnapshot& snapshot, const sockaddr* peer,
                                  const WorkerListener& listener, bool tls) {
  DownstreamInfo info;
  info.client_ip = peerAddressText(peer);
  if (peer->sa_family == AF_INET) {
    std::memcpy(&info.peer, peer, sizeof(sockaddr_in));
  } else if (peer->sa_family == AF_INET6) {
    std::memcpy(&info.peer, peer, sizeof(sockaddr_in6));
  }
  info.peer_trusted = snapshot.trusted_proxies && snapshot.trusted_proxies->contains(peer);
  info.listener_port = listener.port;
  info.raw_bytes = listener.spec->raw_bytes;
  info.route_by = listener.spec->route_by;
  info.route_scope = listener.spec->route_scope;
  info.cdn_origin = listener.spec->cdn_origin;
  info.tls = tls;
  return info;
}

}  // namespace baton::proxy
