#include "netcheck/rfc3263.hpp"

#include "netcheck/error.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <cctype>
#include <memory>

namespace netcheck {

std::string_view to_string(found_by f) noexcept {
  switch (f) {
    case found_by::literal: return "literal";
    case found_by::naptr: return "naptr";
    case found_by::srv: return "srv";
    case found_by::a: return "a";
  }
  return "?";
}

namespace {

std::string normalize(std::string_view name) {
  std::string n(name);
  while (!n.empty() && n.back() == '.') n.pop_back();
  for (char& c : n) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return n;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

bool soft_failure(dns_status s) noexcept { return s == dns_status::nxdomain || s == dns_status::nodata; }

}  // namespace

bool is_ip_literal(std::string_view host) noexcept {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty() || host.size() >= INET6_ADDRSTRLEN) return false;
  char buf[INET6_ADDRSTRLEN] = {};
  std::copy(host.begin(), host.end(), buf);
  unsigned char addr[sizeof(in6_addr)];
  return ::inet_pton(AF_INET, buf, addr) == 1 || ::inet_pton(AF_INET6, buf, addr) == 1;
}

std::uint16_t default_port(transport t) noexcept { return t == transport::tls ? 5061 : 5060; }

std::vector<transport> allowed_transports(const locate_request& req) {
  std::vector<transport> out;
  for (transport t : {transport::udp, transport::tcp, transport::tls}) {
    if (!req.supported.contains(t)) continue;
    if (req.secure && t != transport::tls) continue;  // RFC 3263 §4.1: sips needs TLS
    if (req.forced && *req.forced != t) continue;
    out.push_back(t);
  }
  return out;
}

std::vector<transport> direct_transports(const locate_request& req) {
  auto allowed = allowed_transports(req);
  if (req.every_transport || req.forced || allowed.size() <= 1) return allowed;
  const transport preferred = req.secure ? transport::tls : transport::udp;
  if (std::find(allowed.begin(), allowed.end(), preferred) != allowed.end()) return {preferred};
  return {allowed.front()};
}

std::optional<transport> naptr_service_transport(std::string_view service) noexcept {
  if (iequals(service, "SIP+D2U")) return transport::udp;
  if (iequals(service, "SIP+D2T")) return transport::tcp;
  if (iequals(service, "SIPS+D2T")) return transport::tls;
  return std::nullopt;
}

std::vector<naptr_choice> rank_naptr(const std::vector<naptr_record>& records, const locate_request& req) {
  const auto allowed = allowed_transports(req);
  std::vector<naptr_choice> out;
  out.reserve(records.size());
  for (const auto& r : records) {
    naptr_choice c{r, naptr_service_transport(r.service), {}};
    // RFC 3263 §4.1: the records of interest have flag "s" and a replacement (SRV name);
    // RFC 3403 §4: exactly one of regexp and replacement is used.
    if (!iequals(r.flags, "s")) c.rejected = "flags \"" + r.flags + "\" (only \"s\" leads to SRV)";
    else if (!r.regexp.empty()) c.rejected = "regexp rewriting not supported (RFC 3263 uses replacement)";
    else if (r.replacement.empty()) c.rejected = "empty replacement";
    else if (!c.t) c.rejected = "service \"" + r.service + "\" is not SIP+D2U, SIP+D2T or SIPS+D2T";
    else if (std::find(allowed.begin(), allowed.end(), *c.t) == allowed.end())
      c.rejected = "transport " + std::string(to_string(*c.t)) + " not allowed";
    out.push_back(std::move(c));
  }
  std::stable_sort(out.begin(), out.end(), [](const naptr_choice& a, const naptr_choice& b) {
    if (a.record.order != b.record.order) return a.record.order < b.record.order;
    return a.record.preference < b.record.preference;
  });
  return out;
}

std::vector<srv_service> srv_fallback(const locate_request& req) {
  const auto allowed = allowed_transports(req);
  const std::string host = normalize(req.host);
  std::vector<srv_service> out;
  // RFC 3263 §4.1 lists the SRV prefixes; the secure one first, as a client preferring
  // TLS would. Each one is asked only if its transport is allowed.
  for (transport t : {transport::tls, transport::tcp, transport::udp}) {
    if (std::find(allowed.begin(), allowed.end(), t) == allowed.end()) continue;
    const char* prefix = t == transport::tls ? "_sips._tcp." : t == transport::tcp ? "_sip._tcp." : "_sip._udp.";
    out.push_back({t, prefix + host});
  }
  return out;
}

bool srv_unavailable(const std::vector<srv_record>& records) noexcept {
  return records.size() == 1 && (records.front().target.empty() || records.front().target == ".");
}

std::vector<srv_record> order_srv(std::vector<srv_record> records, std::mt19937& rng) {
  std::erase_if(records, [](const srv_record& r) { return r.target.empty() || r.target == "."; });
  std::stable_sort(records.begin(), records.end(),
                   [](const srv_record& a, const srv_record& b) { return a.priority < b.priority; });
  std::vector<srv_record> out;
  out.reserve(records.size());
  auto group_begin = records.begin();
  while (group_begin != records.end()) {
    auto group_end = std::find_if(group_begin, records.end(),
                                  [&](const srv_record& r) { return r.priority != group_begin->priority; });
    std::vector<srv_record> group(group_begin, group_end);
    // RFC 2782: "all those with weight 0 are placed at the beginning of the list".
    std::stable_partition(group.begin(), group.end(), [](const srv_record& r) { return r.weight == 0; });
    while (!group.empty()) {
      std::uint32_t total = 0;
      for (const auto& r : group) total += r.weight;
      std::size_t pick = 0;
      if (total == 0) {
        pick = std::uniform_int_distribution<std::size_t>(0, group.size() - 1)(rng);
      } else {
        // A number in [0, total]; the first record whose running sum reaches it wins.
        std::uint32_t draw = std::uniform_int_distribution<std::uint32_t>(0, total)(rng);
        std::uint32_t running = 0;
        for (pick = 0; pick < group.size(); ++pick) {
          running += group[pick].weight;
          if (running >= draw) break;
        }
        if (pick == group.size()) pick = group.size() - 1;
      }
      out.push_back(std::move(group[pick]));
      group.erase(group.begin() + static_cast<std::ptrdiff_t>(pick));
    }
    group_begin = group_end;
  }
  return out;
}

const query_result* dns_cache::find(std::string_view name, rr_type type) const noexcept {
  for (const auto& q : queries)
    if (q.type == type && iequals(normalize(q.name), normalize(name))) return &q;
  return nullptr;
}

namespace {

// One walk of RFC 3263 over the cache. In collect mode (out == nullptr) it only gathers the
// queries that are missing; in final mode it also builds the tree and the targets. One code
// path for both keeps "what we ask" and "what we report" from drifting apart.
struct walker {
  walker(const locate_request& q, const dns_cache& c, std::mt19937* g = nullptr, resolution* o = nullptr,
         const locate_limits* l = nullptr)
      : req(q), cache(c), rng(g), out(o), limits(l) {}

  const locate_request& req;
  const dns_cache& cache;
  std::mt19937* rng = nullptr;
  resolution* out = nullptr;
  const locate_limits* limits = nullptr;
  std::vector<query_key> needed;
  std::size_t missing = 0;
  std::optional<std::size_t> unavailable_query;  // an SRV that answered "."

  int node(plan_node n) {
    if (!out) return -1;
    out->nodes.push_back(std::move(n));
    return static_cast<int>(out->nodes.size()) - 1;
  }

  int note(int parent, std::string text) {
    plan_node n;
    n.k = plan_node::kind::note;
    n.parent = parent;
    n.note = std::move(text);
    return node(std::move(n));
  }

  const query_result* ask(const std::string& name, rr_type type, int parent, int& at) {
    const query_result* r = cache.find(name, type);
    if (r == nullptr) {
      query_key k{normalize(name), type};
      if (std::find(needed.begin(), needed.end(), k) == needed.end()) needed.push_back(k);
      ++missing;
      at = note(parent, std::string(to_string(type)) + " " + name + ": not sent (overall deadline or query limit)");
      return nullptr;
    }
    plan_node n;
    n.k = plan_node::kind::query;
    n.parent = parent;
    n.query = static_cast<std::size_t>(r - cache.queries.data());
    at = node(std::move(n));
    return r;
  }

  void add_target(transport t, const std::string& host, const std::string& address, std::uint16_t port, found_by v) {
    if (!out) return;
    for (const auto& x : out->targets)
      if (x.t == t && x.address == address && x.port == port) return;  // one per endpoint
    if (out->targets.size() >= limits->max_targets) {
      out->limited = true;
      return;
    }
    out->targets.push_back({t, host, address, port, v});
  }

  // A and AAAA, both families, for `host`; targets for every transport in `ts`.
  void addresses(const std::string& host, const std::vector<transport>& ts, std::optional<std::uint16_t> port, found_by v,
                 int parent) {
    int at4 = -1, at6 = -1;
    const query_result* a = ask(host, rr_type::a, parent, at4);
    const query_result* aaaa = ask(host, rr_type::aaaa, parent, at6);
    for (transport t : ts) {
      const std::uint16_t p = port.value_or(default_port(t));
      for (const query_result* r : {a, aaaa})
        if (r && r->status == dns_status::ok)
          for (const auto& addr : r->addresses) add_target(t, normalize(host), addr, p, v);
    }
  }

  void srv_branch(const query_result& s, transport t, found_by v, int parent) {
    if (s.status != dns_status::ok) return;
    if (srv_unavailable(s.srv)) {
      unavailable_query = static_cast<std::size_t>(&s - cache.queries.data());
      note(parent, "target \".\": service not available for " + std::string(to_string(t)) + " (RFC 2782)");
      return;
    }
    // Collecting needs no randomness: priority order keeps the queries readable.
    auto ordered = rng ? order_srv(s.srv, *rng) : s.srv;
    if (!rng)
      std::stable_sort(ordered.begin(), ordered.end(),
                       [](const srv_record& a, const srv_record& b) { return a.priority < b.priority; });
    for (const auto& r : ordered) {
      if (r.target.empty() || r.target == ".") continue;
      plan_node n;
      n.k = plan_node::kind::srv;
      n.parent = parent;
      n.srv = r;
      n.t = t;
      int at = node(std::move(n));
      addresses(r.target, {t}, r.port, v, at);
    }
  }

  void run() {
    const auto allowed = allowed_transports(req);
    if (allowed.empty()) {
      note(-1, "no transport left (check --transport against sips:)");
      return;
    }
    const std::string host = normalize(req.host);
    const auto direct = direct_transports(req);
    if (is_ip_literal(req.host)) {
      note(-1, "IP literal: no DNS query (RFC 3263 §4.2)");
      for (transport t : direct) add_target(t, req.host, req.host, req.port.value_or(default_port(t)), found_by::literal);
      return;
    }
    if (req.port) {
      int at = note(-1, "explicit port " + std::to_string(*req.port) + ": A/AAAA only, no NAPTR/SRV (RFC 3263 §4.2)");
      addresses(host, direct, req.port, found_by::a, at);
      return;
    }
    int naptr_at = -1;
    const query_result* n = ask(host, rr_type::naptr, -1, naptr_at);
    if (n == nullptr) return;
    bool followed = false;
    if (n->status == dns_status::ok) {
      for (const auto& c : rank_naptr(n->naptr, req)) {
        plan_node pn;
        pn.k = plan_node::kind::naptr;
        pn.parent = naptr_at;
        pn.naptr = c.record;
        pn.t = c.t;
        pn.note = c.rejected;
        int at = node(std::move(pn));
        if (!c.rejected.empty()) continue;
        followed = true;
        int srv_at = -1;
        if (const query_result* s = ask(c.record.replacement, rr_type::srv, at, srv_at))
          srv_branch(*s, *c.t, found_by::naptr, srv_at);
      }
      if (followed) return;
    } else if (!soft_failure(n->status)) {
      return;  // SERVFAIL, timeout…: reported, no fallback (only NXDOMAIN/NODATA fall back)
    }
    int fb = note(-1, n->status == dns_status::ok ? "no usable NAPTR record: SRV without NAPTR (RFC 3263 §4.1)"
                                                  : "no NAPTR: SRV without NAPTR (RFC 3263 §4.1)");
    bool all_soft = true;
    for (const auto& svc : srv_fallback(req)) {
      int srv_at = -1;
      const query_result* s = ask(svc.name, rr_type::srv, fb, srv_at);
      if (s == nullptr) {
        all_soft = false;
        continue;
      }
      if (!soft_failure(s->status)) all_soft = false;
      srv_branch(*s, svc.t, found_by::srv, srv_at);
    }
    if (!all_soft) return;
    // RFC 3263 §4.2: no SRV records at all — A/AAAA of the domain itself, default ports.
    int at = note(-1, "no SRV: A/AAAA of " + host + " on the default port (RFC 3263 §4.2)");
    addresses(host, direct, std::nullopt, found_by::a, at);
  }
};

void explain_failure(resolution& r, const walker& w) {
  if (!r.targets.empty()) return;
  // The queries the tree refers to, in tree order.
  std::vector<std::size_t> failed;
  for (const auto& n : r.nodes)
    if (n.k == plan_node::kind::query && r.queries[n.query].status != dns_status::ok) failed.push_back(n.query);
  for (std::size_t q : failed)
    if (!soft_failure(r.queries[q].status)) {
      r.error = to_error_code(r.queries[q].status);
      r.failed_query = q;
      return;
    }
  if (w.missing > 0) {
    r.error = errc::timeout;
    return;
  }
  if (w.unavailable_query) {
    r.error = errc::service_unavailable;
    r.failed_query = w.unavailable_query;
    return;
  }
  // Only NXDOMAIN/NODATA left: cite the deepest stage reached (an SRV target without an
  // address says more than the missing NAPTR that was only the first step).
  auto stage = [](rr_type t) { return t == rr_type::naptr ? 0 : t == rr_type::srv ? 1 : 2; };
  std::optional<std::size_t> best;
  for (std::size_t q : failed)
    if (!best || stage(r.queries[q].type) > stage(r.queries[*best].type)) best = q;
  if (best) {
    r.error = to_error_code(r.queries[*best].status);
    r.failed_query = best;
    return;
  }
  r.error = errc::no_usable_records;
}

}  // namespace

std::vector<query_key> next_queries(const locate_request& req, const dns_cache& cache) {
  walker w(req, cache);
  w.run();
  return std::move(w.needed);
}

resolution build_plan(const locate_request& req, const dns_cache& cache, std::mt19937& rng, const locate_limits& limits) {
  resolution r;
  r.queries = cache.queries;
  walker w(req, cache, &rng, &r, &limits);
  w.run();
  explain_failure(r, w);
  return r;
}

// ---- async driver ---------------------------------------------------------------------

namespace {

struct locate_op : std::enable_shared_from_this<locate_op> {
  locate_op(resolver& r, locate_request q, locate_limits l, std::mt19937& g, std::function<void(resolution)> h)
      : res(r),
        req(std::move(q)),
        limits(l),
        rng(g),
        handler(std::move(h)),
        timer(r.get_executor()),
        start(std::chrono::steady_clock::now()) {}

  resolver& res;
  locate_request req;
  locate_limits limits;
  std::mt19937& rng;
  std::function<void(resolution)> handler;
  boost::asio::steady_timer timer;
  std::chrono::steady_clock::time_point start;
  struct slot {
    query_key key;
    std::chrono::steady_clock::time_point sent;
    std::optional<query_result> result;  // nullopt while in flight
  };
  dns_cache cache;          // completed queries, in the order they were sent
  std::vector<slot> slots;  // every query sent
  std::size_t outstanding = 0;
  bool deadline = false, limited = false, finished = false;

  void begin() {
    timer.expires_after(limits.deadline);
    timer.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (ec || self->finished) return;
      self->deadline = true;
      self->finish();
    });
    step();
  }

  // One round: everything the plan is missing is asked in parallel (both families, every
  // SRV of a round at once); the next round starts when the whole round has answered.
  void step() {
    auto wanted = next_queries(req, cache);
    if (wanted.empty()) return finish();
    bool sent = false;
    for (auto& k : wanted) {
      if (slots.size() >= limits.max_queries) {
        limited = true;
        break;
      }
      std::size_t slot = slots.size();
      slots.push_back({k, std::chrono::steady_clock::now(), std::nullopt});
      ++outstanding;
      sent = true;
      res.async_query(k.name, k.type, [self = shared_from_this(), slot](query_result r) {
        if (self->finished) return;
        self->slots[slot].result = std::move(r);
        self->rebuild_cache();
        if (--self->outstanding == 0) self->step();
      });
    }
    if (!sent) finish();
  }

  void rebuild_cache() {
    cache.queries.clear();
    for (const auto& s : slots)
      if (s.result) cache.queries.push_back(*s.result);
  }

  void finish() {
    if (finished) return;
    finished = true;
    timer.cancel();
    const auto now = std::chrono::steady_clock::now();
    // Still in flight at the deadline: a timeout result, with the time it waited.
    for (auto& s : slots) {
      if (s.result) continue;
      query_result r;
      r.name = s.key.name;
      r.type = s.key.type;
      r.status = dns_status::timeout;
      r.detail = "no answer before the overall deadline";
      r.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(now - s.sent);
      s.result = std::move(r);
    }
    rebuild_cache();
    resolution r = build_plan(req, cache, rng, limits);
    r.deadline_reached = deadline;
    r.limited = r.limited || limited;
    // Queries left unsent for the query bound, not for the deadline: say so.
    if (limited && !deadline && r.targets.empty() && r.error == errc::timeout && !r.failed_query) r.error = errc::limit_reached;
    r.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(now - start);
    boost::asio::post(res.get_executor(), [h = std::move(handler), r = std::move(r)]() mutable { h(std::move(r)); });
  }
};

}  // namespace

void async_locate(resolver& res, locate_request req, locate_limits limits, std::mt19937& rng,
                  std::function<void(resolution)> handler) {
  std::make_shared<locate_op>(res, std::move(req), limits, rng, std::move(handler))->begin();
}

}  // namespace netcheck
