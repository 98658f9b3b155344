#pragma once
// Who the client is behind a reverse proxy. X-Forwarded-For is believed only as far as it
// was written by proxies the operator named: anyone can send the header, so an entry is
// trusted only when the hop to its right is a trusted proxy.

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/network_v4.hpp>
#include <boost/asio/ip/network_v6.hpp>

#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace threadsd::http {

/// `address` as the access log names a client: an IPv4-mapped IPv6 address (a dual-stack
/// listener's view of an IPv4 peer) as the IPv4 address.
std::string address_text(const boost::asio::ip::address& address);

/// The proxies (addresses and CIDR networks) whose X-Forwarded-For is believed.
class TrustedProxies {
  public:
    /// Trusts no one: the client is always the peer.
    TrustedProxies() = default;

    /// Parses a comma-separated list such as `127.0.0.1, ::1, 10.0.0.0/8`; an empty list
    /// trusts no one. The error names the entry that is neither an address nor a network.
    static std::variant<TrustedProxies, std::string> parse(std::string_view list);

    /// True when no proxy is trusted.
    bool empty() const { return v4_.empty() && v6_.empty(); }

    /// True when `address` is one of the trusted proxies (an IPv4-mapped IPv6 address counts
    /// as its IPv4 address).
    bool trusts(const boost::asio::ip::address& address) const;

    /// The client's address for a request from `peer` with these X-Forwarded-For values (in
    /// header order). From a trusted peer, the rightmost entry that is not a trusted proxy;
    /// from anyone else, the peer itself.
    std::string client_address(const boost::asio::ip::address& peer,
                               const std::vector<std::string_view>& forwarded_for) const;

  private:
    std::vector<boost::asio::ip::network_v4> v4_;  ///< Trusted IPv4 networks.
    std::vector<boost::asio::ip::network_v6> v6_;  ///< Trusted IPv6 networks.
};

}  // namespace threadsd::http
