// parley-server itp: the reference itp server (spec/itp/spec.md) on the generic host.
#include <iostream>

#include "impl/server/itp/hub.hpp"
#include "impl/server/programs.hpp"

namespace parley::server_main {

int run_itp(const cli::args& args) {
  if (args.has("--list-faults")) {
    std::cout << core::fault_listing(itp::all_faults());
    return 0;
  }
  itp::hub_options options;
  options.ping_interval = millis(args.number("--ping-interval", 10000, 10, 3'600'000));
  options.pong_timeout = millis(args.number("--pong-timeout", 3000, 10, 3'600'000));
  options.login_timeout = millis(args.number("--login-timeout", 60000, 10, 3'600'000));
  options.max_line = static_cast<std::size_t>(args.number("--max-line", itp::default_max_line, 16, 1 << 20));
  if (auto name = args.get("--fault")) {
    auto f = itp::fault_from_name(*name);
    if (!f) throw cli::usage_error("unknown fault '" + *name + "' (see --list-faults)");
    options.planted = *f;
  }
  itp::hub hub(options);
  return serve(hub, "itp", args, itp::default_port);
}

}  // namespace parley::server_main
