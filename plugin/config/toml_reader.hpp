// toml_reader.hpp — typed access to a parsed reclaim.toml with errors that
// name "file:line:column: key: problem". Shared by the config loaders.
#pragma once

#include "config/config.hpp"
#include "ldap/ldap_entry.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <toml++/toml.h>

#include <cmath>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

namespace reclaim {

class reader {
public:
  explicit reader(std::string file) : file_(std::move(file)) {}

  [[noreturn]] void fail(const toml::source_region &where, std::string_view key,
                         std::string_view problem) const {
    throw config_error(fmt::format("{}:{}:{}: {}: {}", file_, where.begin.line,
                                   where.begin.column, key, problem));
  }

  std::string origin(const toml::source_region &where) const {
    return fmt::format("{}:{}:{}", file_, where.begin.line, where.begin.column);
  }

  void only_keys(const toml::table &t, std::string_view prefix,
                 std::initializer_list<std::string_view> allowed) const {
    for (auto &&[k, v] : t) {
      bool ok = false;
      for (auto a : allowed) ok = ok || k.str() == a;
      if (!ok)
        fail(k.source(), join(prefix, k.str()),
             fmt::format("unknown key (expected one of: {})", fmt::join(allowed, ", ")));
    }
  }

  static std::string join(std::string_view prefix, std::string_view key) {
    return prefix.empty() ? std::string(key) : fmt::format("{}.{}", prefix, key);
  }

  std::optional<std::string> str(const toml::table &t, std::string_view prefix,
                                 std::string_view key) const {
    const auto *n = t.get(key);
    if (n == nullptr) return std::nullopt;
    const auto *s = n->as_string();
    if (s == nullptr) fail(n->source(), join(prefix, key), "must be a string");
    return s->get();
  }

  std::optional<bool> boolean(const toml::table &t, std::string_view prefix,
                              std::string_view key) const {
    const auto *n = t.get(key);
    if (n == nullptr) return std::nullopt;
    const auto *b = n->as_boolean();
    if (b == nullptr) fail(n->source(), join(prefix, key), "must be true or false");
    return b->get();
  }

  std::optional<std::vector<std::string>> strings(const toml::table &t, std::string_view prefix,
                                                  std::string_view key) const {
    const auto *n = t.get(key);
    if (n == nullptr) return std::nullopt;
    const auto *arr = n->as_array();
    if (arr == nullptr) fail(n->source(), join(prefix, key), "must be an array of strings");
    std::vector<std::string> out;
    for (const auto &item : *arr) {
      const auto *s = item.as_string();
      if (s == nullptr || s->get().empty())
        fail(item.source(), join(prefix, key), "every element must be a non-empty string");
      out.push_back(s->get());
    }
    return out;
  }

  state state_value(const toml::table &t, std::string_view prefix, std::string_view key,
                    std::initializer_list<state> allowed) const {
    const auto *n = t.get(key);
    const auto name = str(t, prefix, key);
    if (!name) fail(t.source(), join(prefix, key), "is required");
    const auto s = parse_state(*name);
    bool ok = false;
    for (auto a : allowed) ok = ok || (s && *s == a);
    if (!ok) {
      std::vector<std::string_view> names;
      for (auto a : allowed) names.push_back(state_name(a));
      fail(n->source(), join(prefix, key),
           fmt::format("unknown or unusable state \"{}\" (expected one of: {})", *name,
                       fmt::join(names, ", ")));
    }
    return *s;
  }

  std::optional<std::chrono::milliseconds> duration(const toml::table &t, std::string_view prefix,
                                                    std::string_view key) const {
    auto v = str(t, prefix, key);
    if (!v) return std::nullopt;
    auto d = parse_duration(*v);
    if (!d)
      fail(t.get(key)->source(), join(prefix, key),
           fmt::format("\"{}\" is not a non-negative ISO 8601 duration such as PT5M or P30D", *v));
    return d;
  }

  std::optional<double> number(const toml::table &t, std::string_view prefix, std::string_view key) const {
    const auto *n = t.get(key);
    if (n == nullptr) return std::nullopt;
    if (const auto *i = n->as_integer()) return static_cast<double>(i->get());
    if (const auto *f = n->as_floating_point()) {
      // Every comparison with NaN is false: a NaN threshold would switch
      // its check off without a word.
      if (!std::isfinite(f->get())) fail(n->source(), join(prefix, key), "must be a finite number (not nan or inf)");
      return f->get();
    }
    fail(n->source(), join(prefix, key), "must be a number");
  }

  std::optional<int64_t> integer(const toml::table &t, std::string_view prefix, std::string_view key) const {
    const auto *n = t.get(key);
    if (n == nullptr) return std::nullopt;
    const auto *i = n->as_integer();
    if (i == nullptr) fail(n->source(), join(prefix, key), "must be an integer");
    return i->get();
  }

  const toml::table *table(const toml::table &t, std::string_view prefix, std::string_view key) const {
    const auto *n = t.get(key);
    if (n == nullptr) return nullptr;
    if (!n->is_table()) fail(n->source(), join(prefix, key), "must be a table");
    return n->as_table();
  }

  std::string normalized_dn(const toml::table &t, std::string_view prefix, std::string_view key,
                            const std::string &dn) const {
    auto n = ldap::normalize_dn(dn);
    if (!n) fail(t.get(key)->source(), join(prefix, key), fmt::format("\"{}\" is not a valid DN", dn));
    return *n;
  }

private:
  std::string file_;
};

} // namespace reclaim
