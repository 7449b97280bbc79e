// config_policy.hpp — loader of the policy sections (see config_policy.cpp).
#pragma once

#include "policy_config.hpp"
#include "toml_reader.hpp"

namespace reclaim {

void load_policy(const reader &r, const toml::table &root, policy_config &cfg);

} // namespace reclaim
