#include "netcheck/error.hpp"
