// scim_filter.cpp — a tokenizer and a recursive-descent parser for RFC 7644
// §3.4.2.2 filters (precedence: not/( ) over and over or; and/or nodes are
// n-ary, so long chains stay flat), and their evaluation on stored resources.
// Depth counts only ( ), not and [ ], and is bounded by max_filter_depth.
#include "scim/scim_filter.hpp"

#include <algorithm>
#include <vector>

namespace reclaim::scim {
namespace {

using json = nlohmann::json;

enum class op { eq, ne, co, sw, ew, gt, ge, lt, le, pr };
enum class node_kind { compare, present, all, any, negate, value_path };

[[noreturn]] void bad_filter(const std::string &why) { throw scim_error(400, "invalidFilter", why); }

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
std::string lowered(std::string_view s) {
  std::string out(s);
  for (char &c : out)
    c = lower(c);
  return out;
}
bool iequals(std::string_view a, std::string_view b) { return lowered(a) == lowered(b); }

std::optional<op> parse_op(std::string_view w) {
  static constexpr std::pair<std::string_view, op> ops[] = {{"eq", op::eq}, {"ne", op::ne}, {"co", op::co},
                                                            {"sw", op::sw}, {"ew", op::ew}, {"gt", op::gt},
                                                            {"ge", op::ge}, {"lt", op::lt}, {"le", op::le},
                                                            {"pr", op::pr}};
  for (const auto &[name, o] : ops)
    if (iequals(w, name))
      return o;
  return std::nullopt;
}

struct token {
  enum class type { open, close, lbracket, rbracket, word, string } t;
  std::string text; // word: as written; string: decoded
};

std::vector<token> tokenize(std::string_view s) {
  std::vector<token> out;
  std::size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      ++i;
    } else if (c == '(' || c == ')' || c == '[' || c == ']') {
      out.push_back({c == '(' ? token::type::open
                     : c == ')' ? token::type::close
                     : c == '[' ? token::type::lbracket
                                : token::type::rbracket,
                     std::string(1, c)});
      ++i;
    } else if (c == '"') {
      std::size_t j = i + 1;
      while (j < s.size() && s[j] != '"')
        j += s[j] == '\\' ? 2 : 1;
      if (j >= s.size())
        bad_filter("unterminated string starting at offset " + std::to_string(i));
      json decoded;
      try {
        decoded = json::parse(s.substr(i, j - i + 1));
      } catch (const json::exception &) {
        bad_filter("malformed string literal at offset " + std::to_string(i));
      }
      out.push_back({token::type::string, decoded.get<std::string>()});
      i = j + 1;
    } else {
      std::size_t j = i;
      while (j < s.size() && s[j] != ' ' && s[j] != '\t' && s[j] != '\n' && s[j] != '\r' && s[j] != '(' &&
             s[j] != ')' && s[j] != '[' && s[j] != ']' && s[j] != '"')
        ++j;
      out.push_back({token::type::word, std::string(s.substr(i, j - i))});
      i = j;
    }
  }
  return out;
}

} // namespace

struct filter::node {
  node_kind kind = node_kind::compare;
  op oper = op::eq;
  attribute_path path;                // value_path: the parent; else the compared attribute
  const attribute_def *leaf = nullptr; // the definition whose type the comparison uses
  bool relative = false;              // path.attribute names a sub-attribute of the scope element
  json literal;
  std::string folded; // a string literal in lower case, for caseExact=false
  std::optional<long long> literal_time;
  std::vector<std::unique_ptr<node>> children;
};

namespace {

using node = filter::node;

class parser {
public:
  parser(std::vector<token> tokens, resource_kind kind) : t_(std::move(tokens)), kind_(kind) {}

  std::unique_ptr<node> parse_all(const attribute_path *parent) {
    if (t_.empty())
      bad_filter("empty filter");
    auto n = parse_or(parent, 0);
    if (pos_ != t_.size())
      bad_filter("unexpected '" + t_[pos_].text.substr(0, 100) + "' after a complete expression");
    return n;
  }

private:
  std::vector<token> t_;
  std::size_t pos_ = 0;
  resource_kind kind_;

  const token *peek() const { return pos_ < t_.size() ? &t_[pos_] : nullptr; }
  bool peek_word(std::string_view w) const {
    const token *k = peek();
    return k && k->t == token::type::word && iequals(k->text, w);
  }
  void expect(token::type ty, const char *what) {
    const token *k = peek();
    if (!k || k->t != ty)
      bad_filter(std::string("expected '") + what + "'" + (k ? " before '" + k->text.substr(0, 100) + "'" : " at end"));
    ++pos_;
  }

  std::unique_ptr<node> parse_or(const attribute_path *parent, std::size_t depth) {
    auto first = parse_and(parent, depth);
    if (!peek_word("or"))
      return first;
    auto n = std::make_unique<node>();
    n->kind = node_kind::any;
    n->children.push_back(std::move(first));
    while (peek_word("or")) {
      ++pos_;
      n->children.push_back(parse_and(parent, depth));
    }
    return n;
  }

  std::unique_ptr<node> parse_and(const attribute_path *parent, std::size_t depth) {
    auto first = parse_unary(parent, depth);
    if (!peek_word("and"))
      return first;
    auto n = std::make_unique<node>();
    n->kind = node_kind::all;
    n->children.push_back(std::move(first));
    while (peek_word("and")) {
      ++pos_;
      n->children.push_back(parse_unary(parent, depth));
    }
    return n;
  }

  std::unique_ptr<node> parse_unary(const attribute_path *parent, std::size_t depth) {
    if (depth >= max_filter_depth)
      bad_filter("filter nested deeper than " + std::to_string(max_filter_depth) + " levels");
    const token *k = peek();
    if (!k)
      bad_filter("filter ends where an expression was expected");
    if (k->t == token::type::open) {
      ++pos_;
      auto inner = parse_or(parent, depth + 1);
      expect(token::type::close, ")");
      return inner;
    }
    if (peek_word("not")) {
      ++pos_;
      expect(token::type::open, "(");
      auto n = std::make_unique<node>();
      n->kind = node_kind::negate;
      n->children.push_back(parse_or(parent, depth + 1));
      expect(token::type::close, ")");
      return n;
    }
    if (k->t != token::type::word)
      bad_filter("expected an attribute, not '" + k->text.substr(0, 100) + "'");
    const std::string name = k->text;
    ++pos_;
    const token *next = peek();
    if (next && next->t == token::type::lbracket) {
      if (parent)
        bad_filter("value filters cannot nest");
      ++pos_;
      auto n = std::make_unique<node>();
      n->kind = node_kind::value_path;
      n->path = resolve(name, nullptr);
      if (!n->path.sub_attribute.empty() || !n->path.def->multi_valued || n->path.def->type != attr_type::complex)
        bad_filter("'" + name + "[...]' needs a multi-valued complex attribute");
      n->children.push_back(parse_or(&n->path, depth + 1));
      expect(token::type::rbracket, "]");
      // emails[type eq "work"].value eq "x" (Entra's matching attribute): an
      // element must satisfy both the filter and the comparison.
      const token *after = peek();
      if (after && after->t == token::type::word && after->text.size() > 1 && after->text.front() == '.') {
        ++pos_;
        auto cmp = comparison(after->text.substr(1), &n->path);
        n->children.front() = conjunction(std::move(n->children.front()), std::move(cmp));
      }
      return n;
    }
    return comparison(name, parent);
  }

  static std::unique_ptr<node> conjunction(std::unique_ptr<node> a, std::unique_ptr<node> b) {
    auto n = std::make_unique<node>();
    n->kind = node_kind::all;
    n->children.push_back(std::move(a));
    n->children.push_back(std::move(b));
    return n;
  }

  attribute_path resolve(const std::string &name, const attribute_path *parent) const {
    if (parent) {
      const attribute_def *d = find_sub_attribute(*parent->def, name);
      if (!d)
        bad_filter("'" + parent->attribute + "' has no sub-attribute '" + name.substr(0, 100) + "'");
      attribute_path p;
      p.urn = parent->urn;
      p.in_core = parent->in_core;
      p.attribute = std::string(d->name);
      p.def = d;
      return p;
    }
    try {
      attribute_path p = parse_path(name, kind_);
      if (p.attribute.empty())
        bad_filter("'" + name.substr(0, 100) + "' is a schema, not an attribute");
      return p;
    } catch (const scim_error &e) {
      if (e.scim_type == "invalidFilter")
        throw;
      bad_filter(std::string("unknown attribute: ") + e.what());
    }
  }

  std::unique_ptr<node> comparison(const std::string &name, const attribute_path *parent) {
    auto n = std::make_unique<node>();
    n->path = resolve(name, parent);
    n->relative = parent != nullptr;
    n->leaf = n->path.sub_def ? n->path.sub_def : n->path.def;
    const token *o = peek();
    if (!o || o->t != token::type::word)
      bad_filter("expected an operator after '" + name.substr(0, 100) + "'");
    const auto oper = parse_op(o->text);
    if (!oper)
      bad_filter("unknown operator '" + o->text.substr(0, 100) + "'");
    ++pos_;
    n->oper = *oper;
    if (*oper == op::pr) {
      n->kind = node_kind::present;
      return n;
    }
    if (n->leaf->type == attr_type::complex) {
      const attribute_def *v = find_sub_attribute(*n->leaf, "value");
      if (!v)
        bad_filter("'" + name.substr(0, 100) + "' is complex: name a sub-attribute");
      n->leaf = v;
    }
    n->literal = literal();
    check_types(*n, name);
    return n;
  }

  json literal() {
    const token *k = peek();
    if (!k || k->t == token::type::open || k->t == token::type::close || k->t == token::type::lbracket ||
        k->t == token::type::rbracket)
      bad_filter("expected a value after the operator");
    ++pos_;
    if (k->t == token::type::string)
      return k->text;
    if (iequals(k->text, "true"))
      return true;
    if (iequals(k->text, "false"))
      return false;
    if (iequals(k->text, "null"))
      return nullptr;
    const char c = k->text.front();
    if ((c >= '0' && c <= '9') || c == '-') {
      try {
        json v = json::parse(k->text);
        if (v.is_number())
          return v;
      } catch (const json::exception &) {
      }
    }
    bad_filter("'" + k->text.substr(0, 100) + "' is not a value (strings go in double quotes)");
  }

  static void check_types(node &n, const std::string &name) {
    const attribute_def &leaf = *n.leaf;
    const bool equality = n.oper == op::eq || n.oper == op::ne;
    const bool substring = n.oper == op::co || n.oper == op::sw || n.oper == op::ew;
    const std::string who = "'" + name.substr(0, 100) + "'";
    if (n.literal.is_string())
      n.folded = lowered(n.literal.get<std::string>());
    if (n.literal.is_null()) {
      if (!equality)
        bad_filter("only eq and ne compare with null");
      return;
    }
    switch (leaf.type) {
    case attr_type::boolean:
      if (n.literal.is_string() && (iequals(n.literal.get<std::string>(), "true") ||
                                    iequals(n.literal.get<std::string>(), "false")))
        n.literal = iequals(n.literal.get<std::string>(), "true");
      if (!n.literal.is_boolean())
        bad_filter(who + " is boolean: compare it with true or false");
      if (!equality)
        bad_filter(who + " is boolean: only eq and ne apply");
      return;
    case attr_type::integer:
    case attr_type::decimal:
      if (!n.literal.is_number())
        bad_filter(who + " is a number: compare it with a number");
      if (substring)
        bad_filter(who + " is a number: co, sw and ew apply to strings");
      return;
    case attr_type::date_time:
      if (!n.literal.is_string())
        bad_filter(who + " is a dateTime: compare it with a quoted date");
      if (!substring) {
        n.literal_time = parse_date_time(n.literal.get<std::string>());
        if (!n.literal_time)
          bad_filter("'" + n.literal.get<std::string>().substr(0, 100) + "' is not an xsd:dateTime");
      }
      return;
    case attr_type::binary:
      if (!equality)
        bad_filter(who + " is binary: only eq and ne apply");
      [[fallthrough]];
    default:
      if (!n.literal.is_string())
        bad_filter(who + " is a string: compare it with a quoted string");
      return;
    }
  }
};

// The values a path names in `scope`: one per element of a multi-valued
// attribute, a complex value's "value" when no sub-attribute is named.
void collect(const json &scope, const node &n, std::vector<const json *> &out) {
  const json *c = n.relative ? (scope.is_object() ? &scope : nullptr) : container_of(scope, n.path);
  if (!c)
    return;
  auto it = c->find(n.path.attribute);
  if (it == c->end())
    return;
  const std::string *sub = n.path.sub_attribute.empty() ? nullptr : &n.path.sub_attribute;
  const bool implied_value = !sub && n.path.def->type == attr_type::complex && n.kind != node_kind::present;
  const auto take = [&](const json &v) {
    if (v.is_object() && (sub || implied_value)) {
      auto s = v.find(sub ? *sub : std::string("value"));
      if (s != v.end())
        out.push_back(&*s);
    } else {
      out.push_back(&v);
    }
  };
  if (it->is_array())
    for (const auto &e : *it)
      take(e);
  else
    take(*it);
}

bool present(const json &v) {
  if (v.is_null())
    return false;
  if (v.is_string()) // json::empty() is false for every string
    return !v.get_ref<const std::string &>().empty();
  if (v.is_array() || v.is_object())
    return !v.empty();
  return true;
}

int three_way(long long a, long long b) { return a < b ? -1 : (a > b ? 1 : 0); }

bool compare_one(const json &v, const node &n, op oper) {
  const json &lit = n.literal;
  const attribute_def &leaf = *n.leaf;
  int cmp = 0;
  switch (leaf.type) {
  case attr_type::boolean:
    return oper == op::eq && v.is_boolean() && v == lit;
  case attr_type::integer:
  case attr_type::decimal: {
    if (!v.is_number())
      return false;
    const double a = v.get<double>(), b = lit.get<double>();
    cmp = a < b ? -1 : (a > b ? 1 : 0);
    break;
  }
  case attr_type::date_time:
    if (!v.is_string())
      return false;
    if (n.literal_time) {
      const auto t = parse_date_time(v.get<std::string>());
      if (!t)
        return false;
      cmp = three_way(*t, *n.literal_time);
      break;
    }
    [[fallthrough]];
  default: {
    if (!v.is_string())
      return false;
    const std::string s = leaf.case_exact ? v.get<std::string>() : lowered(v.get<std::string>());
    const std::string &l = leaf.case_exact ? lit.get_ref<const std::string &>() : n.folded;
    switch (oper) {
    case op::co: return s.find(l) != std::string::npos;
    case op::sw: return s.starts_with(l);
    case op::ew: return s.ends_with(l);
    default: break;
    }
    const int c = s.compare(l);
    cmp = c < 0 ? -1 : (c > 0 ? 1 : 0);
    break;
  }
  }
  switch (oper) {
  case op::eq: return cmp == 0;
  case op::gt: return cmp > 0;
  case op::ge: return cmp >= 0;
  case op::lt: return cmp < 0;
  case op::le: return cmp <= 0;
  default: return false;
  }
}

bool eval(const node &n, const json &scope) {
  switch (n.kind) {
  case node_kind::all:
    return std::all_of(n.children.begin(), n.children.end(), [&](const auto &c) { return eval(*c, scope); });
  case node_kind::any:
    return std::any_of(n.children.begin(), n.children.end(), [&](const auto &c) { return eval(*c, scope); });
  case node_kind::negate:
    return !eval(*n.children.front(), scope);
  case node_kind::value_path: {
    const json *c = container_of(scope, n.path);
    if (!c)
      return false;
    auto it = c->find(n.path.attribute);
    if (it == c->end() || !it->is_array())
      return false;
    return std::any_of(it->begin(), it->end(), [&](const json &e) { return eval(*n.children.front(), e); });
  }
  case node_kind::present: {
    std::vector<const json *> values;
    collect(scope, n, values);
    return std::any_of(values.begin(), values.end(), [](const json *v) { return present(*v); });
  }
  case node_kind::compare: {
    std::vector<const json *> values;
    collect(scope, n, values);
    if (n.literal.is_null()) {
      const bool any = std::any_of(values.begin(), values.end(), [](const json *v) { return present(*v); });
      return n.oper == op::eq ? !any : any;
    }
    if (n.oper == op::ne) // no value equals the literal (an absent attribute matches)
      return std::none_of(values.begin(), values.end(), [&](const json *v) { return compare_one(*v, n, op::eq); });
    return std::any_of(values.begin(), values.end(), [&](const json *v) { return compare_one(*v, n, n.oper); });
  }
  }
  return false;
}

} // namespace

filter::filter(std::unique_ptr<node> root, bool relative) : root_(std::move(root)), relative_(relative) {}
filter::~filter() = default;

std::shared_ptr<const filter> filter::parse(std::string_view text, resource_kind kind) {
  if (text.size() > max_filter_length)
    bad_filter("filter longer than " + std::to_string(max_filter_length) + " characters");
  parser p(tokenize(text), kind);
  return std::make_shared<const filter>(p.parse_all(nullptr), false);
}

std::shared_ptr<const filter> filter::parse_value_filter(std::string_view text, resource_kind kind,
                                                         const attribute_path &parent) {
  if (text.size() > max_filter_length)
    bad_filter("value filter longer than " + std::to_string(max_filter_length) + " characters");
  if (!parent.def || parent.def->type != attr_type::complex)
    bad_filter("a value filter needs a complex attribute");
  parser p(tokenize(text), kind);
  return std::make_shared<const filter>(p.parse_all(&parent), true);
}

bool filter::matches(const nlohmann::json &resource) const { return eval(*root_, resource); }
bool filter::matches_element(const nlohmann::json &element) const { return eval(*root_, element); }

std::optional<std::pair<std::string, std::string>> filter::simple_equality() const {
  const node &n = *root_;
  if (relative_ || n.kind != node_kind::compare || n.oper != op::eq || !n.literal.is_string() ||
      !n.path.sub_attribute.empty() || n.path.def->multi_valued || n.path.def->type == attr_type::complex)
    return std::nullopt;
  std::string name = n.path.in_core ? n.path.attribute : n.path.urn + ":" + n.path.attribute;
  return std::make_pair(std::move(name), n.literal.get<std::string>());
}

std::optional<std::pair<std::string, nlohmann::json>> filter::simple_element_equality() const {
  const node &n = *root_;
  if (!relative_ || n.kind != node_kind::compare || n.oper != op::eq || n.literal.is_null())
    return std::nullopt;
  return std::make_pair(n.path.attribute, n.literal);
}

} // namespace reclaim::scim
