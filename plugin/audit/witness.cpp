// witness.cpp — C2SP tlog-witness client and tlog-cosignature checks. The
// sender rebuilds leaf hashes from the log file incrementally (complete lines
// only) to prove consistency from the size a witness last cosigned; a 409
// tells it that size. Cosignatures are appended to the checkpoint note.
#include "audit/witness.hpp"

#include "audit/audit_prune.hpp"
#include "base/clock.hpp"
#include "http/http_client.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <iterator>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace reclaim::audit {
namespace {

constexpr char cosigner_type = '\x04';

std::string slurp(const std::filesystem::path &p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error(p.string() + ": cannot read");
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

uint64_t be64(std::string_view b) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(b[i]);
  return v;
}

// Atomic replace in the same directory: temp (ignored by verify), fsync, rename.
void replace_file(const std::filesystem::path &p, std::string_view data) {
  const auto tmp = fmt::format("{}.{}.cosign.tmp", p.string(), ::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error(fmt::format("{}: {}", tmp, std::strerror(errno)));
  std::string_view rest = data;
  while (!rest.empty()) {
    const ssize_t n = ::write(fd, rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      throw std::runtime_error(fmt::format("{}: {}", tmp, std::strerror(errno)));
    }
    rest.remove_prefix(static_cast<size_t>(n));
  }
  const bool ok = ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), p.c_str()) != 0)
    throw std::runtime_error(fmt::format("{}: {}", p.string(), std::strerror(errno)));
}

// The checkpoint files of a directory, largest tree size first.
std::vector<std::pair<uint64_t, std::filesystem::path>> checkpoint_files(const std::filesystem::path &dir) {
  std::vector<std::pair<uint64_t, std::filesystem::path>> out;
  std::error_code ec;
  for (const auto &e : std::filesystem::directory_iterator(dir, ec)) {
    if (const auto size = parse_u64(e.path().filename().string())) out.emplace_back(*size, e.path());
  }
  std::sort(out.begin(), out.end(), [](const auto &a, const auto &b) { return a.first > b.first; });
  return out;
}

} // namespace

uint32_t cosigner_key_id(std::string_view name, std::string_view pub32) {
  hasher h;
  const auto d = h.sha256(std::string(name) + "\n" + cosigner_type + std::string(pub32));
  return (uint32_t(d[0]) << 24) | (uint32_t(d[1]) << 16) | (uint32_t(d[2]) << 8) | d[3];
}

std::string cosigner_key::text() const {
  return fmt::format("{}+{:08x}+{}", name, id, base64(std::string(1, cosigner_type) + pub));
}

cosigner_key parse_cosigner_key(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  auto p = split_vkey(text, "witness key");
  cosigner_key k;
  k.name = std::move(p.name);
  if (p.type == '\x01')
    throw note_error("witness key: this is a log's signing key (type 0x01), not a witness cosignature key "
                     "(type 0x04, C2SP tlog-cosignature)");
  if (p.type != cosigner_type) throw note_error("witness key: not an Ed25519 cosignature key (type 0x04)");
  k.pub = std::move(p.pub);
  k.id = p.id;
  if (k.id != cosigner_key_id(k.name, k.pub)) throw note_error("witness key: key id does not match key");
  return k;
}

cosigner_key read_cosigner_key(const std::string &arg) {
  if (arg.find('+') != std::string::npos && !std::filesystem::exists(arg)) return parse_cosigner_key(arg);
  std::ifstream in(arg);
  if (!in) throw note_error(arg + ": neither a witness vkey nor a readable file");
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    return parse_cosigner_key(line);
  }
  throw note_error(arg + ": no witness vkey in the file");
}

std::string cosigned_message(std::string_view note_text, uint64_t timestamp) {
  return fmt::format("cosignature/v1\ntime {}\n{}", timestamp, note_text);
}

std::optional<uint64_t> verify_cosignature(const cosigner_key &k, std::string_view note_text, std::string_view sig) {
  if (sig.size() != 8 + 64) return std::nullopt;
  const uint64_t t = be64(sig);
  if (t > uint64_t(INT64_MAX)) return std::nullopt;
  if (!ed25519_verify(k.pub, cosigned_message(note_text, t), sig.substr(8))) return std::nullopt;
  return t;
}

std::string add_checkpoint_body(uint64_t old_size, const std::vector<hash> &proof, std::string_view signed_note) {
  std::string out = fmt::format("old {}\n", old_size);
  for (const auto &h : proof) out += base64(std::string_view(reinterpret_cast<const char *>(h.data()), 32)) + "\n";
  out += "\n";
  out += signed_note;
  return out;
}

std::string merge_cosignatures(std::string_view note_bytes, const std::vector<std::string> &lines) {
  const auto n = parse_note(note_bytes);
  // A witness may answer several valid lines (other timestamps): one per
  // cosigner is kept, the last, so that a chatty witness cannot grow the
  // note past what parse_note reads.
  std::vector<note_signature> fresh;
  std::vector<std::string_view> keep;
  for (const auto &l : lines) {
    auto s = parse_note(n.text + "\n" + l).sigs.at(0);
    bool dup = false;
    for (size_t i = 0; i < fresh.size() && !dup; ++i)
      if (fresh[i].name == s.name && fresh[i].id == s.id) {
        keep[i] = l;
        dup = true;
      }
    if (!dup) {
      fresh.push_back(std::move(s));
      keep.push_back(l);
    }
  }
  const auto split = note_bytes.rfind("\n\n");
  std::string out(note_bytes.substr(0, split + 2));
  std::string_view sigs = note_bytes.substr(split + 2);
  size_t count = keep.size();
  while (!sigs.empty()) {
    const auto nl = sigs.find('\n');
    const auto line = sigs.substr(0, nl + 1);
    const auto s = parse_note(n.text + "\n" + std::string(line)).sigs.at(0);
    const bool replaced = std::any_of(fresh.begin(), fresh.end(),
                                      [&](const note_signature &f) { return f.name == s.name && f.id == s.id; });
    if (!replaced) {
      out += line;
      ++count;
    }
    sigs.remove_prefix(nl + 1);
  }
  if (count > max_note_signatures)
    throw note_error(fmt::format("cosigned note would have {} signatures, more than {}", count, max_note_signatures));
  for (const auto &l : keep) out += l;
  return out;
}

// ---- the sender --------------------------------------------------------------

struct witness_sender::peer {
  cosigner_key key;
  std::string url;
  std::optional<uint64_t> witness_size; // what the witness said it holds (from 200 or 409)
  witness_status st;
  std::chrono::steady_clock::time_point next_try{};
};

struct witness_sender::newest {
  uint64_t size = 0;
  std::filesystem::path file;
  std::string bytes; // the signed note as on disk
  std::string text;  // its note text
};

struct witness_sender::impl {
  explicit impl(http::client_options o) : client(std::move(o)) {}
  http::client client;
  hasher h;
  // Leaf hashes of the live log, read incrementally.
  std::vector<hash> leaves;
  uint64_t base = 0; // records before the live log's first line (pruned)
  off_t offset = 0;
  ino_t ino = 0;
  // Skips the directory listing while neither the log nor the directory changed.
  struct stat seen {}, seen_dir {};
  std::optional<newest> last;
};

witness_sender::witness_sender(const audit_config &cfg, const logger &log) : cfg_(cfg), log_(log) {
  http::client_options o;
  o.timeout = cfg_.witness_timeout;
  o.connect_timeout = std::min(cfg_.witness_timeout, std::chrono::milliseconds(5000));
  o.max_response_bytes = 64 * 1024;
  o.max_concurrent = 1;
  p_ = std::make_unique<impl>(std::move(o));
  for (const auto &w : cfg_.witnesses) {
    peer p;
    p.key = parse_cosigner_key(w.key);
    p.url = w.url;
    while (!p.url.empty() && p.url.back() == '/') p.url.pop_back();
    http::check_url(p.url + "/add-checkpoint");
    p.st.name = p.key.name;
    p.st.url = p.url;
    peers_.push_back(std::move(p));
  }
  // What an earlier run stored: cosignatures already in the notes count.
  try {
    if (auto n = find_newest()) {
      const auto note = parse_note(n->bytes);
      for (auto &p : peers_)
        for (const auto &s : note.sigs)
          if (s.name == p.key.name && s.id == p.key.id && verify_cosignature(p.key, note.text, s.sig)) {
            p.st.cosigned_size = n->size;
            p.witness_size = n->size;
          }
    }
  } catch (const std::exception &e) {
    log_.log(log_level::warning, "audit: witnesses: reading the newest checkpoint: {}", e.what());
  }
}

witness_sender::~witness_sender() { stop(); }

void witness_sender::start(std::chrono::milliseconds poll) {
  if (thread_.joinable() || peers_.empty()) return;
  thread_ = std::thread([this, poll] { loop(poll); });
}

void witness_sender::stop() noexcept {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

// Even a failure to log must not leave the thread (std::terminate would
// take the directory server with it).
void witness_sender::say_failure(const char *what) noexcept {
  try {
    log_.log(log_level::error, "audit: ALERT: witnesses: {}", what);
  } catch (...) {
  }
}

void witness_sender::loop(std::chrono::milliseconds poll) {
  std::unique_lock lock(mu_);
  while (!stop_) {
    lock.unlock();
    try {
      run_once();
    } catch (const std::exception &e) { // nothing leaves this thread
      say_failure(e.what());
    } catch (...) {
      say_failure("unknown failure");
    }
    lock.lock();
    cv_.wait_for(lock, poll, [this] { return stop_; });
  }
}

std::vector<witness_status> witness_sender::status() const {
  std::lock_guard lock(mu_);
  std::vector<witness_status> out;
  for (const auto &p : peers_) out.push_back(p.st);
  return out;
}

std::filesystem::path witness_sender::status_file() const { return cfg_.path.string() + ".witnesses.json"; }

void witness_sender::write_status() {
  nlohmann::json a = nlohmann::json::array();
  for (const auto &s : status())
    a.push_back({{"name", s.name}, {"url", s.url}, {"cosigned_size", s.cosigned_size}, {"last_ok", s.last_ok},
                 {"error", s.error}, {"failures", s.failures}});
  try {
    replace_file(status_file(), a.dump(2) + "\n");
  } catch (const std::exception &e) {
    log_.log(log_level::warning, "audit: witnesses: {}", e.what());
  }
}

std::optional<witness_sender::newest> witness_sender::find_newest() {
  // Both are looked at before the listing: a note written during it changes the directory's mtime.
  struct stat st {}, dst {};
  auto same = [](const struct stat &a, const struct stat &b) {
    return a.st_ino == b.st_ino && a.st_size == b.st_size && a.st_mtim.tv_sec == b.st_mtim.tv_sec &&
           a.st_mtim.tv_nsec == b.st_mtim.tv_nsec;
  };
  if (::stat(cfg_.path.c_str(), &st) == 0 && ::stat(cfg_.checkpoint_dir.c_str(), &dst) == 0 && p_->last &&
      same(st, p_->seen) && same(dst, p_->seen_dir)) {
    // Unchanged log: the note may still have gained cosignatures; reread it.
    p_->last->bytes = slurp(p_->last->file);
    return p_->last;
  }
  for (const auto &[size, file] : checkpoint_files(cfg_.checkpoint_dir)) {
    newest n;
    n.size = size;
    n.file = file;
    try {
      n.bytes = slurp(file);
      const auto note = parse_note(n.bytes);
      const auto c = parse_checkpoint_text(note.text);
      if (c.size != size || c.origin != cfg_.origin) continue;
      n.text = note.text;
    } catch (const std::exception &) {
      continue; // torn or foreign: the appender signs it again
    }
    p_->seen = st;
    p_->seen_dir = dst;
    p_->last = n;
    return n;
  }
  return std::nullopt;
}

std::vector<hash> witness_sender::proof(uint64_t from, uint64_t to) {
  auto &s = *p_;
  const int fd = ::open(cfg_.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error(fmt::format("{}: {}", cfg_.path.string(), std::strerror(errno)));
  struct stat st {};
  ::fstat(fd, &st);
  if (st.st_ino != s.ino || st.st_size < s.offset) { // replaced (prune) or cut back: start over
    s.leaves.clear();
    s.offset = 0;
    s.ino = st.st_ino;
    const auto b = read_base(cfg_.path);
    s.base = b ? b->size : 0;
  }
  // In pieces: the first proof after a start reads the whole log.
  std::string data;
  for (;;) {
    const size_t keep = data.size();
    data.resize(keep + (4u << 20));
    const ssize_t got = ::pread(fd, data.data() + keep, data.size() - keep, s.offset + static_cast<off_t>(keep));
    if (got < 0 && errno == EINTR) {
      data.resize(keep);
      continue;
    }
    if (got < 0) {
      const int err = errno;
      ::close(fd);
      throw std::runtime_error(fmt::format("{}: {}", cfg_.path.string(), std::strerror(err)));
    }
    data.resize(keep + static_cast<size_t>(got));
    size_t pos = 0;
    for (size_t nl; (nl = data.find('\n', pos)) != std::string::npos; pos = nl + 1)
      s.leaves.push_back(s.h.leaf(std::string_view(data).substr(pos, nl - pos)));
    s.offset += static_cast<off_t>(pos);
    data.erase(0, pos);
    if (got == 0 || s.leaves.size() >= to + s.base) break;
  }
  ::close(fd);
  if (s.base > 0)
    throw std::runtime_error(fmt::format("the log was pruned at size {}: a consistency proof from size {} needs "
                                         "the archived records (the witness must be reset to size 0 for this log)",
                                         s.base, from));
  if (s.leaves.size() < to)
    throw std::runtime_error(fmt::format("the log has {} records, fewer than checkpoint {}", s.leaves.size(), to));
  return consistency_proof(s.h, s.leaves, from, to);
}

void witness_sender::store(const newest &n, const std::vector<std::string> &lines) {
  // The engine and `reclaimctl audit witness` may both add lines: read,
  // merge and replace under a lock on the directory.
  const int dfd = ::open(cfg_.checkpoint_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0 || ::flock(dfd, LOCK_EX) != 0) {
    if (dfd >= 0) ::close(dfd);
    throw std::runtime_error(fmt::format("{}: {}", cfg_.checkpoint_dir.string(), std::strerror(errno)));
  }
  try {
    const auto current = slurp(n.file);
    if (parse_note(current).text != n.text) throw std::runtime_error(n.file.string() + " changed while witnessed");
    replace_file(n.file, merge_cosignatures(current, lines));
  } catch (...) {
    ::close(dfd);
    throw;
  }
  ::close(dfd);
}

void witness_sender::send(peer &p, const newest &n) {
  std::string error;
  bool alert = false;
  for (int attempt = 0; attempt < 3; ++attempt) {
    const uint64_t old = p.witness_size.value_or(0);
    if (old > n.size) {
      error = fmt::format("the witness has cosigned tree size {} but our newest checkpoint is {}: the log was "
                          "rolled back or forked, or another log uses origin '{}'", old, n.size, cfg_.origin);
      alert = true;
      break;
    }
    http::request r;
    r.method = "POST";
    r.url = p.url + "/add-checkpoint";
    r.headers = {{"Content-Type", "text/plain; charset=utf-8"}};
    try {
      r.body = add_checkpoint_body(old, old == 0 || old == n.size ? std::vector<hash>{} : proof(old, n.size), n.bytes);
    } catch (const std::exception &e) {
      error = e.what();
      break;
    }
    http::response res;
    try {
      res = p_->client.perform(r);
    } catch (const std::exception &e) {
      error = fmt::format("not reachable: {}", e.what());
      break;
    }
    const auto text = http::printable_prefix(res.body);
    if (res.status == 409) {
      std::string_view b = res.body;
      if (!b.empty() && b.back() == '\n') b.remove_suffix(1);
      const auto size = parse_u64(b);
      if (!size || res.header("content-type").rfind("text/x.tlog.size", 0) != 0) {
        error = fmt::format("409 without a tree size (text/x.tlog.size): {}", text);
        break;
      }
      if (*size == old) {
        error = fmt::format("the witness holds a different root for tree size {}: the log was forked", *size);
        alert = true;
        break;
      }
      if (p.st.cosigned_size > *size)
        log_.log(log_level::warning, "audit: witness {} now holds tree size {}, below the {} it cosigned for us "
                 "before: it lost its state, or is not the witness it was", p.key.name, *size, p.st.cosigned_size);
      p.witness_size = *size; // try again with a proof from the witness's size
      error = fmt::format("409: the witness holds tree size {}", *size);
      continue;
    }
    if (res.status != 200) {
      const char *why = res.status == 403   ? "the witness does not trust our log key (403)"
                        : res.status == 404 ? "the witness does not know our origin (404)"
                        : res.status == 422 ? "the witness refused our consistency proof (422): the log is not "
                                              "consistent with what it cosigned before"
                                            : "the witness refused the checkpoint";
      error = fmt::format("{}: HTTP {} {}", why, res.status, text);
      alert = res.status == 422;
      break;
    }
    std::vector<std::string> good;
    std::string_view body = res.body;
    bool bad = false;
    while (!body.empty()) {
      const auto nl = body.find('\n');
      if (nl == std::string_view::npos) {
        bad = true;
        break;
      }
      const std::string line(body.substr(0, nl + 1));
      body.remove_prefix(nl + 1);
      try {
        const auto s = parse_note(n.text + "\n" + line).sigs.at(0);
        if (s.name != p.key.name || s.id != p.key.id) continue; // other keys are ignored
        if (verify_cosignature(p.key, n.text, s.sig)) good.push_back(line);
        else bad = true;
      } catch (const note_error &) {
        bad = true;
      }
    }
    if (good.empty()) {
      error = fmt::format("the witness answered 200 without a cosignature that verifies with key {}{}: {}",
                          p.key.text(), bad ? " (forged or malformed)" : "", text);
      alert = true;
      break;
    }
    try {
      store(n, good);
    } catch (const std::exception &e) {
      error = fmt::format("cosigned, but storing the cosignature failed: {}", e.what());
      alert = true;
      break;
    }
    std::lock_guard lock(mu_);
    if (p.st.failures > 0)
      log_.log(log_level::warning, "audit: witness {} cosigns again (tree size {}) after {} failed attempt(s)",
               p.key.name, n.size, p.st.failures);
    p.witness_size = n.size;
    p.st.cosigned_size = n.size;
    p.st.last_ok = format_utc(now());
    p.st.error.clear();
    p.st.failures = 0;
    return;
  }
  std::lock_guard lock(mu_);
  const bool changed = error != p.st.error;
  p.st.error = error;
  ++p.st.failures;
  const auto delay = std::chrono::seconds(std::min<uint64_t>(60, uint64_t(1) << std::min<uint64_t>(p.st.failures - 1, 6)));
  p.next_try = std::chrono::steady_clock::now() + delay;
  if (changed || p.st.failures % 10 == 0)
    log_.log(log_level::error, "audit: {}witness {} ({}) has not cosigned checkpoint {}: {}; attempt {}, retrying "
             "in {}s", alert ? "ALERT: " : "", p.key.name, p.url, n.size, error, p.st.failures, delay.count());
}

size_t witness_sender::run_once(bool ignore_backoff) {
  std::lock_guard run(run_mu_);
  const auto n = find_newest();
  if (!n) return 0;
  size_t done = 0;
  bool tried = false;
  for (auto &p : peers_) {
    {
      std::lock_guard lock(mu_);
      if (stop_ && !ignore_backoff) break;
    }
    if (p.st.cosigned_size == n->size && p.st.error.empty()) {
      ++done;
      continue;
    }
    if (!ignore_backoff && std::chrono::steady_clock::now() < p.next_try) continue;
    tried = true;
    send(p, *n);
    if (p.st.cosigned_size == n->size && p.st.error.empty()) ++done;
  }
  if (tried) write_status();
  return done;
}

// ---- verify --witness ------------------------------------------------------------

witness_check_result check_witnesses(const witness_check_options &o) {
  witness_check_result r;
  std::optional<note> latest;
  for (const auto &[size, file] : checkpoint_files(o.checkpoint_dir)) {
    std::string bytes;
    try {
      bytes = slurp(file);
    } catch (const std::exception &e) {
      r.problems.push_back(e.what());
      continue;
    }
    // The newest checkpoint with a valid log signature (verify_log reports the others).
    try {
      auto n = parse_note(bytes);
      bool ok = false;
      for (const auto &s : n.sigs)
        for (const auto &k : o.log_keys)
          if (k.name == s.name && k.id == s.id && ed25519_verify(k.pub, n.text, s.sig)) ok = true;
      const auto c = parse_checkpoint_text(n.text);
      if (!ok || c.origin != o.origin || c.size != size) continue;
      r.size = c.size;
      latest = std::move(n);
      break;
    } catch (const note_error &) {
      continue;
    }
  }
  if (!latest) {
    r.problems.push_back("no checkpoint signed by a trusted log key: nothing a witness could have cosigned");
    return r;
  }
  const auto now_s = static_cast<uint64_t>(std::max<int64_t>(0, to_unix_ms(now()) / 1000));
  std::vector<std::string> missing; // a problem only when the quorum is not met
  for (const auto &w : o.witnesses) {
    bool found = false, valid = false;
    for (const auto &s : latest->sigs) {
      if (s.name != w.name || s.id != w.id) continue;
      found = true;
      const auto t = verify_cosignature(w, latest->text, s.sig);
      if (!t) {
        r.problems.push_back(fmt::format("checkpoint {}: the cosignature by witness {} does not verify (forged, "
                                         "or copied from another checkpoint)", r.size, w.name));
        continue;
      }
      if (*t > now_s + 300) {
        r.problems.push_back(fmt::format("checkpoint {}: the cosignature by witness {} is dated {} s in the future",
                                         r.size, w.name, *t - now_s));
        continue;
      }
      if (o.max_age.count() > 0 && now_s > *t && now_s - *t > uint64_t(o.max_age.count())) {
        r.problems.push_back(fmt::format("checkpoint {}: the newest cosignature by witness {} is {} s old, more than "
                                         "{} s (the log stopped being witnessed, or was rolled back to an older "
                                         "cosigned checkpoint)", r.size, w.name, now_s - *t, o.max_age.count()));
        continue;
      }
      valid = true;
    }
    if (!found)
      missing.push_back(fmt::format("checkpoint {} (the newest) has no cosignature by witness {}: the witness "
                                       "never cosigned this tree (rollback or fork of the log, or the witness was "
                                       "not reached)", r.size, w.text()));
    if (valid) r.cosigned.push_back(w.name);
  }
  const size_t quorum = o.quorum == 0 ? o.witnesses.size() : o.quorum;
  if (r.cosigned.size() < quorum) r.problems.insert(r.problems.end(), missing.begin(), missing.end());
  if (r.cosigned.size() < quorum)
    r.problems.push_back(fmt::format("checkpoint {}: {} of the {} required witness cosignature(s) verify", r.size,
                                     r.cosigned.size(), quorum));
  return r;
}

} // namespace reclaim::audit
