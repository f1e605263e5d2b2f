#include <ostream>
#include <doctest/doctest.h>

#include "probe/core/errors.hpp"
#include "probe/core/secret.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct fake_world {
  std::map<std::string, std::string> vars;
  std::istringstream in;
  bool tty = false;
  std::optional<std::string> typed;
  std::vector<std::string> warnings;
  int prompts = 0;

  probe::secret_env env() {
    probe::secret_env e;
    e.getenv = [this](const char* n) -> const char* {
      auto it = vars.find(n);
      return it == vars.end() ? nullptr : it->second.c_str();
    };
    e.in = &in;
    e.stdin_is_tty = tty;
    e.prompt = [this](const std::string&) {
      ++prompts;
      return typed;
    };
    e.warn = [this](const std::string& w) { warnings.push_back(w); };
    return e;
  }
};

std::string temp_file(const std::string& content) {
  std::string path = "/tmp/sipprobe-test-secret-XXXXXX";
  int fd = ::mkstemp(path.data());
  REQUIRE(fd >= 0);
  ::close(fd);
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

std::string usage_message(const probe::secret_options& o, fake_world& w, bool required = true) {
  try {
    probe::acquire_secret(o, w.env(), required);
  } catch (const probe::usage_error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("secret: from an environment variable, a file, stdin") {
  fake_world w;
  w.vars["PW"] = "s3cret";
  probe::secret_options o;
  o.password_env = "PW";
  auto s = probe::acquire_secret(o, w.env());
  CHECK(s.password == "s3cret");
  CHECK(s.source == "environment variable PW");

  probe::secret_options f;
  f.password_file = temp_file("from file\r\nsecond line ignored\n");
  CHECK(probe::acquire_secret(f, w.env()).password == "from file");
  std::remove(f.password_file.c_str());

  fake_world w2;
  w2.in.str("piped\n");
  probe::secret_options i;
  i.password_stdin = true;
  auto p = probe::acquire_secret(i, w2.env());
  CHECK(p.password == "piped");
  CHECK(p.source == "standard input");
}

TEST_CASE("secret: --password works but warns") {
  fake_world w;
  probe::secret_options o;
  o.password = "visible";
  CHECK(probe::acquire_secret(o, w.env()).password == "visible");
  REQUIRE(w.warnings.size() == 1);
  CHECK(w.warnings[0].find("visible to other users") != std::string::npos);
}

TEST_CASE("secret: SIPPROBE_PASSWORD, then the prompt, in that order") {
  fake_world w;
  w.vars["SIPPROBE_PASSWORD"] = "from-var";
  w.tty = true;
  w.typed = "typed";
  CHECK(probe::acquire_secret({}, w.env()).password == "from-var");
  CHECK(w.prompts == 0);
  w.vars.clear();
  auto s = probe::acquire_secret({}, w.env());
  CHECK(s.password == "typed");
  CHECK(s.source == "prompt");
  CHECK(w.prompts == 1);
}

TEST_CASE("secret: HA1 instead of a password") {
  fake_world w;
  w.vars["HA1"] = "939e7578ed9e3c518a452acee763bce9";
  probe::secret_options o;
  o.ha1_env = "HA1";
  auto s = probe::acquire_secret(o, w.env());
  CHECK(s.ha1 == "939e7578ed9e3c518a452acee763bce9");
  CHECK(s.password.empty());
}

TEST_CASE("secret: every failure is a precise usage error") {
  struct row {
    const char* what;
    probe::secret_options opts;
    const char* expected;
  };
  probe::secret_options two;
  two.password_env = "A";
  two.password_stdin = true;
  probe::secret_options unset;
  unset.password_env = "NOPE";
  probe::secret_options missing_file;
  missing_file.password_file = "/nonexistent/pw";
  probe::secret_options bad_ha1;
  bad_ha1.ha1_env = "BADHA1";
  probe::secret_options empty_var;
  empty_var.password_env = "EMPTY";
  const row rows[] = {
      {"two sources", two, "one way only"},
      {"unset variable", unset, "NOPE is not set"},
      {"missing file", missing_file, "cannot read /nonexistent/pw"},
      {"HA1 not hex", bad_ha1, "is not an HA1"},
      {"empty password", empty_var, "is empty"},
      {"nothing at all, no tty", {}, "no password: use --password-env"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.what);
    fake_world w;
    w.vars["BADHA1"] = "xyz";
    w.vars["EMPTY"] = "";
    CHECK(usage_message(r.opts, w).find(r.expected) != std::string::npos);
  }
}

TEST_CASE("secret: oversized file is refused, not read whole") {
  fake_world w;
  probe::secret_options o;
  o.password_file = temp_file(std::string(probe::max_secret_bytes + 10, 'a'));
  CHECK(usage_message(o, w).find("more than 1024 bytes") != std::string::npos);
  std::remove(o.password_file.c_str());
}

TEST_CASE("secret: not required gives an empty secret") {
  fake_world w;
  auto s = probe::acquire_secret({}, w.env(), false);
  CHECK(s.password.empty());
  CHECK(s.ha1.empty());
}

TEST_CASE("secret: argv scrubbing hides --password values") {
  std::string a0 = "sipprobe", a1 = "--password", a2 = "hunter2", a3 = "--password=topsecret", a4 = "--user";
  std::vector<char*> argv{a0.data(), a1.data(), a2.data(), a3.data(), a4.data()};
  probe::scrub_password_argv(static_cast<int>(argv.size()), argv.data());
  CHECK(std::string(argv[2]) == "xxxxxxx");
  CHECK(std::string(argv[3]) == "--password=xxxxxxxxx");
  CHECK(std::string(argv[4]) == "--user");
}

TEST_CASE("secret: a password file others can read is used, with a warning") {
  struct row {
    ::mode_t mode;
    bool warned;
  };
  const row rows[] = {{0600, false}, {0400, false}, {0640, false}, {0644, true}, {0604, true}, {0666, true}};
  for (const auto& r : rows) {
    CAPTURE(r.mode);
    fake_world w;
    probe::secret_options o;
    o.password_file = temp_file("pw\n");
    REQUIRE(::chmod(o.password_file.c_str(), r.mode) == 0);
    auto s = probe::acquire_secret(o, w.env());
    CHECK(s.password == "pw");
    REQUIRE(w.warnings.size() == (r.warned ? 1u : 0u));
    if (r.warned) {
      CHECK(w.warnings[0].find("readable by other users") != std::string::npos);
      CHECK(w.warnings[0].find("chmod 600") != std::string::npos);
      CHECK(w.warnings[0].find("pw") == std::string::npos);  // never the secret itself
    }
    std::remove(o.password_file.c_str());
  }
}

TEST_CASE("secret: a directory as --password-file is not a file") {
  fake_world w;
  probe::secret_options o;
  o.password_file = "/tmp";
  CHECK(usage_message(o, w) == "--password-file: /tmp is a directory, not a file");
}

TEST_CASE("secret: a file at the size limit is read, one byte more is refused") {
  fake_world w;
  probe::secret_options o;
  o.password_file = temp_file(std::string(probe::max_secret_bytes, 'a'));
  CHECK(probe::acquire_secret(o, w.env()).password.size() == probe::max_secret_bytes);
  std::remove(o.password_file.c_str());
  o.password_file = temp_file(std::string(probe::max_secret_bytes + 1, 'a'));
  CHECK(usage_message(o, w).find("holds more than 1024 bytes") != std::string::npos);
  std::remove(o.password_file.c_str());
}
