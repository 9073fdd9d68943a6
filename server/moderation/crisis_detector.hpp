// Crisis-language detection: spots posts that mention suicide or self-harm, using phrase lists
// per locale (config/crisis/*.toml), so the server can show crisis resources and alert the
// volunteer moderators. A match is a prompt for a human to look, never a diagnosis, and no
// match never means "safe": people in distress often write nothing any list would catch.
//
// How matching works (normalize_for_matching, then a word-anchored search):
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
//   - Phrase lists, not understanding. Negation, quoting and context are invisible: "I would
//     never kill myself", "the film Suicide Squad" and "I could kill myself, I forgot my
//     keys" all match; "I've decided tonight is the night" does not.
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
// O(phrases x length), with no regex and no per-phrase allocation. Measured at about 0.5 ms
// for a 2 KB post against the ~150 shipped phrases in an unoptimised (-O0) build, two thirds
// of it in the searches; optimised builds are much faster. If the lists grow to thousands of
// phrases, bucket them by first letter and try only at word starts, or build an Aho-Corasick
// automaton.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace haven::moderation {

// One place a person can reach help. Empty fields are simply not shown.
struct CrisisResource {
    std::string name;   // e.g. "988 Suicide & Crisis Lifeline (US)"
    std::string phone;  // as people should dial it, e.g. "988" or "116 123"
    std::string text;   // SMS instructions, e.g. "Text HOME to 741741"
    std::string url;
    std::string hours;  // e.g. "24/7"
};

// The concept of phrases listed without one (`phrases = [...]` instead of a table of concepts).
inline constexpr const char* kDefaultCrisisConcept = "crisis";

struct LocaleList {
    std::string locale;  // "en", "es", ... (the file name without .toml)
    std::vector<std::string> phrases;
    std::vector<CrisisResource> resources;
    // The concept of each phrase ("suicide", "self_harm", ...), by index into `phrases`;
    // phrases beyond its end belong to kDefaultCrisisConcept.
    std::vector<std::string> concepts = {};
};

struct CrisisMatch {
    std::string locale;        // which list the phrase came from
    std::string phrase;        // the phrase exactly as configured (the words the post contains)
    std::string concept_name;  // what kind of risk the phrase expresses, e.g. "self_harm"
    // Names the phrase without its words: "<locale>/<concept>/<n>", the n-th phrase (from 1)
    // of that concept in that locale's list. What is kept (the audit log) records this.
    std::string rule;
};

class CrisisDetector {
public:
    // Phrases that normalise to nothing are skipped (load_crisis_lists rejects them), and
    // phrases that normalise to the same letters are searched once.
    explicit CrisisDetector(std::vector<LocaleList> lists);

    // Checks the text against every locale's phrases, because people mix languages. Returns
    // the first configured phrase (lists in order, then phrases in order) that matches.
    std::optional<CrisisMatch> scan(std::string_view text) const;

    // Resources for a locale such as "es" or "es-MX": the exact locale, else its language
    // ("es"), else "en", else the first list. Empty only when there are no lists at all.
    const std::vector<CrisisResource>& resources(std::string_view locale) const;

    const std::vector<LocaleList>& lists() const { return lists_; }

private:
    struct SearchPhrase {
        std::string letters;  // normalised, spaces removed: what is searched for
        std::size_t list_index;
        std::size_t phrase_index;
        std::string rule;  // CrisisMatch::rule
    };

    std::vector<LocaleList> lists_;
    std::vector<SearchPhrase> search_phrases_;
};

// Loads every *.toml file in `directory`, in file-name order. `phrases` is either a table of
// concepts, each an array of phrases (`[phrases]` then `suicide = [...]`, concepts kept in the
// order the file lists them), or one array of phrases of kDefaultCrisisConcept. Throws
// std::runtime_error with one line naming the file and the key when a file is malformed, a
// key is unknown or missing, the locale differs from the file name, a list is empty, a
// concept's name is not 1 to 32 of a-z, 0-9 and _, a resource has no way to
// reach it, or a phrase has fewer than 3 letters once normalised (it would match almost
// anything); and when the directory holds no lists at all, since a safety feature should not
// quietly switch itself off.
std::vector<LocaleList> load_crisis_lists(const std::string& directory);

// The normalisation applied to both posts and phrases (step 1 above), as lower-case words of
// a-z separated by single spaces. Exposed for tests and for reviewing phrase lists.
std::string normalize_for_matching(std::string_view text);

}  // namespace haven::moderation
