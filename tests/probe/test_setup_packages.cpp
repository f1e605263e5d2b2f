// scripts/setup installs what the scripts and tests run, and nothing they do not: each
// package is tied to the command (or build input) that needs it, and that command must
// appear in a script, a lab file, a test or a CMake file.
#include <ostream>
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>

namespace {

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The words of the `packages=( … )` list in scripts/setup, comments left out.
std::set<std::string> setup_packages() {
  const std::string text = slurp(std::filesystem::path(SIPPROBE_SOURCE_DIR) / "scripts/setup");
  const auto start = text.find("packages=(");
  const auto end = text.find("\n)", start);
  REQUIRE(start != std::string::npos);
  REQUIRE(end != std::string::npos);
  std::set<std::string> names;
  std::istringstream lines(text.substr(start + 10, end - start - 10));
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream words(line.substr(0, line.find('#')));
    for (std::string w; words >> w;) names.insert(w);
  }
  return names;
}

// Everything a user of a package could be in: scripts, the lab, the tests, CMake files.
std::string users_text() {
  const std::filesystem::path root = SIPPROBE_SOURCE_DIR;
  std::string all;
  for (const char* dir : {"scripts", "tests/lab", "tests/bench", "tests/integration", "tests/support", "tests/fuzz"})
    for (const auto& e : std::filesystem::recursive_directory_iterator(root / dir))
      if (e.is_regular_file() && e.path().filename() != "setup") all += slurp(e.path()) + "\n";
  // Every CMakeLists.txt of ours: each room of probe/ has one.
  all += slurp(root / "CMakeLists.txt") + "\n";
  for (const char* dir : {"sip", "netcheck", "probe", "tests"})
    for (const auto& e : std::filesystem::recursive_directory_iterator(root / dir))
      if (e.is_regular_file() && e.path().filename() == "CMakeLists.txt") all += slurp(e.path()) + "\n";
  return all;
}

}  // namespace

TEST_CASE("setup: every package is used by a script or a test, and every tool they run is installed") {
  // package -> what in the tree needs it (a regular expression).
  const std::map<std::string, std::string> needed_by = {
      {"g++", R"(CMAKE_CXX_COMPILER|add_executable)"},
      {"cmake", R"(\bcmake\b)"},
      {"ninja-build", R"(-G Ninja|\bninja\b)"},
      {"pkg-config", R"(pkg_check_modules)"},
      {"libboost-dev", R"(find_package\(Boost)"},
      {"libssl-dev", R"(find_package\(OpenSSL)"},
      {"libc-ares-dev", R"(libcares)"},
      {"libcli11-dev", R"(find_package\(CLI11)"},
      {"doctest-dev", R"(find_package\(doctest)"},
      {"nlohmann-json3-dev", R"(find_package\(nlohmann_json)"},
      {"libpcap-dev", R"(libpcap)"},
      {"libjemalloc-dev", R"(IMPORTED_TARGET jemalloc)"},
      {"libyaml-cpp-dev", R"(find_package\(yaml-cpp)"},
      {"clang", R"(clang\+\+)"},
      {"libclang-rt-14-dev", R"(-fsanitize=fuzzer)"},
      {"clang-format", R"(\bclang-format\b)"},
      {"kamailio", R"(\bkamailio\b)"},
      {"kamailio-tls-modules", R"(tls\.so|loadmodule "tls)"},
      {"sip-tester", R"(\bsipp\b)"},
      {"dnsmasq-base", R"(\bdnsmasq\b)"},
      {"openssl", R"(\bopenssl (req|x509))"},
      {"iproute2", R"(\bss (-|")|\bip netns\b)"},
      {"nftables", R"(\bnft -f\b)"},
      {"conntrack", R"(\bconntrack -L\b)"},
      {"procps", R"(\bsysctl -q -w\b)"},
      {"tcpdump", R"(\btcpdump -i)"},
      {"tshark", R"(\btshark -r)"},
      {"time", R"(/usr/bin/time -v)"},
      {"python3", R"(\bpython3\b)"},
      {"sipsak", R"(\bsipsak -U\b|lab_require sipsak)"},
      {"strace", R"(\bstrace -f\b)"},
      {"systemd", R"(\bsystemd-analyze (verify|calendar)\b)"},
      {"libyaml-cpp-dev", R"(find_package\(yaml-cpp)"},
      {"prometheus", R"(\bpromtool (check|test)\b|lab_require prometheus prometheus)"},
      {"prometheus-blackbox-exporter", R"(lab_require prometheus-blackbox-exporter)"},
      {"curl", R"(\bcurl -s\b)"},
      {"wrk", R"(lab_require wrk wrk)"},
  };
  const auto packages = setup_packages();
  const std::string users = users_text();
  for (const auto& p : packages) {
    CAPTURE(p);
    const auto it = needed_by.find(p);
    REQUIRE_MESSAGE(it != needed_by.end(), "scripts/setup installs a package no script or test is known to use");
    CHECK(std::regex_search(users, std::regex(it->second)));
  }
  // The other way round: tools the lab and the tests run are in the list.
  for (const auto& [p, use] : needed_by) {
    CAPTURE(p);
    if (std::regex_search(users, std::regex(use))) CHECK(packages.count(p) == 1);
  }
}
