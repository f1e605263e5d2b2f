// sipprobe entry point: everything happens in probe::cli::run; this only guards the edges.
#include "probe/cli/app.hpp"
#include "probe/core/text_safety.hpp"

#include <exception>
#include <iostream>

int main(int argc, char** argv) {
  try {
    return probe::cli::run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "sipprobe: internal error: " << probe::printable(e.what()) << "\n";
  } catch (...) {
    std::cerr << "sipprobe: internal error\n";
  }
  return probe::exit_internal;
}
