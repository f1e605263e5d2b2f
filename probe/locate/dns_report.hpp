// probe/locate/dns_report.hpp — the result of `sipprobe dns` as text and as JSON (sipprobe.dns/1),
// and its dns_failure diagnosis.
//
// JSON: {"schema":"sipprobe.dns/1",
//        "input":{"text","scheme","host","port","transport","secure","servers":[…]},
//        "queries":[{"name","type","status","detail","ttl","ms","answers":[…],"capped"}],
//        "plan":[{"query":i | "naptr":{…} | "srv":{…} | "note":"…", "children":[…]}],
//        "targets":[{"transport","host","address","port","via"}],
//        "diagnosis":{"code","title","explanation","fixes","evidence","record"} | null,
//        "deadline_reached", "limited", "elapsed_ms"}
// NAPTR answers are {"order","preference","flags","service","regexp","replacement"}, SRV
// answers {"priority","weight","port","target"}, A/AAAA answers address strings.
#pragma once

#include "netcheck/rfc3263.hpp"
#include "probe/core/catalog.hpp"
#include "probe/core/report.hpp"
#include "probe/locate/target.hpp"

#include <nlohmann/json_fwd.hpp>

#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace probe::locate {

struct dns_run {
  std::string input;  // the target as typed
  dns_target target;
  std::vector<std::string> servers;  // the DNS servers asked ("127.0.0.1:53")
  netcheck::resolution result;
};

// dns_failure with evidence citing the failing record first, or nullopt when targets exist.
std::optional<diagnosis> dns_diagnosis(const dns_run& run);
// The same from a bare resolution (register, reach, diagnose): `host` is what was looked up,
// `servers` the resolvers asked.
std::optional<diagnosis> dns_diagnosis(const netcheck::resolution& r, const std::string& host,
                                       const std::vector<std::string>& servers);

// One line per query, e.g. "NAPTR nosuch.test: nxdomain (NXDOMAIN: the name does not exist)".
std::string describe_query(const netcheck::query_result& q);

nlohmann::json dns_to_json(const dns_run& run);
void write_dns_text(std::ostream& out, const dns_run& run, color_mode color);

}  // namespace probe::locate
