// The target flags parley-conform and parley-fuzz share: what to test (--target, --launch, --role), how to
// start and wait for it (--ready, --ready-delay), and what it knows (--keys, --user, --profile), so both
// tools read the same command line the same way.
#pragma once

#include <set>
#include <string>

#include "conformance/engine/adapter.hpp"
#include "conformance/engine/runner.hpp"
#include "conformance/engine/selection.hpp"
#include "impl/cli/args.hpp"

namespace parley::conform {

// The flags (no value) and options (one value) below, for cli::args.
extern const std::set<std::string> target_flags;
extern const std::set<std::string> target_options;

// Fills the target part of `settings` from the flags: --target HOST:PORT, --launch 'CMD' (a server, or a
// client with --role client), --ready, --ready-delay, --profile, --keys, --user, --time-scale,
// --type-delay, --no-events, --real-time, --fresh. Returns how reports name the target. Throws
// cli::usage_error for a malformed or contradictory value.
std::string apply_target_options(const cli::args& args, const adapter& a, run_settings& settings);

// A tool's command line: its own flags and options plus the target's.
cli::args with_target_flags(std::vector<std::string> argv, std::set<std::string> flags, std::set<std::string> options);

// "a,b,c" -> {"a", "b", "c"} (the lists of --case, --rule, --level, --section, --users).
std::vector<std::string> split_commas(const std::string& text);

// --rule, --level, --section: checked here, so a typo is a usage error and not an empty run.
rule_selection selection_from(const cli::args& args);

// --profile NAME: a profile of the protocol by name (peerchat/1) or short form (v1).
std::string profile_named(const adapter& a, const std::string& name);

// Ctrl-C or SIGTERM sets settings.interrupted: no further step starts, launched processes are stopped and
// the tool writes what it has (exit 130). A second one ends the process at once.
void stop_on_interrupt(run_settings& settings);

// The folder of the running program (to find parley-client and parley-server beside it).
std::string own_directory();

}  // namespace parley::conform
