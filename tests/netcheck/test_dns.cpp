// netcheck/dns: reply handling on crafted answers, server parsing, and the resolver on the
// io_context against the in-process fake server (timeout, TC → TCP, RCODEs).
#include "netcheck/dns.hpp"
#include "netcheck/error.hpp"

#include "fake_dns.hpp"

#include <ares.h>

#include <ostream>
#include <doctest/doctest.h>

#include <boost/asio/io_context.hpp>

using namespace netcheck;
using namespace fake_dns;

namespace {

query_result parse(rr_type t, int status, const bytes& msg, std::size_t max = max_records_per_answer) {
  query_result r;
  r.name = "x.test";
  r.type = t;
  parse_answer(r, status, msg.data(), static_cast<int>(msg.size()), max);
  return r;
}

question q_of(const char* name, std::uint16_t type) { return {0x1234, name, type}; }

}  // namespace

TEST_CASE("parse_answer: SRV records, fields and the smallest TTL") {
  auto msg = response(q_of("_sip._udp.x.test", t_srv), noerror,
                      {{"_sip._udp.x.test", t_srv, 300, srv_rdata(10, 60, 5060, "a.x.test")},
                       {"_sip._udp.x.test", t_srv, 120, srv_rdata(20, 0, 5099, "b.x.test")}});
  auto r = parse(rr_type::srv, ARES_SUCCESS, msg);
  CHECK(r.status == dns_status::ok);
  REQUIRE(r.srv.size() == 2);
  CHECK(r.srv[0].priority == 10);
  CHECK(r.srv[0].weight == 60);
  CHECK(r.srv[0].port == 5060);
  CHECK(r.srv[0].target == "a.x.test");
  CHECK(r.ttl == 120u);
  CHECK_FALSE(r.capped);
  CHECK(r.detail.empty());
}

TEST_CASE("parse_answer: NAPTR fields, root replacement as empty") {
  auto msg = response(q_of("x.test", t_naptr), noerror,
                      {{"x.test", t_naptr, 60, naptr_rdata(10, 20, "s", "SIP+D2T", "", "_sip._tcp.x.test")},
                       {"x.test", t_naptr, 60, naptr_rdata(30, 5, "u", "E2U+sip", "!^.*$!sip:a@x!", "")}});
  auto r = parse(rr_type::naptr, ARES_SUCCESS, msg);
  CHECK(r.status == dns_status::ok);
  REQUIRE(r.naptr.size() == 2);
  CHECK(r.naptr[0].order == 10);
  CHECK(r.naptr[0].preference == 20);
  CHECK(r.naptr[0].flags == "s");
  CHECK(r.naptr[0].service == "SIP+D2T");
  CHECK(r.naptr[0].replacement == "_sip._tcp.x.test");
  CHECK(r.naptr[1].regexp == "!^.*$!sip:a@x!");
  CHECK(r.naptr[1].replacement.empty());
  CHECK(r.ttl == 60u);
}

TEST_CASE("parse_answer: A and AAAA addresses in text form") {
  auto a = response(q_of("x.test", t_a), noerror,
                    {{"x.test", t_a, 30, a_rdata("127.0.0.1")}, {"x.test", t_a, 40, a_rdata("127.0.0.2")}});
  auto r4 = parse(rr_type::a, ARES_SUCCESS, a);
  CHECK(r4.status == dns_status::ok);
  CHECK(r4.addresses == std::vector<std::string>{"127.0.0.1", "127.0.0.2"});
  CHECK(r4.ttl == 30u);
  auto aaaa = response(q_of("x.test", t_aaaa), noerror, {{"x.test", t_aaaa, 30, aaaa_rdata("::1")}});
  auto r6 = parse(rr_type::aaaa, ARES_SUCCESS, aaaa);
  CHECK(r6.status == dns_status::ok);
  CHECK(r6.addresses == std::vector<std::string>{"::1"});
}

TEST_CASE("parse_answer: malformed and odd answers get the right status") {
  auto good = response(q_of("_sip._udp.x.test", t_srv), noerror,
                       {{"_sip._udp.x.test", t_srv, 300, srv_rdata(10, 60, 5060, "a.x.test")}});

  SUBCASE("truncated in the middle of a record") {
    bytes cut(good.begin(), good.end() - 5);
    auto r = parse(rr_type::srv, ARES_SUCCESS, cut);
    CHECK(r.status == dns_status::malformed);
    CHECK_FALSE(r.detail.empty());
    CHECK(r.srv.empty());
  }
  SUBCASE("only the header") {
    bytes hdr(good.begin(), good.begin() + 12);
    CHECK(parse(rr_type::srv, ARES_SUCCESS, hdr).status == dns_status::malformed);
  }
  SUBCASE("garbage bytes") {
    bytes junk{0xde, 0xad, 0xbe, 0xef, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x01, 0x42};
    CHECK(parse(rr_type::naptr, ARES_SUCCESS, junk).status == dns_status::malformed);
    CHECK(parse(rr_type::a, ARES_SUCCESS, junk).status == dns_status::malformed);
  }
  SUBCASE("empty buffer") {
    query_result r;
    r.type = rr_type::srv;
    parse_answer(r, ARES_SUCCESS, nullptr, 0);
    CHECK(r.status == dns_status::malformed);
  }
  SUBCASE("zero answers is NODATA") {
    auto none = response(q_of("_sip._udp.x.test", t_srv), noerror, {});
    auto r = parse(rr_type::srv, ARES_SUCCESS, none);
    CHECK(r.status == dns_status::nodata);
    CHECK_FALSE(r.ttl);
  }
  SUBCASE("wrong record type in the answer is not taken") {
    auto wrong = response(q_of("_sip._udp.x.test", t_srv), noerror, {{"_sip._udp.x.test", t_a, 300, a_rdata("127.0.0.1")}});
    auto r = parse(rr_type::srv, ARES_SUCCESS, wrong);
    CHECK(r.status != dns_status::ok);
    CHECK(r.srv.empty());
    auto r2 = parse(rr_type::aaaa, ARES_SUCCESS,
                    response(q_of("x.test", t_aaaa), noerror, {{"x.test", t_a, 30, a_rdata("127.0.0.1")}}));
    CHECK(r2.status != dns_status::ok);
    CHECK(r2.addresses.empty());
  }
  SUBCASE("rdata length beyond the message") {
    bytes bad = good;
    bad[bad.size() - 18] = 0xFF;  // RDLENGTH high byte: rdata is 16 bytes (6 + "a.x.test")
    CHECK(parse(rr_type::srv, ARES_SUCCESS, bad).status == dns_status::malformed);
  }
}

TEST_CASE("parse_answer: huge answers are capped at the bound") {
  std::vector<rr> many;
  for (int i = 0; i < 100; ++i)
    many.push_back({"_sip._udp.x.test", t_srv, 300, srv_rdata(10, 1, 5060, "h" + std::to_string(i) + ".x.test")});
  auto msg = response(q_of("_sip._udp.x.test", t_srv), noerror, many);
  auto r = parse(rr_type::srv, ARES_SUCCESS, msg);
  CHECK(r.status == dns_status::ok);
  CHECK(r.srv.size() == max_records_per_answer);
  CHECK(r.capped);

  std::vector<rr> addrs;
  for (int i = 0; i < 70; ++i) addrs.push_back({"x.test", t_a, 300, a_rdata(("127.0.0." + std::to_string(i + 1)).c_str())});
  auto ra = parse(rr_type::a, ARES_SUCCESS, response(q_of("x.test", t_a), noerror, addrs), 8);
  CHECK(ra.addresses.size() == 8);
  CHECK(ra.capped);
}

TEST_CASE("parse_answer: c-ares errors map to statuses, kept apart") {
  struct row {
    int ares;
    dns_status want;
  };
  const row rows[] = {
      {ARES_ENOTFOUND, dns_status::nxdomain}, {ARES_ENODATA, dns_status::nodata},       {ARES_ESERVFAIL, dns_status::servfail},
      {ARES_EREFUSED, dns_status::refused},   {ARES_ECONNREFUSED, dns_status::refused}, {ARES_ETIMEOUT, dns_status::timeout},
      {ARES_ECANCELLED, dns_status::timeout}, {ARES_EBADRESP, dns_status::malformed},   {ARES_ENOMEM, dns_status::other},
  };
  for (const auto& r : rows) {
    CAPTURE(r.ares);
    auto q = parse(rr_type::a, r.ares, {});
    CHECK(q.status == r.want);
    CHECK(q.ares_status == r.ares);
    CHECK_FALSE(q.detail.empty());
    CHECK(status_from_ares(r.ares) == r.want);
  }
  CHECK(to_error_code(dns_status::nxdomain) == errc::nxdomain);
  CHECK(to_error_code(dns_status::servfail) == errc::servfail);
  CHECK(to_error_code(dns_status::ok) == std::error_code{});
  CHECK(to_string(dns_status::nodata) == "nodata");
  CHECK(to_string(rr_type::naptr) == "NAPTR");
}

TEST_CASE("min_answer_ttl: walks compressed names, treats a top-bit TTL as 0") {
  auto msg = response(q_of("x.test", t_a), noerror,
                      {{"x.test", t_a, 500, a_rdata("127.0.0.1")}, {"x.test", t_a, 90, a_rdata("127.0.0.2")}});
  CHECK(min_answer_ttl(msg.data(), msg.size()) == 90u);
  // Replace the second record's owner name by a pointer to the question name (offset 12).
  bytes c;
  auto one = response(q_of("x.test", t_a), noerror, {{"x.test", t_a, 500, a_rdata("127.0.0.1")}});
  c = one;
  c[7] = 2;  // ANCOUNT 2
  c.push_back(0xC0);
  c.push_back(12);
  put16(c, t_a);
  put16(c, 1);
  put32(c, 0x80000000u);
  put16(c, 4);
  auto ip = a_rdata("127.0.0.9");
  c.insert(c.end(), ip.begin(), ip.end());
  CHECK(min_answer_ttl(c.data(), c.size()) == 0u);
  CHECK_FALSE(min_answer_ttl(c.data(), c.size() - 3));
  auto none = response(q_of("x.test", t_a), noerror, {});
  CHECK_FALSE(min_answer_ttl(none.data(), none.size()));
  CHECK_FALSE(min_answer_ttl(nullptr, 0));
}

TEST_CASE("parse_server: IP literals with optional port, names are rejected") {
  struct row {
    const char* text;
    bool ok;
    const char* canonical;
  };
  const row rows[] = {
      {"127.0.0.1", true, "127.0.0.1:53"},
      {"127.0.0.1:5353", true, "127.0.0.1:5353"},
      {"[::1]:5353", true, "[::1]:5353"},
      {"[::1]", true, "[::1]:53"},
      {"::1", true, "[::1]:53"},
      {"dns.example.com", false, ""},
      {"localhost:53", false, ""},
      {"127.0.0.1:", false, ""},
      {"127.0.0.1:0", false, ""},
      {"127.0.0.1:65536", false, ""},
      {"127.0.0.1:53x", false, ""},
      {"[::1", false, ""},
      {"[::1]5353", false, ""},
      {"[127.0.0.1]:53", false, ""},
      {"", false, ""},
      {"300.1.1.1", false, ""},
  };
  for (const auto& r : rows) {
    CAPTURE(r.text);
    server_address s;
    auto ec = parse_server(r.text, s);
    CHECK(!ec == r.ok);
    if (r.ok) CHECK(s.to_string() == r.canonical);
    else CHECK(ec == errc::bad_server_address);
  }
}

TEST_CASE("resolver: rejects a DNS server name at construction") {
  boost::asio::io_context io;
  resolver_settings s;
  s.servers = {"127.0.0.1:53", "ns.example.com"};
  CHECK_THROWS_AS(resolver(io, s), std::system_error);
  try {
    resolver r(io, s);
  } catch (const std::system_error& e) {
    CHECK(e.code() == errc::bad_server_address);
    CHECK(std::string(e.what()).find("ns.example.com") != std::string::npos);
  }
}

namespace {

struct harness {
  boost::asio::io_context io;
  std::unique_ptr<server> dns;
  std::unique_ptr<resolver> res;

  explicit harness(server::responder r, int timeout_ms = 200, int tries = 2) {
    dns = std::make_unique<server>(io, std::move(r));
    resolver_settings s;
    s.servers = {dns->address()};
    s.timeout = std::chrono::milliseconds(timeout_ms);
    s.tries = tries;
    res = std::make_unique<resolver>(io, s);
  }

  query_result ask(const std::string& name, rr_type t) {
    std::optional<query_result> out;
    res->async_query(name, t, [&](query_result r) { out = std::move(r); });
    io.restart();
    // run() returns when the query completed (watches are armed only while one is pending);
    // the bound only keeps a broken build from hanging the suite.
    while (!out && io.run_one_for(std::chrono::seconds(10)) > 0) {
    }
    REQUIRE(out);
    return *out;
  }
};

}  // namespace

TEST_CASE("resolver: answers through the io_context with TTL and elapsed time") {
  harness h([](const question& q, bool) -> std::optional<bytes> {
    if (q.type == t_srv) return response(q, noerror, {{q.name, t_srv, 77, srv_rdata(1, 2, 5060, "pbx.x.test")}});
    return response(q, nxdomain, {});
  });
  auto r = h.ask("_sip._udp.x.test", rr_type::srv);
  CHECK(r.status == dns_status::ok);
  CHECK(r.name == "_sip._udp.x.test");
  CHECK(r.ttl == 77u);
  REQUIRE(r.srv.size() == 1);
  CHECK(r.srv[0].target == "pbx.x.test");
  CHECK(r.elapsed < std::chrono::milliseconds(1000));
  CHECK(h.res->pending() == 0);
  CHECK(h.res->servers() == std::vector<std::string>{h.dns->address()});

  auto nx = h.ask("nosuch.x.test", rr_type::a);
  CHECK(nx.status == dns_status::nxdomain);
}

TEST_CASE("resolver: RCODEs are told apart") {
  harness h([](const question& q, bool) -> std::optional<bytes> {
    if (q.name.starts_with("servfail")) return response(q, servfail, {});
    if (q.name.starts_with("refused")) return response(q, refused, {});
    if (q.name.starts_with("nodata")) return response(q, noerror, {});
    if (q.name.starts_with("garbage")) {
      auto b = response(q, noerror, {{q.name, t_a, 1, a_rdata("127.0.0.1")}});
      b.resize(b.size() - 6);  // the record is cut short
      return b;
    }
    return response(q, nxdomain, {});
  });
  CHECK(h.ask("servfail.x.test", rr_type::a).status == dns_status::servfail);
  CHECK(h.ask("refused.x.test", rr_type::a).status == dns_status::refused);
  CHECK(h.ask("nodata.x.test", rr_type::aaaa).status == dns_status::nodata);
  CHECK(h.ask("nx.x.test", rr_type::naptr).status == dns_status::nxdomain);
  auto g = h.ask("garbage.x.test", rr_type::a);
  CHECK(g.status == dns_status::malformed);
  auto r = h.ask("refused.x.test", rr_type::srv);
  CHECK(r.detail.find("answered REFUSED") != std::string::npos);  // not "connection refused"
}

TEST_CASE("resolver: a silent server times out after timeout × tries, not later") {
  harness h([](const question&, bool) -> std::optional<bytes> { return std::nullopt; }, 100, 2);
  auto start = std::chrono::steady_clock::now();
  auto r = h.ask("x.test", rr_type::a);
  auto took = std::chrono::steady_clock::now() - start;
  CHECK(r.status == dns_status::timeout);
  CHECK(took >= std::chrono::milliseconds(100));
  CHECK(took < std::chrono::milliseconds(2000));
  CHECK(h.dns->udp_queries == 2);  // the retry happened: the timer drives c-ares
}

TEST_CASE("resolver: a truncated UDP answer is retried over TCP") {
  harness h([](const question& q, bool tcp) -> std::optional<bytes> {
    if (!tcp) return response(q, noerror, {}, /*tc=*/true);
    std::vector<rr> many;
    for (int i = 0; i < 20; ++i) many.push_back({q.name, t_srv, 60, srv_rdata(10, 1, 5060, "h" + std::to_string(i) + ".x.test")});
    return response(q, noerror, many);
  });
  auto r = h.ask("_sip._udp.big.x.test", rr_type::srv);
  CHECK(r.status == dns_status::ok);
  CHECK(r.srv.size() == 20);
  CHECK(h.dns->udp_queries == 1);
  CHECK(h.dns->tcp_queries == 1);
}

TEST_CASE("resolver: parallel queries complete independently, cancel ends the rest") {
  harness h(
      [](const question& q, bool) -> std::optional<bytes> {
        if (q.name.starts_with("silent")) return std::nullopt;
        return response(q, noerror, {{q.name, t_a, 5, a_rdata("127.0.0.5")}});
      },
      2000, 3);
  std::vector<query_result> got;
  h.res->async_query("a.x.test", rr_type::a, [&](query_result r) {
    got.push_back(std::move(r));
    h.res->cancel();  // the silent one must end now, not after 2 s × 3
  });
  h.res->async_query("silent.x.test", rr_type::a, [&](query_result r) { got.push_back(std::move(r)); });
  CHECK(h.res->pending() == 2);
  auto start = std::chrono::steady_clock::now();
  while (got.size() < 2 && h.io.run_one_for(std::chrono::seconds(10)) > 0) {
  }
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(1500));
  REQUIRE(got.size() == 2);
  CHECK(got[0].status == dns_status::ok);
  CHECK(got[1].status == dns_status::timeout);
  CHECK(got[1].detail.find("cancelled") != std::string::npos);
}

TEST_CASE("resolver: destroying it with queries in flight calls no handler") {
  boost::asio::io_context io;
  server dns(io, [](const question&, bool) -> std::optional<bytes> { return std::nullopt; });
  bool called = false;
  {
    resolver_settings s;
    s.servers = {dns.address()};
    resolver r(io, s);
    r.async_query("x.test", rr_type::a, [&](query_result) { called = true; });
    io.run_for(std::chrono::milliseconds(50));
  }
  io.run_for(std::chrono::milliseconds(50));
  CHECK_FALSE(called);
}
