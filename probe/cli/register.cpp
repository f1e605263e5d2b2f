// `sipprobe register`: register an account for real and explain the outcome.
#include "probe/cli/app.hpp"
#include "probe/cli/register_options.hpp"
#include "probe/registration/interrupt.hpp"

#include <iostream>
#include <memory>

namespace probe::cli {

void setup_register(CLI::App& parent, action& selected) {
  auto* cmd = parent.add_subcommand("register", "Register an account for real and explain the outcome");
  auto o = std::make_shared<register_cli>();
  add_register_options(*cmd, *o);
  cmd->callback([&selected, o] {
    selected = [o] {
      finish_settings(*o);
      auto acct = make_account(*o);
      boost::asio::io_context io;
      sip::id_factory ids(sip::openssl_random());
      std::random_device rd;
      std::mt19937 rng(rd());
      std::optional<report> result;
      registration::run_interrupt interrupt;
      registration::signal_watch signals(io, [&interrupt, o](const std::string& name) {
        registration::announce_interrupt(interrupt, name, o->common.timeout_s);
      });
      registration::async_register_run({io, ids, rng, nullptr, &interrupt}, acct, o->settings, o->route,
                                       std::chrono::milliseconds(static_cast<long>(o->common.timeout_s * 1000)),
                                       [&result, &signals](report r) {
                                         result = std::move(r);
                                         signals.cancel();
                                       });
      io.run();
      if (!result) throw std::runtime_error("the registration ended without a result");
      return emit_report(*result, *o);
    };
  });
}

}  // namespace probe::cli
