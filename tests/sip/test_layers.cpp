// The layering rule (docs/design.md), checked: sip/ uses only the standard library and OpenSSL;
// netcheck/ knows nothing of SIP or of the CLI. A stray include fails this test.
#include <ostream>
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

std::vector<std::string> offending_includes(const std::string& folder,
                                            const std::vector<std::string>& forbidden) {
  std::vector<std::string> hits;
  for (const auto& entry : fs::directory_iterator(fs::path(SIPPROBE_SOURCE_DIR) / folder)) {
    auto ext = entry.path().extension();
    if (ext != ".hpp" && ext != ".cpp") continue;
    std::ifstream in(entry.path());
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
      ++n;
      if (line.rfind("#include", 0) != 0) continue;
      for (const auto& f : forbidden)
        if (line.find(f) != std::string::npos)
          hits.push_back(entry.path().filename().string() + ":" + std::to_string(n) + ": " + line);
    }
  }
  return hits;
}

std::string join(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

}  // namespace

TEST_CASE("layers: sip/ includes no Boost, c-ares, netcheck or probe") {
  auto hits = offending_includes("sip", {"boost/", "ares", "netcheck/", "probe/", "CLI/", "nlohmann/"});
  CHECK_MESSAGE(hits.empty(), join(hits));
}

TEST_CASE("layers: netcheck/ includes nothing of sip/ or probe/") {
  auto hits = offending_includes("netcheck", {"\"sip/", "<sip/", "probe/", "CLI/"});
  CHECK_MESSAGE(hits.empty(), join(hits));
}
