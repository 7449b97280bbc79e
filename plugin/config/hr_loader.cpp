// hr_loader.cpp — [hr]: which document id is the person, what each id is
// journalled as, which HR event becomes which state, reason overrides and
// the parser's limits. Unknown keys and states are errors, as elsewhere.
#include "config/hr_loader.hpp"

#include "config/toml_reader.hpp"

namespace reclaim {
namespace {

reclaim_state hr_state(const reader &r, const toml::table &t, std::string_view prefix, std::string_view key) {
  if (const auto name = r.str(t, prefix, key); name && *name == "none") return RECLAIM_STATE_NONE;
  return to_abi(r.state_value(t, prefix, key,
                              {state::active, state::leave, state::transferred, state::terminated,
                               state::contract_ended, state::reactivated, state::deleted}));
}

size_t limit(const reader &r, const toml::table &t, std::string_view key, int64_t max) {
  const auto v = r.integer(t, "hr", key);
  if (!v) return 0;
  if (*v < 1 || *v > max) r.fail(t.get(key)->source(), reader::join("hr", key), fmt::format("must be between 1 and {}", max));
  return static_cast<size_t>(*v);
}

} // namespace

void load_hr(const reader &r, const toml::table &t, hr::hr_config &out) {
  r.only_keys(t, "hr", {"subject_ids", "id_attributes", "states", "termination_reasons", "max_bytes", "max_depth",
                        "max_workers"});
  if (auto v = r.strings(t, "hr", "subject_ids")) {
    if (v->empty()) r.fail(t.get("subject_ids")->source(), "hr.subject_ids", "must name at least one id type");
    out.subject_ids = std::move(*v);
  }
  if (const auto *ids = r.table(t, "hr", "id_attributes"))
    for (auto &&[k, v] : *ids) {
      const auto name = r.str(*ids, "hr.id_attributes", k.str());
      if (name->empty()) r.fail(v.source(), reader::join("hr.id_attributes", k.str()), "must not be empty");
      out.id_attributes[std::string(k.str())] = *name;
    }
  if (const auto *states = r.table(t, "hr", "states"))
    for (auto &&[k, v] : *states) {
      if (!hr::is_kind(k.str()))
        r.fail(k.source(), reader::join("hr.states", k.str()),
               "unknown HR event (expected one of: terminated, leave, return, hire, rehire, contract_end)");
      out.states[std::string(k.str())] = hr_state(r, *states, "hr.states", k.str());
    }
  if (const auto *reasons = r.table(t, "hr", "termination_reasons"))
    for (auto &&[k, v] : *reasons)
      out.termination_reasons[std::string(k.str())] = hr_state(r, *reasons, "hr.termination_reasons", k.str());
  if (const auto n = limit(r, t, "max_bytes", int64_t{1} << 30)) out.max_bytes = n;
  if (const auto n = limit(r, t, "max_depth", 256)) out.max_depth = n;
  if (const auto n = limit(r, t, "max_workers", 10000000)) out.max_workers = n;
}

} // namespace reclaim
