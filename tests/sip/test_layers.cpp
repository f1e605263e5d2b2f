// The layering rule, checked on the sources: sip/ uses only the standard library and
// OpenSSL; netcheck/ knows nothing of SIP or of the CLI; each room of probe/ (a folder, a
// library) includes only from the rooms below it, only probe/cli/ includes CLI11 and only
// probe/analyze/ libpcap (which it opens at run time). A stray include fails this test.
#include <ostream>
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace fs = std::filesystem;

namespace {

// What a room may include: the rooms and libraries it uses, with what those may include
// (a room above may use what a room below uses), and libraries of its own that go no
// further (linked PRIVATE: libpcap is analyze's, CLI11 the command line's).
struct room_rule {
  std::string_view room;
  std::vector<std::string_view> uses;
  std::vector<std::string_view> uses_privately;
};

// The arrows of the layout (probe/CMakeLists.txt). The standard library and the system's
// headers are allowed everywhere.
const std::vector<room_rule>& rules() {
  static const std::vector<room_rule> r = {
      {"sip", {"OpenSSL"}, {}},
      {"netcheck", {"Boost", "c-ares", "OpenSSL"}, {}},
      {"probe/core", {"sip", "nlohmann-json"}, {}},
      {"probe/locate", {"probe/core", "netcheck"}, {}},
      {"probe/reach", {"probe/core", "netcheck", "sip"}, {}},
      {"probe/registration", {"probe/core", "probe/locate", "probe/reach"}, {}},
      {"probe/batch", {"probe/registration", "probe/core"}, {}},
      {"probe/analyze", {"probe/core", "sip"}, {"libpcap"}},
      {"probe/exporter", {"probe/registration", "probe/batch", "probe/reach", "probe/locate", "probe/core"}, {"yaml-cpp"}},
      {"probe/cli",
       {"probe/core", "probe/locate", "probe/reach", "probe/registration", "probe/batch", "probe/analyze", "probe/exporter"},
       {"CLI11"}},
  };
  return r;
}

const room_rule* rule_of(std::string_view room) {
  for (const auto& r : rules())
    if (r.room == room) return &r;
  return nullptr;
}

// Everything `room` may include, itself included.
std::set<std::string> allowed(std::string_view room) {
  std::set<std::string> out{std::string(room)};
  std::vector<std::string_view> todo;
  if (const auto* r = rule_of(room)) {
    todo = r->uses;
    out.insert(r->uses_privately.begin(), r->uses_privately.end());
  }
  while (!todo.empty()) {
    const auto next = todo.back();
    todo.pop_back();
    if (!out.insert(std::string(next)).second) continue;
    if (const auto* r = rule_of(next)) todo.insert(todo.end(), r->uses.begin(), r->uses.end());
  }
  return out;
}

// Where an #include line's header comes from: a folder of this repository ("sip",
// "netcheck", "probe/core"…), a library ("CLI11", "libpcap", "Boost", "c-ares",
// "nlohmann-json", "OpenSSL", "yaml-cpp"), "" for the standard library and the system, or
// "outside every room" for a path of ours that names no room (probe/x.hpp, a relative
// "x.hpp").
std::string origin(std::string_view line) {
  const auto open = line.find_first_of("\"<");
  if (open == std::string_view::npos) return "";
  const auto close = line.find(line[open] == '"' ? '"' : '>', open + 1);
  const auto path = line.substr(open + 1, close == std::string_view::npos ? std::string_view::npos : close - open - 1);
  if (path.starts_with("sip/")) return "sip";
  if (path.starts_with("netcheck/")) return "netcheck";
  if (path.starts_with("probe/")) {
    const auto slash = path.find('/', 6);
    return slash == std::string_view::npos ? "outside every room" : std::string(path.substr(0, slash));
  }
  if (line[open] == '"') return "outside every room";
  if (path.starts_with("CLI/")) return "CLI11";
  if (path.starts_with("pcap")) return "libpcap";
  if (path.starts_with("boost/")) return "Boost";
  if (path.starts_with("ares")) return "c-ares";
  if (path.starts_with("nlohmann/")) return "nlohmann-json";
  if (path.starts_with("openssl/")) return "OpenSSL";
  if (path.starts_with("yaml-cpp/")) return "yaml-cpp";
  return "";
}

struct include_line {
  std::string where;  // "probe/core/report.hpp:5"
  std::string text;   // "#include \"probe/core/catalog.hpp\""
};

// The includes of `room` that its rule does not allow, one line each: the checker the
// test runs on the sources and, to prove it can fail, on made-up lines.
std::vector<std::string> violations(std::string_view room, const std::vector<include_line>& includes) {
  std::vector<std::string> out;
  if (rule_of(room) == nullptr) {
    for (const auto& i : includes) out.push_back(i.where + ": " + std::string(room) + " is not a room of the layout");
    return out;
  }
  const auto ok = allowed(room);
  for (const auto& i : includes) {
    const auto from = origin(i.text);
    if (!from.empty() && ok.count(from) == 0) out.push_back(i.where + ": " + i.text + " (" + from + ")");
  }
  return out;
}

// The room of a source file: its folder below the repository root ("sip", "netcheck"),
// or for probe/ the folder below probe/ ("probe/analyze" for probe/analyze/detail/x.hpp).
std::string room_of(const fs::path& relative) {
  auto it = relative.begin();
  std::string room = it->string();
  if (room == "probe" && std::distance(relative.begin(), relative.end()) > 2) room += "/" + (++it)->string();
  return room;
}

// Every #include of the .hpp and .cpp files below `folder`, by room.
std::map<std::string, std::vector<include_line>> scan(const std::string& folder) {
  const fs::path root = SIPPROBE_SOURCE_DIR;
  std::map<std::string, std::vector<include_line>> out;
  for (const auto& entry : fs::recursive_directory_iterator(root / folder)) {
    const auto ext = entry.path().extension();
    if (ext != ".hpp" && ext != ".cpp") continue;
    const auto relative = fs::relative(entry.path(), root);
    auto& list = out[room_of(relative)];
    std::ifstream in(entry.path());
    std::string line;
    for (int n = 1; std::getline(in, line); ++n) {
      const auto text = line.substr(std::min(line.find_first_not_of(" \t"), line.size()));
      if (text.starts_with("#include")) list.push_back({relative.string() + ":" + std::to_string(n), text});
    }
  }
  return out;
}

std::string join(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

// The violations of every room below `folder`; fails when a room has no includes at all
// (the scan would then prove nothing).
std::vector<std::string> check_folder(const std::string& folder) {
  std::vector<std::string> out;
  const auto rooms = scan(folder);
  CHECK_FALSE(rooms.empty());
  for (const auto& [room, includes] : rooms) {
    CAPTURE(room);
    CHECK_FALSE(includes.empty());
    const auto v = violations(room, includes);
    out.insert(out.end(), v.begin(), v.end());
  }
  return out;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("layers: sip/ includes no Boost, c-ares, netcheck or probe") {
  const auto hits = check_folder("sip");
  CHECK_MESSAGE(hits.empty(), join(hits));
}

TEST_CASE("layers: netcheck/ includes nothing of sip/ or probe/") {
  const auto hits = check_folder("netcheck");
  CHECK_MESSAGE(hits.empty(), join(hits));
}

TEST_CASE("layers: each room of probe/ includes only from the rooms below it") {
  const auto rooms = scan("probe");
  for (const auto& r : rules())
    if (r.room.starts_with("probe/")) CHECK_MESSAGE(rooms.count(std::string(r.room)) == 1, r.room << " has no sources");
  const auto hits = check_folder("probe");
  CHECK_MESSAGE(hits.empty(), join(hits));
}

TEST_CASE("layers: the include checker flags what a room may not include") {
  const auto flagged = [](std::string_view room, std::string include) {
    return violations(room, {{"made-up.cpp:1", "#include " + include}}).size() == 1;
  };
  CHECK(flagged("probe/core", "\"probe/cli/app.hpp\""));            // upwards
  CHECK(flagged("probe/registration", "\"probe/batch/csv.hpp\""));  // upwards
  CHECK(flagged("probe/locate", "\"probe/reach/check.hpp\""));      // sideways
  CHECK(flagged("probe/analyze", "<boost/asio/io_context.hpp>"));   // analyze runs no I/O loop
  CHECK(flagged("probe/analyze", "\"netcheck/dns.hpp\""));
  CHECK(flagged("probe/batch", "<CLI/CLI.hpp>"));         // only cli/ includes CLI11
  CHECK(flagged("probe/cli", "<pcap/pcap.h>"));           // analyze's own, not passed on
  CHECK(flagged("probe/core", "\"probe/catalog.hpp\""));  // outside every room
  CHECK(flagged("probe/misc", "<vector>"));               // not a room of the layout
  CHECK(flagged("sip", "\"netcheck/dns.hpp\""));
  CHECK(flagged("netcheck", "\"sip/message.hpp\""));
  CHECK(flagged("netcheck", "<sip/message.hpp>"));  // ours, whatever the brackets
  // What the rooms below pass on is allowed, and the standard library everywhere.
  const std::vector<include_line> fine = {{"a.cpp:1", "#include \"probe/locate/request.hpp\""},
                                          {"a.cpp:2", "#include \"netcheck/dns.hpp\""},
                                          {"a.cpp:3", "#include <boost/asio/post.hpp>"},
                                          {"a.cpp:4", "#include <nlohmann/json.hpp>"},
                                          {"a.cpp:5", "#include <vector>"}};
  CHECK(violations("probe/batch", fine).empty());
  CHECK(violations("probe/locate", fine).empty());
}

// libpcap is not linked at all: probe/analyze/pcap_read.cpp opens it (dlopen) when a
// capture needs it, so that no other run loads it and its chain. Only analyze's
// CMakeLists.txt names it (its headers, its SONAME) and only analyze's sources open it.
TEST_CASE("layers: only probe/analyze reaches libpcap, which nothing links, and only probe/cli links CLI11") {
  const fs::path root = SIPPROBE_SOURCE_DIR;
  std::vector<std::string> hits;
  const std::regex links_pcap(R"((target_link_libraries|add_probe_room)\([^)]*PCAP)");
  auto check_cmake = [&](const fs::path& file) {
    const auto text = slurp(file);
    const auto folder = fs::relative(file.parent_path(), root).string();
    if (std::regex_search(text, links_pcap)) hits.push_back(folder + " links libpcap");
    if (folder.starts_with("probe")) {
      if (text.find("PCAP") != std::string::npos && folder != "probe/analyze") hits.push_back(folder + " uses libpcap");
      if (text.find("CLI11") != std::string::npos && folder != "probe/cli") hits.push_back(folder + " links CLI11");
    } else {
      if (text.find("PkgConfig::PCAP") != std::string::npos) hits.push_back(folder + " uses libpcap");
      if (text.find("CLI11::CLI11") != std::string::npos) hits.push_back(folder + " links CLI11");
    }
  };
  for (const auto& entry : fs::recursive_directory_iterator(root / "probe"))
    if (entry.path().filename() == "CMakeLists.txt") check_cmake(entry.path());
  for (const char* top : {"CMakeLists.txt", "sip/CMakeLists.txt", "netcheck/CMakeLists.txt"}) check_cmake(root / top);
  // Who opens libpcap at run time: the SONAME analyze's CMakeLists.txt passes, or dlopen.
  for (const char* folder : {"sip", "netcheck", "probe"}) {
    for (const auto& entry : fs::recursive_directory_iterator(root / folder)) {
      const auto ext = entry.path().extension();
      if (ext != ".hpp" && ext != ".cpp") continue;
      const auto text = slurp(entry.path());
      const auto relative = fs::relative(entry.path(), root).string();
      const bool opens = text.find("SIPPROBE_LIBPCAP_SONAME") != std::string::npos || text.find("dlopen") != std::string::npos ||
                         text.find("libpcap.so") != std::string::npos;
      if (opens && room_of(fs::path(relative)) != "probe/analyze") hits.push_back(relative + " opens a library");
    }
  }
  const auto analyze = slurp(root / "probe/analyze/CMakeLists.txt");
  CHECK(analyze.find("PkgConfig::PCAP") != std::string::npos);          // its headers
  CHECK(analyze.find("SIPPROBE_LIBPCAP_SONAME") != std::string::npos);  // what pcap_read.cpp opens
  CHECK(slurp(root / "probe/analyze/pcap_read.cpp").find("dlopen(SIPPROBE_LIBPCAP_SONAME") != std::string::npos);
  CHECK(slurp(root / "probe/cli/CMakeLists.txt").find("CLI11::CLI11") != std::string::npos);
  CHECK_MESSAGE(hits.empty(), join(hits));
}
