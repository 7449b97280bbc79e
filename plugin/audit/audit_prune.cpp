// audit_prune.cpp — see audit_prune.hpp. The inclusion proof of the last
// leaf of a tree of size P is the compact range of size P-1, smallest subtree
// first (RFC 6962 PATH for the rightmost leaf), so no pruned leaf is needed.
#include "audit/audit_prune.hpp"

#include "audit/canonical_json.hpp"
#include "audit/note.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <charconv>
#include <fcntl.h>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <sys/file.h>
#include <unistd.h>

namespace reclaim::audit {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

json hashes(const std::vector<hash> &v) {
  json out = json::array();
  for (const auto &h : v) out.push_back(to_hex(h));
  return out;
}

// Hashes of a base's "nodes" or "proof"; nullopt unless an array of hex hashes.
std::optional<std::vector<hash>> unhashes(const json &v) {
  if (!v.is_array()) return std::nullopt;
  std::vector<hash> out;
  for (const auto &h : v) {
    auto x = h.is_string() ? hash_from_hex(h.get_ref<const std::string &>()) : std::nullopt;
    if (!x) return std::nullopt;
    out.push_back(*x);
  }
  return out;
}

// The "outbox" value of a canonical record, when it is an integer.
std::optional<int64_t> outbox_id(std::string_view raw) {
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), v);
  if (ec != std::errc{} || end != raw.data() + raw.size()) return std::nullopt;
  return v;
}

void write_durably(const fs::path &path, const std::string &data) {
  const auto tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << data;
    if (!out.flush()) throw std::runtime_error(tmp + ": write failed");
  }
  const int fd = ::open(tmp.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
  fs::rename(tmp, path);
}

std::string base_json(const pruned_base &b) {
  return json{{"size", b.size}, {"nodes", hashes(b.nodes)}, {"last_line", b.last_line},
              {"proof", hashes(b.proof)}, {"outbox", b.outbox}}.dump() + "\n";
}

} // namespace

std::optional<pruned_base> read_base(const fs::path &log) {
  const fs::path p = log.string() + ".base";
  if (!fs::exists(p)) return std::nullopt;
  std::ifstream in(p, std::ios::binary);
  const auto j = json::parse(std::string((std::istreambuf_iterator<char>(in)), {}), nullptr, false);
  auto bad = [&](std::string_view what) {
    return std::runtime_error(fmt::format("{}: unreadable pruned base: {} (edited?)", p.string(), what));
  };
  if (!j.is_object()) throw bad("not a JSON object");
  auto field = [&](const char *key) -> const json & {
    const auto it = j.find(key);
    if (it == j.end()) throw bad(fmt::format("no \"{}\"", key));
    return *it;
  };
  pruned_base b;
  const auto &size = field("size");
  if (!size.is_number_unsigned() || size.get<uint64_t>() == 0) throw bad("\"size\" is not a positive integer");
  b.size = size.get<uint64_t>();
  auto nodes = unhashes(field("nodes"));
  if (!nodes) throw bad("\"nodes\" is not an array of hex hashes");
  b.nodes = std::move(*nodes);
  if (!compact_range().restore(b.size, b.nodes)) throw bad("\"nodes\" do not fit \"size\"");
  const auto &last = field("last_line");
  if (!last.is_string()) throw bad("\"last_line\" is not a string");
  b.last_line = last.get<std::string>();
  auto proof = unhashes(field("proof"));
  if (!proof) throw bad("\"proof\" is not an array of hex hashes");
  b.proof = std::move(*proof);
  if (const auto it = j.find("outbox"); it != j.end()) {
    if (!it->is_number_unsigned() || it->get<uint64_t>() > uint64_t(INT64_MAX))
      throw bad("\"outbox\" is not a non-negative integer");
    b.outbox = static_cast<int64_t>(it->get<uint64_t>());
  }
  return b;
}

std::string check_base(const pruned_base &b, const hash &signed_root) {
  hasher h;
  compact_range r;
  if (b.size == 0 || !r.restore(b.size, b.nodes)) return "pruned base: compact range does not fit its size";
  if (r.root(h) != signed_root) return fmt::format("pruned base: root of size {} differs from the signed checkpoint", b.size);
  if (!verify_inclusion(h, h.leaf(b.last_line), b.size - 1, b.size, b.proof, signed_root))
    return "pruned base: its last record is not the signed tree's last leaf";
  return {};
}

namespace {

// Checkpoint files by tree size.
std::vector<std::pair<uint64_t, fs::path>> checkpoint_files(const fs::path &dir) {
  std::vector<std::pair<uint64_t, fs::path>> out;
  for (const auto &e : fs::directory_iterator(dir)) {
    const auto name = e.path().filename().string();
    if (const auto size = parse_u64(name)) out.emplace_back(*size, e.path()); // else not a checkpoint
  }
  return out;
}

// The base at `point`, from the previous base (if any) and the live lines.
pruned_base make_base(const std::vector<std::string> &lines, uint64_t start, uint64_t point,
                      const std::optional<pruned_base> &old) {
  hasher h;
  compact_range range;
  if (old) range.restore(old->size, old->nodes);
  for (uint64_t i = start; i + 1 < point; ++i) range.append(h, h.leaf(lines[i - start]));
  pruned_base b;
  b.size = point;
  b.last_line = lines[point - 1 - start];
  b.proof.assign(range.nodes().rbegin(), range.nodes().rend());
  range.append(h, h.leaf(b.last_line));
  b.nodes = range.nodes();
  b.outbox = old ? old->outbox : 0;
  for (uint64_t i = start; i < point; ++i) {
    std::vector<member_span> top;
    if (check_canonical(lines[i - start], &top).empty())
      for (const auto &m : top)
        if (m.key == "outbox")
          if (const auto id = outbox_id(m.value)) b.outbox = std::max(b.outbox, *id);
  }
  return b;
}

// Records [start, point), the previous base and the checkpoints up to point.
fs::path write_archive(const audit_config &cfg, const fs::path &archive_dir, const std::vector<std::string> &lines,
                       uint64_t start, uint64_t point, const std::optional<pruned_base> &old) {
  const auto dir = archive_dir / fmt::format("{:020}-{:020}", start, point);
  fs::create_directories(dir / "audit.jsonl.checkpoints");
  std::string seg;
  for (uint64_t i = start; i < point; ++i) seg += lines[i - start] + "\n";
  write_durably(dir / "audit.jsonl", seg);
  if (old) write_durably(dir / "audit.jsonl.base", base_json(*old));
  for (const auto &[size, path] : checkpoint_files(cfg.checkpoint_dir))
    if (size <= point)
      fs::copy_file(path, dir / "audit.jsonl.checkpoints" / path.filename(), fs::copy_options::overwrite_existing);
  return dir;
}

} // namespace

prune_result prune(const audit_config &cfg, uint64_t before, const fs::path &archive_dir) {
  const int fd = ::open(cfg.path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error(cfg.path.string() + ": cannot open");
  struct closer {
    int fd;
    ~closer() { ::close(fd); }
  } guard{fd};
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0)
    throw std::runtime_error("the audit log is in use by another process (stop the engine to prune)");
  std::ifstream in(cfg.path, std::ios::binary);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  const auto old = read_base(cfg.path);
  const uint64_t start = old ? old->size : 0;
  uint64_t point = 0;
  for (const auto &[size, path] : checkpoint_files(cfg.checkpoint_dir))
    if (size > start && size <= before && size <= start + lines.size()) point = std::max(point, size);
  if (point == 0) throw std::out_of_range(fmt::format("no checkpoint between {} and {} to prune at", start + 1, before));
  const auto base = make_base(lines, start, point, old);
  const auto dir = write_archive(cfg, archive_dir, lines, start, point, old);
  std::string rest;
  for (uint64_t i = point; i < start + lines.size(); ++i) rest += lines[i - start] + "\n";
  write_durably(cfg.path.string() + ".base", base_json(base));
  write_durably(cfg.path, rest);
  for (const auto &[size, path] : checkpoint_files(cfg.checkpoint_dir))
    if (size < point) fs::remove(path);
  return {start, point, dir};
}

} // namespace reclaim::audit
