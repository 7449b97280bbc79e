// fuzz_checkpoint.cpp — signed notes and checkpoints (plugin/audit/note.cpp):
// parse_note, parse_checkpoint_text, parse_verifier_key and open_checkpoint
// against the fixed key. Only note_error may come out of a parser; a
// checkpoint that parses must print back to the same text.
#include "audit/audit_verify.hpp"
#include "fuzz_support.hpp"

#include <cstdlib>

using namespace reclaim;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const std::string_view in(reinterpret_cast<const char *>(data), size);
  static const auto key = audit::parse_verifier_key(fuzz::fuzz_signer().verifier_key());
  try {
    const auto n = audit::parse_note(in);
    const auto c = audit::parse_checkpoint_text(n.text);
    if (audit::checkpoint_text(c) != n.text) std::abort(); // strict: one text per checkpoint
  } catch (const audit::note_error &) {
  }
  try {
    const auto c = audit::parse_checkpoint_text(in);
    if (audit::checkpoint_text(c) != in) std::abort();
  } catch (const audit::note_error &) {
  }
  try {
    (void)audit::parse_verifier_key(in);
  } catch (const audit::note_error &) {
  }
  audit::checkpoint out;
  (void)audit::open_checkpoint(in, std::string(fuzz::origin), {key}, out); // reports, never throws
  return 0;
}
