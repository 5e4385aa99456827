// What parley-server's protocol entry points share: the host's flags and the serve loop.
#pragma once

#include "impl/cli/args.hpp"
#include "impl/core/hub.hpp"
#include "impl/server/host/host.hpp"

namespace parley::server_main {

// Runs `hub` on the generic host until SIGINT/SIGTERM. Reads --bind, --port, --log-wire,
// --max-connections. Prints "parley-server <protocol> listening on ADDR:PORT" on stdout once listening.
// `base` carries the protocol's transport settings; the flags fill in the rest. `over_limit` more
// connections than --max-connections reach the hub, for a hub that refuses them itself with a message.
int serve(core::hub& hub, const char* protocol, const cli::args& args, unsigned short default_port,
          host::host_options base = {}, std::size_t over_limit = 0);

int run_itp(const cli::args& args);
int run_securechat(const cli::args& args);
int run_multiparty(const cli::args& args);
int run_sslmessager(const cli::args& args);
int run_peerchat(const cli::args& args);

}  // namespace parley::server_main
