// config.cpp — parses reclaim.toml with toml++ and validates every key.
// Each problem is reported as "file:line:column: key: problem"; keys the
// engine does not know are errors, so a typo never silently disables a rule.
#include "audit/audit_config_toml.hpp"
#include "config/access_toml.hpp"
#include "config/config.hpp"
#include "config/hr_loader.hpp"

#include "ldap/ldap_entry.hpp"
#include "config/policy_loader.hpp"
#include "config/toml_reader.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <sstream>

namespace reclaim {
namespace {

constexpr std::initializer_list<state> resting_states = {
    state::active, state::leave, state::terminated, state::contract_ended};

} // namespace

const char *engine_role_name(engine_role r) {
  switch (r) {
  case engine_role::intake: return "intake";
  case engine_role::engine: return "engine";
  case engine_role::all: break;
  }
  return "all";
}

namespace {

void load_engine(const reader &r, const toml::table &t, engine_config &out) {
  r.only_keys(t, "engine",
              {"state_dir", "log_level", "mode", "queue_limit_bytes", "background_priority", "batch_window", "role",
               "person_keys"});
  if (auto v = r.strings(t, "engine", "person_keys")) out.person_keys = std::move(*v);
  if (auto v = r.str(t, "engine", "role")) {
    if (*v == "all") out.role = engine_role::all;
    else if (*v == "intake") out.role = engine_role::intake;
    else if (*v == "engine") out.role = engine_role::engine;
    else
      r.fail(t.get("role")->source(), "engine.role", fmt::format("\"{}\" is not one of all, intake, engine", *v));
  }
  if (auto v = r.str(t, "engine", "batch_window")) {
    const auto d = parse_duration(*v);
    if (!d || *d < std::chrono::milliseconds(1) || *d > std::chrono::seconds(10))
      r.fail(t.get("batch_window")->source(), "engine.batch_window",
             fmt::format("\"{}\" is not an ISO 8601 duration from PT0.001S to PT10S", *v));
    out.batch_window = *d;
  }
  if (auto v = r.str(t, "engine", "background_priority")) {
    if (*v != "idle" && *v != "nice")
      r.fail(t.get("background_priority")->source(), "engine.background_priority",
             fmt::format("\"{}\" is not one of idle, nice", *v));
    out.idle_priority = *v == "idle";
  }
  if (auto v = r.integer(t, "engine", "queue_limit_bytes")) {
    if (*v < 1 || *v > (int64_t{1} << 31))
      r.fail(t.get("queue_limit_bytes")->source(), "engine.queue_limit_bytes", "must be between 1 and 2147483648 (2 GiB)");
    out.queue_limit_bytes = static_cast<size_t>(*v);
  }
  if (auto v = r.str(t, "engine", "state_dir")) {
    if (v->empty() || (*v)[0] != '/')
      r.fail(t.get("state_dir")->source(), "engine.state_dir", "must be an absolute path");
    out.state_dir = *v;
  }
  if (auto v = r.str(t, "engine", "log_level")) {
    static constexpr std::string_view names[] = {"error", "warning", "info", "debug"};
    bool found = false;
    for (int i = 0; i < 4; ++i)
      if (*v == names[i]) {
        out.level = static_cast<log_level>(i);
        found = true;
      }
    if (!found)
      r.fail(t.get("log_level")->source(), "engine.log_level",
             fmt::format("\"{}\" is not one of error, warning, info, debug", *v));
  }
}

ldap::state_rule load_rule(const reader &r, const toml::table &t, size_t index) {
  const auto prefix = fmt::format("ldap.rule[{}]", index);
  r.only_keys(t, prefix,
              {"attribute", "equals", "present", "bits_set", "expired_days", "state"});
  ldap::state_rule rule;
  rule.origin = r.origin(t.source());
  auto attr = r.str(t, prefix, "attribute");
  if (!attr || attr->empty()) r.fail(t.source(), prefix + ".attribute", "is required");
  rule.attribute = *attr;
  int tests = 0;
  if (auto v = r.strings(t, prefix, "equals")) {
    ++tests;
    rule.kind = ldap::state_rule::test::equals;
    for (auto &s : *v) rule.values.push_back(ldap::lower_ascii(s));
    if (rule.values.empty()) r.fail(t.get("equals")->source(), prefix + ".equals", "must not be empty");
  }
  if (auto v = r.boolean(t, prefix, "present")) {
    ++tests;
    if (!*v) r.fail(t.get("present")->source(), prefix + ".present", "only `present = true` is meaningful");
    rule.kind = ldap::state_rule::test::present;
  }
  if (const auto *n = t.get("bits_set")) {
    ++tests;
    const auto *i = n->as_integer();
    if (i == nullptr || i->get() <= 0)
      r.fail(n->source(), prefix + ".bits_set", "must be a positive integer mask");
    rule.kind = ldap::state_rule::test::bits_set;
    rule.mask = static_cast<uint64_t>(i->get());
  }
  if (auto v = r.boolean(t, prefix, "expired_days")) {
    ++tests;
    if (!*v) r.fail(t.get("expired_days")->source(), prefix + ".expired_days", "only `expired_days = true` is meaningful");
    rule.kind = ldap::state_rule::test::expired_days;
  }
  if (tests != 1)
    r.fail(t.source(), prefix,
           "needs exactly one test: equals, present, bits_set or expired_days");
  rule.result = to_abi(r.state_value(t, prefix, "state", resting_states));
  return rule;
}

void load_ldap(const reader &r, const toml::table &t, ldap::mapping_config &out) {
  r.only_keys(t, "ldap",
              {"base", "person_object_classes", "leavers", "leavers_state", "transfer_attributes",
               "default_state", "catch_up_margin", "rule"});
  auto base = r.str(t, "ldap", "base");
  if (!base) r.fail(t.source(), "ldap.base", "is required (the subtree that holds people)");
  out.base = *base;
  out.base_norm = r.normalized_dn(t, "ldap", "base", *base);
  if (auto v = r.strings(t, "ldap", "person_object_classes")) {
    out.person_classes.clear();
    for (auto &c : *v) {
      const bool keystring = std::all_of(c.begin(), c.end(), [](char ch) {
        return std::isalnum(static_cast<unsigned char>(ch)) || ch == '-';
      });
      if (!keystring)
        r.fail(t.get("person_object_classes")->source(), "ldap.person_object_classes",
               fmt::format("\"{}\" is not an object class name", c));
      out.person_classes.push_back(ldap::lower_ascii(c));
    }
    if (out.person_classes.empty())
      r.fail(t.get("person_object_classes")->source(), "ldap.person_object_classes",
             "must name at least one object class");
  } else {
    out.person_classes = {"inetorgperson", "organizationalperson", "person", "posixaccount"};
  }
  if (auto v = r.strings(t, "ldap", "leavers"))
    for (auto &dn : *v) {
      auto n = r.normalized_dn(t, "ldap", "leavers", dn);
      if (!ldap::dn_is_under(n, out.base_norm))
        r.fail(t.get("leavers")->source(), "ldap.leavers",
               fmt::format("\"{}\" is outside ldap.base \"{}\": moves into it would not be seen", dn, out.base));
      out.leavers_norm.push_back(std::move(n));
    }
  if (t.get("leavers_state"))
    out.leavers_state = to_abi(r.state_value(t, "ldap", "leavers_state", resting_states));
  if (auto v = r.strings(t, "ldap", "transfer_attributes")) out.transfer_attributes = *v;
  else out.transfer_attributes = {"departmentNumber", "title"};
  if (t.get("default_state"))
    out.default_state = to_abi(r.state_value(t, "ldap", "default_state", resting_states));
  if (auto v = r.str(t, "ldap", "catch_up_margin")) {
    auto d = parse_duration(*v);
    if (!d)
      r.fail(t.get("catch_up_margin")->source(), "ldap.catch_up_margin",
             fmt::format("\"{}\" is not a non-negative ISO 8601 duration such as PT5M", *v));
    out.catch_up_margin = *d;
  }
  if (const auto *n = t.get("rule")) {
    const auto *arr = n->as_array();
    if (arr == nullptr || !arr->is_array_of_tables())
      r.fail(n->source(), "ldap.rule", "must be written as [[ldap.rule]] tables");
    size_t i = 0;
    for (const auto &item : *arr) out.rules.push_back(load_rule(r, *item.as_table(), i++));
  }
}

std::string sha256_hex(const std::string &bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("SHA-256 failed");
  std::string hex;
  for (unsigned i = 0; i < len; ++i) hex += fmt::format("{:02x}", md[i]);
  return hex;
}

} // namespace

std::filesystem::path resolve_config_path(const char *explicit_path) {
  if (explicit_path != nullptr && *explicit_path != '\0') return explicit_path;
  if (const char *env = std::getenv("RECLAIM_CONFIG"); env != nullptr && *env != '\0') return env;
  return default_config_path;
}

void check_file_mode(const std::filesystem::path &path, bool secret) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    throw config_error(fmt::format("{}: cannot read: {}", path.string(), std::strerror(errno)));
  if (!S_ISREG(st.st_mode))
    throw config_error(fmt::format("{}: not a regular file", path.string()));
  const auto mode = st.st_mode & 07777;
  if (mode & (S_IWGRP | S_IWOTH))
    throw permission_error(fmt::format(
        "{}: refused: writable by group or other (mode {:04o}); run: chmod go-w {}",
        path.string(), mode, path.string()));
  if (secret && (mode & S_IROTH))
    throw permission_error(fmt::format(
        "{}: refused: secret readable by other (mode {:04o}); run: chmod o-rwx {}",
        path.string(), mode, path.string()));
}

config load_config(const std::filesystem::path &path) {
  check_file_mode(path, false);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw config_error(fmt::format("{}: cannot open", path.string()));
  std::stringstream buf;
  buf << in.rdbuf();
  const std::string bytes = buf.str();

  config cfg;
  cfg.path = path;
  cfg.sha256 = sha256_hex(bytes);
  toml::table root;
  try {
    root = toml::parse(bytes, path.string());
  } catch (const toml::parse_error &e) {
    throw config_error(fmt::format("{}:{}:{}: syntax error: {}", path.string(),
                                   e.source().begin.line, e.source().begin.column,
                                   e.description()));
  }
  reader r(path.string());
  r.only_keys(root, "", {"engine", "ldap", "application", "tiers", "policy", "legal_hold", "guard", "scheduler", "audit",
                         "connector", "access", "hr", "scim_server"});
  auto section = [&](std::string_view name) -> const toml::table * {
    const auto *n = root.get(name);
    if (n == nullptr) return nullptr;
    if (!n->is_table()) r.fail(n->source(), name, "must be a table");
    return n->as_table();
  };
  if (const auto *t = section("engine")) load_engine(r, *t, cfg.engine);
  if (const auto *t = section("ldap")) load_ldap(r, *t, cfg.ldap);
  else throw config_error(fmt::format("{}: [ldap] section is required", path.string()));
  if (const auto *t = section("connector")) cfg.connectors = load_connectors(r, *t);
  for (const auto &[name, c] : cfg.connectors) cfg.policy.connector_names.insert(name);
  load_policy(r, root, cfg.policy);
  if (const auto *t = section("audit")) audit::load_audit(r, *t, cfg.engine.state_dir, cfg.audit);
  if (const auto *t = section("access")) cfg.access = access::load_access(r, *t);
  if (const auto *t = section("hr")) load_hr(r, *t, cfg.hr);
  // The policy reads these from events, so the intake must journal them.
  auto &extra = cfg.ldap.extra_attributes;
  if (!cfg.policy.role_attribute.empty()) extra.push_back(cfg.policy.role_attribute);
  if (!cfg.policy.end_date_attribute.empty()) extra.push_back(cfg.policy.end_date_attribute);
  cfg.ldap.end_date_attribute = cfg.policy.end_date_attribute;
  if (!cfg.policy.time_zone_attribute.empty()) extra.push_back(cfg.policy.time_zone_attribute);
  if (!cfg.policy.effective_date_attribute.empty()) extra.push_back(cfg.policy.effective_date_attribute);
  if (!cfg.policy.legal_hold.attribute.empty()) extra.push_back(cfg.policy.legal_hold.attribute);
  cfg.ldap.hold_attribute = cfg.policy.legal_hold.attribute;
  for (const auto &[name, c] : cfg.connectors)
    if (!c.user_attribute.empty()) extra.push_back(c.user_attribute);
  for (const auto &rule : cfg.policy.rules)
    for (const auto &[attr, values] : rule.where) extra.push_back(attr);
  for (const auto &key : cfg.engine.person_keys) extra.push_back(key); // joined by the journal
  cfg.ldap.needed = ldap::needed_attributes(cfg.ldap);
  return cfg;
}

std::optional<std::string> config_changed_on_disk(const config &cfg) noexcept {
  try {
    std::ifstream in(cfg.path, std::ios::binary);
    if (!in) return fmt::format("unreadable: {}", std::strerror(errno));
    std::stringstream buf;
    buf << in.rdbuf();
    auto sha = sha256_hex(buf.str());
    if (sha == cfg.sha256) return std::nullopt;
    return sha;
  } catch (const std::exception &e) {
    try {
      return fmt::format("unreadable: {}", e.what());
    } catch (...) {
      return std::nullopt;
    }
  }
}

} // namespace reclaim
