#pragma once

#include "impl/cli/args.hpp"

namespace parley::client_main {

int run_itp(const cli::args& args);
int run_securechat(const cli::args& args);
int run_multiparty(const cli::args& args);
int run_sslmessager(const cli::args& args);
int run_peerchat(const cli::args& args);

}  // namespace parley::client_main
