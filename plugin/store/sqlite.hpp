// sqlite.hpp — a thin RAII layer over the SQLite C API for the state store:
// connections, prepared statements, transactions. Errors become
// store_error carrying SQLite's own message.
#pragma once

#include <cstdint>
#include <chrono>
#include <filesystem>
#include <memory>
#include <unordered_map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace reclaim::sqlite {

class store_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

enum class durability { full, normal };

class statement;

class database {
public:
  database(const std::filesystem::path &path, durability d, bool read_only = false);
  ~database();
  database(const database &) = delete;
  database &operator=(const database &) = delete;

  void exec(const char *sql);
  statement prepare(std::string_view sql);
  // A statement prepared once per connection and reset before each reuse.
  statement &cached(const std::string &sql);
  int64_t changes() const;
  int64_t last_insert_rowid() const;
  bool in_transaction() const;
  // How long a statement waits for another connection's lock (default 10 s).
  void set_busy_timeout(std::chrono::milliseconds wait);
  sqlite3 *handle() const { return db_; }
  [[noreturn]] void fail(std::string_view what) const;

private:
  void configure(durability d, bool read_only);

  sqlite3 *db_ = nullptr;
  std::string path_;
  std::unordered_map<std::string, std::unique_ptr<statement>> cache_;
};

class statement {
public:
  statement(database &db, std::string_view sql);
  ~statement();
  statement(statement &&other) noexcept;
  statement(const statement &) = delete;
  statement &operator=(const statement &) = delete;

  statement &bind(int i, std::string_view v);
  // Binds without a copy: v must stay valid and unchanged until the next
  // reset() (run() resets), e.g. a member of a row being inserted.
  statement &bind_static(int i, std::string_view v);
  statement &bind(int i, int64_t v);
  statement &bind_null(int i);
  statement &bind_double(int i, double v);
  // true while a row is available
  bool step();
  void run() { step(); reset(); }
  void reset();

  std::string text(int col) const;
  int64_t integer(int col) const;
  double real(int col) const;
  bool is_null(int col) const;

private:
  database *db_;
  sqlite3_stmt *st_ = nullptr;
};

class transaction {
public:
  explicit transaction(database &db);
  ~transaction();
  void commit();

private:
  database &db_;
  bool done_ = false;
};

} // namespace reclaim::sqlite
