// fuzz_witness.cpp — what witnesses answer and what cosigned checkpoint files
// hold: parse_cosigner_key on a vkey, each answer line read as send() reads it
// and checked with verify_cosignature (fixed witness key), merge_cosignatures
// of a note and those lines, the 409 body's tree size. Parts: vkey (or 409
// body), note, answer lines, raw signature.
#include "audit/witness.hpp"
#include "fuzz_support.hpp"

#include <algorithm>

using namespace reclaim;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const auto witness = [] {
    const auto s = fuzz::fuzz_witness_signer();
    return audit::cosigner_key{s.name(), audit::cosigner_key_id(s.name(), s.public_key()), s.public_key()};
  }();
  const auto parts = fuzz::split_parts({reinterpret_cast<const char *>(data), size}, 4);

  try {
    const auto k = audit::parse_cosigner_key(parts[0]);
    const auto again = audit::parse_cosigner_key(k.text());
    if (again.name != k.name || again.id != k.id || again.pub != k.pub || k.pub.size() != 32) std::abort();
  } catch (const audit::note_error &) {
  }
  {
    // A 409 body as send() reads it: a tree size and at most one newline.
    std::string_view b = parts[0];
    if (!b.empty() && b.back() == '\n') b.remove_suffix(1);
    if (const auto v = audit::parse_u64(b)) {
      while (b.size() > 1 && b.front() == '0') b.remove_prefix(1);
      if (std::to_string(*v) != b) std::abort();
    }
  }
  if (parts.size() < 2) return 0;

  const std::string_view note_bytes = parts[1];
  std::string note_text(note_bytes);
  std::optional<audit::note> n;
  try {
    n = audit::parse_note(note_bytes);
    note_text = n->text;
    for (const auto &s : n->sigs)
      if (s.name == witness.name && s.id == witness.id) (void)audit::verify_cosignature(witness, n->text, s.sig);
  } catch (const audit::note_error &) {
  }
  if (parts.size() >= 4) (void)audit::verify_cosignature(witness, note_text, parts[3]);
  if (parts.size() < 3) return 0;

  // The answer body, line by line as witness_sender::send reads it.
  std::vector<std::string> good;
  for (std::string_view body = parts[2]; !body.empty();) {
    const auto nl = body.find('\n');
    if (nl == std::string_view::npos) break;
    const std::string line(body.substr(0, nl + 1));
    body.remove_prefix(nl + 1);
    try {
      const auto s = audit::parse_note(note_text + "\n" + line).sigs.at(0);
      if (s.name == witness.name && s.id == witness.id) (void)audit::verify_cosignature(witness, note_text, s.sig);
      good.push_back(line);
    } catch (const audit::note_error &) {
    }
  }
  if (!n || good.empty()) return 0;
  // store() merges only into a note that parses, lines that parse against its text.
  std::string merged;
  try {
    merged = audit::merge_cosignatures(note_bytes, good);
  } catch (const audit::note_error &) {
    return 0; // more than max_note_signatures: refused, the file is left as it was
  }
  // What merge writes must read back (else the checkpoint file is lost): the
  // same text, each cosigner once, its last line kept.
  audit::note m;
  try {
    m = audit::parse_note(merged);
  } catch (const audit::note_error &) {
    std::abort();
  }
  if (m.text != n->text) std::abort();
  for (size_t i = 0; i < m.sigs.size(); ++i)
    for (size_t j = i + 1; j < m.sigs.size(); ++j)
      if (m.sigs[i].name == m.sigs[j].name && m.sigs[i].id == m.sigs[j].id &&
          std::any_of(good.begin(), good.end(), [&](const std::string &l) {
            const auto s = audit::parse_note(n->text + "\n" + l).sigs.at(0);
            return s.name == m.sigs[i].name && s.id == m.sigs[i].id;
          }))
        std::abort();
  if (merged.find(good.back()) == std::string::npos) std::abort();
  return 0;
}
