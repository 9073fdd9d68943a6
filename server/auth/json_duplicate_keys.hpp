// Finds JSON objects that name a member twice. Boost.JSON keeps the last of duplicate names
// (RFC 8259 leaves the meaning open), so {"role":"participant","role":"operator"} would be
// read one way here and possibly another way by a different parser that checked the same
// token: a token must mean one thing to everyone, so such a token is refused outright.
#pragma once

#include <string_view>

namespace haven::auth {

// True when `json` is well-formed and some object in it, at any depth, has two members with
// the same name (compared after unescaping, so "a" and "\u0061" are the same name). Malformed
// text answers false: refusing it is the ordinary parser's job.
bool has_duplicate_keys(std::string_view json);

}  // namespace haven::auth
