// Optional redaction of e-mail addresses and phone numbers before a post is stored or
// delivered. In an anonymous peer-support space, contact details invite people off the
// platform, away from the moderators who keep them safe, and a number shared in a bad moment
// cannot be taken back. Hand-written scanners, not std::regex: linear time on any input
// (no catastrophic backtracking on hostile text), and cuts are only ever made next to ASCII
// characters, so a multi-byte UTF-8 character is never split.
//
// E-mail: local@domain.tld. The local part is letters, digits, any non-ASCII character and
// . _ % + -; the domain needs at least two non-empty labels and a top-level label of two or
// more letters (or an internationalised one: non-ASCII or "xn--"). A trailing '.' or '-' is
// left as sentence punctuation.
//
// Phone: 7 to 15 digits (the E.164 maximum) in groups joined by short separators (spaces,
// no-break spaces, one of . - /, parentheses), optionally opened by '+' or '('. Not
// redacted: fewer than 7 digits ("988", "116 123", "24/7", "2019"), more than 15 in one
// go, numbers glued to a letter, digit or '_' (identifiers, hashes), numbers right after a
// currency sign ("$1,200", "€1.500.000"), dates written 2024-05-01 or 01/05/2024, and the
// parts of a time ("10:30" is never joined to the digits around it).
//
// Known limits: spelled-out or spaced-out addresses ("john at gmail dot com", "five five
// five...") pass through; a number glued to letters ("call0612345678") passes; other long
// digit runs (a space-grouped "1 200 000", "10.30-11.30", IPv4 addresses, ISBNs, order
// numbers in links) are redacted as phones, which costs some context but leaks nothing.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace haven::moderation {

inline constexpr std::string_view kEmailRemoved = "[email removed]";
inline constexpr std::string_view kPhoneRemoved = "[phone removed]";

struct RedactionResult {
    std::string text;
    unsigned emails = 0;  // addresses replaced by kEmailRemoved
    unsigned phones = 0;  // numbers replaced by kPhoneRemoved
};

// `phones_to_keep` are never redacted, compared by their digits alone ("0800 111 0 111"
// also keeps "08001110111"): meant for the crisis lines in config/crisis, which moderators
// must always be able to share.
RedactionResult redact_contact_details(std::string_view text,
                                       std::span<const std::string> phones_to_keep = {});

}  // namespace haven::moderation
