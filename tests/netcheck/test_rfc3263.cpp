// netcheck/rfc3263: the planner's pure policy, table by table, on hand-made query results.
#include "netcheck/error.hpp"
#include "netcheck/rfc3263.hpp"

#include <ostream>
#include <doctest/doctest.h>

#include <map>

using namespace netcheck;

namespace {

const transport udp = transport::udp, tcp = transport::tcp, tls = transport::tls;

query_result ok_naptr(std::string name, std::vector<naptr_record> recs) {
  query_result r;
  r.name = std::move(name);
  r.type = rr_type::naptr;
  r.status = dns_status::ok;
  r.naptr = std::move(recs);
  return r;
}
query_result ok_srv(std::string name, std::vector<srv_record> recs) {
  query_result r;
  r.name = std::move(name);
  r.type = rr_type::srv;
  r.status = dns_status::ok;
  r.srv = std::move(recs);
  return r;
}
query_result ok_addr(std::string name, rr_type t, std::vector<std::string> addrs) {
  query_result r;
  r.name = std::move(name);
  r.type = t;
  r.status = dns_status::ok;
  r.addresses = std::move(addrs);
  return r;
}
query_result failed(std::string name, rr_type t, dns_status s) {
  query_result r;
  r.name = std::move(name);
  r.type = t;
  r.status = s;
  return r;
}

naptr_record naptr(std::uint16_t order, std::uint16_t pref, std::string flags, std::string service, std::string replacement,
                   std::string regexp = "") {
  return {order, pref, std::move(flags), std::move(service), std::move(regexp), std::move(replacement)};
}

locate_request req_for(std::string host) {
  locate_request r;
  r.host = std::move(host);
  return r;
}

std::vector<std::string> keys(const std::vector<query_key>& ks) {
  std::vector<std::string> out;
  for (const auto& k : ks) out.push_back(std::string(to_string(k.type)) + " " + k.name);
  return out;
}

std::string describe(const target& t) {
  std::string a = t.address.find(':') != std::string::npos ? "[" + t.address + "]" : t.address;
  return std::string(to_string(t.t)) + " " + a + ":" + std::to_string(t.port) + " " + std::string(to_string(t.found_by));
}

std::vector<std::string> describe(const std::vector<target>& ts) {
  std::vector<std::string> out;
  for (const auto& t : ts) out.push_back(describe(t));
  return out;
}

}  // namespace

TEST_CASE("allowed_transports and default ports") {
  struct row {
    bool secure;
    std::optional<transport> forced;
    netcheck::transport_set supported;
    std::vector<transport> want;
  };
  const std::vector<row> rows = {
      {false, std::nullopt, {udp, tcp, tls}, {udp, tcp, tls}},
      {true, std::nullopt, {udp, tcp, tls}, {tls}},
      {false, tcp, {udp, tcp, tls}, {tcp}},
      {true, udp, {udp, tcp, tls}, {}},
      {false, std::nullopt, {tls, udp}, {udp, tls}},
      {false, tls, {udp, tcp}, {}},
  };
  for (const auto& r : rows) {
    locate_request q = req_for("x.test");
    q.secure = r.secure;
    q.forced = r.forced;
    q.supported = r.supported;
    CHECK(allowed_transports(q) == r.want);
  }
  CHECK(default_port(udp) == 5060);
  CHECK(default_port(tcp) == 5060);
  CHECK(default_port(tls) == 5061);
}

TEST_CASE("naptr_service_transport: RFC 3263 §4.1 services only") {
  CHECK(naptr_service_transport("SIP+D2U") == udp);
  CHECK(naptr_service_transport("sip+d2t") == tcp);
  CHECK(naptr_service_transport("SIPS+D2T") == tls);
  CHECK_FALSE(naptr_service_transport("SIP+D2S"));   // SCTP: not supported
  CHECK_FALSE(naptr_service_transport("SIPS+D2U"));  // no such thing
  CHECK_FALSE(naptr_service_transport("E2U+sip"));
  CHECK_FALSE(naptr_service_transport(""));
}

TEST_CASE("rank_naptr: filtering and ordering") {
  const std::vector<naptr_record> recs = {
      naptr(30, 10, "s", "SIP+D2U", "_sip._udp.x.test"),
      naptr(10, 20, "s", "SIP+D2T", "_sip._tcp.x.test"),
      naptr(10, 10, "S", "SIPS+D2T", "_sips._tcp.x.test"),
      naptr(5, 1, "u", "E2U+sip", "", "!^.*$!sip:a@x.test!"),
      naptr(6, 1, "s", "SIP+D2U", "", "!^.*$!_sip._udp.x.test!"),
      naptr(7, 1, "s", "SIP+D2S", "_sip._sctp.x.test"),
      naptr(8, 1, "a", "SIP+D2U", "host.x.test"),
      naptr(9, 1, "s", "SIP+D2U", ""),
  };
  struct row {
    const char* name;
    bool secure;
    std::optional<transport> forced;
    std::vector<std::string> usable;  // replacement names in the order followed
  };
  const row rows[] = {
      {"all transports", false, std::nullopt, {"_sips._tcp.x.test", "_sip._tcp.x.test", "_sip._udp.x.test"}},
      {"sips: TLS only", true, std::nullopt, {"_sips._tcp.x.test"}},
      {"forced udp", false, udp, {"_sip._udp.x.test"}},
      {"forced tcp", false, tcp, {"_sip._tcp.x.test"}},
  };
  for (const auto& r : rows) {
    CAPTURE(r.name);
    locate_request q = req_for("x.test");
    q.secure = r.secure;
    q.forced = r.forced;
    auto ranked = rank_naptr(recs, q);
    REQUIRE(ranked.size() == recs.size());
    for (std::size_t i = 1; i < ranked.size(); ++i) {
      const auto& a = ranked[i - 1].record;
      const auto& b = ranked[i].record;
      CHECK((a.order < b.order || (a.order == b.order && a.preference <= b.preference)));
    }
    std::vector<std::string> usable;
    for (const auto& c : ranked)
      if (c.rejected.empty()) usable.push_back(c.record.replacement);
    CHECK(usable == r.usable);
  }
  // Every rejection says why.
  auto ranked = rank_naptr(recs, req_for("x.test"));
  std::map<std::uint16_t, std::string> why;
  for (const auto& c : ranked) why[c.record.order] = c.rejected;
  CHECK(why[5].find("flags") != std::string::npos);
  CHECK(why[6].find("regexp") != std::string::npos);
  CHECK(why[7].find("SIP+D2S") != std::string::npos);
  CHECK(why[8].find("flags") != std::string::npos);
  CHECK(why[9].find("replacement") != std::string::npos);
}

TEST_CASE("srv_fallback: _sips._tcp, _sip._tcp, _sip._udp as allowed") {
  auto names = [](locate_request q) {
    std::vector<std::string> out;
    for (const auto& s : srv_fallback(q)) out.push_back(s.name + "/" + std::string(to_string(s.t)));
    return out;
  };
  auto q = req_for("Example.TEST.");
  CHECK(names(q) ==
        std::vector<std::string>{"_sips._tcp.example.test/tls", "_sip._tcp.example.test/tcp", "_sip._udp.example.test/udp"});
  q.secure = true;
  CHECK(names(q) == std::vector<std::string>{"_sips._tcp.example.test/tls"});
  q.secure = false;
  q.forced = udp;
  CHECK(names(q) == std::vector<std::string>{"_sip._udp.example.test/udp"});
  q.forced.reset();
  q.supported = {udp, tcp};
  CHECK(names(q) == std::vector<std::string>{"_sip._tcp.example.test/tcp", "_sip._udp.example.test/udp"});
}

TEST_CASE("order_srv: priority first, root targets removed") {
  std::mt19937 rng(42);
  std::vector<srv_record> recs = {
      {20, 0, 5099, "backup"}, {10, 0, 5060, "b"}, {5, 0, 5060, "."}, {10, 0, 5060, "a"}, {1, 0, 1, ""}};
  auto out = order_srv(recs, rng);
  REQUIRE(out.size() == 3);
  CHECK(out[0].priority == 10);
  CHECK(out[1].priority == 10);
  CHECK(out[2].target == "backup");
  CHECK(srv_unavailable({{0, 0, 0, ""}}));
  CHECK(srv_unavailable({{0, 0, 0, "."}}));
  CHECK_FALSE(srv_unavailable({{0, 0, 0, "a"}}));
  CHECK_FALSE(srv_unavailable({{0, 0, 0, ""}, {0, 0, 0, "a"}}));
}

TEST_CASE("order_srv: RFC 2782 weighted choice — proportions follow the weights") {
  std::mt19937 rng(20240601);  // fixed: the test is deterministic
  const std::vector<srv_record> recs = {
      {10, 60, 5060, "a"}, {10, 30, 5060, "b"}, {10, 10, 5060, "c"}, {10, 0, 5060, "z"}, {20, 50, 5060, "low"}};
  const int draws = 20000;
  std::map<std::string, int> first;
  for (int i = 0; i < draws; ++i) {
    auto out = order_srv(recs, rng);
    REQUIRE(out.size() == 5);
    CHECK(out.back().target == "low");  // a lower priority never comes first
    ++first[out.front().target];
  }
  // Sum of weights 100, draw in [0, 100]: a ≈ 60/101, b ≈ 30/101, c ≈ 10/101, z = 1/101.
  CHECK(first["a"] / double(draws) == doctest::Approx(60.0 / 101).epsilon(0.05));
  CHECK(first["b"] / double(draws) == doctest::Approx(30.0 / 101).epsilon(0.07));
  CHECK(first["c"] / double(draws) == doctest::Approx(10.0 / 101).epsilon(0.15));
  CHECK(first["z"] > 0);                // weight 0: a small chance…
  CHECK(first["z"] < draws * 3 / 100);  // …and only a small one
  CHECK(first["low"] == 0);
}

TEST_CASE("order_srv: all weights zero is a uniform choice, a fixed seed repeats") {
  const std::vector<srv_record> recs = {{1, 0, 1, "a"}, {1, 0, 1, "b"}, {1, 0, 1, "c"}, {1, 0, 1, "d"}};
  std::mt19937 rng(7);
  std::map<std::string, int> first;
  for (int i = 0; i < 8000; ++i) ++first[order_srv(recs, rng).front().target];
  for (const char* t : {"a", "b", "c", "d"}) CHECK(first[t] == doctest::Approx(2000).epsilon(0.1));
  std::mt19937 r1(99), r2(99);
  auto o1 = order_srv(recs, r1), o2 = order_srv(recs, r2);
  for (std::size_t i = 0; i < o1.size(); ++i) CHECK(o1[i].target == o2[i].target);
}

TEST_CASE("short-cuts: IP literal and explicit port ask no NAPTR/SRV") {
  std::mt19937 rng(1);
  SUBCASE("IPv4 literal: no query at all; UDP for sip: (RFC 3263 §4.1)") {
    auto q = req_for("127.0.0.1");
    CHECK(next_queries(q, {}).empty());
    auto plan = build_plan(q, {}, rng);
    CHECK(describe(plan.targets) == std::vector<std::string>{"udp 127.0.0.1:5060 literal"});
    CHECK(!plan.error);
  }
  SUBCASE("IPv4 literal, every transport asked for: each on its default port") {
    auto q = req_for("127.0.0.1");
    q.every_transport = true;
    auto plan = build_plan(q, {}, rng);
    CHECK(describe(plan.targets) ==
          std::vector<std::string>{"udp 127.0.0.1:5060 literal", "tcp 127.0.0.1:5060 literal", "tls 127.0.0.1:5061 literal"});
  }
  SUBCASE("IPv4 literal with a forced transport") {
    auto q = req_for("127.0.0.1");
    q.forced = transport::tcp;
    CHECK(describe(build_plan(q, {}, rng).targets) == std::vector<std::string>{"tcp 127.0.0.1:5060 literal"});
  }
  SUBCASE("IPv6 literal with port and sips") {
    auto q = req_for("::1");
    q.port = 5071;
    q.secure = true;
    auto plan = build_plan(q, {}, rng);
    CHECK(describe(plan.targets) == std::vector<std::string>{"tls [::1]:5071 literal"});
  }
  SUBCASE("name with explicit port: A and AAAA only, UDP on that port") {
    auto q = req_for("pbx.x.test");
    q.port = 5070;
    CHECK(keys(next_queries(q, {})) == std::vector<std::string>{"A pbx.x.test", "AAAA pbx.x.test"});
    dns_cache c{{ok_addr("pbx.x.test", rr_type::a, {"127.0.0.1"}), ok_addr("pbx.x.test", rr_type::aaaa, {"::1"})}};
    CHECK(next_queries(q, c).empty());
    auto plan = build_plan(q, c, rng);
    CHECK(describe(plan.targets) == std::vector<std::string>{"udp 127.0.0.1:5070 a", "udp [::1]:5070 a"});
    q.every_transport = true;
    CHECK(describe(build_plan(q, c, rng).targets) == std::vector<std::string>{"udp 127.0.0.1:5070 a", "udp [::1]:5070 a",
                                                                              "tcp 127.0.0.1:5070 a", "tcp [::1]:5070 a",
                                                                              "tls 127.0.0.1:5070 a", "tls [::1]:5070 a"});
  }
}

TEST_CASE("the full chain: NAPTR → SRV → A/AAAA, round by round") {
  auto q = req_for("x.test");
  dns_cache c;
  CHECK(keys(next_queries(q, c)) == std::vector<std::string>{"NAPTR x.test"});
  c.queries.push_back(
      ok_naptr("x.test", {naptr(20, 10, "s", "SIP+D2U", "_sip._udp.x.test"), naptr(10, 10, "s", "SIP+D2T", "_sip._tcp.x.test")}));
  CHECK(keys(next_queries(q, c)) == std::vector<std::string>{"SRV _sip._tcp.x.test", "SRV _sip._udp.x.test"});
  c.queries.push_back(ok_srv("_sip._tcp.x.test", {{20, 0, 5099, "dead.x.test"}, {10, 5, 5070, "pbx.x.test"}}));
  c.queries.push_back(ok_srv("_sip._udp.x.test", {{10, 5, 5060, "pbx.x.test"}}));
  CHECK(keys(next_queries(q, c)) ==
        std::vector<std::string>{"A pbx.x.test", "AAAA pbx.x.test", "A dead.x.test", "AAAA dead.x.test"});
  c.queries.push_back(ok_addr("pbx.x.test", rr_type::a, {"127.0.0.1"}));
  c.queries.push_back(ok_addr("pbx.x.test", rr_type::aaaa, {"::1"}));
  c.queries.push_back(ok_addr("dead.x.test", rr_type::a, {"127.0.0.3"}));
  c.queries.push_back(failed("dead.x.test", rr_type::aaaa, dns_status::nodata));
  CHECK(next_queries(q, c).empty());
  std::mt19937 rng(3);
  auto plan = build_plan(q, c, rng);
  CHECK(describe(plan.targets) == std::vector<std::string>{"tcp 127.0.0.1:5070 naptr", "tcp [::1]:5070 naptr",
                                                           "tcp 127.0.0.3:5099 naptr", "udp 127.0.0.1:5060 naptr",
                                                           "udp [::1]:5060 naptr"});
  CHECK(!plan.error);
  CHECK(plan.queries.size() == 7);
  // The tree: NAPTR root → 2 NAPTR records → SRV query → SRV records → A/AAAA.
  REQUIRE(!plan.nodes.empty());
  CHECK(plan.nodes[0].k == plan_node::kind::query);
  CHECK(plan.nodes[0].parent == -1);
  int naptr_nodes = 0, srv_nodes = 0;
  for (const auto& n : plan.nodes) {
    if (n.parent >= 0) CHECK(static_cast<std::size_t>(n.parent) < &n - plan.nodes.data());
    naptr_nodes += n.k == plan_node::kind::naptr;
    srv_nodes += n.k == plan_node::kind::srv;
  }
  CHECK(naptr_nodes == 2);
  CHECK(srv_nodes == 3);
}

TEST_CASE("fallbacks: no NAPTR → SRV, no SRV → A/AAAA on default ports") {
  std::mt19937 rng(5);
  for (dns_status none : {dns_status::nxdomain, dns_status::nodata}) {
    CAPTURE(to_string(none));
    auto q = req_for("x.test");
    dns_cache c{{failed("x.test", rr_type::naptr, none)}};
    CHECK(keys(next_queries(q, c)) ==
          std::vector<std::string>{"SRV _sips._tcp.x.test", "SRV _sip._tcp.x.test", "SRV _sip._udp.x.test"});
    c.queries.push_back(failed("_sips._tcp.x.test", rr_type::srv, dns_status::nxdomain));
    c.queries.push_back(failed("_sip._tcp.x.test", rr_type::srv, dns_status::nodata));
    c.queries.push_back(ok_srv("_sip._udp.x.test", {{1, 1, 5062, "pbx.x.test"}}));
    CHECK(keys(next_queries(q, c)) == std::vector<std::string>{"A pbx.x.test", "AAAA pbx.x.test"});
    c.queries.push_back(ok_addr("pbx.x.test", rr_type::a, {"127.0.0.1"}));
    c.queries.push_back(failed("pbx.x.test", rr_type::aaaa, dns_status::nodata));
    auto plan = build_plan(q, c, rng);
    CHECK(describe(plan.targets) == std::vector<std::string>{"udp 127.0.0.1:5062 srv"});
  }
  SUBCASE("no SRV at all") {
    auto q = req_for("x.test");
    dns_cache c{{failed("x.test", rr_type::naptr, dns_status::nodata),
                 failed("_sips._tcp.x.test", rr_type::srv, dns_status::nxdomain),
                 failed("_sip._tcp.x.test", rr_type::srv, dns_status::nxdomain),
                 failed("_sip._udp.x.test", rr_type::srv, dns_status::nxdomain)}};
    CHECK(keys(next_queries(q, c)) == std::vector<std::string>{"A x.test", "AAAA x.test"});
    c.queries.push_back(ok_addr("x.test", rr_type::a, {"127.0.0.1"}));
    c.queries.push_back(failed("x.test", rr_type::aaaa, dns_status::nodata));
    auto plan = build_plan(q, c, rng);
    CHECK(describe(plan.targets) == std::vector<std::string>{"udp 127.0.0.1:5060 a"});
  }
  SUBCASE("sips without SRV: TLS on 5061 only") {
    auto q = req_for("x.test");
    q.secure = true;
    dns_cache c{{failed("x.test", rr_type::naptr, dns_status::nxdomain),
                 failed("_sips._tcp.x.test", rr_type::srv, dns_status::nxdomain), ok_addr("x.test", rr_type::a, {"127.0.0.1"}),
                 failed("x.test", rr_type::aaaa, dns_status::nodata)}};
    CHECK(next_queries(q, c).empty());
    CHECK(describe(build_plan(q, c, rng).targets) == std::vector<std::string>{"tls 127.0.0.1:5061 a"});
  }
  SUBCASE("NAPTR records but none usable: SRV fallback") {
    auto q = req_for("x.test");
    dns_cache c{{ok_naptr("x.test", {naptr(1, 1, "u", "E2U+sip", "", "!x!y!")})}};
    CHECK(keys(next_queries(q, c)).size() == 3);
  }
}

TEST_CASE("errors: hard failures stop the fallback and are cited") {
  std::mt19937 rng(9);
  struct row {
    dns_status naptr_status;
    std::error_code want;
  };
  const row rows[] = {{dns_status::servfail, errc::servfail},
                      {dns_status::refused, errc::refused},
                      {dns_status::timeout, errc::timeout},
                      {dns_status::malformed, errc::malformed},
                      {dns_status::other, errc::dns_error}};
  for (const auto& r : rows) {
    CAPTURE(to_string(r.naptr_status));
    auto q = req_for("x.test");
    dns_cache c{{failed("x.test", rr_type::naptr, r.naptr_status)}};
    CHECK(next_queries(q, c).empty());  // RFC 3263 fallback only after NXDOMAIN/NODATA
    auto plan = build_plan(q, c, rng);
    CHECK(plan.targets.empty());
    CHECK(plan.error == r.want);
    CHECK(plan.failed_query == std::optional<std::size_t>(0));
  }
}

TEST_CASE("errors: NXDOMAIN, NODATA, '.' and the deadline are told apart") {
  std::mt19937 rng(11);
  SUBCASE("NXDOMAIN everywhere cites an NXDOMAIN record") {
    auto q = req_for("nosuch.test");
    dns_cache c{{failed("nosuch.test", rr_type::naptr, dns_status::nxdomain),
                 failed("_sips._tcp.nosuch.test", rr_type::srv, dns_status::nxdomain),
                 failed("_sip._tcp.nosuch.test", rr_type::srv, dns_status::nxdomain),
                 failed("_sip._udp.nosuch.test", rr_type::srv, dns_status::nxdomain),
                 failed("nosuch.test", rr_type::a, dns_status::nxdomain),
                 failed("nosuch.test", rr_type::aaaa, dns_status::nxdomain)}};
    auto plan = build_plan(q, c, rng);
    CHECK(plan.error == errc::nxdomain);
    REQUIRE(plan.failed_query);
    CHECK(plan.queries[*plan.failed_query].name == "nosuch.test");
  }
  SUBCASE("an SRV target without address cites the address query (NODATA)") {
    auto q = req_for("x.test");
    q.forced = udp;
    dns_cache c{{failed("x.test", rr_type::naptr, dns_status::nodata), ok_srv("_sip._udp.x.test", {{1, 1, 5060, "ghost.x.test"}}),
                 failed("ghost.x.test", rr_type::a, dns_status::nodata),
                 failed("ghost.x.test", rr_type::aaaa, dns_status::nodata)}};
    auto plan = build_plan(q, c, rng);
    CHECK(plan.error == errc::nodata);
    REQUIRE(plan.failed_query);
    CHECK(plan.queries[*plan.failed_query].name == "ghost.x.test");
  }
  SUBCASE("SRV '.': service_unavailable, and no A/AAAA fallback") {
    auto q = req_for("x.test");
    q.forced = udp;
    dns_cache c{{failed("x.test", rr_type::naptr, dns_status::nodata), ok_srv("_sip._udp.x.test", {{0, 0, 0, ""}})}};
    CHECK(next_queries(q, c).empty());
    auto plan = build_plan(q, c, rng);
    CHECK(plan.error == errc::service_unavailable);
    CHECK(plan.failed_query == std::optional<std::size_t>(1));
  }
  SUBCASE("a hard SRV failure beats NXDOMAIN elsewhere and stops the A/AAAA fallback") {
    auto q = req_for("x.test");
    dns_cache c{{failed("x.test", rr_type::naptr, dns_status::nxdomain),
                 failed("_sips._tcp.x.test", rr_type::srv, dns_status::nxdomain),
                 failed("_sip._tcp.x.test", rr_type::srv, dns_status::servfail),
                 failed("_sip._udp.x.test", rr_type::srv, dns_status::nxdomain)}};
    CHECK(next_queries(q, c).empty());
    auto plan = build_plan(q, c, rng);
    CHECK(plan.error == errc::servfail);
    CHECK(plan.failed_query == std::optional<std::size_t>(2));
  }
  SUBCASE("queries never answered (deadline): timeout") {
    auto q = req_for("x.test");
    dns_cache c{{ok_naptr("x.test", {naptr(1, 1, "s", "SIP+D2U", "_sip._udp.x.test")})}};
    auto plan = build_plan(q, c, rng);
    CHECK(plan.targets.empty());
    CHECK(plan.error == errc::timeout);
    CHECK_FALSE(plan.failed_query);
  }
  SUBCASE("partial failure with a target is no error") {
    auto q = req_for("x.test");
    dns_cache c{
        {ok_naptr("x.test", {naptr(1, 1, "s", "SIP+D2T", "_sip._tcp.x.test"), naptr(2, 1, "s", "SIP+D2U", "_sip._udp.x.test")}),
         failed("_sip._tcp.x.test", rr_type::srv, dns_status::servfail), ok_srv("_sip._udp.x.test", {{1, 1, 5060, "pbx.x.test"}}),
         ok_addr("pbx.x.test", rr_type::a, {"127.0.0.1"}), failed("pbx.x.test", rr_type::aaaa, dns_status::nodata)}};
    auto plan = build_plan(q, c, rng);
    CHECK(!plan.error);
    CHECK(describe(plan.targets) == std::vector<std::string>{"udp 127.0.0.1:5060 naptr"});
  }
}

TEST_CASE("bounds: targets are capped, duplicates dropped") {
  std::mt19937 rng(13);
  auto q = req_for("x.test");
  q.forced = udp;
  std::vector<srv_record> srvs;
  dns_cache c{{failed("x.test", rr_type::naptr, dns_status::nodata)}};
  for (int i = 0; i < 5; ++i) srvs.push_back({1, 1, 5060, "h" + std::to_string(i) + ".x.test"});
  srvs.push_back({2, 1, 5060, "h0.x.test"});  // same host and port again: no duplicate target
  c.queries.push_back(ok_srv("_sip._udp.x.test", srvs));
  for (int i = 0; i < 5; ++i) {
    std::vector<std::string> addrs;
    for (int j = 0; j < 20; ++j) addrs.push_back("127.0." + std::to_string(i) + "." + std::to_string(j));
    c.queries.push_back(ok_addr("h" + std::to_string(i) + ".x.test", rr_type::a, addrs));
    c.queries.push_back(failed("h" + std::to_string(i) + ".x.test", rr_type::aaaa, dns_status::nodata));
  }
  locate_limits lim;
  lim.max_targets = 64;
  auto plan = build_plan(q, c, rng, lim);
  CHECK(plan.targets.size() == 64);
  CHECK(plan.limited);
  lim.max_targets = 1000;
  auto all = build_plan(q, c, rng, lim);
  CHECK(all.targets.size() == 100);  // 5 hosts × 20 addresses; h0 twice counts once
  CHECK_FALSE(all.limited);
}
