#ifndef NORTHBOUND_COMMON_GRPC_CHANNEL_H_
#define NORTHBOUND_COMMON_GRPC_CHANNEL_H_

#include <memory>
#include <string>

#include "grpcpp/grpcpp.h"

namespace nb {

// A channel from one Northbound service to another. It pings an idle connection every
// 10 s and gives up on it 5 s later, so a peer that vanished without closing its
// connections (a pod killed with its network namespace, a node lost) is noticed in
// seconds rather than after the kernel's retransmission timeout of many minutes; and it
// reconnects with at most 2 s between attempts and looks the name up again after 2 s at
// the least, so a restarted peer, even at a new address, is found again quickly.
// `arguments` may add to these.
std::shared_ptr<grpc::Channel> BackendChannel(const std::string& target,
                                              std::shared_ptr<grpc::ChannelCredentials> credentials,
                                              grpc::ChannelArguments arguments = {});

}  // namespace nb

#endif  // NORTHBOUND_COMMON_GRPC_CHANNEL_H_
