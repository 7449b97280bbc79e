// replay_store.hpp — the SAML replay store of reclaim-scimd: a table in
// <state_dir>/scim.sqlite3 (id, expires) behind saml::remember_once_fn, so an
// ID accepted before a restart is still refused after it. Expired rows are
// pruned on every call. Thread-safe (its own connection and mutex).
#pragma once

#include "scim/saml_nameid.hpp"

#include <filesystem>
#include <mutex>
#include <string_view>

struct sqlite3;

namespace reclaim::scimd {

class replay_store {
public:
  // Opens (creating the table in) state_dir/scim.sqlite3; throws store_error.
  explicit replay_store(const std::filesystem::path &state_dir);
  ~replay_store();
  replay_store(const replay_store &) = delete;
  replay_store &operator=(const replay_store &) = delete;

  // True if id was not remembered (and is now, durably, until expires).
  // Throws store_error when the database fails (the request is then refused).
  bool remember_once(std::string_view id, saml::time_point expires);
  saml::remember_once_fn function(); // the store must outlive it
  // Drops id again: the request it came with was verified but not recorded
  // (engine failure), so the IdP's retry of the same message must pass.
  void forget(std::string_view id);

private:
  std::mutex mu_;
  sqlite3 *db_ = nullptr;
};

} // namespace reclaim::scimd
