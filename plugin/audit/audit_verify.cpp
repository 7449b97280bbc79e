// audit_verify.cpp — one streaming pass over the memory-mapped log checks
// canonical form, sequence, origin, the prev chain and time order, rebuilds
// the RFC 6962 tree with a compact range and compares its root with every
// checkpoint, the trusted checkpoint and the saved state at their sizes.
#include "audit/audit_verify.hpp"

#include "audit/audit_consistency.hpp"
#include "audit/audit_prune.hpp"
#include "audit/canonical_json.hpp"
#include "base/clock.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fcntl.h>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <sstream>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <unordered_map>

namespace reclaim::audit {
namespace {

using json = nlohmann::json;

std::string slurp(const std::filesystem::path &p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error(p.string() + ": cannot read");
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

// A size at which the rebuilt root must match.
struct target {
  uint64_t size;
  hash root;
  std::string where;
  int kind; // 0 checkpoint, 1 trusted checkpoint, 2 saved state
};

std::string_view member(const std::vector<member_span> &top, std::string_view key) {
  for (const auto &m : top)
    if (m.key == key) return m.value;
  return {};
}

std::string unquote(std::string_view v) {
  return v.size() >= 2 && v.front() == '"' ? unescape(v.substr(1, v.size() - 2)) : std::string(v);
}

class mapped_file {
public:
  explicit mapped_file(const std::filesystem::path &p) {
    fd_ = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) throw std::runtime_error(p.string() + ": cannot open the audit log");
    struct stat st {};
    ::fstat(fd_, &st);
    size_ = static_cast<size_t>(st.st_size);
    if (size_ > 0) {
      data_ = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd_, 0);
      if (data_ == MAP_FAILED) throw std::runtime_error(p.string() + ": mmap failed");
      ::madvise(data_, size_, MADV_SEQUENTIAL);
    }
  }
  ~mapped_file() {
    if (data_ && data_ != MAP_FAILED) ::munmap(data_, size_);
    ::close(fd_);
  }
  std::string_view view() const { return {static_cast<const char *>(data_), size_}; }

private:
  int fd_ = -1;
  void *data_ = nullptr;
  size_t size_ = 0;
};

void load_checkpoints(const verify_options &o, verify_result &r, std::vector<target> &out) {
  if (!std::filesystem::exists(o.checkpoint_dir)) return;
  std::map<uint64_t, std::pair<hash, std::string>> seen;
  std::vector<std::filesystem::path> files;
  for (const auto &e : std::filesystem::directory_iterator(o.checkpoint_dir))
    if (e.is_regular_file() && e.path().extension() != ".tmp") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto &f : files) {
    const auto where = "checkpoint " + f.filename().string();
    checkpoint c;
    std::string bytes;
    try {
      bytes = slurp(f);
    } catch (const std::exception &e) {
      r.problems.push_back({true, where, e.what()});
      continue;
    }
    if (auto err = open_checkpoint(bytes, o.origin, o.keys, c); !err.empty()) {
      r.problems.push_back({true, where, err});
      continue;
    }
    const auto name = f.filename().string();
    if (name.find_first_not_of("0123456789") == std::string::npos) {
      const auto named = parse_u64(name);
      if (!named) {
        r.problems.push_back({true, where, fmt::format("file name is not a tree size (above 2^64-1) but the "
                                                       "note says {} (edited name)", c.size)});
        continue;
      }
      if (*named != c.size) {
        r.problems.push_back({true, where, fmt::format("file name says tree size {} but the note says {} "
                                                       "(edited size)", *named, c.size)});
        continue;
      }
    }
    if (auto it = seen.find(c.size); it != seen.end() && it->second.first != c.root) {
      r.problems.push_back({true, where, fmt::format("two different roots for tree size {} ({} and {}): "
                                                     "equivocation", c.size, it->second.second, where)});
      continue;
    }
    seen[c.size] = {c.root, where};
    ++r.checkpoints;
    out.push_back({c.size, c.root, where, 0});
  }
}

void load_trusted(const verify_options &o, verify_result &r, std::vector<target> &out) {
  if (o.trusted_checkpoint) {
    checkpoint c;
    if (auto err = open_checkpoint(*o.trusted_checkpoint, o.origin, o.keys, c); !err.empty())
      r.problems.push_back({true, "trusted checkpoint", err});
    else
      out.push_back({c.size, c.root, "trusted checkpoint", 1});
  }
  if (!o.state_file.empty() && std::filesystem::exists(o.state_file)) {
    const auto s = json::parse(slurp(o.state_file), nullptr, false);
    const bool typed = s.is_object() && s.contains("root") && s["root"].is_string() && s.contains("size") &&
                       s["size"].is_number_unsigned();
    const auto root = typed ? hash_from_hex(s["root"].get_ref<const std::string &>()) : std::nullopt;
    if (!root)
      r.problems.push_back({true, "saved state", "unreadable state file " + o.state_file.string()});
    else
      out.push_back({s["size"].get<uint64_t>(), *root, "saved state", 2});
  }
}

std::string mismatch(const target &t) {
  if (t.kind == 0)
    return fmt::format("root for tree size {} does not match the log's records (records modified, "
                       "inserted, reordered or removed before it)", t.size);
  return fmt::format("root for tree size {} does not match the log (the log was rewritten)", t.size);
}

std::string beyond(const target &t, uint64_t n) {
  if (t.kind == 0)
    return fmt::format("signed tree size {} but the log has only {} records (log truncated)", t.size, n);
  return fmt::format("the log has {} records, fewer than the {} {} (truncation or rollback)", n,
                     t.size, t.kind == 1 ? "of the trusted checkpoint" : "recorded in the saved state");
}

hash anchor_root(const target *t) { return t ? t->root : hash{}; }

// Per-record state of the streaming pass.
struct stream_state {
  hasher h;
  compact_range range;
  hash prev{};
  uint64_t expected_seq = 0;
  std::string last_time, last_checkpoint_time;
  std::set<std::string> forgotten;
  std::unordered_map<std::string, uint64_t> pii_records;
  std::vector<member_span> top;
};

void check_record(const verify_options &o, verify_result &r, stream_state &s, std::string_view line,
                  uint64_t index) {
  const auto where = fmt::format("record {}", index);
  s.top.clear();
  if (auto err = check_canonical(line, &s.top); !err.empty()) {
    r.problems.push_back({true, where, "not canonical JSON: " + err});
    return;
  }
  const auto seq_text = member(s.top, "seq");
  const auto seq = parse_u64(seq_text);
  if (!seq) {
    r.problems.push_back({true, where, "no valid seq"});
  } else if (*seq != s.expected_seq) {
    r.problems.push_back({true, where, fmt::format("seq {} where {} was expected (record deleted, "
                                                   "inserted, reordered or duplicated)", *seq, s.expected_seq)});
    s.expected_seq = *seq;
  }
  ++s.expected_seq;
  const auto prev = hash_from_hex(unquote(member(s.top, "prev")));
  const hash zero{};
  if (!prev || *prev != (index == 0 ? zero : s.prev))
    r.problems.push_back({true, where, "prev does not match the hash of the line before "
                                       "(a record was modified, removed or inserted)"});
  if (unquote(member(s.top, "origin")) != o.origin)
    r.problems.push_back({true, where, fmt::format("origin {} is not this log's", member(s.top, "origin"))});
  const auto time = unquote(member(s.top, "time"));
  if (time < s.last_time)
    r.problems.push_back({false, where, fmt::format("time goes backwards ({} after {})", time, s.last_time)});
  s.last_time = std::max(s.last_time, time);
  const auto type = member(s.top, "type");
  if (type == "\"checkpoint\"") {
    const auto a = parse_utc(s.last_checkpoint_time), b = parse_utc(time);
    if (o.max_gap.count() > 0 && a && b && *b - *a > o.max_gap)
      r.problems.push_back({false, where, fmt::format("{} s since the previous checkpoint record",
                                                      std::chrono::duration_cast<std::chrono::seconds>(*b - *a).count())});
    s.last_checkpoint_time = time;
  } else if (type == "\"forget\"") {
    s.forgotten.insert(unquote(member(s.top, "subject")));
  }
  if (!member(s.top, "pii").empty()) ++s.pii_records[unquote(member(s.top, "subject"))];
}

// A pruned log starts from its base, checked against the checkpoint signed
// for that size; older checkpoints, trusted or saved sizes are in the archive.
void start_from_base(const pruned_base &b, const std::vector<target> &targets, verify_result &r, stream_state &s,
                     size_t &next, uint64_t &index) {
  const auto where = fmt::format("pruned base (size {})", b.size);
  const target *anchor = nullptr;
  for (const auto &t : targets)
    if (t.kind == 0 && t.size == b.size) anchor = &t;
  if (!anchor) {
    r.problems.push_back({true, where, "no signed checkpoint of that size anchors it"});
  } else if (auto err = check_base(b, anchor->root); !err.empty()) {
    r.problems.push_back({true, where, err});
  }
  s.range.restore(b.size, b.nodes);
  s.prev = s.h.leaf(b.last_line);
  s.expected_seq = index = b.size;
  for (; next < targets.size() && targets[next].size <= b.size; ++next)
    if (targets[next].kind != 0 && targets[next].size < b.size)
      r.problems.push_back({false, targets[next].where, fmt::format("size {} is before the prune point {}; "
                                                                   "verify it against the archive", targets[next].size, b.size)});
    else if (targets[next].kind != 0 && targets[next].root != anchor_root(anchor))
      r.problems.push_back({true, targets[next].where, mismatch(targets[next])});
}

std::pair<const target *, const target *> trusted_and_newest(const std::vector<target> &targets) {
  const target *trusted = nullptr, *newest = nullptr;
  for (const auto &t : targets)
    if (t.kind == 1) trusted = &t;
    else if (t.kind == 0 && (!newest || t.size > newest->size)) newest = &t;
  return {trusted, newest};
}

} // namespace

size_t verify_result::errors() const {
  return static_cast<size_t>(std::count_if(problems.begin(), problems.end(), [](const problem &p) { return p.error; }));
}

std::string open_checkpoint(std::string_view bytes, const std::string &origin,
                            const std::vector<verifier_key> &keys, checkpoint &out) {
  note n;
  try {
    n = parse_note(bytes);
  } catch (const note_error &e) {
    return std::string("malformed note: ") + e.what();
  }
  try {
    out = parse_checkpoint_text(n.text);
  } catch (const note_error &e) {
    return std::string("malformed checkpoint: ") + e.what();
  }
  if (out.origin != origin)
    return fmt::format("checkpoint is for origin '{}', not '{}' (another log's checkpoint)", out.origin, origin);
  int valid = 0;
  std::string unknown;
  for (const auto &s : n.sigs) {
    bool known = false;
    for (const auto &k : keys) {
      if (k.name != s.name || k.id != s.id) continue;
      known = true;
      if (!ed25519_verify(k.pub, n.text, s.sig))
        return fmt::format("signature by known key {}+{:08x} does not verify", k.name, k.id);
      if (out.size < k.from_size || out.size > k.to_size)
        return fmt::format("signed by key {}+{:08x} outside its validity range [{}, {}] (rotated-out key)",
                           k.name, k.id, k.from_size, k.to_size);
      ++valid;
    }
    if (!known) unknown = fmt::format("{}+{:08x}", s.name, s.id);
  }
  if (valid == 0) return fmt::format("no signature from a trusted key (unknown key {})", unknown);
  return {};
}

verify_result verify_log(const verify_options &o) {
  verify_result r;
  std::vector<target> targets;
  load_checkpoints(o, r, targets);
  load_trusted(o, r, targets);
  std::sort(targets.begin(), targets.end(), [](const target &a, const target &b) { return a.size < b.size; });
  mapped_file f(o.log);
  std::string_view rest = f.view();
  r.bytes = rest.size();
  stream_state s;
  size_t next = 0;
  while (next < targets.size() && targets[next].size == 0) {
    if (targets[next].root != empty_root()) r.problems.push_back({true, targets[next].where, mismatch(targets[next])});
    ++next;
  }
  uint64_t index = 0;
  std::optional<pruned_base> base;
  try {
    base = read_base(o.log);
  } catch (const std::exception &e) {
    r.problems.push_back({true, "pruned base", e.what()});
  }
  if (base) {
    start_from_base(*base, targets, r, s, next, index);
    r.pruned = base->size;
  }
  // The trusted checkpoint is also proved against the newest signed tree.
  const auto [trusted, newest_cp] = trusted_and_newest(targets);
  std::optional<streaming_proof> sp;
  if (trusted && !base) sp.emplace(trusted->size, newest_cp ? newest_cp->size : 0);
  while (!rest.empty()) {
    auto nl = rest.find('\n');
    if (nl == std::string_view::npos) {
      r.problems.push_back({true, fmt::format("record {}", index), "last line has no newline (torn or truncated record)"});
      nl = rest.size();
    }
    const auto line = rest.substr(0, nl);
    check_record(o, r, s, line, index);
    s.prev = s.h.leaf(line);
    s.range.append(s.h, s.prev);
    if (sp) sp->add(s.h, index, s.prev);
    ++index;
    for (; next < targets.size() && targets[next].size == index; ++next)
      if (s.range.root(s.h) != targets[next].root) r.problems.push_back({true, targets[next].where, mismatch(targets[next])});
    rest.remove_prefix(std::min(rest.size(), nl + 1));
  }
  r.records = index;
  for (; next < targets.size(); ++next) r.problems.push_back({true, targets[next].where, beyond(targets[next], index)});
  uint64_t newest = 0;
  for (const auto &t : targets)
    if (t.kind == 0) newest = std::max(newest, t.size);
  if (sp)
    if (auto err = trusted_consistency(sp->proof(), trusted->size, trusted->root, newest_cp ? newest_cp->size : 0,
                                       newest_cp ? newest_cp->root : empty_root(),
                                       newest_cp ? newest_cp->where : "no checkpoint");
        !err.empty())
      r.problems.push_back({true, trusted->where, err});
  if (index > newest)
    r.problems.push_back({false, "log", fmt::format("{} record(s) after the newest checkpoint (size {}) are not yet signed",
                                                    index - newest, newest)});
  for (const auto &p : s.forgotten)
    if (auto it = s.pii_records.find(p); it != s.pii_records.end()) r.erased += it->second;
  if (r.errors() == 0 && !o.state_file.empty() && newest > 0) {
    for (const auto &t : targets)
      if (t.kind == 0 && t.size == newest) {
        std::ofstream out(o.state_file, std::ios::trunc);
        out << json{{"origin", o.origin}, {"size", t.size}, {"root", to_hex(t.root)}}.dump() << '\n';
      }
  }
  return r;
}

std::vector<verifier_key> read_key_file(const std::filesystem::path &path) {
  std::vector<verifier_key> keys;
  std::istringstream in(slurp(path));
  std::string line;
  while (std::getline(in, line)) {
    if (auto h = line.find('#'); h != std::string::npos) line.resize(h);
    std::istringstream words(line);
    std::string vkey, from, to;
    if (!(words >> vkey)) continue;
    auto k = parse_verifier_key(vkey);
    for (auto [word, out] : {std::pair{&from, &k.from_size}, std::pair{&to, &k.to_size}}) {
      if (!(words >> *word)) break;
      const auto v = parse_u64(*word);
      if (!v)
        throw note_error(fmt::format("{}: key size '{}' is not a decimal tree size", path.string(), *word));
      *out = *v;
    }
    keys.push_back(k);
  }
  return keys;
}

json prove(const std::filesystem::path &log, const std::filesystem::path &checkpoint_dir, uint64_t seq) {
  hasher h;
  mapped_file f(log);
  std::vector<hash> leaves;
  std::vector<std::string_view> lines;
  std::string_view rest = f.view();
  while (!rest.empty()) {
    const auto nl = rest.find('\n');
    if (nl == std::string_view::npos) break;
    lines.push_back(rest.substr(0, nl));
    leaves.push_back(h.leaf(lines.back()));
    rest.remove_prefix(nl + 1);
  }
  if (seq >= leaves.size()) throw std::out_of_range(fmt::format("no record {} (the log has {})", seq, leaves.size()));
  std::string best;
  checkpoint best_cp;
  if (const auto base = read_base(log)) throw std::out_of_range("prove: the log is pruned; prove from its archive");
  for (const auto &e : std::filesystem::directory_iterator(checkpoint_dir)) {
    const auto bytes = slurp(e.path());
    try {
      const auto c = parse_checkpoint_text(parse_note(bytes).text);
      if (c.size > seq && c.size <= leaves.size() && (best.empty() || c.size < best_cp.size)) {
        best = bytes;
        best_cp = c;
      }
    } catch (const note_error &) {
    }
  }
  if (best.empty()) throw std::out_of_range(fmt::format("no checkpoint covers record {} yet", seq));
  json proof = json::array();
  for (const auto &p : inclusion_proof(h, leaves, seq, best_cp.size))
    proof.push_back(base64(std::string_view(reinterpret_cast<const char *>(p.data()), 32)));
  return {{"format", "reclaim-audit-proof/1"}, {"seq", seq}, {"tree_size", best_cp.size},
          {"leaf", base64(lines[seq])}, {"proof", proof}, {"checkpoint", best},
          {"record", json::parse(lines[seq], nullptr, false)}};
}

std::vector<std::string> verify_bundle(const json &b, const std::string &origin,
                                       const std::vector<verifier_key> &keys) {
  if (!b.is_object()) return {"bundle: not a JSON object"};
  struct field {
    const char *key;
    json::value_t type; // a number without sign or fraction parses as number_unsigned
    const char *what;
  };
  static constexpr field fields[] = {{"checkpoint", json::value_t::string, "a string"},
                                     {"leaf", json::value_t::string, "a string"},
                                     {"seq", json::value_t::number_unsigned, "a record index"},
                                     {"tree_size", json::value_t::number_unsigned, "a tree size"},
                                     {"proof", json::value_t::array, "an array"}};
  for (const auto &f : fields) {
    const auto it = b.find(f.key);
    if (it == b.end()) return {fmt::format("{}: missing", f.key)};
    if (it->type() != f.type) return {fmt::format("{}: not {}", f.key, f.what)};
  }
  std::vector<std::string> out;
  checkpoint c;
  if (auto err = open_checkpoint(b["checkpoint"].get_ref<const std::string &>(), origin, keys, c); !err.empty())
    out.push_back("checkpoint: " + err);
  const auto leaf = unbase64(b["leaf"].get_ref<const std::string &>());
  const uint64_t seq = b["seq"].get<uint64_t>();
  std::vector<hash> proof;
  for (const auto &p : b["proof"]) {
    const auto raw = p.is_string() ? unbase64(p.get_ref<const std::string &>()) : std::nullopt;
    if (!raw || raw->size() != 32) return {"proof: malformed hash"};
    hash x;
    std::copy(raw->begin(), raw->end(), reinterpret_cast<char *>(x.data()));
    proof.push_back(x);
  }
  if (!leaf) return {"leaf: not base64"};
  hasher h;
  if (!out.empty()) return out;
  if (b["tree_size"].get<uint64_t>() != c.size) out.push_back("tree_size differs from the checkpoint's");
  if (!verify_inclusion(h, h.leaf(*leaf), seq, c.size, proof, c.root))
    out.push_back(fmt::format("inclusion proof for record {} does not lead to the checkpoint root (not in the "
                              "log, or not a leaf: internal nodes hash differently)", seq));
  std::vector<member_span> top;
  if (auto err = check_canonical(*leaf, &top); !err.empty()) out.push_back("record is not canonical JSON: " + err);
  else if (member(top, "seq") != std::to_string(seq)) out.push_back("record's seq differs from the proof's index");
  return out;
}

} // namespace reclaim::audit
