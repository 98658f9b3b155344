#pragma once
// Runs a parsed command: the glue between the command line, the store and the server.

#include "threadsd/app/command_line.hpp"

namespace threadsd::app {

/// Runs `line` and returns the process exit code: 0 on success, 1 when the command
/// failed (the one-line reason is already on stderr).
int run_command(const CommandLine& line);

}  // namespace threadsd::app
