// `actormesh init`: sets up transparent interception in the current network namespace, the
// way an init container does in a pod (net/interception_rules.h has the rules and why).
#pragma once

namespace am::tools {

// argv[0] is the program, argv[1] "init". Returns the exit status.
int run_init(int argc, char** argv);

}  // namespace am::tools
