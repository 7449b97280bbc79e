// canonical_json.hpp — RFC 8785 (JCS) serialisation of audit records and a
// strict checker that a line already is in that form. Audit records hold only
// strings, integers (|n| < 2^53), booleans, null, arrays and objects: floats
// are refused because their canonical form is a source of disagreement.
#pragma once

#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace reclaim::audit {

class canonical_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// Serialises v in RFC 8785 form; throws canonical_error on a float or an
// integer outside ±(2^53-1).
std::string canonical(const nlohmann::json &v);

// One top-level member of a checked line: key and the raw bytes of its value.
struct member_span {
  std::string_view key;   // raw key bytes between the quotes (escapes kept)
  std::string_view value; // raw value bytes
};

// Checks in one pass, without building a tree, that line is one JSON object
// in RFC 8785 form: no whitespace, members strictly ordered by UTF-16 code
// units (so no duplicate keys), only the mandatory escapes, lower-case \u00xx,
// integers without leading zeros or '+', no fraction or exponent, valid UTF-8.
// Returns "" when canonical, else the problem; fills top with the top-level
// members when non-null.
std::string check_canonical(std::string_view line, std::vector<member_span> *top = nullptr);

// Decodes a raw JSON string body (between the quotes) produced by the checker.
std::string unescape(std::string_view raw);

} // namespace reclaim::audit
