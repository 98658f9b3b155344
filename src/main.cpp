// threadsd: parses the command line and runs the command; everything else lives in
// threadsd_core.

#include <cstdlib>
#include <iostream>

#include "threadsd/app/command_line.hpp"
#include "threadsd/app/commands.hpp"

int main(int argc, char** argv) {
    const std::vector<std::string> arguments(argv + 1, argv + argc);
    auto parsed = threadsd::app::parse_command_line(
        arguments, [](const std::string& name) -> std::optional<std::string> {
            const char* value = std::getenv(name.c_str());
            return value != nullptr ? std::optional<std::string>(value) : std::nullopt;
        });
    if (auto* error = std::get_if<threadsd::app::UsageError>(&parsed)) {
        std::cerr << "threadsd: " << error->message << '\n';
        return 2;
    }
    return threadsd::app::run_command(std::get<threadsd::app::CommandLine>(parsed));
}
