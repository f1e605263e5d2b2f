// The documentation cannot drift from the tree or from the binary unnoticed:
// - every relative link in README.md, docs/*.md and examples/README.md points to a file
//   of the repository, and every #anchor to a heading of it;
// - docs/commands.md names, in each subcommand's section, exactly the options that
//   `sipprobe SUBCOMMAND --help` lists, and elsewhere only options that exist;
// - the README's usage block lists exactly each subcommand's options.
#include <ostream>
#include <doctest/doctest.h>

#include "support/process.hpp"

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

const fs::path root = SIPPROBE_SOURCE_DIR;

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  REQUIRE_MESSAGE(in, "cannot read " << p.string());
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<fs::path> markdown_files() {
  std::vector<fs::path> files = {root / "README.md", root / "examples/README.md"};
  for (const auto& e : fs::directory_iterator(root / "docs"))
    if (e.path().extension() == ".md") files.push_back(e.path());
  return files;
}

// The lines of a Markdown text outside fenced code blocks.
std::vector<std::string> prose_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  bool fenced = false;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("```", 0) == 0) fenced = !fenced;
    else if (!fenced) lines.push_back(line);
  }
  return lines;
}

// GitHub's anchor for a heading: lower case, punctuation (and anything not ASCII) dropped,
// spaces turned into hyphens.
std::string anchor_of(const std::string& heading) {
  std::string a;
  for (unsigned char c : heading) {
    if (std::isalnum(c)) a += static_cast<char>(std::tolower(c));
    else if (c == ' ' || c == '-') a += '-';
    else if (c == '_') a += '_';
  }
  return a;
}

std::set<std::string> anchors(const fs::path& md) {
  std::set<std::string> found;
  for (const auto& line : prose_lines(read_text(md))) {
    const auto hashes = line.find_first_not_of('#');
    if (hashes != 0 && hashes != std::string::npos && line[hashes] == ' ') found.insert(anchor_of(line.substr(hashes + 1)));
  }
  return found;
}

// Options named in `text`: --word, --word-word.
std::set<std::string> options_in(const std::string& text) {
  std::set<std::string> found;
  static const std::regex option(R"((?:^|[^\w-])(--[a-z][a-z0-9]*(?:-[a-z0-9]+)*))");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), option); it != std::sregex_iterator(); ++it)
    found.insert((*it)[1]);
  found.erase("--help");
  return found;
}

// The options `sipprobe [SUBCOMMAND] --help` lists (the names that start its lines).
std::set<std::string> help_options(const std::string& subcommand) {
  auto r = test_support::run(test_support::shell_quote(SIPPROBE_BINARY) + " " + subcommand + " --help 2>&1");
  REQUIRE_MESSAGE(r.exit_code == 0, r.out);
  std::set<std::string> found;
  // A flag and its negation share a line: "--inbound,--no-inbound{false}".
  static const std::regex line(R"(^\s+(?:-\w,)?(--[a-z0-9-]+)(?:,(--[a-z0-9-]+))?)");
  std::istringstream in(r.out);
  std::smatch m;
  for (std::string l; std::getline(in, l);) {
    if (!std::regex_search(l, m, line)) continue;
    found.insert(m[1]);
    if (m[2].matched) found.insert(m[2]);
  }
  found.erase("--help");
  REQUIRE_MESSAGE(!found.empty(), "no options in: " << r.out);
  return found;
}

// The subcommands `sipprobe --help` lists.
std::vector<std::string> subcommands() {
  auto r = test_support::run(test_support::shell_quote(SIPPROBE_BINARY) + " --help 2>&1");
  std::vector<std::string> names;
  const auto at = r.out.find("Subcommands:");
  REQUIRE(at != std::string::npos);
  std::istringstream in(r.out.substr(at));
  std::smatch m;
  for (std::string l; std::getline(in, l);)
    if (std::regex_search(l, m, std::regex(R"(^  ([a-z]+)\s)"))) names.push_back(m[1]);
  REQUIRE(names.size() >= 6);
  return names;
}

std::string list(const std::set<std::string>& s) {
  std::string out;
  for (const auto& x : s) out += " " + x;
  return out;
}

// What one side names and the other does not.
void check_same_options(const std::string& where, const std::set<std::string>& documented, const std::set<std::string>& actual) {
  std::set<std::string> missing, unknown;
  for (const auto& o : actual)
    if (documented.count(o) == 0) missing.insert(o);
  for (const auto& o : documented)
    if (actual.count(o) == 0) unknown.insert(o);
  INFO(where);
  CHECK_MESSAGE(missing.empty(), "not documented:" << list(missing));
  CHECK_MESSAGE(unknown.empty(), "not an option of the binary:" << list(unknown));
}

struct section {
  std::string heading;
  std::vector<std::string> commands;  // the `sipprobe X` the heading names
  std::string text;
};

// docs/commands.md cut at its level-2 headings; the text before the first is "".
std::vector<section> sections_of_commands_md() {
  std::vector<section> out(1);
  std::istringstream in(read_text(root / "docs/commands.md"));
  static const std::regex named("`sipprobe ([a-z]+)`");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("## ", 0) == 0) {
      out.push_back({line, {}, ""});
      for (auto it = std::sregex_iterator(line.begin(), line.end(), named); it != std::sregex_iterator(); ++it)
        out.back().commands.push_back((*it)[1]);
    } else {
      out.back().text += line + "\n";
    }
  }
  return out;
}

}  // namespace

TEST_CASE("docs: every relative link in the Markdown files points into the repository") {
  static const std::regex link(R"(\]\(([^)\s]+)\))");
  int checked = 0;
  for (const auto& md : markdown_files()) {
    for (const auto& line : prose_lines(read_text(md))) {
      for (auto it = std::sregex_iterator(line.begin(), line.end(), link); it != std::sregex_iterator(); ++it) {
        const std::string target = (*it)[1];
        if (target.rfind("http://", 0) == 0 || target.rfind("https://", 0) == 0) continue;
        CAPTURE(md.string());
        CAPTURE(target);
        const auto hash = target.find('#');
        const fs::path file = hash == 0 ? md : fs::weakly_canonical(md.parent_path() / target.substr(0, hash));
        const auto inside = fs::relative(file, fs::weakly_canonical(root)).string();
        CHECK_MESSAGE(inside.rfind("..", 0) != 0, "the link leaves the repository");
        CHECK_MESSAGE(fs::exists(file), "no such file");
        if (hash != std::string::npos && fs::exists(file) && file.extension() == ".md")
          CHECK_MESSAGE(anchors(file).count(target.substr(hash + 1)) == 1, "no such heading");
        ++checked;
      }
    }
  }
  CHECK(checked > 20);
}

TEST_CASE("docs: the anchor of a heading is GitHub's") {
  CHECK(anchor_of("`sipprobe register` and `sipprobe diagnose`") == "sipprobe-register-and-sipprobe-diagnose");
  CHECK(anchor_of("`--nagios`") == "--nagios");
  CHECK(anchor_of("The report: `sipprobe.report/1`") == "the-report-sipprobereport1");
  CHECK(anchor_of("`interrupted` — Interrupted before a verdict") == "interrupted--interrupted-before-a-verdict");
}

TEST_CASE("docs: docs/commands.md documents exactly the options of each subcommand") {
  std::set<std::string> every = help_options("");
  std::set<std::string> covered;
  for (const auto& name : subcommands()) {
    const auto o = help_options(name);
    every.insert(o.begin(), o.end());
  }
  for (const auto& s : sections_of_commands_md()) {
    const auto documented = options_in(s.text);
    if (s.commands.empty()) {  // the introduction and general sections: options that exist
      std::set<std::string> unknown;
      for (const auto& o : documented)
        if (every.count(o) == 0) unknown.insert(o);
      CHECK_MESSAGE(unknown.empty(), s.heading << ": not an option of the binary:" << list(unknown));
      continue;
    }
    for (const auto& c : s.commands) {
      check_same_options("docs/commands.md " + s.heading + " vs sipprobe " + c + " --help", documented, help_options(c));
      covered.insert(c);
    }
  }
  for (const auto& name : subcommands()) CHECK_MESSAGE(covered.count(name) == 1, "no section for sipprobe " << name);
}

TEST_CASE("docs: the README's usage block lists every subcommand and exactly its options") {
  const std::string readme = read_text(root / "README.md");
  const auto start = readme.find("Options (sipprobe SUBCOMMAND --help):");
  REQUIRE(start != std::string::npos);
  const auto block_start = readme.rfind("```", start);
  const auto block_end = readme.find("```", start);
  REQUIRE(block_start != std::string::npos);
  REQUIRE(block_end != std::string::npos);
  const std::string synopsis = readme.substr(block_start, start - block_start);
  // "  register, diagnose: --a --b" then continuation lines of options.
  std::map<std::string, std::string> listed;
  std::vector<std::string> current;
  std::istringstream in(readme.substr(start, block_end - start));
  std::smatch m;
  for (std::string line; std::getline(in, line);) {
    if (std::regex_match(line, m, std::regex(R"(  ([a-z, ]+):\s+(.*))"))) {
      current.clear();
      std::istringstream names(m[1].str());
      for (std::string n; std::getline(names, n, ',');) current.push_back(n.substr(n.find_first_not_of(' ')));
    } else if (line.find("--") == std::string::npos) {
      continue;
    }
    for (const auto& c : current) listed[c] += " " + line;
  }
  for (const auto& name : subcommands()) {
    CAPTURE(name);
    CHECK_MESSAGE(synopsis.find("sipprobe " + name + " ") != std::string::npos, "no synopsis line");
    REQUIRE_MESSAGE(listed.count(name) == 1, "no options line");
    check_same_options("README usage block vs sipprobe " + name + " --help", options_in(listed[name]), help_options(name));
  }
}
