// Parsing and matching crisis rule patterns (the syntax is in crisis_pattern.hpp).
#include "moderation/crisis_pattern.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>
#include <string>

namespace haven::moderation {
namespace {

constexpr std::size_t kMaxGap = 8;
// Keeps matching cheap and patterns readable: longer ideas are two rules.
constexpr std::size_t kMaxElements = 24;

bool is_space(char c) {
    return c == ' ' || c == '\t';
}

[[noreturn]] void invalid(const std::string& what) {
    throw std::invalid_argument(what);
}

}  // namespace

WordSequence parse_word_sequence(std::string_view text) {
    WordSequence sequence;
    std::size_t pos = 0;
    while (pos < text.size()) {
        while (pos < text.size() && is_space(text[pos])) ++pos;
        std::size_t end = pos;
        while (end < text.size() && !is_space(text[end])) ++end;
        if (end == pos) break;
        std::string_view raw = text.substr(pos, end - pos);
        pos = end;
        const bool prefix = raw.ends_with('*');
        if (prefix) raw.remove_suffix(1);
        const std::vector<MatchWord> words = split_for_matching(raw);
        if (words.empty()) invalid("\"" + std::string(raw) + "\" has no letters");
        for (const MatchWord& word : words) sequence.push_back({word.letters, false});
        // "don't*" reads "don t*": the star belongs to the last word.
        sequence.back().prefix = prefix;
    }
    if (sequence.empty()) invalid("an alternative has no words");
    return sequence;
}

std::optional<std::size_t> match_sequence(const WordSequence& sequence,
                                          std::span<const MatchWord> words, std::size_t start,
                                          std::size_t limit) {
    if (start + sequence.size() > limit) return std::nullopt;
    for (std::size_t i = 0; i < sequence.size(); ++i) {
        if (!sequence[i].accepts(words[start + i].letters)) return std::nullopt;
    }
    return sequence.size();
}

CrisisPattern::CrisisPattern(std::string_view source, const WordClasses& classes) {
    std::size_t pos = 0;
    bool has_words = false;
    while (pos < source.size()) {
        if (is_space(source[pos])) {
            ++pos;
            continue;
        }
        Element element;
        const char lead = source[pos];
        if (lead == '(') {
            const std::size_t close = source.find(')', pos);
            if (close == std::string_view::npos) invalid("'(' without ')'");
            const std::string_view inside = source.substr(pos + 1, close - pos - 1);
            if (inside.find('(') != std::string_view::npos) invalid("'(' inside '(...)'");
            std::size_t from = 0;
            while (true) {
                const std::size_t bar = inside.find('|', from);
                std::string_view choice = inside.substr(from, bar - from);
                while (!choice.empty() && is_space(choice.front())) choice.remove_prefix(1);
                while (!choice.empty() && is_space(choice.back())) choice.remove_suffix(1);
                if (!choice.empty() && choice.front() == '@') {
                    // A class among the choices: every one of its words is a choice too.
                    const auto found = classes.find(choice.substr(1));
                    if (found == classes.end()) {
                        invalid(std::string(choice) + " is not in the [words] table");
                    }
                    element.choices.insert(element.choices.end(), found->second.begin(),
                                           found->second.end());
                } else {
                    element.choices.push_back(parse_word_sequence(choice));
                }
                if (bar == std::string_view::npos) break;
                from = bar + 1;
            }
            pos = close + 1;
        } else if (lead == '@') {
            std::size_t end = pos + 1;
            while (end < source.size() &&
                   (std::islower(static_cast<unsigned char>(source[end])) ||
                    std::isdigit(static_cast<unsigned char>(source[end])) || source[end] == '_')) {
                ++end;
            }
            const std::string_view name = source.substr(pos + 1, end - pos - 1);
            const auto found = classes.find(name);
            if (found == classes.end()) {
                invalid("@" + std::string(name) + " is not in the [words] table");
            }
            element.choices = found->second;
            pos = end;
        } else if (lead == '~') {
            std::size_t end = pos + 1;
            while (end < source.size() && std::isdigit(static_cast<unsigned char>(source[end]))) {
                ++end;
            }
            const std::string digits(source.substr(pos + 1, end - pos - 1));
            const std::size_t gap = digits.empty() || digits.size() > 1 ? 0 : std::stoul(digits);
            if (gap < 1 || gap > kMaxGap) {
                invalid("~N needs N from 1 to " + std::to_string(kMaxGap));
            }
            if (elements_.empty()) invalid("a pattern cannot start with ~N");
            element.gap = gap;
            pos = end;
        } else if (lead == ')' || lead == '|' || lead == '?') {
            invalid(std::string("unexpected '") + lead + "'");
        } else {
            std::size_t end = pos;
            while (end < source.size() && !is_space(source[end]) && source[end] != '?' &&
                   source[end] != '(' && source[end] != ')' && source[end] != '|') {
                ++end;
            }
            element.choices.push_back(parse_word_sequence(source.substr(pos, end - pos)));
            pos = end;
        }
        if (pos < source.size() && source[pos] == '?') {
            if (element.gap != 0) invalid("~N is optional already");
            element.optional = true;
            ++pos;
        }
        if (elements_.empty() && element.optional) {
            invalid("a pattern must start with a required word");
        }
        has_words = has_words || element.gap == 0;
        elements_.push_back(std::move(element));
        if (elements_.size() > kMaxElements) {
            invalid("more than " + std::to_string(kMaxElements) + " elements");
        }
    }
    if (!has_words) invalid("a pattern needs at least one word");
    if (elements_.back().gap != 0) invalid("a pattern cannot end with ~N");
    for (const WordSequence& choice : elements_.front().choices) {
        first_words_.push_back(choice.front());
    }
    for (const Element& element : elements_) {
        for (const WordSequence& choice : element.choices) {
            vocabulary_.insert(vocabulary_.end(), choice.begin(), choice.end());
        }
    }
    const Element* anchor = nullptr;
    for (std::size_t i = 1; i < elements_.size(); ++i) {
        const Element& element = elements_[i];
        if (element.optional || element.gap != 0) continue;
        const bool exact =
            std::none_of(element.choices.begin(), element.choices.end(),
                         [](const WordSequence& choice) { return choice.front().prefix; });
        if (exact && (anchor == nullptr || element.choices.size() < anchor->choices.size())) {
            anchor = &element;
        }
    }
    if (anchor != nullptr) {
        for (const WordSequence& choice : anchor->choices) {
            anchor_words_.push_back(choice.front().letters);
        }
    }
}

bool CrisisPattern::mentions(std::string_view word) const {
    return std::any_of(vocabulary_.begin(), vocabulary_.end(),
                       [&](const WordTest& test) { return test.accepts(word); });
}

std::optional<std::size_t> CrisisPattern::match_at(std::span<const MatchWord> words,
                                                   std::size_t start, std::size_t limit) const {
    std::size_t end = 0;
    if (match_from(0, words, start, limit, end)) return end;
    return std::nullopt;
}

// Depth-first, first match wins. The depth is bounded by kMaxElements and each gap by kMaxGap,
// so the work per start is bounded whatever the post says.
bool CrisisPattern::match_from(std::size_t index, std::span<const MatchWord> words, std::size_t pos,
                               std::size_t limit, std::size_t& end) const {
    if (index == elements_.size()) {
        end = pos;
        return true;
    }
    const Element& element = elements_[index];
    if (element.gap != 0) {
        for (std::size_t skip = 0; skip <= element.gap && pos + skip <= limit; ++skip) {
            if (match_from(index + 1, words, pos + skip, limit, end)) return true;
        }
        return false;
    }
    for (const WordSequence& choice : element.choices) {
        if (const auto length = match_sequence(choice, words, pos, limit)) {
            if (match_from(index + 1, words, pos + *length, limit, end)) return true;
        }
    }
    return element.optional && match_from(index + 1, words, pos, limit, end);
}

}  // namespace haven::moderation
