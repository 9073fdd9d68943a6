// Crisis-language detection. The matching rules and their limits are described in the
// header; the text is read by crisis_text.cpp, rules by crisis_pattern.cpp and the lists by
// crisis_lists.cpp. This file finds the candidates and weighs them.
#include "moderation/crisis_detector.hpp"

#include <algorithm>
#include <array>
#include <map>
#include <stdexcept>
#include <utility>

namespace haven::moderation {
namespace {

constexpr std::uint8_t kStartsWord = 1;
constexpr std::uint8_t kEndsWord = 2;

// Normalised words with the spaces taken out, and for each letter whether a word starts or
// ends there and which word it belongs to. Searching the joined letters is what makes
// "s u i c i d e" one word; the edges are what keep "skill myself" from matching "kill myself".
struct JoinedWords {
    std::string letters;
    std::vector<std::uint8_t> edges;
    std::vector<std::uint32_t> word;  // the word starting at (or containing) each letter
};

JoinedWords join_words(const std::vector<MatchWord>& words) {
    JoinedWords joined;
    for (std::size_t index = 0; index < words.size(); ++index) {
        const std::string& letters = words[index].letters;
        for (std::size_t i = 0; i < letters.size(); ++i) {
            const char c = letters[i];
            const bool at_word_start = i == 0;
            if (!joined.letters.empty() && joined.letters.back() == c) {
                // One word ends with the letter the next starts with ("to overdose"). Collapse
                // them as within a word, so "k i l l" reads as "kil" too, but keep both roles
                // so a phrase may start or end on this letter.
                if (at_word_start) {
                    joined.edges.back() |= kStartsWord;
                    joined.word.back() = static_cast<std::uint32_t>(index);
                }
            } else {
                joined.letters += c;
                joined.edges.push_back(at_word_start ? kStartsWord : 0);
                joined.word.push_back(static_cast<std::uint32_t>(index));
            }
        }
        if (!joined.edges.empty()) joined.edges.back() |= kEndsWord;
    }
    return joined;
}

std::string joined_letters(std::string_view text) {
    return join_words(split_for_matching(text)).letters;
}

// Endings accepted after a phrase's last word ("overdosed", "suicides").
constexpr std::array<std::string_view, 5> kPhraseEndings = {"s", "es", "d", "ed", "ing"};

// Where a phrase ending just before `end` ends as a word (with an accepted ending), if it does.
std::optional<std::size_t> word_end(const JoinedWords& text, std::size_t end) {
    if (text.edges[end - 1] & kEndsWord) return end;
    const std::string_view letters = text.letters;
    for (const std::string_view ending : kPhraseEndings) {
        const std::size_t last = end + ending.size() - 1;
        if (last < letters.size() && letters.substr(end, ending.size()) == ending &&
            (text.edges[last] & kEndsWord) != 0) {
            return last + 1;
        }
    }
    return std::nullopt;
}

std::string ascii_lower(std::string_view text) {
    std::string lower(text);
    for (char& c : lower) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return lower;
}

std::vector<WordSequence> parse_alternatives(const std::vector<std::string>& sources) {
    std::vector<WordSequence> sequences;
    for (const std::string& source : sources) sequences.push_back(parse_word_sequence(source));
    return sequences;
}

bool any_sequence_at(const std::vector<WordSequence>& sequences,
                     const std::vector<MatchWord>& words, std::size_t start, std::size_t limit) {
    return std::any_of(sequences.begin(), sequences.end(), [&](const WordSequence& sequence) {
        return match_sequence(sequence, words, start, limit).has_value();
    });
}

}  // namespace

CrisisPanel default_crisis_panel() {
    return {"You don't have to go through this alone",
            "It sounds like you might be going through something really hard. You deserve "
            "support right now, and you don't have to face this alone. These services are free "
            "and confidential:",
            "Only you can see this. If you are in immediate danger, please call your local "
            "emergency number now.",
            "These services may not be in your country or your language. If you are in danger, "
            "call your local emergency number now (112 in Europe, 911 in North America), or "
            "find a line near you at findahelpline.com.",
            "A moderator has been let know and may reach out to you privately.",
            "No moderator is available right now. The services above can help you now."};
}

std::string_view severity_name(CrisisSeverity severity) {
    return severity == CrisisSeverity::urgent ? "urgent" : "concern";
}

CrisisDetector::CrisisDetector(std::vector<LocaleList> lists) : lists_(std::move(lists)) {
    for (std::size_t list = 0; list < lists_.size(); ++list) {
        add_phrases(list);
        add_rules(list);
        const LocaleList& locale_list = lists_[list];
        Lowering& lowering = lowering_.emplace_back();
        lowering.negations = parse_alternatives(locale_list.negations);
        lowering.negation_breakers = parse_alternatives(locale_list.negation_breakers);
        lowering.negation_window = locale_list.negation_window;
        for (const ContextRuleSource& context : locale_list.contexts) {
            lowering.contexts.emplace_back(context.pattern, locale_list.words);
        }
        for (const std::string& word : locale_list.common_words) {
            for (const MatchWord& normalised : split_for_matching(word)) {
                std::vector<std::size_t>& speakers = common_words_[normalised.letters];
                if (speakers.empty() || speakers.back() != list) speakers.push_back(list);
            }
        }
    }
}

std::optional<std::size_t> CrisisDetector::guess_language(
    const std::vector<MatchWord>& words) const {
    if (common_words_.empty()) return std::nullopt;
    std::vector<std::size_t> counts(lists_.size(), 0);
    for (const MatchWord& word : words) {
        const auto found = common_words_.find(word.letters);
        if (found == common_words_.end()) continue;
        for (const std::size_t list : found->second) ++counts[list];
    }
    const auto best = std::max_element(counts.begin(), counts.end());
    if (*best == 0 || std::count(counts.begin(), counts.end(), *best) > 1) return std::nullopt;
    return static_cast<std::size_t>(best - counts.begin());
}

// Letters outside Latin, counted by the lead bytes of their UTF-8 sequences: U+0380 to
// U+07FF (Greek, Cyrillic, Armenian, Hebrew, Arabic and more), U+0800 to U+1FFF apart from
// Latin Extended Additional (E1 B8 to E1 BB), and U+3000 to U+DFFF (CJK, kana, Hangul).
// Punctuation, symbols and emoji (E2, EF, F0 and above) are not letters of any language.
std::size_t letters_outside_latin(std::string_view text) {
    std::size_t count = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto lead = static_cast<unsigned char>(text[i]);
        const auto next = i + 1 < text.size() ? static_cast<unsigned char>(text[i + 1]) : 0;
        const bool latin_additional = lead == 0xE1 && next >= 0xB8 && next <= 0xBB;
        if ((lead >= 0xCE && lead <= 0xDF) ||
            ((lead == 0xE0 || lead == 0xE1) && !latin_additional) ||
            (lead >= 0xE3 && lead <= 0xED)) {
            ++count;
        }
    }
    return count;
}

bool CrisisDetector::looks_unlisted(std::string_view text,
                                    const std::vector<MatchWord>& words) const {
    if (common_words_.empty()) return false;  // the lists do not say what their languages are
    std::size_t latin = 0;
    for (const MatchWord& word : words) latin += word.letters.size();
    if (letters_outside_latin(text) > latin) return true;
    if (words.size() < kUnlistedLanguageMinWords) return false;  // too few to tell
    return std::none_of(words.begin(), words.end(), [&](const MatchWord& word) {
        return common_words_.contains(word.letters);
    });
}

void CrisisDetector::add_phrases(std::size_t list_index) {
    const LocaleList& list = lists_[list_index];
    std::unordered_map<std::string, std::size_t> numbers;
    for (std::size_t phrase = 0; phrase < list.phrases.size(); ++phrase) {
        const std::string& concept_name = phrase < list.concepts.size()
                                              ? list.concepts[phrase]
                                              : std::string(kDefaultCrisisConcept);
        // Rules count from 1 within each concept, skipped phrases included, so that a rule
        // name always points at the same line of the file.
        const std::size_t number = ++numbers[concept_name];
        std::string letters = joined_letters(list.phrases[phrase]);
        // An empty phrase would match at every word; a repeat would only cost time.
        const bool repeated =
            std::any_of(search_phrases_.begin(), search_phrases_.end(),
                        [&](const SearchPhrase& known) { return known.letters == letters; });
        if (letters.empty() || repeated) continue;
        const auto severity = list.severities.find(concept_name);
        entries_.push_back(
            {list_index, concept_name, list.phrases[phrase],
             list.locale + "/" + concept_name + "/" + std::to_string(number),
             severity == list.severities.end() ? CrisisSeverity::urgent : severity->second});
        search_phrases_.push_back({std::move(letters), entries_.size() - 1});
    }
}

void CrisisDetector::add_rules(std::size_t list_index) {
    const LocaleList& list = lists_[list_index];
    std::unordered_map<std::string, std::size_t> numbers;
    for (const CrisisRuleSource& source : list.rules) {
        const std::size_t number = ++numbers[source.concept_name];
        add_rule(list_index, source,
                 list.locale + "/" + source.concept_name + "/r" + std::to_string(number), false);
    }
    std::unordered_map<std::string, std::size_t> signal_numbers;
    for (const CrisisRuleSource& source : list.signals) {
        const std::size_t number = ++signal_numbers[source.concept_name];
        add_rule(list_index, source,
                 list.locale + "/" + source.concept_name + "/s" + std::to_string(number), true);
    }
}

void CrisisDetector::add_rule(std::size_t list_index, const CrisisRuleSource& source,
                              std::string rule_name, bool signal) {
    const LocaleList& list = lists_[list_index];
    const auto severity = list.severities.find(source.concept_name);
    entries_.push_back(
        {list_index, source.concept_name, source.pattern, std::move(rule_name),
         severity == list.severities.end() ? CrisisSeverity::urgent : severity->second, signal});
    rules_.push_back({CrisisPattern(source.pattern, list.words), entries_.size() - 1, {}});
    const std::size_t rule = rules_.size() - 1;
    for (const std::string& anchor : rules_.back().pattern.anchor_words()) {
        const auto id = static_cast<std::uint32_t>(anchor_ids_.size());
        rules_.back().anchors.push_back(anchor_ids_.try_emplace(anchor, id).first->second);
    }
    for (const WordTest& first : rules_.back().pattern.first_words()) {
        if (first.prefix) {
            rules_by_first_prefix_.emplace_back(first, rule);
        } else {
            std::vector<std::size_t>& bucket = rules_by_first_word_[first.letters];
            if (bucket.empty() || bucket.back() != rule) bucket.push_back(rule);
        }
    }
}

void CrisisDetector::collect_phrase_matches(const std::vector<MatchWord>& words,
                                            std::vector<Candidate>& out) const {
    if (search_phrases_.empty() || words.empty()) return;
    const JoinedWords text = join_words(words);
    const std::string_view letters = text.letters;
    for (const SearchPhrase& phrase : search_phrases_) {
        // Every occurrence: the first may be negated and a later one not.
        for (std::size_t pos = letters.find(phrase.letters); pos != std::string_view::npos;
             pos = letters.find(phrase.letters, pos + 1)) {
            if (!(text.edges[pos] & kStartsWord)) continue;
            const auto end = word_end(text, pos + phrase.letters.size());
            if (!end) continue;
            out.push_back({phrase.entry, text.word[pos], std::size_t{text.word[*end - 1]} + 1});
        }
    }
}

void CrisisDetector::collect_rule_matches(const std::vector<MatchWord>& words,
                                          std::vector<Candidate>& out) const {
    if (rules_.empty()) return;
    // Most rules need a word the post does not have: which anchor words it has, at one lookup
    // per word, decides it for each rule before any matching.
    std::vector<bool> present(anchor_ids_.size(), false);
    for (const MatchWord& word : words) {
        if (const auto id = anchor_ids_.find(word.letters); id != anchor_ids_.end()) {
            present[id->second] = true;
        }
    }
    const auto may_match = [&](std::size_t rule) {
        const std::vector<std::uint32_t>& anchors = rules_[rule].anchors;
        return anchors.empty() || std::any_of(anchors.begin(), anchors.end(),
                                              [&](std::uint32_t id) { return present[id]; });
    };
    std::size_t sentence_end = 0;
    for (std::size_t start = 0; start < words.size(); ++start) {
        if (start >= sentence_end) {
            sentence_end = start;
            while (sentence_end < words.size() &&
                   words[sentence_end].sentence == words[start].sentence) {
                ++sentence_end;
            }
        }
        const auto try_rule = [&](std::size_t rule) {
            if (!may_match(rule)) return;
            if (const auto end = rules_[rule].pattern.match_at(words, start, sentence_end)) {
                out.push_back({rules_[rule].entry, start, *end, rule});
            }
        };
        if (const auto bucket = rules_by_first_word_.find(words[start].letters);
            bucket != rules_by_first_word_.end()) {
            for (const std::size_t rule : bucket->second) try_rule(rule);
        }
        for (const auto& [first, rule] : rules_by_first_prefix_) {
            if (first.accepts(words[start].letters)) try_rule(rule);
        }
    }
}

bool CrisisDetector::negated(const Lowering& lowering, const std::vector<MatchWord>& words,
                             const Candidate& candidate) const {
    const std::size_t first_word = candidate.first_word;
    if (candidate.rule != kNoRule) {
        const CrisisPattern& pattern = rules_[candidate.rule].pattern;
        for (std::size_t inside = first_word + 1; inside < candidate.end_word; ++inside) {
            if (!pattern.mentions(words[inside].letters) &&
                any_sequence_at(lowering.negations, words, inside, candidate.end_word)) {
                return true;
            }
        }
    }
    const std::uint32_t clause = words[first_word].clause;
    const std::size_t window = lowering.negation_window;
    const std::size_t reach = first_word >= window ? first_word - window : 0;
    for (std::size_t start = first_word; start-- > reach;) {
        if (words[start].clause != clause) break;
        // A breaker between the negation and the match ("can't stop cutting") undoes it.
        if (any_sequence_at(lowering.negation_breakers, words, start, first_word)) return false;
        if (any_sequence_at(lowering.negations, words, start, first_word)) return true;
    }
    return false;
}

bool CrisisDetector::in_lowering_context(const Lowering& lowering,
                                         const std::vector<MatchWord>& words,
                                         std::size_t first_word) const {
    const std::uint32_t sentence = words[first_word].sentence;
    std::size_t begin = first_word;
    while (begin > 0 && words[begin - 1].sentence == sentence) --begin;
    std::size_t end = first_word;
    while (end < words.size() && words[end].sentence == sentence) ++end;
    for (std::size_t start = begin; start < end; ++start) {
        for (const CrisisPattern& context : lowering.contexts) {
            if (context.match_at(words, start, end)) return true;
        }
    }
    return false;
}

bool CrisisDetector::lowered(const Candidate& candidate, const std::vector<MatchWord>& words,
                             std::optional<std::size_t> language) const {
    const Entry& entry = entries_[candidate.entry];
    const auto lowers = [&](const Lowering& lowering) {
        return negated(lowering, words, candidate) ||
               in_lowering_context(lowering, words, candidate.first_word);
    };
    return lowers(lowering_[entry.list_index]) ||
           (language && *language != entry.list_index && lowers(lowering_[*language]));
}

void CrisisDetector::pair_signals(std::vector<Candidate>& candidates,
                                  const std::vector<MatchWord>& words,
                                  std::optional<std::size_t> language) const {
    // By list and concept: the first match of each different signal, in post order.
    std::map<std::pair<std::size_t, std::string_view>, std::vector<Candidate>> signals;
    std::vector<Candidate> kept;
    kept.reserve(candidates.size());
    for (const Candidate& candidate : candidates) {
        const Entry& entry = entries_[candidate.entry];
        if (!entry.signal) {
            kept.push_back(candidate);
            continue;
        }
        if (lowered(candidate, words, language)) continue;
        std::vector<Candidate>& seen = signals[{entry.list_index, entry.concept_name}];
        const auto same = std::find_if(seen.begin(), seen.end(), [&](const Candidate& other) {
            return other.entry == candidate.entry;
        });
        if (same == seen.end()) {
            seen.push_back(candidate);
        } else if (candidate.first_word < same->first_word) {
            *same = candidate;
        }
    }
    for (auto& [group, seen] : signals) {
        if (seen.size() < 2) continue;
        std::sort(seen.begin(), seen.end(), [](const Candidate& a, const Candidate& b) {
            return a.first_word != b.first_word ? a.first_word < b.first_word : a.entry < b.entry;
        });
        Candidate pair = seen[0];
        pair.end_word = std::max(seen[0].end_word, seen[1].end_word);
        pair.paired_entry = seen[1].entry;
        kept.push_back(pair);
    }
    candidates = std::move(kept);
}

std::optional<CrisisMatch> CrisisDetector::scan(std::string_view text) const {
    const std::vector<MatchWord> words = split_for_matching(text);
    std::vector<Candidate> candidates;
    collect_phrase_matches(words, candidates);
    collect_rule_matches(words, candidates);
    if (candidates.empty()) return std::nullopt;
    const std::optional<std::size_t> language = guess_language(words);
    pair_signals(candidates, words, language);
    // Most severe first, then the order the lists give.
    std::sort(candidates.begin(), candidates.end(), [&](const Candidate& a, const Candidate& b) {
        const CrisisSeverity left = entries_[a.entry].severity;
        const CrisisSeverity right = entries_[b.entry].severity;
        if (left != right) return left > right;
        return a.entry != b.entry ? a.entry < b.entry : a.first_word < b.first_word;
    });
    for (const Candidate& candidate : candidates) {
        const bool paired = candidate.paired_entry != kNoRule;
        if (!paired && lowered(candidate, words, language)) continue;
        const Entry& entry = entries_[candidate.entry];
        std::string source = entry.source;
        std::string rule = entry.rule;
        if (paired) {
            const Entry& other = entries_[candidate.paired_entry];
            source += " + " + other.source;
            rule += "+" + other.rule.substr(other.rule.rfind('/') + 1);
        }
        const std::size_t from = words[candidate.first_word].begin;
        const std::size_t to = words[candidate.end_word - 1].end;
        return CrisisMatch{lists_[entry.list_index].locale,
                           std::move(source),
                           entry.concept_name,
                           std::move(rule),
                           entry.severity,
                           std::string(text.substr(from, to - from)),
                           !language && looks_unlisted(text, words)};
    }
    return std::nullopt;
}

const LocaleList* CrisisDetector::list_for(std::string_view locale,
                                           bool (*usable)(const LocaleList&)) const {
    const std::string wanted = ascii_lower(locale);
    const std::string language = wanted.substr(0, wanted.find_first_of("-_"));
    for (const std::string_view candidate :
         {std::string_view(wanted), std::string_view(language), std::string_view("en")}) {
        if (candidate.empty()) continue;
        for (const LocaleList& list : lists_) {
            if (usable(list) && ascii_lower(list.locale) == candidate) return &list;
        }
    }
    for (const LocaleList& list : lists_) {
        if (usable(list)) return &list;
    }
    return nullptr;
}

const std::vector<CrisisResource>& CrisisDetector::resources(std::string_view locale) const {
    static const std::vector<CrisisResource> kNoResources;
    // Lists without resources are passed over: someone in crisis must always see something.
    const LocaleList* list =
        list_for(locale, [](const LocaleList& candidate) { return !candidate.resources.empty(); });
    return list != nullptr ? list->resources : kNoResources;
}

const CrisisPanel& CrisisDetector::panel(std::string_view locale) const {
    static const CrisisPanel kDefault = default_crisis_panel();
    const LocaleList* list = list_for(locale, [](const LocaleList&) { return true; });
    return list != nullptr ? list->panel : kDefault;
}

std::string CrisisDetector::default_locale() const {
    const LocaleList* list = list_for("", [](const LocaleList&) { return true; });
    return list != nullptr ? list->locale : std::string();
}

}  // namespace haven::moderation
