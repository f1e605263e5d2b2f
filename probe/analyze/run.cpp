// The analyze pipeline (see run.hpp).
#include "probe/analyze/run.hpp"

namespace probe::analyze {

trace_analyzer::trace_analyzer(run_options o)
    : opt_(std::move(o)),
      store_(opt_.max_attempts),
      tracker_([this](attempt&& a) { store_.add(std::move(a)); },
               [this] {
                 tracker_limits l;
                 l.idle_seconds = opt_.idle_seconds;
                 return l;
               }()) {
  tracker_.call_id_filter = opt_.call_id;
  tracker_.aor_filter = opt_.aor;
  budget_.max_bytes = opt_.max_bytes;
}

expected<void, std::string> trace_analyzer::add(const std::string& path) {
  auto in = open_input(path, &budget_);
  if (!in) return unexpected(std::move(in).error());
  auto read = add(in->file, path, in->head);
  if (read && budget_.exceeded)
    return unexpected("more than --max-bytes " + std::to_string(budget_.max_bytes) + " bytes of input (stopped in " + path + ")");
  return read;
}

expected<void, std::string> trace_analyzer::add(std::FILE* f, const std::string& name, std::string_view head) {
  const auto fmt = opt_.format == trace_format::automatic ? detect_format(head) : opt_.format;
  inputs_.push_back({name, std::string(to_string(fmt))});
  // Each input is read on its own: its attempts close at its end, with its last packet as
  // the end of the trace (Timer F decisions), and no Call-ID continues into the next.
  if (fmt == trace_format::pcap) {
    capture_stats file;
    if (auto read = read_pcap(f, name, tracker_, file); !read) return read;
    capture_.add(file);
    tracker_.finish(file.last_time);
    return {};
  }
  const auto text = read_text(f, name, fmt, tracker_);
  std::fclose(f);
  tracker_.finish(text.last_time);
  return {};
}

void trace_analyzer::finish() {
  tracker_.finish();
  store_.finalize(opt_.secret);
}

analysis trace_analyzer::result(double elapsed_ms) const {
  analysis a;
  a.inputs = inputs_;
  a.capture = capture_;
  a.sip_messages = tracker_.sip_messages();
  a.register_messages = tracker_.register_messages();
  a.retransmissions = tracker_.retransmissions();
  a.warnings = tracker_.warnings();
  a.warnings_total = tracker_.warnings_total();
  a.attempts = &store_;
  a.elapsed_ms = elapsed_ms;
  return a;
}

}  // namespace probe::analyze
