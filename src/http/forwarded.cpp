#include "threadsd/http/forwarded.hpp"

#include <optional>

#include "threadsd/http/message.hpp"

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

/// Calls `each` with every comma-separated entry of `list`, trimmed; empty entries skipped.
template <typename Each>
void for_each_entry(std::string_view list, Each&& each) {
    while (!list.empty()) {
        const auto comma = list.find(',');
        const auto entry = trim_header_value(list.substr(0, comma));
        if (!entry.empty()) {
            each(entry);
        }
        list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    }
}

}  // namespace

std::variant<TrustedProxies, std::string> TrustedProxies::parse(std::string_view list) {
    TrustedProxies proxies;
    std::string error;
    for_each_entry(list, [&](std::string_view entry) {
        if (!error.empty()) {
            return;
        }
        boost::system::error_code ec;
        const std::string text(entry);
        if (text.find('/') == std::string::npos) {
            if (const auto address = parse_address(text)) {
                if (address->is_v4()) {
                    proxies.v4_.emplace_back(address->to_v4(), 32);
                } else {
                    proxies.v6_.emplace_back(address->to_v6(), 128);
                }
                return;
            }
        } else if (text.find(':') == std::string::npos) {
            auto network = ip::make_network_v4(text, ec);
            if (!ec) {
                proxies.v4_.push_back(network.canonical());
                return;
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
                return;
            }
        }
        error = "'" + text + "' is neither an IP address nor a network such as 10.0.0.0/8";
    });
    if (!error.empty()) {
        return error;
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
        return client.to_string();
    }
    std::vector<std::string_view> entries;
    for (const auto value : forwarded_for) {
        for_each_entry(value, [&](std::string_view entry) { entries.push_back(entry); });
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
