// audit_log.cpp — the outbox and the appender. Crash safety: records are
// written and fdatasync'ed before their outbox rows are deleted, and each
// record carries its outbox id, so a restart skips rows already in the log;
// a torn last line is cut back and the repair itself recorded.
#include "audit/audit_log.hpp"

#include "audit/audit_prune.hpp"
#include "audit/canonical_json.hpp"
#include "base/clock.hpp"
#include "base/private_files.hpp"

#include <fmt/format.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <iterator>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

namespace reclaim::audit {
namespace {

using json = nlohmann::json;

[[noreturn]] void sys_fail(const std::string &what) {
  throw std::runtime_error(fmt::format("{}: {}", what, std::strerror(errno)));
}

void write_all(int fd, std::string_view data, const std::string &what) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) sys_fail(what);
    data.remove_prefix(static_cast<size_t>(n));
  }
}

// Writes files of one directory atomically (temp, fsync, rename, one fsync
// of the directory). Several at once: the first fsync commits them all.
void write_files_durably(const std::filesystem::path &dir,
                         const std::vector<std::pair<std::string, std::string>> &files) {
  if (files.empty()) return;
  reclaim::files::create_missing_dirs(dir);
  std::vector<int> fds;
  for (const auto &[name, data] : files) {
    const auto tmp = (dir / (name + ".tmp")).string();
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) sys_fail(tmp);
    write_all(fd, data, tmp);
    fds.push_back(fd);
  }
  // Only the newest is synced: an older one lost in a crash is signed
  // again from its checkpoint record when the log is opened (recover()).
  for (size_t i = 0; i < fds.size(); ++i) {
    const auto tmp = (dir / (files[i].first + ".tmp")).string();
    if (i + 1 == fds.size() && ::fsync(fds[i]) != 0) sys_fail(tmp);
    ::close(fds[i]);
    if (::rename(tmp.c_str(), (dir / files[i].first).c_str()) != 0) sys_fail(tmp);
  }
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

std::string member(const std::vector<member_span> &top, std::string_view key) {
  for (const auto &m : top)
    if (m.key == key) return std::string(m.value);
  return {};
}

} // namespace

void create_outbox(sqlite::database &db) {
  db.exec("CREATE TABLE IF NOT EXISTS audit_outbox ("
          "id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL)");
}

void enqueue(sqlite::database &db, json body) {
  if (!body.contains("time")) body["time"] = format_utc(now());
  const auto text = canonical(body);
  try {
    db.cached("INSERT INTO audit_outbox (body) VALUES (?)").bind(1, text).run();
  } catch (const sqlite::store_error &) {
    // A state store no engine has opened yet has no outbox: create it once.
    create_outbox(db);
    db.cached("INSERT INTO audit_outbox (body) VALUES (?)").bind(1, text).run();
  }
}

void enqueue(const std::filesystem::path &state_db, json body) {
  sqlite::database db(state_db, sqlite::durability::full);
  create_outbox(db);
  enqueue(db, std::move(body));
}

std::unique_ptr<appender> appender::try_open(const audit_config &cfg,
                                             const std::filesystem::path &state_db,
                                             const logger &log) {
  std::unique_ptr<appender> a(new appender(cfg, state_db, log, false));
  if (!a->locked_) return nullptr;
  return a;
}

appender::appender(const audit_config &cfg, const std::filesystem::path &state_db,
                   const logger &log)
    : appender(cfg, state_db, log, true) {}

appender::appender(const audit_config &cfg, const std::filesystem::path &state_db,
                   const logger &log, bool wait)
    : cfg_(cfg), log_(log) {
  // The default audit directory, inside the state directory, also holds the
  // keys: reclaim's own, so 0700 and repaired; one chosen elsewhere is only
  // created when missing.
  if (const auto dir = cfg_.path.parent_path(); dir.parent_path() == state_db.parent_path())
    files::ensure_private_dir(dir);
  else
    files::create_missing_dirs(dir);
  // Whatever fails once the file is open (a bad key, a broken base) must not
  // leave it open and locked: a destructor does not run for a throwing
  // constructor, and the engine retries the open later in this process.
  try {
    fd_ = ::open(cfg_.path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd_ < 0) sys_fail(cfg_.path.string());
    files::give_to_dir_owner(fd_, cfg_.path.parent_path()); // created by root's reclaimctl: still the engine's
    if (::flock(fd_, LOCK_EX | (wait ? 0 : LOCK_NB)) != 0) {
      if (!wait && errno == EWOULDBLOCK) return;
      sys_fail(cfg_.path.string() + ": flock");
    }
    // A prune may have replaced the file while we waited: lock the current one.
    struct stat mine {}, now_st {};
    if (::fstat(fd_, &mine) == 0 && ::stat(cfg_.path.c_str(), &now_st) == 0 && mine.st_ino != now_st.st_ino) {
      ::close(fd_);
      fd_ = ::open(cfg_.path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
      if (fd_ < 0 || ::flock(fd_, LOCK_EX | (wait ? 0 : LOCK_NB)) != 0) sys_fail(cfg_.path.string() + ": flock");
    }
    locked_ = true;
    origin_json_ = canonical(cfg_.origin);
    if (signer::generate_if_missing(cfg_.key_file))
      log_.log(log_level::warning, "audit: generated a new signing key {}; publish its verifier key "
               "(reclaimctl audit public-key)", cfg_.key_file.string());
    signers_.push_back(signer::from_pem_file(cfg_.key_file, cfg_.origin));
    for (const auto &f : cfg_.extra_key_files) signers_.push_back(signer::from_pem_file(f, cfg_.origin));
    pseudo_ = std::make_unique<pseudonymizer>(cfg_.pseudonym_key_file, cfg_.key_store);
    // NORMAL: a delete lost in a crash is redone; the drained id is in the log.
    db_ = std::make_unique<sqlite::database>(state_db, sqlite::durability::normal);
    create_outbox(*db_);
    recover();
    append({{"type", "log_start"}, {"actor", "engine"},
            {"data", {{"pid", static_cast<int64_t>(::getpid())}, {"size", range_.size()}}}});
    flush();
  } catch (...) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    locked_ = false;
    throw;
  }
}

appender::~appender() {
  if (!locked_) {
    if (fd_ >= 0) ::close(fd_);
    return;
  }
  try {
    // A stop must not wait for a large backlog (the host is shutting down):
    // what is left stays committed in the outbox and is appended at the next
    // start, after its log_start record.
    drain(std::chrono::steady_clock::now() + cfg_.stop_drain);
    auto &left = db_->cached("SELECT count(*) FROM audit_outbox WHERE id > ?");
    left.bind(1, last_outbox_);
    const int64_t waiting = left.step() ? left.integer(0) : 0;
    left.reset();
    if (waiting > 0)
      log_.log(log_level::warning, "audit: {} records left in the outbox at stop; they are appended at the next start",
               waiting);
    append({{"type", "log_stop"}, {"actor", "engine"}, {"data", {{"outbox_waiting", waiting}}}});
    checkpoint();
  } catch (const std::exception &e) {
    log_.log(log_level::error, "audit: ALERT: closing the audit log failed: {}", e.what());
  }
  ::close(fd_);
}

// Rebuilds size, frontier, last hash and drained outbox id from the file.
// Reads the whole file; a torn last line is cut back to the last LF.
// Returns the bytes of complete records and, in cut, what was cut.
std::string appender::read_complete(std::string &cut) {
  struct stat st {};
  if (::fstat(fd_, &st) != 0) sys_fail(cfg_.path.string());
  std::string data(static_cast<size_t>(st.st_size), '\0');
  if (st.st_size > 0 && ::pread(fd_, data.data(), data.size(), 0) != st.st_size) sys_fail(cfg_.path.string());
  const auto end = data.rfind('\n') == std::string::npos ? 0 : data.rfind('\n') + 1;
  if (end != data.size()) {
    cut = fmt::format("{} bytes of a torn last record cut at byte {}", data.size() - end, end);
    log_.log(log_level::error, "audit: ALERT: {}: {}", cfg_.path.string(), cut);
    if (::ftruncate(fd_, static_cast<off_t>(end)) != 0 || ::fdatasync(fd_) != 0) sys_fail(cfg_.path.string());
    data.resize(end);
  }
  return data;
}

// Signs again the checkpoint records whose note a crash lost or left torn.
void appender::resign_lost_notes(const std::vector<std::pair<uint64_t, hash>> &signed_sizes) {
  for (const auto &[size, root] : signed_sizes) {
    bool ok = false;
    try {
      std::ifstream in(cfg_.checkpoint_dir / fmt::format("{:020}", size), std::ios::binary);
      ok = in && parse_checkpoint_text(parse_note(std::string((std::istreambuf_iterator<char>(in)), {})).text).root == root;
    } catch (const note_error &) {
    }
    if (!ok) pending_notes_.emplace_back(size, root);
  }
  if (pending_notes_.empty()) return;
  log_.log(log_level::warning, "audit: {} checkpoint note(s) signed again after a crash", pending_notes_.size());
  write_pending_notes();
}

// Rebuilds size, frontier, last hash, time and drained outbox id.
void appender::recover() {
  std::string cut;
  const auto data = read_complete(cut);
  if (const auto base = read_base(cfg_.path)) { // pruned: continue from the base
    range_.restore(base->size, base->nodes);
    last_leaf_ = hasher_.leaf(base->last_line);
    last_outbox_ = base->outbox;
  }
  std::vector<member_span> top;
  std::string last_type;
  std::vector<std::pair<uint64_t, hash>> signed_sizes; // checkpoint records seen
  for (std::string_view rest = data; !rest.empty();) {
    const auto nl = rest.find('\n');
    const auto line = rest.substr(0, nl);
    last_leaf_ = hasher_.leaf(line);
    range_.append(hasher_, last_leaf_);
    top.clear();
    if (check_canonical(line, &top).empty()) {
      const auto ob = member(top, "outbox");
      int64_t id = 0;
      const auto [end, ec] = std::from_chars(ob.data(), ob.data() + ob.size(), id);
      if (!ob.empty() && ec == std::errc{} && end == ob.data() + ob.size()) last_outbox_ = std::max(last_outbox_, id);
      last_type = member(top, "type");
      if (last_type == "\"checkpoint\"") signed_sizes.emplace_back(range_.size(), range_.root(hasher_));
      last_time_ = std::max(last_time_, member(top, "time"));
    }
    rest.remove_prefix(nl + 1);
  }
  last_checkpoint_size_ = signed_sizes.empty() ? 0 : signed_sizes.back().first;
  since_checkpoint_ = range_.size() - std::min(range_.size(), last_checkpoint_size_);
  last_checkpoint_time_ = std::chrono::steady_clock::now();
  resign_lost_notes(signed_sizes);
  if (!cut.empty()) append({{"type", "log_repaired"}, {"actor", "engine"}, {"reason", cut}});
  db_->exec(fmt::format("DELETE FROM audit_outbox WHERE id <= {}", last_outbox_).c_str());
}

void appender::append_line(const json &body, int64_t outbox_id) { append_raw(canonical(body), outbox_id); }

// Splices the log's own members into a canonical body without re-parsing it
// into a tree: the body's members are already canonical, so their bytes are
// copied and only the member order has to be merged.
void appender::append_raw(std::string_view body, int64_t outbox_id) {
  std::vector<member_span> &top = scratch_top_;
  top.clear();
  if (auto err = check_canonical(body, &top); !err.empty())
    throw std::runtime_error("audit record body is not canonical JSON: " + err);
  std::array<std::string, 8> owned; // values made here; views below point into them
  size_t n_owned = 0;
  auto own = [&](std::string v) -> std::string_view { return owned[n_owned++] = std::move(v); };
  std::vector<std::pair<std::string_view, std::string_view>> &out = scratch_members_;
  out.clear();
  std::string_view pseudonym, personal;
  for (const auto &m : top) {
    if (m.key == "subject_id") {
      auto id = unescape(m.value.substr(1, m.value.size() - 2));
      auto it = pseudonym_cache_.find(id);
      if (it == pseudonym_cache_.end()) {
        if (pseudonym_cache_.size() > 100000) pseudonym_cache_.clear();
        auto p = pseudo_->pseudonym(id);
        it = pseudonym_cache_.emplace(std::move(id), std::move(p)).first;
      }
      pseudonym = it->second;
      out.emplace_back("subject", own("\"" + it->second + "\""));
    } else if (m.key == "personal") {
      personal = m.value;
    } else if (m.key == "time") {
      out.emplace_back("decided", m.value);
    } else if (m.key != "v" && m.key != "origin" && m.key != "seq" && m.key != "prev" && m.key != "outbox") {
      out.emplace_back(m.key, m.value);
    }
  }
  if (!personal.empty() && !pseudonym.empty())
    if (auto sealed = pseudo_->seal(std::string(pseudonym), personal)) // none: forgotten meanwhile
      out.emplace_back("pii", own(canonical(*sealed)));
  // "time" is when the record entered the log and never goes backwards.
  const auto t = now();
  if (t != last_now_) {
    last_now_ = t;
    last_time_ = std::max(last_time_, "\"" + format_utc(t) + "\"");
  }
  out.emplace_back("time", last_time_);
  out.emplace_back("v", "1");
  out.emplace_back("origin", origin_json_);
  out.emplace_back("seq", own(std::to_string(range_.size())));
  out.emplace_back("prev", own("\"" + (range_.size() == 0 ? std::string(64, '0') : to_hex(last_leaf_)) + "\""));
  if (outbox_id > 0) out.emplace_back("outbox", own(std::to_string(outbox_id)));
  std::sort(out.begin(), out.end()); // ASCII keys: byte order is RFC 8785 order
  const size_t start = buffer_.size();
  buffer_ += '{';
  for (size_t i = 0; i < out.size(); ++i) {
    if (i) buffer_ += ',';
    buffer_ += '"';
    buffer_ += out[i].first;
    buffer_ += "\":";
    buffer_ += out[i].second;
  }
  buffer_ += '}';
  last_leaf_ = hasher_.leaf(std::string_view(buffer_).substr(start));
  range_.append(hasher_, last_leaf_);
  buffer_ += '\n';
  ++since_checkpoint_;
  // A forgotten person's id gets a new pseudonym if it ever comes back.
  if (member(top, "type") == "\"forget\"") pseudonym_cache_.clear();
}

// The records first (fdatasync), then the checkpoints that cover them.
void appender::flush() {
  if (!buffer_.empty()) {
    write_all(fd_, buffer_, cfg_.path.string());
    if (::fdatasync(fd_) != 0) sys_fail(cfg_.path.string());
    buffer_.clear();
  }
  write_pending_notes();
}

void appender::append(json body) {
  append_line(std::move(body), 0);
  maybe_checkpoint();
  flush();
}

void appender::maybe_checkpoint() {
  if (static_cast<int64_t>(since_checkpoint_) + 1 >= cfg_.checkpoint_every) queue_checkpoint();
}

size_t appender::drain(std::chrono::steady_clock::time_point deadline) {
  size_t total = 0;
  try {
    if (!failure_.empty()) {
      append({{"type", "write_failure"}, {"actor", "engine"}, {"reason", failure_}});
      failure_.clear();
    }
    for (;;) {
      auto &st = db_->cached("SELECT id, body FROM audit_outbox WHERE id > ? ORDER BY id LIMIT 8192");
      st.bind(1, last_outbox_);
      size_t n = 0;
      bool out_of_time = false;
      while (!out_of_time && st.step()) {
        const auto body = st.text(1);
        try {
          append_raw(body, st.integer(0));
        } catch (const std::runtime_error &e) { // a bad row must not block the log
          log_.log(log_level::error, "audit: ALERT: outbox row {}: {}", st.integer(0), e.what());
          append_line({{"type", "write_failure"}, {"actor", "engine"}, {"reason", e.what()},
                       {"data", {{"outbox_body_base64", base64(body)}}}}, st.integer(0));
        }
        last_outbox_ = st.integer(0);
        maybe_checkpoint();
        ++n;
        // A chunk can take seconds on a busy host at idle priority: the
        // deadline is checked every 64 records, not once per chunk.
        out_of_time = n % 64 == 0 && std::chrono::steady_clock::now() >= deadline;
      }
      st.reset();
      flush();
      if (n == 0) break;
      db_->cached("DELETE FROM audit_outbox WHERE id <= ?").bind(1, last_outbox_).run();
      total += n;
      if (out_of_time || std::chrono::steady_clock::now() >= deadline) break;
    }
  } catch (const std::exception &e) {
    failure_ = e.what();
    log_.log(log_level::error, "audit: ALERT: writing the audit log failed: {}", e.what());
    throw;
  }
  return total;
}

void appender::queue_checkpoint() {
  append_line({{"type", "checkpoint"}, {"actor", "engine"}}, 0);
  pending_notes_.emplace_back(range_.size(), range_.root(hasher_));
  since_checkpoint_ = 0;
}

void appender::checkpoint() {
  queue_checkpoint();
  flush();
}

void appender::tick() {
  if (std::chrono::steady_clock::now() - last_checkpoint_time_ >= cfg_.checkpoint_interval) {
    flush();
    checkpoint();
  }
}

void appender::write_pending_notes() {
  if (pending_notes_.empty()) return;
  std::vector<std::pair<std::string, std::string>> files;
  for (const auto &[size, root] : pending_notes_) {
    const auto text = checkpoint_text({cfg_.origin, size, root, {}});
    std::string note = text + "\n";
    for (const auto &s : signers_) note += s.signature_line(text);
    if (cfg_.syslog) {
      std::string one_line = note;
      std::replace(one_line.begin(), one_line.end(), '\n', '|');
      ::syslog(LOG_AUTHPRIV | LOG_NOTICE, "reclaim audit checkpoint %s", one_line.c_str());
    }
    files.emplace_back(fmt::format("{:020}", size), std::move(note));
    last_checkpoint_size_ = size;
  }
  write_files_durably(cfg_.checkpoint_dir, files);
  if (!cfg_.copy_to.empty()) write_files_durably(cfg_.copy_to, files);
  pending_notes_.clear();
  last_checkpoint_time_ = std::chrono::steady_clock::now();
}

} // namespace reclaim::audit
