#include "probe/locate/dns_report.hpp"

#include "netcheck/endpoint.hpp"
#include "netcheck/error.hpp"
#include "probe/core/text_safety.hpp"

#include <nlohmann/json.hpp>

#include <functional>

namespace probe::locate {

using netcheck::dns_status;
using netcheck::plan_node;
using netcheck::query_result;
using netcheck::rr_type;
using nlohmann::json;

namespace {

struct palette {
  const char* ok;
  const char* bad;
  const char* dim;
  const char* bold;
  const char* reset;
};
constexpr palette ansi{"\033[32m", "\033[31m", "\033[2m", "\033[1m", "\033[0m"};
constexpr palette plain{"", "", "", "", ""};

std::string answers_summary(const query_result& q) {
  if (q.type == rr_type::a || q.type == rr_type::aaaa) {
    std::string s;
    for (std::size_t i = 0; i < q.addresses.size() && i < 4; ++i) s += (i ? ", " : "") + q.addresses[i];
    if (q.addresses.size() > 4) s += ", +" + std::to_string(q.addresses.size() - 4) + " more";
    return s;
  }
  std::size_t n = q.record_count();
  return std::to_string(n) + (n == 1 ? " record" : " records");
}

// A label for the failure of an explaining error that is not a query status.
std::string plan_reason(const netcheck::resolution& r) {
  if (r.error == netcheck::errc::timeout && !r.failed_query) return "the overall deadline passed before the plan was complete";
  return r.error.message();
}

}  // namespace

std::string describe_query(const query_result& q) {
  std::string s = std::string(netcheck::to_string(q.type)) + " " + q.name + ": " + std::string(netcheck::to_string(q.status));
  if (q.status == dns_status::ok) {
    s += " (" + answers_summary(q) + ")";
  } else if (!q.detail.empty()) {
    s += " (" + q.detail + ")";
  }
  s += ", " + std::to_string(q.elapsed.count()) + " ms";
  return s;
}

std::optional<diagnosis> dns_diagnosis(const dns_run& run) { return dns_diagnosis(run.result, run.target.host, run.servers); }

std::optional<diagnosis> dns_diagnosis(const netcheck::resolution& r, const std::string& host,
                                       const std::vector<std::string>& asked) {
  if (!r.targets.empty()) return std::nullopt;
  diagnosis d;
  d.code = diagnosis_code::dns_failure;
  std::string servers;
  for (const auto& s : asked) servers += (servers.empty() ? "" : ", ") + s;
  if (r.failed_query && *r.failed_query < r.queries.size()) {
    d.evidence.push_back(describe_query(r.queries[*r.failed_query]) + " — " + r.error.message());
  } else {
    d.evidence.push_back("no target for " + host + ": " + plan_reason(r));
  }
  for (std::size_t i = 0; i < r.queries.size(); ++i)
    if (r.queries[i].status != dns_status::ok && (!r.failed_query || i != *r.failed_query))
      d.evidence.push_back(describe_query(r.queries[i]));
  if (!servers.empty()) d.evidence.push_back("DNS server(s) asked: " + servers);
  return d;
}

namespace {

json answers_json(const query_result& q) {
  json a = json::array();
  for (const auto& n : q.naptr)
    a.push_back({{"order", n.order},
                 {"preference", n.preference},
                 {"flags", n.flags},
                 {"service", n.service},
                 {"regexp", n.regexp},
                 {"replacement", n.replacement}});
  for (const auto& s : q.srv)
    a.push_back(
        {{"priority", s.priority}, {"weight", s.weight}, {"port", s.port}, {"target", s.target.empty() ? "." : s.target}});
  for (const auto& addr : q.addresses) a.push_back(addr);
  return a;
}

json query_json(const query_result& q) {
  return {{"name", q.name},
          {"type", netcheck::to_string(q.type)},
          {"status", netcheck::to_string(q.status)},
          {"detail", q.detail.empty() ? json(nullptr) : json(q.detail)},
          {"ttl", q.ttl ? json(*q.ttl) : json(nullptr)},
          {"ms", q.elapsed.count()},
          {"answers", answers_json(q)},
          {"capped", q.capped}};
}

std::vector<std::vector<int>> children_of(const netcheck::resolution& r) {
  std::vector<std::vector<int>> kids(r.nodes.size() + 1);  // last slot: the roots
  for (std::size_t i = 0; i < r.nodes.size(); ++i) {
    int p = r.nodes[i].parent;
    kids[p < 0 ? r.nodes.size() : static_cast<std::size_t>(p)].push_back(static_cast<int>(i));
  }
  return kids;
}

json node_json(const netcheck::resolution& r, const std::vector<std::vector<int>>& kids, int i) {
  const plan_node& n = r.nodes[static_cast<std::size_t>(i)];
  json j;
  switch (n.k) {
    case plan_node::kind::query: j["query"] = n.query; break;
    case plan_node::kind::naptr:
      j["naptr"] = {{"order", n.naptr.order},
                    {"preference", n.naptr.preference},
                    {"flags", n.naptr.flags},
                    {"service", n.naptr.service},
                    {"replacement", n.naptr.replacement}};
      j["transport"] = n.t ? json(netcheck::to_string(*n.t)) : json(nullptr);
      j["ignored"] = n.note.empty() ? json(nullptr) : json(n.note);
      break;
    case plan_node::kind::srv:
      j["srv"] = {{"priority", n.srv.priority}, {"weight", n.srv.weight}, {"port", n.srv.port}, {"target", n.srv.target}};
      j["transport"] = n.t ? json(netcheck::to_string(*n.t)) : json(nullptr);
      break;
    case plan_node::kind::note: j["note"] = n.note; break;
  }
  json c = json::array();
  for (int k : kids[static_cast<std::size_t>(i)]) c.push_back(node_json(r, kids, k));
  j["children"] = std::move(c);
  return j;
}

}  // namespace

json dns_to_json(const dns_run& run) {
  const auto& r = run.result;
  json j;
  j["schema"] = "sipprobe.dns/1";
  const auto& t = run.target;
  j["input"] = {{"text", run.input},
                {"scheme", t.scheme.empty() ? json(nullptr) : json(t.scheme)},
                {"host", t.host},
                {"port", t.port ? json(*t.port) : json(nullptr)},
                {"transport", t.transport ? json(netcheck::to_string(*t.transport)) : json(nullptr)},
                {"secure", t.secure()},
                {"servers", run.servers}};
  json queries = json::array();
  for (const auto& q : r.queries) queries.push_back(query_json(q));
  j["queries"] = std::move(queries);
  auto kids = children_of(r);
  json plan = json::array();
  for (int k : kids.back()) plan.push_back(node_json(r, kids, k));
  j["plan"] = std::move(plan);
  json targets = json::array();
  for (const auto& x : r.targets)
    targets.push_back({{"transport", netcheck::to_string(x.t)},
                       {"host", x.host},
                       {"address", x.address},
                       {"port", x.port},
                       {"via", netcheck::to_string(x.found_by)}});
  j["targets"] = std::move(targets);
  if (auto d = dns_diagnosis(run)) {
    const entry& e = describe(d->code);
    json fixes = json::array();
    for (auto f : e.fixes) fixes.push_back(std::string(f));
    json record = nullptr;
    if (r.failed_query) {
      const auto& q = r.queries[*r.failed_query];
      record = {{"name", q.name},
                {"type", netcheck::to_string(q.type)},
                {"status", netcheck::to_string(q.status)},
                {"query", *r.failed_query}};
    }
    j["diagnosis"] = {{"code", e.code},   {"title", e.title}, {"explanation", e.explanation}, {"reason", r.error.message()},
                      {"record", record}, {"fixes", fixes},   {"evidence", d->evidence}};
  } else {
    j["diagnosis"] = nullptr;
  }
  j["deadline_reached"] = r.deadline_reached;
  j["limited"] = r.limited;
  j["elapsed_ms"] = r.elapsed.count();
  return j;
}

void write_dns_text(std::ostream& out, const dns_run& run, color_mode color) {
  const palette& c = color == color_mode::always ? ansi : plain;
  const auto& r = run.result;
  out << c.bold << "DNS plan for " << printable(run.target.host) << c.reset;
  if (!run.servers.empty() && !r.queries.empty()) {  // an IP literal asks no server
    out << c.dim << "  (server";
    if (run.servers.size() > 1) out << "s";
    for (std::size_t i = 0; i < run.servers.size(); ++i) out << (i ? ", " : " ") << printable(run.servers[i]);
    out << ")" << c.reset;
  }
  out << "\n\n";

  auto line_for = [&](const plan_node& n) {
    std::string s;
    switch (n.k) {
      case plan_node::kind::query: {
        const query_result& q = r.queries[n.query];
        bool ok = q.status == dns_status::ok;
        s = std::string(netcheck::to_string(q.type)) + " " + printable(q.name) + "  " + (ok ? c.ok : c.bad) +
            std::string(netcheck::to_string(q.status)) + c.reset;
        if (ok) s += "  " + printable(answers_summary(q));
        else if (!q.detail.empty()) s += std::string(c.dim) + "  " + printable(q.detail) + c.reset;
        s += std::string(c.dim) + (q.ttl ? "  ttl " + std::to_string(*q.ttl) : "") + "  " + std::to_string(q.elapsed.count()) +
             " ms" + c.reset;
        if (q.capped) s += "  (answer capped)";
        break;
      }
      case plan_node::kind::naptr:
        s = "order " + std::to_string(n.naptr.order) + " pref " + std::to_string(n.naptr.preference) + "  \"" +
            printable(n.naptr.flags) + "\" " + printable(n.naptr.service);
        if (n.note.empty()) s += " → " + printable(n.naptr.replacement) + " [" + std::string(netcheck::to_string(*n.t)) + "]";
        else s += std::string(c.dim) + "  ignored: " + printable(n.note) + c.reset;
        break;
      case plan_node::kind::srv:
        s = "priority " + std::to_string(n.srv.priority) + " weight " + std::to_string(n.srv.weight) + " port " +
            std::to_string(n.srv.port) + " → " + printable(n.srv.target);
        break;
      case plan_node::kind::note: s = std::string(c.dim) + printable(n.note) + c.reset; break;
    }
    return s;
  };

  auto kids = children_of(r);
  std::function<void(int, const std::string&, bool, bool)> draw = [&](int i, const std::string& prefix, bool last, bool root) {
    out << "  " << prefix << (root ? "" : last ? "└─ " : "├─ ") << line_for(r.nodes[static_cast<std::size_t>(i)]) << "\n";
    std::string next = prefix + (root ? "" : last ? "   " : "│  ");
    const auto& ks = kids[static_cast<std::size_t>(i)];
    for (std::size_t k = 0; k < ks.size(); ++k) draw(ks[k], next, k + 1 == ks.size(), false);
  };
  for (int root : kids.back()) draw(root, "", true, true);

  out << "\n";
  if (!r.targets.empty()) {
    out << c.bold << "Targets, in the order a phone tries them:" << c.reset << "\n";
    std::size_t i = 0;
    for (const auto& t : r.targets) {
      std::string ep = printable(netcheck::endpoint_text(t));
      ++i;
      out << "  " << (i < 10 ? " " : "") << i << ". " << netcheck::to_string(t.t) << "  " << ep
          << std::string(ep.size() < 22 ? 22 - ep.size() : 1, ' ') << printable(t.host) << c.dim << "  via "
          << netcheck::to_string(t.found_by) << c.reset << "\n";
    }
    if (r.limited) out << c.dim << "  (limit reached: more targets not shown)" << c.reset << "\n";
    out << "\n"
        << c.ok << "Resolved" << c.reset << ": " << r.targets.size() << (r.targets.size() == 1 ? " target" : " targets") << " in "
        << r.elapsed.count() << " ms.\n";
    return;
  }
  auto d = dns_diagnosis(run);
  const entry& e = describe(d->code);
  out << c.bad << c.bold << "Diagnosis: " << e.code << c.reset << " — " << e.title << "\n  " << e.explanation
      << "\n\n  Evidence:\n";
  for (const auto& ev : d->evidence) out << "    - " << printable(ev) << "\n";
  out << "\n  Fixes:\n";
  int k = 0;
  for (auto f : e.fixes) out << "    " << ++k << ". " << f << "\n";
  out << "\n"
      << "No target found (" << r.elapsed.count() << " ms).\n";
}

}  // namespace probe::locate
