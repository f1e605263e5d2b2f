// `sipprobe dns`: RFC 3263 resolution plan (placeholder until netcheck/dns lands).
#include "probe/cli.hpp"

#include <iostream>
#include <memory>

namespace probe {

void setup_dns(CLI::App& parent, action& selected) {
  auto* cmd = parent.add_subcommand("dns", "Show how a phone would locate the registrar (RFC 3263)");
  auto target = std::make_shared<std::string>();
  cmd->add_option("target", *target, "domain, AOR or host[:port]")->required();
  cmd->callback([&selected, target] {
    selected = [target] {
      std::cerr << "sipprobe: dns is not implemented yet\n";
      return exit_internal;
    };
  });
}

}  // namespace probe
