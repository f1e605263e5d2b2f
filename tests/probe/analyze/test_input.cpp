// `sipprobe analyze`: format detection, the text state machine, the memory bounds of the
// attempt tracker, summary mode, and the command line's exit statuses.
#include <ostream>
#include <doctest/doctest.h>

#include "probe/analyze/run.hpp"
#include "sip/parse.hpp"
#include "support/process.hpp"

#include <nlohmann/json.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

using namespace probe::analyze;

namespace {

struct collect : trace_sink {
  std::vector<std::string> starts;  // first line of each message
  std::vector<std::string> srcs, dsts;
  std::vector<double> times;
  std::vector<std::string> warnings;
  void on_message(const sip::message_view& m, const message_meta& meta) override {
    starts.push_back(m.is_request() ? std::string(m.method) : std::to_string(m.status));
    srcs.emplace_back(meta.src);
    dsts.emplace_back(meta.dst);
    times.push_back(meta.time);
  }
  void on_warning(std::string where, std::string what) override { warnings.push_back(where + ": " + what); }
};

collect read(std::string_view text, trace_format f = trace_format::automatic) {
  collect c;
  std::string copy(text);
  std::FILE* in = fmemopen(copy.data(), copy.size(), "r");
  REQUIRE(in != nullptr);
  read_text(in, "t", f == trace_format::automatic ? detect_format(text) : f, c);
  std::fclose(in);
  return c;
}

std::string reg(int cseq, const std::string& call_id, const std::string& extra = "") {
  return "REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.5;branch=z9hG4bK" + call_id + std::to_string(cseq) +
         "\r\nFrom: <sip:1@example.com>;tag=1\r\nTo: <sip:1@example.com>\r\nCall-ID: " + call_id +
         "\r\nCSeq: " + std::to_string(cseq) + " REGISTER\r\nContact: <sip:1@10.0.0.5>\r\n" + extra + "Content-Length: 0\r\n\r\n";
}

std::string resp(int cseq, const std::string& call_id, int status) {
  return "SIP/2.0 " + std::to_string(status) + " X\r\nVia: SIP/2.0/UDP 10.0.0.5;branch=z9hG4bK" + call_id + std::to_string(cseq) +
         "\r\nFrom: <sip:1@example.com>;tag=1\r\nTo: <sip:1@example.com>;tag=2\r\nCall-ID: " + call_id +
         "\r\nCSeq: " + std::to_string(cseq) + " REGISTER\r\nContent-Length: 0\r\n\r\n";
}

}  // namespace

TEST_CASE("analyze: format detection from the first bytes") {
  CHECK(detect_format(std::string("\xd4\xc3\xb2\xa1", 4)) == trace_format::pcap);
  CHECK(detect_format(std::string("\x0a\x0d\x0d\x0a", 4)) == trace_format::pcap);
  CHECK(detect_format("interface: any\nfilter: port 5060\n") == trace_format::ngrep);
  CHECK(detect_format("\nU 10.0.0.5:5060 -> 1.2.3.4:5060\nREGISTER sip:a SIP/2.0.\n") == trace_format::ngrep);
  CHECK(detect_format(
            "[Jan 1] VERBOSE[1] res_pjsip_logger.c: <--- Received SIP request (512 bytes) from UDP:10.0.0.5:5060 --->\n") ==
        trace_format::asterisk);
  CHECK(detect_format("<--- SIP read from UDP:10.0.0.5:5060 --->\n") == trace_format::asterisk);
  CHECK(detect_format("recv 512 bytes from udp/[10.0.0.5]:5060 at 10:00:00.123456:\n") == trace_format::fslog);
  CHECK(detect_format("2024/05/01 10:00:00.123456 10.0.0.5:5060 -> 1.2.3.4:5060\nREGISTER") == trace_format::sngrep);
  CHECK(detect_format("REGISTER sip:a SIP/2.0\nTo: <sip:a>\n") == trace_format::text);
  CHECK(detect_format("") == trace_format::text);
  CHECK(format_from_string("kamailio") == trace_format::fslog);
  CHECK(format_from_string("pcapng") == trace_format::pcap);
  CHECK_FALSE(format_from_string("wav"));
}

TEST_CASE("analyze: log times, with and without a date") {
  double t = 0;
  bool abs = false;
  REQUIRE(parse_log_time("U 2024/05/01 10:00:00.250000 1.2.3.4:5 -> 5.6.7.8:9", t, abs));
  CHECK(abs);
  CHECK(t == doctest::Approx(1714557600.25));
  REQUIRE(parse_log_time("[2024-05-01 10:00:01.5] VERBOSE", t, abs));
  CHECK(t == doctest::Approx(1714557601.5));
  REQUIRE(parse_log_time("recv 5 bytes from udp/[1.2.3.4]:5060 at 23:59:59.000001:", t, abs));
  CHECK_FALSE(abs);
  CHECK(t == doctest::Approx(86399.000001));
  CHECK_FALSE(parse_log_time("from udp/[10.0.0.5]:5060 and [2001:db8::1]:5060", t, abs));
  CHECK(format_time(1714557600.25, true) == "2024-05-01T10:00:00.250000Z");
  CHECK(format_time(3661.5, false) == "01:01:01.500000");
  CHECK(format_time(-1, false).empty());
}

TEST_CASE("analyze: text reader — separators, arrows, bodies, junk and bad messages") {
  // Messages back to back without blank lines, with log noise and an arrow between them.
  auto c = read(
      "some chat before\n"
      "REGISTER sip:a.example SIP/2.0\n"
      "To: <sip:1@a.example>\n"
      "SIP/2.0 401 Unauthorized\n"
      "To: <sip:1@a.example>\n"
      "\n"
      "10.0.0.5:5060 -> 192.0.2.1:5060\n"
      "REGISTER sip:a.example SIP/2.0\n"
      "Content-Type: application/sdp\n"
      "Content-Length: 999\n"
      "\n"
      "v=0\n"
      "o=- 1 1 IN IP4 10.0.0.5\n"
      "\n"
      "SIP/2.0 200\n"
      "\n"
      "INVITE this is not a start line\n"
      "SIP/2.0 200 OK\n"
      "Via: this is not a via\n"
      "\n");
  CHECK(c.starts == std::vector<std::string>{"REGISTER", "401", "REGISTER", "200", "200"});
  CHECK(c.srcs[2] == "10.0.0.5:5060");
  CHECK(c.dsts[2] == "192.0.2.1:5060");
  CHECK(c.srcs[3].empty());  // an arrow gives addresses to the next message only
  CHECK(c.warnings.empty());

  // A header line the parser rejects is a warning with file:line, not a stop.
  auto bad = read("REGISTER sip:a SIP/2.0\nCSeq: banana\nTo: <sip:1@a>\n\nSIP/2.0 200 OK\n\n");
  CHECK(bad.starts == std::vector<std::string>{"REGISTER", "200"});
  CHECK(bad.warnings.empty());  // lenient: CSeq is only checked by the typed accessor
  auto broken = read("REGISTER sip:a SIP/2.0\nTo <sip:1@a>\n\x01\x02\n");
  CHECK(broken.starts.size() == 1);

  // ngrep without -W byline: the packet on one line, CR LF as "..".
  auto ng = read(
      "interface: eth0\n\nU 10.0.0.5:5060 -> 192.0.2.1:5060\nREGISTER sip:a SIP/2.0..To: <sip:1@a>..Content-Length: 0....\n\n",
      trace_format::ngrep);
  CHECK(ng.starts == std::vector<std::string>{"REGISTER"});
  CHECK(ng.srcs[0] == "10.0.0.5:5060");
}

TEST_CASE("analyze: text reader gives the same messages whatever the chunking") {
  std::string text;
  for (int i = 0; i < 200; ++i)
    text += reg(i + 1, "c" + std::to_string(i)) + "\n" + resp(i + 1, "c" + std::to_string(i), 200) + "\n";
  auto whole = read(text, trace_format::text);
  CHECK(whole.starts.size() == 400);
  // One line far over the limit: cut, skipped, and the reader goes on.
  std::string longline = "X-Junk: " + std::string(100000, 'a') + "\n";
  auto c = read(reg(1, "x", longline) + "\n" + reg(2, "y"), trace_format::text);
  CHECK(c.starts.size() >= 1);
  CHECK(c.starts.back() == "REGISTER");
}

TEST_CASE("analyze: open attempts stay bounded, idle time closes them, summary mode keeps counts") {
  std::vector<attempt> closed;
  std::size_t max_open = 0;
  tracker_limits lim;
  attempt_tracker t([&](attempt&& a) { closed.push_back(std::move(a)); }, lim);
  sip::parse_options opt;
  opt.lenient = true;
  auto feed = [&](const std::string& text, double time) {
    sip::message_view v;
    REQUIRE_FALSE(sip::parse(text, v, sip::framing::datagram, opt).ec);
    message_meta m;
    m.time = time;
    m.absolute_time = true;
    m.file = "mem";
    t.on_message(v, m);
    max_open = std::max(max_open, t.open_attempts());
  };
  // 3000 phones, each REGISTER once a second apart; every third never gets an answer.
  for (int i = 0; i < 3000; ++i) {
    const std::string id = "call-" + std::to_string(i);
    feed(reg(1, id), i);
    if (i % 3 != 0) feed(resp(1, id, 200), i + 0.01);
  }
  CHECK(max_open <= 40);  // Timer F window (32 s), not the trace
  t.finish();
  CHECK(t.open_attempts() == 0);
  REQUIRE(closed.size() == 3000);
  std::size_t no_response = 0, incomplete = 0;
  for (const auto& a : closed) {
    const auto code = classify(a);
    CHECK(code == diagnose(a, {}).primary.code);
    no_response += code == probe::diagnosis_code::no_response;
    incomplete += code == probe::diagnosis_code::trace_incomplete;
  }
  // The trace ends at 2999.01 s: the 10 unanswered REGISTERs of its last 32 s (2970 …
  // 2997) could still have been answered (Timer F), the 990 before could not.
  CHECK(no_response == 990);
  CHECK(incomplete == 10);

  attempt_store store(10);
  for (auto& a : closed) store.add(std::move(a));
  store.finalize({});
  CHECK(store.total() == 3000);
  CHECK(store.summarized());
  CHECK(store.by_diagnosis().at("registered") == 2000);
  CHECK(store.by_diagnosis().at("no_response") == 990);
  CHECK(store.by_diagnosis().at("trace_incomplete") == 10);
  auto kept = store.kept();
  CHECK(kept.size() <= 21);
  CHECK(kept.back()->call_id == "call-2999");
  CHECK(store.primary()->call_id == "call-2999");

  // A 401 loop without pause keeps one attempt with bounded messages.
  std::vector<attempt> loops;
  attempt_tracker t2([&](attempt&& a) { loops.push_back(std::move(a)); }, lim);
  sip::message_view v;
  for (int i = 1; i <= 500; ++i) {
    auto q = reg(i, "loop"), s = resp(i, "loop", 401);
    REQUIRE_FALSE(sip::parse(q, v, sip::framing::datagram, opt).ec);
    t2.on_message(v, {});
    REQUIRE_FALSE(sip::parse(s, v, sip::framing::datagram, opt).ec);
    t2.on_message(v, {});
  }
  t2.finish();
  REQUIRE(loops.size() == 1);
  CHECK(loops[0].messages.size() == lim.max_messages);
  CHECK(loops[0].dropped == 1000 - lim.max_messages);
}

TEST_CASE("analyze: the command line — exit statuses and one-line errors") {
  const std::string bin = SIPPROBE_BINARY;
  const std::string data = std::string(SIPPROBE_TEST_DATA) + "/traces/";
  auto run = [&](const std::string& args) {
    return test_support::run(test_support::shell_quote(bin) + " analyze " + args + " 2>&1");
  };

  auto ok = run(test_support::shell_quote(data + "pcap/registered_ether.pcap") + " --json");
  CHECK(ok.exit_code == 0);
  auto j = nlohmann::json::parse(ok.out, nullptr, false);
  REQUIRE_FALSE(j.is_discarded());
  CHECK(j["diagnosis"]["code"] == "registered");

  auto failed = run(test_support::shell_quote(data + "text/forbidden.txt") + " --color never");
  CHECK(failed.exit_code == 1);
  CHECK(failed.out.find("forbidden") != std::string::npos);
  CHECK(failed.out.find("REGISTER sip:sip.example.com (CSeq 2, Authorization user \"1001\"") != std::string::npos);

  auto piped = test_support::run("cat " + test_support::shell_quote(data + "pcap/auth_failed_sll2.pcap") + " | " +
                                 test_support::shell_quote(bin) + " analyze - --json 2>&1");
  CHECK(piped.exit_code == 1);
  CHECK(piped.out.find("\"auth_failed\"") != std::string::npos);

  for (const char* bad : {"bad/empty.txt", "bad/noise.bin", "bad/no_sip.pcap", "bad/options_only.txt", "does-not-exist.pcap"}) {
    CAPTURE(bad);
    auto r = run(test_support::shell_quote(data + bad));
    CHECK(r.exit_code == 2);
    CHECK(r.out.starts_with("sipprobe: "));
    CHECK(std::count(r.out.begin(), r.out.end(), '\n') == 1);
  }
  auto cut = run(test_support::shell_quote(data + "bad/truncated.pcap") + " --json");
  CHECK(cut.exit_code == 1);
  CHECK(cut.out.find("capture cut short") != std::string::npos);

  auto wrong = test_support::run("PW=secret-1001 " + test_support::shell_quote(bin) + " analyze " +
                                 test_support::shell_quote(data + "text/password_check_wrong.txt") +
                                 " --password-env PW --json 2>&1");
  CHECK(wrong.exit_code == 1);
  CHECK(wrong.out.find("does not produce the response the phone sent") != std::string::npos);
  CHECK(wrong.out.find("secret-1001") == std::string::npos);
}

TEST_CASE("analyze: --timeout and --max-bytes bound inputs that never end") {
  const std::string bin = test_support::shell_quote(SIPPROBE_BINARY);
  const std::string capture = std::string(SIPPROBE_TEST_DATA) + "/traces/pcap/registered_ether.pcap";
  // The outer `timeout 30` only keeps a hang from hanging the test run: it exits 124.
  auto run = [&](const std::string& cmd) {
    const auto start = std::chrono::steady_clock::now();
    auto r = test_support::run("timeout 30 " + cmd + " 2>&1");
    return std::pair{r, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()};
  };
  auto one_line_error = [](const test_support::run_result& r, const std::string& part) {
    INFO(r.out);
    CHECK(r.exit_code == 2);
    CHECK(r.out.starts_with("sipprobe: "));
    CHECK(std::count(r.out.begin(), r.out.end(), '\n') == 1);
    CHECK(r.out.find(part) != std::string::npos);
  };

  // A FIFO nobody writes to: open(2) blocks until --timeout ends the run.
  char dir[] = "/tmp/sipprobe-fifo-XXXXXX";
  REQUIRE(::mkdtemp(dir) != nullptr);
  const std::string fifo = std::string(dir) + "/trace";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  auto [blocked, blocked_s] = run(bin + " analyze " + test_support::shell_quote(fifo) + " --timeout 1");
  one_line_error(blocked, "did not end within --timeout 1 s");
  CHECK(blocked_s < 10);
  std::filesystem::remove_all(dir);

  // /dev/zero and endless standard input never end: --timeout, or --max-bytes first.
  auto [zero, zero_s] = run(bin + " analyze /dev/zero --timeout 1");
  one_line_error(zero, "--timeout 1 s");
  CHECK(zero_s < 10);
  auto [zero_bytes, zero_bytes_s] = run(bin + " analyze /dev/zero --max-bytes 1000000");
  one_line_error(zero_bytes, "more than --max-bytes 1000000 bytes");
  CHECK(zero_bytes_s < 10);
  auto [endless, endless_s] = run("yes 'REGISTER sip:a SIP/2.0' | " + bin + " analyze - --timeout 1");
  one_line_error(endless, "--timeout 1 s");
  CHECK(endless_s < 10);

  // The exact bound: a file of N bytes, or a pipe of them, passes --max-bytes N and not N - 1.
  const auto size = std::filesystem::file_size(capture);
  for (const bool piped : {false, true}) {
    CAPTURE(piped);
    const std::string file = test_support::shell_quote(capture);
    const std::string head = piped ? "cat " + file + " | " + bin + " analyze -" : bin + " analyze " + file;
    auto at = run(head + " --json --max-bytes " + std::to_string(size)).first;
    INFO(at.out);
    CHECK(at.exit_code == 0);
    CHECK(at.out.find("\"registered\"") != std::string::npos);
    one_line_error(run(head + " --max-bytes " + std::to_string(size - 1)).first, "--max-bytes " + std::to_string(size - 1));
  }
}

TEST_CASE("analyze: the tracker's limits hold exactly at their edge") {
  sip::parse_options opt;
  opt.lenient = true;
  std::vector<attempt> closed;
  auto feeder = [&](attempt_tracker& t) {
    return [&t, &opt](const std::string& text, double time) {
      sip::message_view v;
      REQUIRE_FALSE(sip::parse(text, v, sip::framing::datagram, opt).ec);
      message_meta m;
      m.time = time;
      m.file = "mem";
      t.on_message(v, m);
    };
  };
  tracker_limits lim;

  SUBCASE("idle time: an attempt closes when exactly --idle passed, not a microsecond earlier") {
    for (const double later : {31.999999, 32.0}) {
      CAPTURE(later);
      attempt_tracker t([&](attempt&& a) { closed.push_back(std::move(a)); }, lim);
      auto feed = feeder(t);
      feed(reg(1, "quiet"), 0);
      feed(reg(1, "other"), later);
      CHECK(t.open_attempts() == (later >= 32 ? 1u : 2u));
    }
  }
  SUBCASE("a first challenge waits exactly challenge_wait_seconds for its answer") {
    for (const double later : {300.499999, 300.5}) {  // binary-exact: the edge is the edge
      CAPTURE(later);
      attempt_tracker t([&](attempt&& a) { closed.push_back(std::move(a)); }, lim);
      auto feed = feeder(t);
      feed(reg(1, "asked"), 0);
      feed(resp(1, "asked", 401), 0.5);
      feed(reg(1, "other"), 40);  // past --idle: the challenged attempt waits
      CHECK(t.open_attempts() == 2);
      feed(reg(2, "other"), later);
      CHECK(t.open_attempts() == (later >= 300.5 ? 1u : 2u));
    }
  }
  SUBCASE("an attempt keeps max_messages messages, the one after drops one") {
    for (const std::size_t n : {lim.max_messages, lim.max_messages + 1}) {
      CAPTURE(n);
      closed.clear();
      attempt_tracker t([&](attempt&& a) { closed.push_back(std::move(a)); }, lim);
      auto feed = feeder(t);
      for (std::size_t i = 0; i < n; ++i)
        feed(i % 2 ? resp(static_cast<int>(i / 2 + 1), "long", 401) : reg(static_cast<int>(i / 2 + 1), "long"),
             0.001 * static_cast<double>(i));
      t.finish();
      REQUIRE(closed.size() == 1);
      CHECK(closed[0].messages.size() == lim.max_messages);
      CHECK(closed[0].dropped == n - lim.max_messages);
    }
  }
  SUBCASE("max_open attempts stay open, one more closes the least recently active") {
    tracker_limits few = lim;
    few.max_open = 4;
    closed.clear();
    attempt_tracker t([&](attempt&& a) { closed.push_back(std::move(a)); }, few);
    auto feed = feeder(t);
    for (int i = 0; i < 4; ++i) feed(reg(1, "p" + std::to_string(i)), i);
    CHECK(t.open_attempts() == 4);
    CHECK(closed.empty());
    feed(reg(1, "p4"), 4);
    CHECK(t.open_attempts() == 4);
    REQUIRE(closed.size() == 1);
    CHECK(closed[0].call_id == "p0");
  }
  SUBCASE("max_warnings warnings are kept, the next ones only counted") {
    attempt_tracker t([&](attempt&& a) { closed.push_back(std::move(a)); }, lim);
    for (std::size_t i = 0; i < lim.max_warnings; ++i) t.on_warning("w", "x");
    CHECK(t.warnings().size() == lim.max_warnings);
    CHECK(t.warnings_total() == lim.max_warnings);
    t.on_warning("w", "x");
    CHECK(t.warnings().size() == lim.max_warnings);
    CHECK(t.warnings_total() == lim.max_warnings + 1);
  }
}
