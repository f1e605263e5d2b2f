// One doctest main for every unit-test executable.
#define DOCTEST_CONFIG_IMPLEMENT
#include <ostream>
#include <doctest/doctest.h>

int main(int argc, char** argv) {
  doctest::Context context;
  context.applyCommandLine(argc, argv);
  return context.run();
}
