// probe/exporter/config.cpp — see the header.
#include "probe/exporter/config.hpp"

namespace probe::exporter {}  // namespace probe::exporter
