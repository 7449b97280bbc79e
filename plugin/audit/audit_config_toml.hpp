// audit_config_toml.hpp — the loader of the [audit] table, for config.cpp
// only (it needs toml++, which the rest of the code does not include).
#pragma once

#include "audit/audit_config.hpp"
#include "config/toml_reader.hpp"

namespace reclaim::audit {

// Reads [audit]; state_dir supplies the defaults of the paths.
void load_audit(const reader &r, const toml::table &t, const std::filesystem::path &state_dir,
                audit_config &out);

} // namespace reclaim::audit
