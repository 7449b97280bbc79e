// resource_store.hpp — Users and Groups of reclaim-scimd in SQLite
// (<state_dir>/scim.sqlite3, mode 0600, WAL, synchronous=FULL): a write is
// durable when commit() returns. userName is unique ignoring ASCII case;
// userName, externalId and displayName lookups use indexes. Not
// thread-safe: the caller serialises access (scim_service holds one mutex).
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace reclaim::scimd {

enum class resource_kind { user, group };

struct store_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// userName (Users) already taken.
struct uniqueness_error : store_error {
  using store_error::store_error;
};

struct stored_resource {
  std::string id;
  nlohmann::json resource; // with meta
  std::int64_t version = 0;
};

class resource_store {
public:
  explicit resource_store(const std::filesystem::path &state_dir);
  ~resource_store();
  resource_store(const resource_store &) = delete;
  resource_store &operator=(const resource_store &) = delete;

  std::optional<stored_resource> get(resource_kind kind, const std::string &id);
  // Indexed equality on "id", "userName", "externalId" (Users) or
  // "displayName", "externalId" (Groups); userName/displayName ignore case.
  // nullopt when the attribute has no index.
  std::optional<std::vector<stored_resource>> find_indexed(resource_kind kind, const std::string &attribute,
                                                           const std::string &value);
  // Every resource in creation order.
  std::vector<stored_resource> all(resource_kind kind);
  std::int64_t count(resource_kind kind);

  void begin();    // BEGIN IMMEDIATE
  void commit();   // durable on return
  void rollback(); // never throws
  void insert(resource_kind kind, const stored_resource &r);
  void update(resource_kind kind, const stored_resource &r);
  void remove(resource_kind kind, const std::string &id);

private:
  sqlite3 *db_ = nullptr;
  void exec(const char *sql);
  void write(resource_kind kind, const stored_resource &r, bool insert);
  std::vector<stored_resource> query(const std::string &sql, const std::vector<std::string> &args);
};

} // namespace reclaim::scimd
