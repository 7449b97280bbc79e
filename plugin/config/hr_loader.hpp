// hr_loader.hpp — [hr] of reclaim.toml: how HR XML maps to lifecycle states
// (scim/hr_xml.hpp holds the struct and its defaults).
#pragma once

#include "scim/hr_xml.hpp"

#include <toml++/toml.h>

namespace reclaim {

class reader;

// Overrides the defaults in out with what [hr] says; throws config_error
// naming file:line:column and the key.
void load_hr(const reader &r, const toml::table &t, hr::hr_config &out);

} // namespace reclaim
