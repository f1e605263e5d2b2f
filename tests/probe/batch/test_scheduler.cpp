// The batch scheduler (probe/batch/scheduler.hpp) with many rows against the fake
// registrar: the concurrency bound, one result per row in input order, the rate, rows
// that repeat an account, a stop in the middle, and no binding left behind.
#include <ostream>
#include <doctest/doctest.h>

#include "support/fake_registrar.hpp"
#include "support/registration_rig.hpp"

#include "probe/batch/scheduler.hpp"

#include <boost/asio/steady_timer.hpp>

#include <deque>
#include <set>
#include <string>
#include <vector>

using namespace test_support;
using probe::batch::input_item;
using probe::batch::row_result;

namespace {

// The row of account `user` (password "pw-<user>", which the fake knows).
probe::batch::account_row row_for(std::size_t number, const std::string& user) {
  probe::batch::account_row r;
  r.number = number;
  r.label = "row " + std::to_string(number);
  r.aor = "sip:" + user + "@sip.test";
  r.acct = account_of(r.aor, "pw-" + user);
  return r;
}

// A batch of rows against the fake, on the rig's io_context. Rows are fed from `input`
// as the scheduler asks; `results` collects what it emits.
struct batch_bench {
  registration_rig rig;
  fake_registrar fake{rig.io};
  probe::batch::options options;
  std::deque<input_item> input;
  bool input_ended = true;  // false: an empty input says "later" instead of ending
  std::vector<row_result> results;
  std::unique_ptr<probe::batch::scheduler> scheduler;
  bool done = false;

  batch_bench() {
    options.concurrency = 8;
    options.rate = 0;
    options.timeout = 1000ms;
    options.settings = quick_settings();
    options.route = route_to(fake);
  }

  // `rows` rows (add_rows), at most `concurrency` in flight, every answer `delay` late.
  batch_bench(std::size_t concurrency, std::size_t rows, std::chrono::milliseconds delay) : batch_bench() {
    options.concurrency = concurrency;
    add_rows(rows);
    answer_after(delay);
  }

  // Rows user0 … user<n-1>, numbered from 2 (the header is record 1), known to the fake.
  void add_rows(std::size_t n, std::size_t first = 0) {
    for (std::size_t i = first; i < first + n; ++i) {
      const std::string user = "user" + std::to_string(i);
      fake.add_account(user, "pw-" + user);
      input.push_back({row_for(i + 2, user), std::nullopt, false});
    }
  }

  void start() {
    scheduler = std::make_unique<probe::batch::scheduler>(
        rig.context(), options,
        [this]() -> std::optional<input_item> {
          if (input.empty()) return input_ended ? std::nullopt : std::optional<input_item>(input_item{{}, {}, true});
          auto item = std::move(input.front());
          input.pop_front();
          return item;
        },
        [this](const row_result& r) { results.push_back(r); });
    scheduler->start([this] { done = true; });
  }

  void run(std::chrono::milliseconds limit = 5000ms) {
    if (!scheduler) start();
    test_net::run_until(
        rig.io, [this] { return done; }, limit);
    REQUIRE_MESSAGE(done, "the batch did not finish");
  }

  // Every answer of the fake `d` late, so that registrations overlap.
  void answer_after(std::chrono::milliseconds d) {
    fake.on_request([this, d](const sip_request& r) { return fake.registrar(r).after(d); });
  }

  std::vector<std::size_t> rows_emitted() const {
    std::vector<std::size_t> out;
    for (const auto& r : results) out.push_back(r.row);
    return out;
  }

  std::size_t removals() const {
    std::size_t n = 0;
    for (const auto* r : fake.firsts()) n += r->expires() == 0u;
    return n;
  }
};

std::vector<std::size_t> numbered(std::size_t from, std::size_t count) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < count; ++i) out.push_back(from + i);
  return out;
}

}  // namespace

TEST_CASE("batch scheduler: many rows, at most --concurrency in flight, one result each in order") {
  batch_bench b(8, 60, 5ms);
  b.run();

  CHECK(b.rows_emitted() == numbered(2, 60));
  for (const auto& r : b.results) {
    CAPTURE(r.row);
    CHECK(r.code == "registered");
  }
  // Each registration has one transaction at a time: the fake never holds more open
  // transactions than rows in flight, and with answers this slow the bound is reached.
  CHECK(b.fake.max_in_flight() == b.options.concurrency);
  CHECK(b.scheduler->in_flight() == 0);
  // Every row registered under its own Call-ID and removed its binding.
  std::set<std::string> call_ids;
  for (const auto* r : b.fake.firsts()) call_ids.insert(r->call_id());
  CHECK(call_ids.size() == 60);
  CHECK(b.removals() == 60);
  CHECK(b.fake.binding_count() == 0);
  CHECK(b.fake.rejected().empty());
  // What the rows share (design.md): one RFC 3263 answer, one UDP socket.
  CHECK(b.scheduler->dns_lookups() == 1);
  CHECK(b.scheduler->connections() == 1);
  std::set<std::string> sources;
  for (const auto& r : b.fake.requests()) sources.insert(r.source);
  CHECK(sources.size() == 1);
}

TEST_CASE("batch scheduler: a concurrency of 1 runs one row at a time") {
  batch_bench b(1, 5, 2ms);
  b.run();
  CHECK(b.rows_emitted() == numbered(2, 5));
  CHECK(b.fake.max_in_flight() == 1);
  // Row after row: each row's REGISTERs (challenge, credentials, clean-up) in a block.
  std::vector<std::string> call_ids;
  for (const auto* r : b.fake.firsts()) call_ids.push_back(r->call_id());
  REQUIRE(call_ids.size() == 15);
  for (std::size_t i = 0; i < call_ids.size(); ++i) CHECK(call_ids[i] == call_ids[i - i % 3]);
}

TEST_CASE("batch scheduler: --rate spreads the starts") {
  batch_bench b;
  b.options.concurrency = 20;
  b.options.rate = 100;  // one start every 10 ms, ±10 %
  b.add_rows(20);
  b.run();
  CHECK(b.rows_emitted() == numbered(2, 20));
  // The first REGISTER of each row: 19 gaps of 9 to 11 ms.
  std::vector<std::chrono::steady_clock::time_point> starts;
  for (const auto* r : b.fake.firsts())
    if (r->cseq() == 1) starts.push_back(r->at);
  REQUIRE(starts.size() == 20);
  const auto span = starts.back() - starts.front();
  CHECK(span >= 160ms);
  CHECK(span <= 400ms);
  // Never a burst: a late timer may bring one start forward (the schedule catches up by one
  // gap at most), so any five gaps still take more than three of them.
  for (std::size_t i = 5; i < starts.size(); ++i) CHECK(starts[i] - starts[i - 5] >= 30ms);
}

TEST_CASE("batch scheduler: rows that repeat an account each get their result, and nothing stays bound") {
  batch_bench b;
  b.options.concurrency = 4;
  b.fake.add_account("alice", "pw-alice");
  for (std::size_t n = 2; n < 6; ++n) b.input.push_back({row_for(n, "alice"), std::nullopt, false});
  b.answer_after(3ms);
  b.run();
  CHECK(b.rows_emitted() == numbered(2, 4));
  for (const auto& r : b.results) CHECK(r.code == "registered");
  std::set<std::string> call_ids;
  for (const auto* r : b.fake.firsts()) call_ids.insert(r->call_id());
  CHECK(call_ids.size() == 4);
  CHECK(b.fake.binding_count() == 0);
}

TEST_CASE("batch scheduler: row errors take their place in the output order") {
  batch_bench b;
  b.add_rows(2);
  b.input.insert(
      b.input.begin() + 1,
      input_item{std::nullopt, probe::batch::row_error_result(3, "bad", "sip:x@", "the aor column is not a SIP URI"), false});
  b.input[2].row->number = 4;
  auto bad_registrar = row_for(5, "user0");
  bad_registrar.registrar = "no such host!";
  b.input.push_back({bad_registrar, std::nullopt, false});
  b.run();
  REQUIRE(b.rows_emitted() == numbered(2, 4));
  CHECK(b.results[0].code == "registered");
  CHECK(b.results[1].code == "row_error");
  CHECK(b.results[1].detail == "the aor column is not a SIP URI");
  CHECK(b.results[2].code == "registered");
  CHECK(b.results[3].code == "row_error");
  CHECK(b.results[3].detail.rfind("--registrar: cannot use the value", 0) == 0);
}

TEST_CASE("batch scheduler: a row's own registrar and expires override the batch's") {
  batch_bench b;
  fake_registrar other(b.rig.io);
  other.add_account("user1", "pw-user1");
  b.add_rows(2);
  b.input[1].row->registrar = other.address();
  b.input[1].row->expires = 120;
  b.run();
  CHECK(b.rows_emitted() == numbered(2, 2));
  CHECK(b.results[1].code == "registered");
  REQUIRE(other.firsts().size() == 3);
  CHECK(other.firsts()[0]->expires() == 120u);
  for (const auto* r : b.fake.firsts()) CHECK(r->header("To").find("user0") != std::string::npos);
  CHECK(other.binding_count() == 0);
  CHECK(b.scheduler->dns_lookups() == 2);
}

TEST_CASE("batch scheduler: input that comes later is waited for") {
  batch_bench b;
  b.input_ended = false;
  b.add_rows(3);
  b.start();
  // More rows, then the end, as a slow producer would deliver them.
  boost::asio::steady_timer later(b.rig.io, 50ms);
  later.async_wait([&b](const boost::system::error_code&) {
    b.add_rows(2, 3);
    b.input_ended = true;
    b.scheduler->input_ready();
  });
  b.run();
  CHECK(b.rows_emitted() == numbered(2, 5));
  CHECK(b.fake.binding_count() == 0);
}

TEST_CASE("batch scheduler: stop() starts no new row, finishes those in flight and removes their bindings") {
  batch_bench b(4, 40, 20ms);
  b.start();
  boost::asio::steady_timer stop(b.rig.io, 30ms);
  stop.async_wait([&b](const boost::system::error_code&) { b.scheduler->stop(); });
  b.run();
  CHECK(b.scheduler->stopped());
  // Rows 2 to 5 were in flight at the stop; rows beyond the window never started.
  REQUIRE(b.results.size() >= 4);
  CHECK(b.results.size() < 40);
  CHECK(b.rows_emitted() == numbered(2, b.results.size()));
  for (const auto& r : b.results) CHECK(r.code == "registered");
  CHECK(b.removals() == b.results.size());
  CHECK(b.fake.binding_count() == 0);
}
