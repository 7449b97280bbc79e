// witness.hpp — anchoring checkpoints outside the host with C2SP witnesses:
// cosigner keys and cosignature/v1 (tlog-cosignature), the sender that posts
// each new checkpoint to the witnesses (tlog-witness add-checkpoint) on its
// own thread and appends their cosignature lines to the checkpoint note, and
// the check behind `reclaimctl audit verify --witness` (docs/audit.md).
#pragma once

#include "audit/audit_config.hpp"
#include "audit/merkle.hpp"
#include "audit/note.hpp"
#include "base/log.hpp"

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace reclaim::audit {

// An Ed25519 cosigner: vkey name+keyid+base64(0x04 || 32-byte key), key id
// SHA-256(name || "\n" || 0x04 || key)[:4].
struct cosigner_key {
  std::string name;
  uint32_t id = 0;
  std::string pub; // 32 bytes
  std::string text() const;
};
uint32_t cosigner_key_id(std::string_view name, std::string_view pub32);
// Throws note_error naming the problem (a log key 0x01 is refused by name).
cosigner_key parse_cosigner_key(std::string_view vkey);
// A vkey, or a file holding one on its first non-comment line.
cosigner_key read_cosigner_key(const std::string &vkey_or_file);

// "cosignature/v1\ntime T\n" followed by the checkpoint note text.
std::string cosigned_message(std::string_view note_text, uint64_t timestamp);
// The signature bytes after the key id: timestamp (8, big-endian) || Ed25519
// signature (64). Returns the timestamp when it verifies over note_text.
std::optional<uint64_t> verify_cosignature(const cosigner_key &k, std::string_view note_text,
                                           std::string_view sig);

// The body of add-checkpoint: "old N", the proof lines, an empty line, the note.
std::string add_checkpoint_body(uint64_t old_size, const std::vector<hash> &proof,
                                std::string_view signed_note);

// Appends cosignature lines to a note, replacing older lines of the same
// cosigner (name and key id).
std::string merge_cosignatures(std::string_view note_bytes, const std::vector<std::string> &lines);

struct witness_status {
  std::string name, url;
  uint64_t cosigned_size = 0; // newest checkpoint this witness cosigned for us (0: none yet)
  std::string last_ok;        // UTC time of that cosignature
  std::string error;          // why the newest checkpoint is not cosigned yet ("" when it is)
  uint64_t failures = 0;      // consecutive failed attempts
};

// Sends the newest checkpoint to each configured witness. Reads only files
// (the checkpoint directory and the log, for consistency proofs), so the
// appender never waits for it; a witness that is down is reported in the
// error log and in <audit.path>.witnesses.json, and retried with backoff.
class witness_sender {
public:
  witness_sender(const audit_config &cfg, const logger &log);
  ~witness_sender(); // stops the thread
  witness_sender(const witness_sender &) = delete;
  witness_sender &operator=(const witness_sender &) = delete;

  void start(std::chrono::milliseconds poll = std::chrono::seconds(1));
  void stop() noexcept;
  // One round (also for `reclaimctl audit witness`): every witness whose
  // retry time has come and that has not cosigned the newest checkpoint gets
  // it. ignore_backoff tries all now. Returns how many have cosigned it.
  size_t run_once(bool ignore_backoff = false);
  std::vector<witness_status> status() const;
  std::filesystem::path status_file() const;

private:
  struct peer;
  struct newest;
  std::optional<newest> find_newest();
  void send(peer &p, const newest &n);
  std::vector<hash> proof(uint64_t from, uint64_t to);
  void store(const newest &n, const std::vector<std::string> &lines);
  void write_status();
  void loop(std::chrono::milliseconds poll);
  void say_failure(const char *what) noexcept;

  audit_config cfg_;
  const logger &log_;
  struct impl;
  std::unique_ptr<impl> p_;
  std::vector<peer> peers_;
  mutable std::mutex mu_; // guards peers_ status for status()
  std::mutex run_mu_;     // one round at a time
  std::thread thread_;
  std::condition_variable cv_;
  bool stop_ = false;
};

struct witness_check_options {
  std::filesystem::path checkpoint_dir;
  std::string origin;
  std::vector<verifier_key> log_keys;
  std::vector<cosigner_key> witnesses;
  size_t quorum = 0;                        // 0: all witnesses
  std::chrono::seconds max_age{0};          // 0: cosignatures of any age
};
struct witness_check_result {
  uint64_t size = 0;                  // the newest checkpoint's tree size
  std::vector<std::string> cosigned;  // witnesses with a valid cosignature on it
  std::vector<std::string> problems;
};
// Requires valid cosignatures from the quorum of witnesses on the newest
// checkpoint (the largest tree size with a valid log signature).
witness_check_result check_witnesses(const witness_check_options &o);

} // namespace reclaim::audit
