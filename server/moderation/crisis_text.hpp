// A post's text as crisis matching reads it: lower-case words of a-z, with where each word
// sits (its sentence and clause, and its bytes in the original text). The normalisation is
// described step by step in crisis_detector.hpp; it is shared by posts, phrases and rules so
// that all three are read the same way.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace haven::moderation {

struct MatchWord {
    std::string letters;  // a-z, each run of one letter collapsed to one
    // Sentences end at . ! ? … and line breaks (¡ and ¿ start one); clauses also end at , ; :
    // and dashes. Negation reaches only within its clause, and context within its sentence.
    std::uint32_t sentence = 0;
    std::uint32_t clause = 0;
    // Where the word was in the original text, so a match can quote the words it found.
    std::uint32_t begin = 0;
    std::uint32_t end = 0;
};

// The words of `text`, in order. Never throws on malformed UTF-8 (bad bytes separate words).
std::vector<MatchWord> split_for_matching(std::string_view text);

// The same words as one string separated by single spaces. Exposed for tests and for
// reviewing phrase lists.
std::string normalize_for_matching(std::string_view text);

}  // namespace haven::moderation
