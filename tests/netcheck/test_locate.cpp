// netcheck/rfc3263: the async driver end to end on the resolver, against the in-process fake
// DNS server — rounds, parallel queries, the overall deadline.
#include "netcheck/error.hpp"
#include "netcheck/rfc3263.hpp"

#include "fake_dns.hpp"

#include <ostream>
#include <doctest/doctest.h>

using namespace netcheck;
using namespace fake_dns;

namespace {

// A small zone: x.test NAPTR → _sip._udp/_sip._tcp → pbx (127.0.0.1, ::1) and a backup.
std::optional<bytes> zone(const question& q, bool) {
  if (q.name == "x.test" && q.type == t_naptr)
    return response(q, noerror,
                    {{q.name, t_naptr, 300, naptr_rdata(10, 1, "s", "SIP+D2T", "", "_sip._tcp.x.test")},
                     {q.name, t_naptr, 300, naptr_rdata(20, 1, "s", "SIP+D2U", "", "_sip._udp.x.test")}});
  if (q.name == "_sip._tcp.x.test" && q.type == t_srv)
    return response(q, noerror, {{q.name, t_srv, 60, srv_rdata(10, 1, 5070, "pbx.x.test")}});
  if (q.name == "_sip._udp.x.test" && q.type == t_srv)
    return response(q, noerror,
                    {{q.name, t_srv, 60, srv_rdata(20, 0, 5099, "backup.x.test")},
                     {q.name, t_srv, 60, srv_rdata(10, 1, 5060, "pbx.x.test")}});
  if (q.name == "pbx.x.test" && q.type == t_a) return response(q, noerror, {{q.name, t_a, 30, a_rdata("127.0.0.1")}});
  if (q.name == "pbx.x.test" && q.type == t_aaaa) return response(q, noerror, {{q.name, t_aaaa, 30, aaaa_rdata("::1")}});
  if (q.name == "backup.x.test" && q.type == t_a) return response(q, noerror, {{q.name, t_a, 30, a_rdata("127.0.0.3")}});
  if (q.name == "backup.x.test") return response(q, noerror, {});
  if (q.name.starts_with("slow")) return std::nullopt;
  return response(q, nxdomain, {});
}

struct bench {
  boost::asio::io_context io;
  server dns{io, zone};
  std::unique_ptr<resolver> res;
  std::mt19937 rng{1234};

  bench() {
    resolver_settings s;
    s.servers = {dns.address()};
    s.timeout = std::chrono::milliseconds(300);
    s.tries = 2;
    res = std::make_unique<resolver>(io, s);
  }

  resolution locate(locate_request q, locate_limits lim = {}) {
    std::optional<resolution> out;
    async_locate(*res, std::move(q), lim, rng, [&](resolution r) {
      out = std::move(r);
      res->cancel();
    });
    while (!out && io.run_one_for(std::chrono::seconds(15)) > 0) {
    }
    REQUIRE(out);
    return *out;
  }
};

std::vector<std::string> describe(const std::vector<target>& ts) {
  std::vector<std::string> out;
  for (const auto& t : ts)
    out.push_back(std::string(to_string(t.t)) + " " + t.address + " " + std::to_string(t.port) + " " +
                  std::string(to_string(t.found_by)) + " " + t.host);
  return out;
}

}  // namespace

TEST_CASE("async_locate: NAPTR → SRV → A/AAAA over the resolver") {
  bench b;
  locate_request q;
  q.host = "X.test";
  auto r = b.locate(q);
  CHECK(!r.error);
  CHECK_FALSE(r.deadline_reached);
  CHECK(describe(r.targets) == std::vector<std::string>{"tcp 127.0.0.1 5070 naptr pbx.x.test", "tcp ::1 5070 naptr pbx.x.test",
                                                        "udp 127.0.0.1 5060 naptr pbx.x.test", "udp ::1 5060 naptr pbx.x.test",
                                                        "udp 127.0.0.3 5099 naptr backup.x.test"});
  // NAPTR, 2 SRV, A+AAAA for pbx and backup; pbx asked once although two SRV name it.
  CHECK(r.queries.size() == 7);
  CHECK(r.queries[0].type == rr_type::naptr);
  for (const auto& qr : r.queries) CHECK(qr.elapsed < std::chrono::milliseconds(1000));
  CHECK(r.elapsed < std::chrono::milliseconds(2000));
}

TEST_CASE("async_locate: NXDOMAIN all the way is a cited nxdomain") {
  bench b;
  locate_request q;
  q.host = "nosuch.test";
  auto r = b.locate(q);
  CHECK(r.targets.empty());
  CHECK(r.error == errc::nxdomain);
  REQUIRE(r.failed_query);
  CHECK(r.queries[*r.failed_query].status == dns_status::nxdomain);
  CHECK(r.queries.size() == 6);  // NAPTR, 3 SRV, A, AAAA
}

TEST_CASE("async_locate: the overall deadline ends a silent resolution on time") {
  bench b;
  locate_request q;
  q.host = "slow.test";
  locate_limits lim;
  lim.deadline = std::chrono::milliseconds(250);
  auto start = std::chrono::steady_clock::now();
  auto r = b.locate(q, lim);
  auto took = std::chrono::steady_clock::now() - start;
  CHECK(took < std::chrono::milliseconds(1000));
  CHECK(r.deadline_reached);
  CHECK(r.targets.empty());
  CHECK(r.error == errc::timeout);
  REQUIRE(r.failed_query);
  CHECK(r.queries[*r.failed_query].status == dns_status::timeout);
  CHECK(r.queries[*r.failed_query].elapsed >= std::chrono::milliseconds(200));
}

TEST_CASE("async_locate: the query limit is a bound, reported") {
  bench b;
  locate_request q;
  q.host = "x.test";
  locate_limits lim;
  lim.max_queries = 2;
  auto r = b.locate(q, lim);
  CHECK(r.limited);
  CHECK(r.queries.size() == 2);
  CHECK(r.targets.empty());
  CHECK(r.error == errc::limit_reached);
}
