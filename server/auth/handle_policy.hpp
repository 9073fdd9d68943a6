// Handles people can trust. A participant in distress must be able to tell a moderator from
// someone pretending to be one, so handles are compared by how they look, not by their bytes:
// "Sam", "Ｓａｍ" (full-width), "S\u200bam" (a zero-width space) and "Sarn" are one name here.
//
// The comparison key is Unicode's confusable skeleton (UTS #39, through ICU's spoof checker)
// of the handle with invisible characters removed and compatibility forms and case folded,
// keeping letters and digits only. Three rules use it: a handle may not contain a reserved
// word ("Moderator", "Crisis Line", ...), a participant may not take a staff member's name,
// and (in the rooms) no two people in a room share a key.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace haven::auth {

// The handle without invisible and bidirectional control characters (zero-width spaces and
// joiners, direction overrides, soft hyphens, variation selectors...). Nothing when it holds
// a character no handle should: a control, a private-use, unassigned or malformed one.
std::optional<std::string> strip_invisible(std::string_view handle);

// The key two handles share when they look alike (see the top of the file). Empty for a
// handle with no letter or digit. `handle` is UTF-8.
std::string handle_key(std::string_view handle);

// The key with each word's trailing digits removed first, so "Sam 2" and "Sam2" meet "Sam":
// what a staff member's name is compared by.
std::string loose_handle_key(std::string_view handle);

class HandlePolicy {
public:
    explicit HandlePolicy(const std::vector<std::string>& reserved_words);

    // True when the handle is, or contains as whole words, a reserved word ("Moderator",
    // "Moderator Sam", "the-crisis-line", "CrisisLine", "Ｍｏｄｅｒａｔｏｒ 2"), or contains a long
    // reserved word anywhere ("TheModerator").
    bool reserved(std::string_view handle) const;

private:
    struct Word {
        std::vector<std::string> parts;  // the word's keys, e.g. "crisis", "line"
        std::string joined;              // their concatenation
    };
    std::vector<Word> reserved_;
};

}  // namespace haven::auth
