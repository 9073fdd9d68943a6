// Crisis rules: short word patterns that generalise beyond fixed phrases ("I'm going to take
// all my pills tonight", "I've saved up my meds"), matched against the words of one sentence
// as crisis_text.hpp reads them. Patterns are data in config/crisis/<locale>.toml, so the
// people who review the lists can read and extend them.
//
// A pattern is a sequence of elements separated by spaces:
//   word        that word ("pills"; written as people write it, normalised like the post)
//   word*       any word starting with it ("overdos*" matches overdose, overdosed, overdosing)
//   (a|b c|d*)  one of the alternatives; each alternative is one or more words
//   @name       one of the alternatives listed under `name` in the file's [words] table
//   ~N          up to N words of anything (N from 1 to 8), e.g. "take ~3 pills"
//   element?    the element may be absent ("i (really)? want to die")
// A pattern must start with a required word, alternatives or @name (so it can be indexed by
// its first words) and needs at least one word.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "moderation/crisis_text.hpp"

namespace haven::moderation {

// One word of a pattern: the word itself, or any word it begins.
struct WordTest {
    std::string letters;
    bool prefix = false;

    bool accepts(std::string_view word) const {
        return prefix ? word.starts_with(letters) : word == letters;
    }
};

// Words in a row ("i m", "going to").
using WordSequence = std::vector<WordTest>;

// Parses one alternative ("don't", "going to", "overdos*") into words. Throws
// std::invalid_argument when it holds no letters.
WordSequence parse_word_sequence(std::string_view text);

// Whether `sequence` matches `words` from `start` without passing `limit`; its length if so.
std::optional<std::size_t> match_sequence(const WordSequence& sequence,
                                          std::span<const MatchWord> words, std::size_t start,
                                          std::size_t limit);

// The [words] table of one file: named lists of alternatives.
using WordClasses = std::map<std::string, std::vector<WordSequence>, std::less<>>;

class CrisisPattern {
public:
    // Throws std::invalid_argument with the reason when `source` is not a valid pattern.
    CrisisPattern(std::string_view source, const WordClasses& classes);

    // The end of a match that starts at words[start] and stays before `limit`.
    std::optional<std::size_t> match_at(std::span<const MatchWord> words, std::size_t start,
                                        std::size_t limit) const;

    // What the first word of any match must be (for indexing).
    const std::vector<WordTest>& first_words() const { return first_words_; }
    // Words of which at least one must be in the sentence for a match, from the most
    // selective required element after the first (none when every such element accepts
    // word prefixes or there is none): a cheap test that rules most rules out at once.
    const std::vector<std::string>& anchor_words() const { return anchor_words_; }

    // Whether the pattern itself names a word that accepts `word`. A negation the pattern
    // does not name, inside what a gap skipped ("i don't want to die" against
    // "@i ~1 want to die"), undoes the match.
    bool mentions(std::string_view word) const;

private:
    struct Element {
        std::vector<WordSequence> choices;  // empty for a gap
        std::size_t gap = 0;                // a gap of up to this many words
        bool optional = false;
    };

    bool match_from(std::size_t element, std::span<const MatchWord> words, std::size_t pos,
                    std::size_t limit, std::size_t& end) const;

    std::vector<Element> elements_;
    std::vector<WordTest> first_words_;
    std::vector<std::string> anchor_words_;
    std::vector<WordTest> vocabulary_;
};

}  // namespace haven::moderation
