// access_toml.hpp — the [access] table of reclaim.toml (config.cpp composes
// it); kept apart from access.hpp so users of the model need no toml++.
#pragma once

#include "config/access.hpp"
#include "config/toml_reader.hpp"

namespace reclaim::access {

// Parses [access]; unknown keys, roles and persons are config errors.
access_config load_access(const reader &r, const toml::table &t);

} // namespace reclaim::access
