// docs/catalog.md is generated from the catalog's table (probe/catalog.cpp): this test
// renders the table and fails when the file differs. To regenerate after changing an entry:
//   SIPPROBE_UPDATE_DOCS=1 build/tests/probe_tests -tc='catalog doc*'
#include <ostream>
#include <doctest/doctest.h>

#include "probe/core/catalog.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace {

std::string cell(std::string_view s) {
  std::string out;
  for (char c : s) out += c == '|' ? std::string("\\|") : std::string(1, c);
  return out;
}

template <class Code>
void section(std::ostringstream& md, Code c) {
  const auto& e = probe::describe(c);
  md << "### `" << e.code << "` — " << e.title << "\n\n";
  md << e.explanation << "\n\n";
  md << "**Based on:** " << e.trigger << "\n\n";
  if (!e.fixes.empty()) {
    md << "**What to fix:**\n";
    int n = 1;
    for (auto f : e.fixes) md << n++ << ". " << f << "\n";
    md << "\n";
  }
}

std::string render() {
  std::ostringstream md;
  md << "# The diagnosis catalog\n\n"
        "<!-- Generated from probe/core/catalog.cpp by tests/probe/core/test_catalog_doc.cpp; do not edit by hand:\n"
        "     SIPPROBE_UPDATE_DOCS=1 build/tests/probe_tests -tc='catalog doc*' -->\n\n"
        "One catalog serves every mode: `register`, `diagnose`, `batch` (active) and `analyze`\n"
        "(passive, from a trace). A run ends in exactly one **primary diagnosis** and any number of\n"
        "**findings**. Codes are stable identifiers (JSON, exit status, scripts): they are never\n"
        "renamed, only added. Each run fills in the *evidence*: the messages and facts that led to\n"
        "its verdict.\n\n"
        "A diagnosis is a success — exit status 0, JSON `\"verdict\"` equal to the code — for\n"
        "`registered`, `unregistered` and `credentials_valid`; every other code exits 1 with the\n"
        "verdict `\"failed\"`.\n\n"
        "## Summary\n\n| code | kind | title |\n|---|---|---|\n";
  for (auto c : probe::all_diagnoses())
    md << "| `" << probe::describe(c).code << "` | " << (probe::is_success(c) ? "success" : "diagnosis") << " | "
       << cell(probe::describe(c).title) << " |\n";
  for (auto c : probe::all_findings())
    md << "| `" << probe::describe(c).code << "` | finding | " << cell(probe::describe(c).title) << " |\n";
  md << "\n## Primary diagnoses\n\n";
  for (auto c : probe::all_diagnoses()) section(md, c);
  md << "## Findings\n\nA finding is a secondary observation: it never changes the exit status of `register`\n"
        "(with `--nagios` some raise WARNING).\n\n";
  for (auto c : probe::all_findings()) section(md, c);
  md << "## Network-level reasoning (no SIP answer)\n\n"
        "1. The domain did not resolve: `dns_failure`.\n"
        "2. The TLS handshake or the certificate check failed: `tls_failure`.\n"
        "3. Bytes came back that are not SIP: `malformed_response`.\n"
        "4. Another transport to the same target answered: `wrong_transport`.\n"
        "5. ICMP port unreachable or a TCP reset: `port_unreachable`.\n"
        "6. Nothing came back: `no_response` (in a trace that ends too early: `trace_incomplete`).\n";
  std::string s = md.str();
  while (s.size() >= 2 && s[s.size() - 1] == '\n' && s[s.size() - 2] == '\n') s.pop_back();
  return s;
}

}  // namespace

TEST_CASE("catalog doc: docs/catalog.md is the catalog's table") {
  const std::string path = std::string(SIPPROBE_SOURCE_DIR) + "/docs/catalog.md";
  const std::string expected = render();
  if (const char* u = std::getenv("SIPPROBE_UPDATE_DOCS"); u != nullptr && *u != '\0') {
    std::ofstream(path, std::ios::binary) << expected;
  }
  std::ifstream in(path, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), path << " is missing: regenerate it (see the top of this test)");
  std::ostringstream have;
  have << in.rdbuf();
  CHECK_MESSAGE(have.str() == expected, path << " is out of date: regenerate it (see the top of this test)");
  // Every code is in it.
  for (auto c : probe::all_diagnoses())
    CHECK(have.str().find("### `" + std::string(probe::describe(c).code) + "`") != std::string::npos);
  for (auto c : probe::all_findings())
    CHECK(have.str().find("### `" + std::string(probe::describe(c).code) + "`") != std::string::npos);
}
