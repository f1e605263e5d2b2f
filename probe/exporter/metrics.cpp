// probe/exporter/metrics.cpp — see the header.
#include "probe/exporter/metrics.hpp"

namespace probe::exporter {}  // namespace probe::exporter
