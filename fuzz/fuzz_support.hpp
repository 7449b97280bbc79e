// fuzz_support.hpp — what the libFuzzer harnesses share: a temp directory
// made once per process, a file writer, the fixed Ed25519 key whose
// checkpoints the seed corpora carry, and splitting one input into parts.
#pragma once

#include "audit/note.hpp"

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <sys/stat.h>
#include <vector>

namespace reclaim::fuzz {

inline constexpr std::string_view origin = "fuzz.example/audit";
// Separates the parts of an input (log, base, state, checkpoints).
inline constexpr std::string_view part_separator = "\n=====\n";

// Removed at a normal exit; tests/run-fuzz.sh also points TMPDIR into build-fuzz/.
inline const std::filesystem::path &temp_dir() {
  struct holder {
    std::filesystem::path path;
    ~holder() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  };
  static const holder dir{[] {
    std::string t = (std::filesystem::temp_directory_path() / "reclaim-fuzz-XXXXXX").string();
    if (!::mkdtemp(t.data())) std::abort();
    return std::filesystem::path(t);
  }()};
  return dir.path;
}

inline void write_file(const std::filesystem::path &p, std::string_view data, mode_t mode = 0600) {
  {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    if (!out.flush()) std::abort();
  }
  ::chmod(p.c_str(), mode);
}

inline audit::signer fuzz_signer() {
  return audit::signer::from_seed(std::string(32, '\x2a'), std::string(origin));
}

// The fixed Ed25519 key of the witness whose cosignatures the seeds carry.
inline audit::signer fuzz_witness_signer() {
  return audit::signer::from_seed(std::string(32, '\x57'), "fuzz.example/witness");
}

inline std::vector<std::string_view> split_parts(std::string_view in, size_t max_parts) {
  std::vector<std::string_view> out;
  while (out.size() + 1 < max_parts) {
    const auto at = in.find(part_separator);
    if (at == std::string_view::npos) break;
    out.push_back(in.substr(0, at));
    in.remove_prefix(at + part_separator.size());
  }
  out.push_back(in);
  return out;
}

} // namespace reclaim::fuzz
