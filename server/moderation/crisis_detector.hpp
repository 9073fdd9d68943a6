// Crisis-language detection: spots posts that mention suicide or self-harm, using phrase lists
// per locale (config/crisis/*.toml), so the server can show crisis resources and alert the
// volunteer moderators. A match is a prompt for a human to look, never a diagnosis, and no
// match never means "safe": people in distress often write nothing any list would catch.
//
// Two kinds of entries, both grouped by concept (what kind of risk they express) and both
// subject to negation and context (below):
//   - phrases, matched on the joined letters so that spelled-out and punctuated obfuscations
//     are caught (how, in steps 1 to 3);
//   - rules, word patterns that generalise (crisis_pattern.hpp), matched within one sentence;
//   - signals, weak cues that count only in pairs: two different signals of one concept, in
//     any sentences of the post, each not lowered (below), make a match of that concept.
//     Alone, "thank you for everything" or "i love you all" is ordinary; together, or with
//     "goodbye", they are a farewell even when each is said in its own sentence.
// Each concept has a severity: `urgent` (intent, a plan, method, means or time, preparations
// and goodbyes, self-harm now) or `concern` (a passive wish to be dead, hopelessness, being a
// burden). A scan reports the most severe match, and the earliest configured among equals.
//
// Negation and context lower the risk of a match, and then it does not count:
//   - a negation word ([negation] words) up to `window` words before the
//     match, in the same clause, unless a word of [negation] unless stands between them
//     ("I would never hurt myself" does not count; "I can't stop cutting myself" does), or
//     one inside a rule's match that the rule does not name itself ("I don't want to die"
//     against "@i ~1 want to die");
//   - a context rule ([context], patterns like rules: recovery and the
//     past, other people, news, study, prevention work, fiction) matching anywhere in the
//     same sentence ("2 years clean from self harm", "an essay on suicide risk factors").
// Both come from the list that matched and from the list of the post's language, guessed from
// its common words ([language] words; the list with the most of them in the post): close
// languages share words, so a Portuguese phrase in a Spanish post is quieted by the Spanish
// context, while Spanish context words never quiet a German post.
//
// How phrases match (normalize_for_matching, then a word-anchored search):
//   1. Both the post and every phrase are normalised the same way: lower-cased; accents and
//      other diacritics on Latin letters stripped (Á -> a, ñ -> n, ß -> ss, æ -> ae); fullwidth
//      forms folded to ASCII; combining marks, soft hyphens and zero-width characters dropped;
//      inside a token that contains letters, look-alike digits and symbols read as letters
//      (0 o, 1 i, 3 e, 4 a, 5 s, 7 t, @ a, $ s, ! i, | i; the symbols only between letters,
//      or '$' at the start, so "die!!!" stays "die", "@sam" stays "sam" and "$uicide" reads
//      "suicide"); every other character separates words; and any run of one letter collapses
//      to one ("kill" -> "kil", "diiiie" -> "die").
//   2. The words are then joined with the spaces removed, remembering where each word started
//      and ended. A phrase matches where its joined letters occur, starting at the start of a
//      word and ending at the end of one. Anchoring only the two ends is what lets spelled-out
//      and punctuated obfuscations through ("s u i c i d e", "k.i.l.l m y s e l f", "end. my.
//      life", "#killmyself") while "skill myself" and "defend my life" stay unmatched.
//   3. At the end of a phrase, and only there, the suffixes s, es, d, ed and ing are accepted
//      ("overdosed", "suicides"). Inflections elsewhere ("cutting myself") need their own
//      phrase, which keeps each phrase's reach predictable for the people who review the lists.
//
// Known limits, so nobody mistakes this for more than it is:
//   - Lists and patterns, not understanding. Negation and context are recognised only as
//     listed, and only nearby: "the film Suicide Squad" matches unless a context rule
//     names films; a negation three clauses away does not cancel anything.
//   - Because inner spaces are ignored, a multi-word phrase also matches its words run
//     together, and would match an unrelated word that happens to be spelled the same way
//     ("the rapist" / "therapist"). Reviewers should avoid phrases with such a reading.
//   - Punctuation only separates words, so a phrase can also match across a sentence end
//     ("...the end. It all worked out" reads "end it all"); that is the price of catching
//     "end. my. life".
//   - One reading per look-alike character: '1' reads as 'i', so "1ife" is not "life".
//   - Only Latin script is folded. Greek or Cyrillic look-alikes ("kіll" with a Cyrillic і),
//     mathematical alphanumerics and text-speak ("want 2 die") are not recognised; every
//     non-Latin character separates words. German ä/ö/ü fold to a/o/u, not ae/oe/ue, so the
//     lists carry both spellings where it matters.
//   - Compound words only match when listed whole ("Suizidgedanken").
//
// Cost: each scan normalises the post once (linear, a few allocations proportional to the
// post), then runs one substring search per distinct phrase over the normalised letters:
// O(phrases x length), with no regex and no per-phrase allocation; rules are indexed by the
// first word they accept, so each word of the post tries only the rules that can start there.
// Negation and context are looked at only when something matched. Measured at about 0.5 ms
// for a 2 KB post against the ~150 shipped phrases in an unoptimised (-O0) build, two thirds
// of it in the searches; optimised builds are much faster. If the lists grow to thousands of
// phrases, bucket them by first letter and try only at word starts, or build an Aho-Corasick
// automaton.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "moderation/crisis_pattern.hpp"
#include "moderation/crisis_text.hpp"

namespace haven::moderation {

// One place a person can reach help. Empty fields are simply not shown.
struct CrisisResource {
    std::string name;   // e.g. "988 Suicide & Crisis Lifeline (US)"
    std::string phone;  // as people should dial it, e.g. "988" or "116 123"
    std::string text;   // SMS instructions, e.g. "Text HOME to 741741"
    std::string url;
    std::string hours;  // e.g. "24/7"
};

// What the person sees above the resources, in the list's language.
struct CrisisPanel {
    std::string headline;
    std::string message;
    std::string private_note;  // that nobody else sees the panel
    // Said first when the post seems to be in a language no list is for, so the resources
    // shown may not be the person's country's: where to turn instead.
    std::string unlisted_language = {};
    // What happens next on the human side (safety.tell_author): a moderator on duty was let
    // know, or none is on duty now and the resources are the way to get help now.
    std::string moderator_told = {};
    std::string nobody_on_duty = {};
};

// The panel of a list that does not say otherwise.
CrisisPanel default_crisis_panel();

enum class CrisisSeverity : std::uint8_t { concern, urgent };

std::string_view severity_name(CrisisSeverity severity);

// The concept of phrases listed without one (`phrases = [...]` instead of a table of concepts).
inline constexpr const char* kDefaultCrisisConcept = "crisis";

struct CrisisRuleSource {
    std::string concept_name;
    std::string pattern;  // crisis_pattern.hpp
};

struct ContextRuleSource {
    std::string kind;  // "past_recovery", "news", ...: for people reviewing the lists
    std::string pattern;
};

struct LocaleList {
    std::string locale;  // "en", "es", ... (the file name without .toml)
    std::vector<std::string> phrases;
    std::vector<CrisisResource> resources;
    // The concept of each phrase ("suicide", "self_harm", ...), by index into `phrases`;
    // phrases beyond its end belong to kDefaultCrisisConcept.
    std::vector<std::string> concepts = {};
    std::vector<CrisisRuleSource> rules = {};
    std::vector<CrisisRuleSource> signals = {};  // [signals]: count in pairs (see the top)
    // Concepts not named here are urgent: a concept nobody classified is treated as the worst.
    std::map<std::string, CrisisSeverity, std::less<>> severities = {};
    WordClasses words = {};
    std::vector<std::string> negations = {};          // alternatives, like [words] entries
    std::vector<std::string> negation_breakers = {};  // words that end a negation's reach
    std::size_t negation_window = 4;
    std::vector<ContextRuleSource> contexts = {};
    CrisisPanel panel = default_crisis_panel();
    // Common words of the language ([language] words): which list's language a post is in.
    std::vector<std::string> common_words = {};
};

struct CrisisMatch {
    std::string locale;        // which list the phrase or rule came from
    std::string phrase;        // the phrase or rule exactly as configured
    std::string concept_name;  // what kind of risk it expresses, e.g. "self_harm"
    // Names the entry without its words: "<locale>/<concept>/<n>", the n-th phrase (from 1)
    // of that concept in that locale's list, "<locale>/<concept>/r<n>" for its n-th rule, or
    // "<locale>/<concept>/s<n>+s<m>" for a pair of its signals.
    // What is kept (the audit log) records this.
    std::string rule;
    CrisisSeverity severity = CrisisSeverity::urgent;
    std::string excerpt;  // the words of the post that matched, as written
    // The post seems to be in a language none of the lists is for: at least
    // kUnlistedLanguageMinWords words and none of any list's common words, or more letters in
    // scripts other than Latin than in Latin (every list is read as a-z). Its panel is then
    // the default list's, with the panel's unlisted_language line first.
    bool language_unlisted = false;
};

inline constexpr std::size_t kUnlistedLanguageMinWords = 6;

class CrisisDetector {
public:
    // Phrases that normalise to nothing are skipped (load_crisis_lists rejects them), and
    // phrases that normalise to the same letters are searched once. Throws
    // std::invalid_argument when a rule or context pattern is malformed.
    explicit CrisisDetector(std::vector<LocaleList> lists);

    // Checks the text against every locale's entries, because people mix languages.
    std::optional<CrisisMatch> scan(std::string_view text) const;

    // Resources for a locale such as "es" or "es-MX": the exact locale, else its language
    // ("es"), else "en", else the first list. Empty only when there are no lists at all.
    const std::vector<CrisisResource>& resources(std::string_view locale) const;
    // The panel text for a locale, with the same fallback.
    const CrisisPanel& panel(std::string_view locale) const;
    // The list a post of no listed language gets: "en", else the first list ("" without any).
    std::string default_locale() const;

    const std::vector<LocaleList>& lists() const { return lists_; }

private:
    struct Entry {
        std::size_t list_index;
        std::string concept_name;
        std::string source;  // phrase or pattern as configured
        std::string rule;
        CrisisSeverity severity;
        bool signal = false;  // counts only with another signal of its concept
    };
    struct SearchPhrase {
        std::string letters;  // normalised, spaces removed: what is searched for
        std::size_t entry;
    };
    struct Rule {
        CrisisPattern pattern;
        std::size_t entry;
        std::vector<std::uint32_t> anchors;  // ids of its anchor words (anchor_ids_)
    };
    // What lowers the risk of a match, as each list says it (see the top of this file).
    struct Lowering {
        std::vector<WordSequence> negations;
        std::vector<WordSequence> negation_breakers;
        std::size_t negation_window = 0;
        std::vector<CrisisPattern> contexts;
    };
    static constexpr std::size_t kNoRule = static_cast<std::size_t>(-1);
    struct Candidate {
        std::size_t entry;  // the order of entries is the order of preference among equals
        std::size_t first_word;
        std::size_t end_word;
        std::size_t rule = kNoRule;  // index into rules_, for matches of a rule or signal
        // A pair of signals: the other one's entry; its lowering was checked already.
        std::size_t paired_entry = kNoRule;
    };

    void add_phrases(std::size_t list_index);
    void add_rules(std::size_t list_index);
    void add_rule(std::size_t list_index, const CrisisRuleSource& source, std::string rule_name,
                  bool signal);
    void collect_phrase_matches(const std::vector<MatchWord>& words,
                                std::vector<Candidate>& out) const;
    void collect_rule_matches(const std::vector<MatchWord>& words,
                              std::vector<Candidate>& out) const;
    bool negated(const Lowering& lowering, const std::vector<MatchWord>& words,
                 const Candidate& candidate) const;
    bool in_lowering_context(const Lowering& lowering, const std::vector<MatchWord>& words,
                             std::size_t first_word) const;
    bool lowered(const Candidate& candidate, const std::vector<MatchWord>& words,
                 std::optional<std::size_t> language) const;
    // Takes the signal matches out of `candidates` and puts back one candidate for each
    // concept of each list with two different signals that are not lowered.
    void pair_signals(std::vector<Candidate>& candidates, const std::vector<MatchWord>& words,
                      std::optional<std::size_t> language) const;
    const LocaleList* list_for(std::string_view locale, bool (*usable)(const LocaleList&)) const;
    // The list whose common words the post has most of; nothing on a tie or none at all.
    std::optional<std::size_t> guess_language(const std::vector<MatchWord>& words) const;
    bool looks_unlisted(std::string_view text, const std::vector<MatchWord>& words) const;

    std::vector<LocaleList> lists_;
    std::vector<Entry> entries_;
    std::vector<SearchPhrase> search_phrases_;
    std::vector<Rule> rules_;
    std::unordered_map<std::string, std::vector<std::size_t>> rules_by_first_word_;
    std::unordered_map<std::string, std::uint32_t> anchor_ids_;  // every rule's anchor words
    std::vector<std::pair<WordTest, std::size_t>> rules_by_first_prefix_;
    std::vector<Lowering> lowering_;                                          // by list
    std::unordered_map<std::string, std::vector<std::size_t>> common_words_;  // word -> lists
};

// Loads every *.toml file in `directory`, in file-name order. `phrases` is either a table of
// concepts, each an array of phrases (`[phrases]` then `suicide = [...]`, concepts kept in the
// order the file lists them), or one array of phrases of kDefaultCrisisConcept. Optional
// tables: [severity] (concept = "urgent" | "concern"), [words] (named alternatives for rules),
// [rules] and [signals] (concept = [patterns]), [negation] (words, unless, window), [context]
// (kind = [patterns]), [language] (words) and [panel] (headline, message, private_note,
// unlisted_language). Throws std::runtime_error with one line naming the file and the key
// when a file is malformed, a key is unknown or missing, the locale differs from the file name, a
// list is empty, a concept's name is not 1 to 32 of a-z, 0-9 and _, a pattern is malformed, a
// resource has no way to reach it, or a phrase has fewer than 3 letters once normalised (it would
// match almost anything); and when the directory holds no lists at all, since a safety feature
// should not quietly switch itself off.
std::vector<LocaleList> load_crisis_lists(const std::string& directory);

}  // namespace haven::moderation
