#include "threadsd/util/prometheus.hpp"

namespace threadsd::util {

void append_metric(std::string& out, std::string_view name, std::string_view help,
                   std::string_view type, std::uint64_t value) {
    out.append("# HELP ").append(name).append(" ").append(help).append("\n");
    out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
    out.append(name).append(" ").append(std::to_string(value)).append("\n");
}

}  // namespace threadsd::util
