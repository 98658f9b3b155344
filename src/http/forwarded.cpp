#include "threadsd/http/forwarded.hpp"

#include <optional>

#include "threadsd/util/text.hpp"

namespace threadsd::http {

namespace ip = boost::asio::ip;

namespace {

/// `address` with an IPv4-mapped IPv6 address (a dual-stack socket's view of an IPv4
/// peer) turned into the IPv4 address it stands for.
ip::address unmapped(const ip::address& address) {
    if (address.is_v6() && address.to_v6().is_v4_mapped()) {
        return ip::make_address_v4(ip::v4_mapped, address.to_v6());
    }
    return address;
}

/// Parses one address, or nothing.
std::optional<ip::address> parse_address(std::string_view text) {
    boost::system::error_code ec;
    auto address = ip::make_address(text, ec);
    if (ec) {
        return std::nullopt;
    }
    return unmapped(address);
}

}  // namespace

std::string address_text(const ip::address& address) {
    return unmapped(address).to_string();
}

std::variant<TrustedProxies, std::string> TrustedProxies::parse(std::string_view list) {
    TrustedProxies proxies;
    for (const auto entry : util::split_list(list)) {
        boost::system::error_code ec;
        const std::string text(entry);
        if (text.find('/') == std::string::npos) {
            if (const auto address = parse_address(text)) {
                if (address->is_v4()) {
                    proxies.v4_.emplace_back(address->to_v4(), 32);
                } else {
                    proxies.v6_.emplace_back(address->to_v6(), 128);
                }
                continue;
            }
        } else if (text.find(':') == std::string::npos) {
            auto network = ip::make_network_v4(text, ec);
            if (!ec) {
                proxies.v4_.push_back(network.canonical());
                continue;
            }
        } else {
            auto network = ip::make_network_v6(text, ec);
            if (!ec) {
                // Peers are compared unmapped, so ::ffff:10.0.0.0/104 is kept as 10.0.0.0/8.
                const auto base = network.network();
                if (base.is_v4_mapped() && network.prefix_length() >= 96) {
                    proxies.v4_.push_back(
                        ip::network_v4(ip::make_address_v4(ip::v4_mapped, base),
                                       static_cast<unsigned short>(network.prefix_length() - 96))
                            .canonical());
                } else {
                    proxies.v6_.push_back(network.canonical());
                }
                continue;
            }
        }
        return "'" + text + "' is neither an IP address nor a network such as 10.0.0.0/8";
    }
    return proxies;
}

bool TrustedProxies::trusts(const ip::address& address) const {
    const auto plain = unmapped(address);
    if (plain.is_v4()) {
        for (const auto& network : v4_) {
            if (ip::network_v4(plain.to_v4(), network.prefix_length()).network() ==
                network.network()) {
                return true;
            }
        }
        return false;
    }
    for (const auto& network : v6_) {
        if (ip::network_v6(plain.to_v6(), network.prefix_length()).network() == network.network()) {
            return true;
        }
    }
    return false;
}

std::string TrustedProxies::client_address(
    const ip::address& peer, const std::vector<std::string_view>& forwarded_for) const {
    // Each hop appends the address it was connected from, so the chain is read from the
    // right: past our own proxies, the first address is the client they saw.
    ip::address client = unmapped(peer);
    if (!trusts(client)) {
        return address_text(client);
    }
    std::vector<std::string_view> entries;
    for (const auto value : forwarded_for) {
        const auto listed = util::split_list(value);
        entries.insert(entries.end(), listed.begin(), listed.end());
    }
    for (auto entry = entries.rbegin(); entry != entries.rend(); ++entry) {
        const auto address = parse_address(*entry);
        if (!address) {
            break;  // Not written by a proxy of ours; the last hop we believe is the answer.
        }
        client = *address;
        if (!trusts(client)) {
            break;
        }
    }
    return client.to_string();
}

}  // namespace threadsd::http
