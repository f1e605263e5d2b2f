// One doctest main for every unit-test executable.
#define DOCTEST_CONFIG_IMPLEMENT
#include <ostream>
#include <doctest/doctest.h>

#include "support/process.hpp"

namespace {

// With SIPPROBE_TRANSCRIPT set, heads the transcript's entries (support/process.hpp) with
// the test case and subcase that ran them, so two runs can be paired case by case.
struct transcript_listener : doctest::IReporter {
  explicit transcript_listener(const doctest::ContextOptions&) {}
  void test_case_start(const doctest::TestCaseData& tc) override {
    if (test_support::transcript::path() != nullptr) test_support::transcript::heading("test case", tc.m_name);
  }
  void subcase_start(const doctest::SubcaseSignature& s) override {
    if (test_support::transcript::path() != nullptr) test_support::transcript::heading("subcase", s.m_name.c_str());
  }
  void report_query(const doctest::QueryData&) override {}
  void test_run_start() override {}
  void test_run_end(const doctest::TestRunStats&) override {}
  void test_case_reenter(const doctest::TestCaseData&) override {}
  void test_case_end(const doctest::CurrentTestCaseStats&) override {}
  void test_case_exception(const doctest::TestCaseException&) override {}
  void subcase_end() override {}
  void log_assert(const doctest::AssertData&) override {}
  void log_message(const doctest::MessageData&) override {}
  void test_case_skipped(const doctest::TestCaseData&) override {}
};
REGISTER_LISTENER("transcript", 1, transcript_listener);

}  // namespace

int main(int argc, char** argv) {
  doctest::Context context;
  context.applyCommandLine(argc, argv);
  return context.run();
}
