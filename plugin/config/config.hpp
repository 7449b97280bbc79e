// config.hpp — reclaim.toml, loaded once, checked completely: an unknown
// key, a wrong type or an unsafe file mode stops the load with a message
// naming file:line:column and the key (DESIGN.md decision 5).
#pragma once

#include "audit/audit_config.hpp"
#include "config/access.hpp"
#include "connectors/connector_config.hpp"
#include "ldap/ldap_mapping.hpp"
#include "base/log.hpp"
#include "policy/policy_model.hpp"
#include "scim/hr_xml.hpp"

#include <chrono>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>

namespace reclaim {

class config_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

class permission_error : public config_error {
public:
  using config_error::config_error;
};

// Which of the engine's work this process does when several hosts share one
// state_dir ([engine] role, or a host's RECLAIM_OPEN_ROLE_* flag):
// all: everything in-process (the default); intake: map and journal only
// (no planner, dispatcher, audit appender or witness threads); engine:
// everything, for every host journalling into the state_dir.
enum class engine_role { all, intake, engine };

const char *engine_role_name(engine_role r);

struct engine_config {
  std::filesystem::path state_dir = "/var/lib/reclaim";
  log_level level = log_level::info;
  // Memory the journal queue may hold before changes are dropped (and
  // recovered by catch-up once it has drained).
  size_t queue_limit_bytes = 64u << 20;
  // The engine's own threads: SCHED_IDLE (true) or nice +10.
  bool idle_priority = true;
  // The journal writer commits at most once per window.
  std::chrono::milliseconds batch_window{10};
  engine_role role = engine_role::all;
  // Attributes whose (case- and space-normalised) values name one person
  // across sources: events sharing a value are journalled under one subject.
  std::vector<std::string> person_keys;
};

struct config {
  std::filesystem::path path;
  std::string sha256; // of the file's bytes, hex
  engine_config engine;
  ldap::mapping_config ldap;
  policy_config policy;
  audit::audit_config audit; // [audit]; disabled when absent
  std::map<std::string, connector_settings> connectors; // [connector.NAME]
  access::access_config access; // [access]: who may do what through reclaimctl
  hr::hr_config hr;              // [hr]: HR XML intake (reclaimctl ingest)

  std::filesystem::path journal_path() const { return engine.state_dir / "journal.sqlite3"; }
};

inline constexpr const char *default_config_path = "/etc/reclaim/reclaim.toml";

// The path tools use: explicit, else $RECLAIM_CONFIG, else the default.
std::filesystem::path resolve_config_path(const char *explicit_path);

// Refuses a file writable by group or other (and, when secret, readable by
// other). Throws permission_error naming the file and its mode.
void check_file_mode(const std::filesystem::path &path, bool secret);

// Loads and validates; throws config_error / permission_error.
config load_config(const std::filesystem::path &path);

// The engine applies its config at start only. nullopt while cfg.path still
// holds the bytes cfg was loaded from; else the file's SHA-256 (hex), or
// "unreadable: <reason>" when it cannot be read. Never throws; reads the
// file once (meant for about once a minute, not per event).
std::optional<std::string> config_changed_on_disk(const config &cfg) noexcept;

} // namespace reclaim
