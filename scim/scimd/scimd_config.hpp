// scimd_config.hpp — the [scim_server] section of reclaim.toml (plus the
// [engine] state_dir and [legal_hold] keys the host needs), read with
// toml++. Unknown keys and bad values are errors naming file:line:column.
#pragma once

#include "lifecycle_mapping.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace reclaim::scimd {

struct config_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

enum class role { provisioner, reader, hr };
const char *role_name(role r);

struct token_entry {
  std::array<unsigned char, 32> sha256{};
  role who = role::reader;
  std::string name;
};

struct limits_config {
  std::size_t max_body_bytes = 1024 * 1024;
  std::size_t max_header_bytes = 16 * 1024;
  std::chrono::milliseconds header_timeout{10000};
  std::chrono::milliseconds body_timeout{30000};
  std::chrono::milliseconds idle_timeout{60000};
  std::chrono::milliseconds drain_timeout{10000};
  std::size_t max_connections = 256;
  std::size_t max_json_depth = 32;
  std::size_t max_results = 1000;
  unsigned threads = 2;
};

struct scimd_config {
  std::string config_path;
  bool enabled = true;
  std::string listen_host = "127.0.0.1";
  std::uint16_t listen_port = 8443;
  bool loopback = true;
  std::string tls_cert, tls_key, client_ca;
  std::vector<token_entry> tokens;
  std::string state_dir = "/var/lib/reclaim";
  std::string base_url; // for Location and meta.location; empty: from Host
  mapping_config mapping;
  limits_config limits;
  bool tls() const { return !tls_cert.empty(); }
};

// Reads path; throws config_error("file:line:col: key: problem").
scimd_config load_config(const std::string &path);

// SHA-256 of a token as 64 lower-case hex digits (for writing configs).
std::string token_sha256_hex(const std::string &token);

} // namespace reclaim::scimd
