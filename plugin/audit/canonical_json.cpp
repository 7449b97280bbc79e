// canonical_json.cpp — RFC 8785 writer (on nlohmann::json values) and a
// single-pass canonical-form checker. The checker is hand-written because no
// library checks canonical form, and it must run near sha256sum's speed
// (docs/performance.md "Audit log"); parsing into a tree is not needed.
#include "audit/canonical_json.hpp"

#include <algorithm>
#include <cstdint>
#include <fmt/format.h>

namespace reclaim::audit {
namespace {

constexpr int64_t max_safe = 9007199254740991; // 2^53 - 1

// UTF-16 code-unit order of two UTF-8 strings (RFC 8785 3.2.3).
std::u16string utf16(std::string_view s) {
  std::u16string out;
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    uint32_t cp = c;
    size_t n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    if (n > 1) cp = c & (0xFFu >> (n + 1));
    for (size_t k = 1; k < n && i + k < s.size(); ++k)
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3Fu);
    i += n;
    if (cp >= 0x10000) {
      cp -= 0x10000;
      out.push_back(static_cast<char16_t>(0xD800 + (cp >> 10)));
      out.push_back(static_cast<char16_t>(0xDC00 + (cp & 0x3FF)));
    } else {
      out.push_back(static_cast<char16_t>(cp));
    }
  }
  return out;
}

bool simple_key(std::string_view k);

void write_string(std::string &out, std::string_view s) {
  out += '"';
  // Runs of bytes that need no escape are copied at once.
  size_t run = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.substr(run, i - run));
    run = i + 1;
    const char ch = s[i];
    switch (c) {
    case '"': out += "\\\""; break;
    case '\\': out += "\\\\"; break;
    case '\b': out += "\\b"; break;
    case '\f': out += "\\f"; break;
    case '\n': out += "\\n"; break;
    case '\r': out += "\\r"; break;
    case '\t': out += "\\t"; break;
    default:
      if (c < 0x20) out += fmt::format("\\u{:04x}", c);
      else out += ch;
    }
  }
  out.append(s.substr(run));
  out += '"';
}

void write(std::string &out, const nlohmann::json &v) {
  using t = nlohmann::json::value_t;
  switch (v.type()) {
  case t::null: out += "null"; return;
  case t::boolean: out += v.get<bool>() ? "true" : "false"; return;
  case t::string: write_string(out, v.get_ref<const std::string &>()); return;
  case t::number_integer:
  case t::number_unsigned: {
    if (v.is_number_unsigned() ? v.get<uint64_t>() > uint64_t(max_safe)
                               : v.get<int64_t>() > max_safe || v.get<int64_t>() < -max_safe)
      throw canonical_error("integer outside the IEEE 754 safe range");
    out += v.is_number_unsigned() ? std::to_string(v.get<uint64_t>()) : std::to_string(v.get<int64_t>());
    return;
  }
  case t::number_float: throw canonical_error("floating-point numbers are not allowed");
  case t::array: {
    out += '[';
    bool first = true;
    for (const auto &e : v) {
      if (!first) out += ',';
      first = false;
      write(out, e);
    }
    out += ']';
    return;
  }
  case t::object: {
    // nlohmann keeps members in byte order, which is UTF-16 order for
    // keys without escapes or code points >= U+E000 (the usual case).
    bool simple = true;
    for (auto it = v.begin(); it != v.end() && simple; ++it) simple = simple_key(it.key());
    if (simple) {
      out += '{';
      bool first = true;
      for (auto it = v.begin(); it != v.end(); ++it) {
        if (!first) out += ',';
        first = false;
        write_string(out, it.key());
        out += ':';
        write(out, it.value());
      }
      out += '}';
      return;
    }
    std::vector<std::pair<std::u16string, const std::string *>> keys;
    for (auto it = v.begin(); it != v.end(); ++it) keys.emplace_back(utf16(it.key()), &it.key());
    std::sort(keys.begin(), keys.end());
    out += '{';
    for (size_t i = 0; i < keys.size(); ++i) {
      if (i) out += ',';
      write_string(out, *keys[i].second);
      out += ':';
      write(out, v.at(*keys[i].second));
    }
    out += '}';
    return;
  }
  default: throw canonical_error("unsupported JSON value");
  }
}

// Raw keys without escapes or code points >= U+E000 compare bytewise exactly
// as in UTF-16; others are decoded first.
bool simple_key(std::string_view k) {
  for (char c : k)
    if (c == '\\' || static_cast<unsigned char>(c) >= 0xEE) return false;
  return true;
}

int compare_keys(std::string_view a, std::string_view b) {
  if (simple_key(a) && simple_key(b)) return a.compare(b) < 0 ? -1 : a == b ? 0 : 1;
  const auto x = utf16(unescape(a)), y = utf16(unescape(b));
  return x < y ? -1 : x == y ? 0 : 1;
}

// The strict checker: a recursive-descent scanner over the raw bytes.
class checker {
public:
  explicit checker(std::string_view s) : s_(s) {}
  std::string run(std::vector<member_span> *top) {
    if (s_.empty() || s_[0] != '{') return "not a JSON object";
    if (!object(top, 0)) return err_;
    if (p_ != s_.size()) {
      fail("trailing bytes after the object");
      return err_;
    }
    return {};
  }

private:
  std::string_view s_;
  size_t p_ = 0;
  std::string err_;

  bool fail(std::string m) {
    if (err_.empty()) err_ = fmt::format("{} at byte {}", m, p_);
    return false;
  }
  bool eat(char c) {
    if (p_ < s_.size() && s_[p_] == c) return ++p_, true;
    return false;
  }
  bool value(int depth) {
    if (depth > 64) return fail("nesting too deep");
    if (p_ >= s_.size()) return fail("unexpected end");
    const char c = s_[p_];
    if (c == '{') return object(nullptr, depth + 1);
    if (c == '[') return array(depth + 1);
    if (c == '"') return string(nullptr);
    if (c == '-' || (c >= '0' && c <= '9')) return number();
    for (std::string_view lit : {"true", "false", "null"})
      if (s_.substr(p_, lit.size()) == lit) return p_ += lit.size(), true;
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') return fail("whitespace");
    return fail("invalid value");
  }
  bool number() {
    const size_t start = p_;
    eat('-');
    if (p_ >= s_.size() || s_[p_] < '0' || s_[p_] > '9') return fail("invalid number");
    if (s_[p_] == '0' && p_ + 1 < s_.size() && s_[p_ + 1] >= '0' && s_[p_ + 1] <= '9')
      return fail("leading zero in number");
    while (p_ < s_.size() && s_[p_] >= '0' && s_[p_] <= '9') ++p_;
    if (p_ < s_.size() && (s_[p_] == '.' || s_[p_] == 'e' || s_[p_] == 'E'))
      return fail("floating-point number");
    const auto digits = s_.substr(start, p_ - start);
    if (digits == "-0") return fail("negative zero");
    if (digits.size() > (digits[0] == '-' ? 17u : 16u) ||
        std::llabs(std::stoll(std::string(digits))) > max_safe)
      return fail("integer outside the IEEE 754 safe range");
    return true;
  }
  bool utf8_tail(unsigned char c) {
    const size_t n = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : 1;
    if (c < 0xC2 || c > 0xF4 || p_ + n >= s_.size()) return fail("invalid UTF-8");
    uint32_t cp = c & (0x3Fu >> n);
    for (size_t k = 1; k <= n; ++k) {
      const auto d = static_cast<unsigned char>(s_[p_ + k]);
      if ((d & 0xC0) != 0x80) return fail("invalid UTF-8");
      cp = (cp << 6) | (d & 0x3Fu);
    }
    const uint32_t min[] = {0, 0x80, 0x800, 0x10000};
    if (cp < min[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      return fail("invalid UTF-8");
    p_ += n + 1;
    return true;
  }
  bool string(std::string_view *raw) {
    const size_t start = ++p_;
    while (p_ < s_.size()) {
      const auto c = static_cast<unsigned char>(s_[p_]);
      if (c == '"') {
        if (raw) *raw = s_.substr(start, p_ - start);
        return ++p_, true;
      }
      if (c < 0x20) return fail("unescaped control character");
      if (c == '\\') {
        if (!escape()) return false;
      } else if (c >= 0x80) {
        if (!utf8_tail(c)) return false;
      } else {
        ++p_;
      }
    }
    return fail("unterminated string");
  }
  bool escape() {
    if (p_ + 1 >= s_.size()) return fail("unterminated escape");
    const char e = s_[p_ + 1];
    if (e == '"' || e == '\\' || e == 'b' || e == 'f' || e == 'n' || e == 'r' || e == 't')
      return p_ += 2, true;
    if (e != 'u') return fail("non-canonical escape");
    const auto hex = s_.substr(p_ + 2, 4);
    if (hex.size() != 4 || hex.substr(0, 2) != "00" ||
        hex.find_first_not_of("0123456789abcdef") != std::string_view::npos)
      return fail("non-canonical \\u escape");
    const int v = std::stoi(std::string(hex), nullptr, 16);
    if (v >= 0x20 || v == '\b' || v == '\f' || v == '\n' || v == '\r' || v == '\t')
      return fail("non-canonical \\u escape");
    p_ += 6;
    return true;
  }
  bool object(std::vector<member_span> *top, int depth) {
    ++p_;
    if (eat('}')) return true;
    std::string_view prev;
    bool first = true;
    for (;;) {
      if (p_ >= s_.size() || s_[p_] != '"') return fail(first ? "expected key" : "expected key");
      std::string_view key;
      const size_t key_at = p_;
      if (!string(&key)) return false;
      if (!first) {
        const int order = compare_keys(prev, key);
        if (order >= 0) {
          p_ = key_at;
          return fail(order == 0 ? "duplicate key" : "keys not in canonical order");
        }
      }
      prev = key;
      first = false;
      if (!eat(':')) return fail("expected ':'");
      const size_t v_at = p_;
      if (!value(depth)) return false;
      if (top) top->push_back({key, s_.substr(v_at, p_ - v_at)});
      if (eat('}')) return true;
      if (!eat(',')) return fail("expected ',' or '}'");
    }
  }
  bool array(int depth) {
    ++p_;
    if (eat(']')) return true;
    for (;;) {
      if (!value(depth)) return false;
      if (eat(']')) return true;
      if (!eat(',')) return fail("expected ',' or ']'");
    }
  }
};

} // namespace

std::string canonical(const nlohmann::json &v) {
  std::string out;
  write(out, v);
  return out;
}

std::string check_canonical(std::string_view line, std::vector<member_span> *top) {
  return checker(line).run(top);
}

std::string unescape(std::string_view raw) {
  if (raw.find('\\') == std::string_view::npos) return std::string(raw);
  std::string out;
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '\\' || i + 1 >= raw.size()) {
      out += raw[i];
      continue;
    }
    const char e = raw[++i];
    switch (e) {
    case 'b': out += '\b'; break;
    case 'f': out += '\f'; break;
    case 'n': out += '\n'; break;
    case 'r': out += '\r'; break;
    case 't': out += '\t'; break;
    case 'u':
      out += static_cast<char>(std::stoi(std::string(raw.substr(i + 1, 4)), nullptr, 16));
      i += 4;
      break;
    default: out += e;
    }
  }
  return out;
}

} // namespace reclaim::audit
