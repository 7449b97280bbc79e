// test_audit_attacks.cpp — one test per attack in the reference's list
// (shared/reference/audit-log.md, "What a verifier must catch"): each edits a
// real log written by the appender and runs the real `reclaimctl audit
// verify` (or verify-record), asserting the exit code and the message.
#define BOOST_TEST_MODULE reclaim_audit_cli
#include "audit_fixture.hpp"
#include "test_env.hpp"

#include "audit/canonical_json.hpp"
#include "audit/note.hpp"

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include <fstream>

using namespace reclaim;
using namespace reclaim::test;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

void expect(const process_result &r, int code, const std::string &text) {
  BOOST_TEST(r.exit_code == code, "exit " << r.exit_code << " != " << code << "\n" << r.output());
  BOOST_TEST(r.out.find(text) != std::string::npos, "missing '" << text << "' in:\n" << r.output());
}

uint64_t cp_size(const fs::path &p) { return std::stoull(p.filename().string()); }

// Replaces line `line` (0-based) of a note file.
void edit_note_line(const fs::path &p, size_t line, const std::string &value) {
  auto text = read_text_file(p);
  size_t at = 0;
  for (size_t i = 0; i < line; ++i) at = text.find('\n', at) + 1;
  text.replace(at, text.find('\n', at) - at, value);
  write_text_file(p, text);
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(audit_attacks, audit_fixture)

BOOST_AUTO_TEST_CASE(pristine_log_verifies) {
  const auto r = verify();
  expect(r, 0, "0 error(s), 0 warning(s)");
  BOOST_TEST(checkpoints().size() >= 3u);
}

BOOST_AUTO_TEST_CASE(modified_record) {
  auto l = lines();
  l[5].replace(l[5].find("\"actor\":\"engine\""), 16, "\"actor\":\"mallory\"");
  write_lines(l);
  expect(verify(), 1, "TAMPERED: record 6: prev does not match the hash of the line before");
}

BOOST_AUTO_TEST_CASE(modified_record_with_recomputed_chain) {
  auto l = lines();
  l[5].replace(l[5].find("\"actor\":\"engine\""), 16, "\"actor\":\"mallory\"");
  rechain(l, 6);
  write_lines(l);
  const auto r = verify();
  expect(r, 1, "does not match the log's records");
  BOOST_TEST(r.out.find("prev does not match") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(deleted_record) {
  auto l = lines();
  l.erase(l.begin() + 4);
  write_lines(l);
  expect(verify(), 1, "TAMPERED: record 4: seq 5 where 4 was expected");
}

BOOST_AUTO_TEST_CASE(deleted_record_renumbered_and_rechained) {
  auto l = lines();
  l.erase(l.begin() + 4);
  for (size_t j = 4; j < l.size(); ++j) {
    auto rec = json::parse(l[j]);
    rec["seq"] = j;
    l[j] = audit::canonical(rec);
  }
  rechain(l, 4);
  write_lines(l);
  expect(verify(), 1, "does not match the log's records");
}

BOOST_AUTO_TEST_CASE(inserted_forged_record) {
  auto l = lines();
  auto forged = json::parse(l[4]);
  forged["outcome"] = "forged";
  l.insert(l.begin() + 5, audit::canonical(forged));
  write_lines(l);
  expect(verify(), 1, "TAMPERED: record 5: seq 4 where 5 was expected");
}

BOOST_AUTO_TEST_CASE(reordered_records) {
  auto l = lines();
  std::swap(l[3], l[4]);
  write_lines(l);
  expect(verify(), 1, "TAMPERED: record 3: seq 4 where 3 was expected");
}

BOOST_AUTO_TEST_CASE(duplicated_record) {
  auto l = lines();
  l.insert(l.begin() + 6, l[5]);
  write_lines(l);
  expect(verify(), 1, "TAMPERED: record 6: seq 5 where 6 was expected");
}

BOOST_AUTO_TEST_CASE(truncated_below_newest_checkpoint) {
  auto l = lines();
  l.resize(l.size() - 3);
  write_lines(l);
  expect(verify(), 1, "(log truncated)");
}

BOOST_AUTO_TEST_CASE(truncated_and_newer_checkpoints_deleted_needs_trusted_checkpoint) {
  const auto cps_before = checkpoints();
  const auto trusted = dir / "trusted-checkpoint";
  fs::copy_file(cps_before.back(), trusted);
  const uint64_t keep = cp_size(cps_before.front());
  auto l = lines();
  l.resize(keep);
  write_lines(l);
  for (const auto &c : cps_before)
    if (cp_size(c) > keep) fs::remove(c);
  // Nothing local can tell: the log and its remaining checkpoint agree.
  expect(verify(), 0, "0 error(s)");
  expect(verify({"--trusted-checkpoint", trusted.string()}), 1,
         "TAMPERED: trusted checkpoint: the log has " + std::to_string(keep) + " records, fewer than the");
}

BOOST_AUTO_TEST_CASE(rollback_to_older_backup_detected_by_saved_state) {
  const auto state = dir / "verify-state.json";
  expect(verify({"--state", state.string()}), 0, "0 error(s)");
  BOOST_TEST(fs::exists(state));
  fs::remove_all(dir / "audit");
  fs::copy(backup / "audit", dir / "audit", fs::copy_options::recursive);
  expect(verify(), 0, "0 error(s)"); // the old backup is internally consistent
  expect(verify({"--state", state.string()}), 1, "recorded in the saved state (truncation or rollback)");
}

BOOST_AUTO_TEST_CASE(edited_checkpoint_size_root_origin) {
  const auto c = checkpoints().back();
  const auto original = read_text_file(c);
  edit_note_line(c, 1, std::to_string(cp_size(c) - 1));
  expect(verify(), 1, "does not verify");
  write_text_file(c, original);
  edit_note_line(c, 2, audit::base64(std::string(32, 'x')));
  expect(verify(), 1, "does not verify");
  write_text_file(c, original);
  edit_note_line(c, 0, "other.example/audit");
  expect(verify(), 1, "another log's checkpoint");
  // A re-signed note whose size differs from its file name.
  write_text_file(c, sign(audit::checkpoint_text({origin, cp_size(c) - 1, {}, {}})));
  expect(verify(), 1, "(edited size)");
}

BOOST_AUTO_TEST_CASE(checkpoint_signed_by_unknown_key) {
  const auto c = checkpoints().back();
  const auto text = audit::parse_note(read_text_file(c)).text;
  make_key(dir / "other.pem", origin);
  write_text_file(c, text + "\n" + audit::signer::from_pem_file(dir / "other.pem", origin).signature_line(text));
  expect(verify(), 1, "no signature from a trusted key (unknown key");
}

BOOST_AUTO_TEST_CASE(known_key_signature_fails) {
  const auto c = checkpoints().back();
  auto note = audit::parse_note(read_text_file(c));
  note.sigs[0].sig[10] ^= 1;
  std::string blob(4, '\0');
  for (int i = 0; i < 4; ++i) blob[size_t(i)] = char(note.sigs[0].id >> (24 - 8 * i));
  write_text_file(c, note.text + "\n\xE2\x80\x94 " + origin + " " + audit::base64(blob + note.sigs[0].sig) + "\n");
  expect(verify(), 1, "does not verify");
}

BOOST_AUTO_TEST_CASE(equivocation_two_roots_for_one_size) {
  const auto c = checkpoints().back();
  const auto size = cp_size(c);
  write_text_file(cps / "zz-other", sign(audit::checkpoint_text({origin, size, audit::hash{}, {}})));
  expect(verify(), 1, "equivocation");
}

BOOST_AUTO_TEST_CASE(inconsistent_checkpoint) {
  // Validly signed, but for a tree the log is not a prefix-extension of.
  write_text_file(cps / "00000000000000000005", sign(audit::checkpoint_text({origin, 5, audit::hash{}, {}})));
  expect(verify(), 1, "TAMPERED: checkpoint 00000000000000000005: root for tree size 5 does not match");
}

BOOST_AUTO_TEST_CASE(non_canonical_json) {
  const auto original = lines();
  struct row {
    std::string from, to, message;
  };
  const std::vector<row> rows = {{"\"actor\":\"engine\"", "\"actor\": \"engine\"", "whitespace"},
                                 {"\"actor\":\"engine\",\"assets\"", "\"assets\"", "keys not in canonical order"},
                                 {"\"actor\":\"engine\"", "\"actor\":\"engine\",\"actor\":\"engine\"", "duplicate key"},
                                 {"\"actor\":\"engine\"", "\"actor\":\"\\u0065ngine\"", "non-canonical \\u escape"},
                                 {"\"cost_cents\":4200", "\"cost_cents\":4200.0", "floating-point"}};
  for (const auto &r : rows) {
    auto l = original;
    auto &line = l[3];
    const auto at = line.find(r.from);
    BOOST_TEST_REQUIRE(at != std::string::npos);
    if (r.message == "keys not in canonical order") {
      // move "actor" after "assets"
      const auto assets_end = line.find("],", line.find("\"assets\"")) + 1;
      const std::string actor = "\"actor\":\"engine\",";
      std::string moved = line;
      moved.erase(at, actor.size());
      moved.insert(assets_end - actor.size() + 1, actor.substr(0, actor.size() - 1) + ",");
      line = moved;
    } else {
      line.replace(at, r.from.size(), r.to);
    }
    write_lines(l);
    expect(verify(), 1, "TAMPERED: record 3: not canonical JSON: " + r.message);
  }
}

BOOST_AUTO_TEST_CASE(malformed_checkpoint_notes) {
  const auto c = checkpoints().back();
  const auto original = read_text_file(c);
  auto with = [&](std::string bytes, const std::string &message) {
    write_text_file(c, bytes);
    expect(verify(), 1, message);
    write_text_file(c, original);
  };
  std::string crlf = original;
  crlf.insert(crlf.find('\n'), "\r");
  with(crlf, "malformed note: note contains CR");
  std::string hyphen = original;
  hyphen.replace(hyphen.find("\xE2\x80\x94"), 3, "-");
  with(hyphen, "ASCII hyphen");
  with(original.substr(0, original.size() - 1), "does not end with a newline");
  audit::hash ff;
  ff.fill(0xff);
  auto url = sign(audit::checkpoint_text({origin, cp_size(c), ff, {}}));
  const auto root_line = url.find("//");
  url.replace(root_line, 2, "__");
  with(url, "malformed checkpoint: checkpoint root is not standard base64");
  with(sign(origin + "\n0" + std::to_string(cp_size(c)) + "\n" + audit::base64(std::string(32, 'a')) + "\n"),
       "is not a canonical decimal");
  with(sign(origin + "\n+" + std::to_string(cp_size(c)) + "\n" + audit::base64(std::string(32, 'a')) + "\n"),
       "is not a canonical decimal");
  with(sign(origin + "\n" + std::to_string(cp_size(c)) + "\n" + audit::base64(std::string(31, 'a')) + "\n"),
       "root is 31 bytes, not 32");
}

BOOST_AUTO_TEST_CASE(oversized_note_and_too_many_signatures) {
  const auto c = checkpoints().back();
  const auto original = read_text_file(c);
  const auto n = audit::parse_note(original);
  std::string big = n.text;
  for (int i = 0; i < 2000; ++i) big += "extension line " + std::string(40, 'x') + "\n";
  write_text_file(c, sign(big));
  expect(verify(), 1, "note larger than 65536 bytes");
  std::string many = original;
  const auto line = original.substr(original.find("\n\n") + 2);
  for (int i = 0; i < 100; ++i) many += line;
  write_text_file(c, many);
  expect(verify(), 1, "more than 100 signatures");
}

BOOST_AUTO_TEST_CASE(rotated_out_key_beyond_its_range) {
  const auto keys = dir / "trusted-keys";
  const auto last = cp_size(checkpoints().back());
  write_text_file(keys, vkey + " 0 " + std::to_string(last - 1) + "\n");
  const auto r = ctl({"audit", "verify", "--log", log.string(), "--origin", origin, "--keys", keys.string()});
  expect(r, 1, "outside its validity range");
  write_text_file(keys, vkey + " 0 " + std::to_string(last) + "\n");
  expect(ctl({"audit", "verify", "--log", log.string(), "--origin", origin, "--keys", keys.string()}), 0,
         "0 error(s)");
}

BOOST_AUTO_TEST_CASE(checkpoint_from_another_origin) {
  const auto r = ctl({"audit", "verify", "--log", log.string(), "--checkpoints", cps.string(), "--origin",
                      "other.example/audit", "--key", vkey});
  expect(r, 1, "(another log's checkpoint)");
  BOOST_TEST(r.out.find("origin \"test.example/audit\" is not this log's") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(prove_and_verify_record_and_internal_node_as_leaf) {
  const auto bundle_path = dir / "bundle.json";
  const auto p = ctl({"audit", "prove", "3", "--log", log.string(), "--origin", origin});
  BOOST_TEST_REQUIRE(p.exit_code == 0, p.output());
  write_text_file(bundle_path, p.out);
  expect(ctl({"audit", "verify-record", bundle_path.string(), "--origin", origin, "--key", vkey}), 0,
         "record 3 is in the log");
  // Present the parent of leaves 2 and 3 as if it were leaf 1 of a half-size tree.
  auto b = json::parse(p.out);
  audit::hasher h;
  const auto l = lines();
  const auto l2 = h.leaf(l[2]), l3 = h.leaf(l[3]);
  std::string node(reinterpret_cast<const char *>(l2.data()), 32);
  node.append(reinterpret_cast<const char *>(l3.data()), 32);
  b["leaf"] = audit::base64(node);
  b["seq"] = 1;
  auto proof = b["proof"];
  proof.erase(proof.begin());
  b["proof"] = proof;
  write_text_file(bundle_path, b.dump());
  expect(ctl({"audit", "verify-record", bundle_path.string(), "--origin", origin, "--key", vkey}), 1,
         "internal nodes hash differently");
  // A modified record with the genuine proof.
  b = json::parse(p.out);
  auto rec = l[3];
  rec.replace(rec.find("journalled"), 10, "xournalled");
  b["leaf"] = audit::base64(rec);
  write_text_file(bundle_path, b.dump());
  expect(ctl({"audit", "verify-record", bundle_path.string(), "--origin", origin, "--key", vkey}), 1,
         "does not lead to the checkpoint root");
}

BOOST_AUTO_TEST_CASE(warnings_only_exit_4) {
  {
    audit::appender a(cfg, state_db, quiet);
    audit::enqueue(state_db, {{"type", "plan_made"}, {"actor", "engine"}});
    a.drain();
    // no checkpoint yet covers the last records: simulate by removing the
    // final checkpoint after close below
  }
  fs::remove(checkpoints().back());
  expect(verify(), 4, "are not yet signed");
}

BOOST_AUTO_TEST_CASE(backward_time_is_a_warning) {
  auto l = lines();
  const auto last_cp = cp_size(checkpoints().back());
  auto rec = json::parse(l.back());
  (void)last_cp;
  // An extra well-formed record whose time goes backwards, after the newest checkpoint.
  audit::hasher h;
  rec["seq"] = l.size();
  rec["prev"] = audit::to_hex(h.leaf(l.back()));
  rec["time"] = "2000-01-01T00:00:00.000Z";
  rec["type"] = "plan_made";
  l.push_back(audit::canonical(rec));
  write_lines(l);
  expect(verify(), 4, "WARNING: record " + std::to_string(l.size() - 1) + ": time goes backwards");
}

BOOST_AUTO_TEST_CASE(forget_crypto_shreds_and_log_still_verifies) {
  const auto toml = dir / "reclaim.toml";
  write_text_file(toml, "[engine]\nstate_dir = \"" + dir.path().string() + "\"\n[ldap]\nbase = \"dc=example\"\n"
                        "[audit]\norigin = \"" + origin + "\"\nkey_file = \"" + pem.string() + "\"\npath = \"" +
                        log.string() + "\"\npseudonym_key_file = \"" + (dir / "pseudonym.key").string() +
                        "\"\nkey_store = \"" + cfg.key_store.string() + "\"\n" + operator_access());
  const auto before = ctl({"-c", toml.string(), "audit", "show", "--resolve", "--json"});
  BOOST_TEST_REQUIRE(before.exit_code == 0, before.output());
  BOOST_TEST(before.out.find("User 3") != std::string::npos);
  const auto f = ctl({"-c", toml.string(), "audit", "forget", "uid=user3"});
  BOOST_TEST_REQUIRE(f.exit_code == 0, f.output());
  BOOST_TEST(f.out.find("key deleted") != std::string::npos);
  const auto after = ctl({"-c", toml.string(), "audit", "show", "--resolve", "--json"});
  BOOST_TEST(after.out.find("User 3\"") == std::string::npos);
  BOOST_TEST(after.out.find("\"personal\": \"erased\"") != std::string::npos);
  BOOST_TEST(after.out.find("\"type\": \"forget\"") != std::string::npos);
  expect(verify(), 0, "1 erased record(s); 0 error(s)");
}

BOOST_AUTO_TEST_CASE(key_rotation_signs_with_both_then_the_new_key) {
  const auto toml = dir / "reclaim.toml";
  auto config_text = [&](const fs::path &key) {
    return "[engine]\nstate_dir = \"" + dir.path().string() + "\"\n[ldap]\nbase = \"dc=example\"\n[audit]\norigin = \"" +
           origin + "\"\nkey_file = \"" + key.string() + "\"\npath = \"" + log.string() +
           "\"\npseudonym_key_file = \"" + (dir / "pseudonym.key").string() + "\"\nkey_store = \"" +
           cfg.key_store.string() + "\"\n" + operator_access();
  };
  write_text_file(toml, config_text(pem));
  const auto new_pem = dir / "new.pem";
  const auto new_vkey = make_key(new_pem, origin);
  const auto r = ctl({"-c", toml.string(), "audit", "rotate-key", "--new-key", new_pem.string()});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.output());
  const auto keys = dir / "trusted-keys";
  write_text_file(keys, r.out); // comment lines start with '#'
  const auto both = audit::parse_note(read_text_file(checkpoints().back()));
  BOOST_TEST(both.sigs.size() == 2u);
  BOOST_TEST(read_text_file(log).find("\"type\":\"key_rotation\"") != std::string::npos);
  // From now on the new key alone signs.
  write_text_file(toml, config_text(new_pem));
  cfg.key_file = new_pem;
  session(3, 500);
  const std::vector<std::string> with_keys = {"audit", "verify", "--log", log.string(), "--origin", origin,
                                              "--keys", keys.string()};
  expect(ctl(with_keys), 0, "0 error(s)");
  // The old key signing beyond the rotation is refused.
  cfg.key_file = pem;
  session(1, 900);
  expect(ctl(with_keys), 1, "outside its validity range");
  (void)new_vkey;
}

BOOST_AUTO_TEST_CASE(export_json_csv_and_archive) {
  const auto toml = dir / "reclaim.toml";
  write_text_file(toml, "[engine]\nstate_dir = \"" + dir.path().string() + "\"\n[ldap]\nbase = \"dc=example\"\n"
                        "[audit]\norigin = \"" + origin + "\"\nkey_file = \"" + pem.string() + "\"\npath = \"" +
                        log.string() + "\"\npseudonym_key_file = \"" + (dir / "pseudonym.key").string() +
                        "\"\nkey_store = \"" + cfg.key_store.string() + "\"\n" + operator_access());
  const auto j = ctl({"-c", toml.string(), "audit", "export", "--from", "2", "--to", "4"});
  BOOST_TEST_REQUIRE(j.exit_code == 0, j.output());
  const auto arr = json::parse(j.out);
  BOOST_TEST(arr.size() == 3u);
  BOOST_TEST(arr[0]["seq"] == 2);
  BOOST_TEST(!arr[0].contains("personal")); // not resolved without --resolve
  const auto c = ctl({"-c", toml.string(), "audit", "export", "--format", "csv", "--from", "2", "--to", "3",
                      "--archive", (dir / "archive").string()});
  BOOST_TEST_REQUIRE(c.exit_code == 0, c.output());
  BOOST_TEST(c.out.rfind("seq,time,type,actor,subject,outcome,reason,personal\n2,", 0) == 0u, c.out);
  BOOST_TEST(fs::exists(dir / "archive" / "checkpoints" / checkpoints().back().filename()));
}

BOOST_AUTO_TEST_SUITE_END()
