// Crisis rules: the pattern language, how the detector weighs severity, negation and context,
// what a match reports, and loading the tables that carry them.
#include <doctest/doctest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "moderation/crisis_detector.hpp"
#include "moderation/crisis_pattern.hpp"
#include "moderation/crisis_text.hpp"
#include "unit/crisis_scratch.hpp"

using haven::moderation::CrisisDetector;
using haven::moderation::CrisisPattern;
using haven::moderation::CrisisSeverity;
using haven::moderation::LocaleList;
using haven::moderation::split_for_matching;
using haven::moderation::WordClasses;
using haven::test::contains;
using haven::test::kGoodResource;
using haven::test::ScratchLists;

namespace {

// Whether `pattern` matches somewhere in one sentence of `text`.
bool matches(const std::string& pattern, const std::string& text, const WordClasses& classes = {}) {
    const CrisisPattern compiled(pattern, classes);
    const auto words = split_for_matching(text);
    for (std::size_t start = 0; start < words.size(); ++start) {
        if (compiled.match_at(words, start, words.size())) return true;
    }
    return false;
}

std::string pattern_error(const std::string& pattern, const WordClasses& classes = {}) {
    try {
        (void)CrisisPattern(pattern, classes);
    } catch (const std::invalid_argument& error) {
        return error.what();
    }
    return "";
}

LocaleList rules_only(std::string locale, std::vector<haven::moderation::CrisisRuleSource> rules) {
    LocaleList list{std::move(locale), {}, {}};
    list.rules = std::move(rules);
    return list;
}

}  // namespace

TEST_CASE("split_for_matching numbers sentences and clauses and keeps each word's bytes") {
    const std::string text = "I'm fine, really. But tonight\xE2\x80\xA6 no!";
    const auto words = split_for_matching(text);
    REQUIRE(words.size() == 7);
    CHECK(words[0].letters == "i");
    CHECK(words[1].letters == "m");
    CHECK(words[3].letters == "realy");  // a run of one letter collapses
    CHECK(words[2].clause == words[1].clause);
    CHECK(words[3].clause == words[2].clause + 1);  // the comma
    CHECK(words[3].sentence == words[2].sentence);
    CHECK(words[4].sentence == words[3].sentence + 1);  // the full stop
    CHECK(words[6].sentence == words[5].sentence + 1);  // the ellipsis
    CHECK(text.substr(words[5].begin, words[5].end - words[5].begin) == "tonight");
    // Look-alikes inside a word are letters, not boundaries; "!!!" after a word ends a sentence.
    const auto hidden = split_for_matching("k!ll myself!!! ok");
    REQUIRE(hidden.size() == 3);
    CHECK(hidden[0].letters == "kil");
    CHECK(hidden[1].sentence == 0);
    CHECK(hidden[2].sentence == 1);
}

TEST_CASE("crisis patterns: words, endings, alternatives, classes, gaps and optional parts") {
    CHECK(matches("want to die", "I really WANT to die"));
    CHECK_FALSE(matches("want to die", "I want to dive"));
    CHECK(matches("overdos*", "she overdosed once"));
    CHECK_FALSE(matches("overdos*", "an overdue bill"));
    CHECK(matches("(end|take) my (life|own life)", "to take my own life"));
    CHECK(matches("i (really)? want to die", "i want to die"));
    CHECK(matches("i (really)? want to die", "i really want to die"));
    CHECK(matches("take ~3 pills", "take all of my pills"));
    CHECK_FALSE(matches("take ~3 pills", "take all of my many pills"));
    CHECK(matches("i'm going to", "I\u2019m going to"));  // apostrophes separate words alike
    CHECK(matches("i'm going to", "i m going to"));
    CHECK_FALSE(matches("i'm going to", "im going to"));  // one word: lists name both
    CHECK(matches("kill", "kiiilll"));                    // doubled letters read alike
    const WordClasses classes{{"means", {{{"pils", false}}, {{"rope", false}}}}};
    CHECK(matches("(got|have) the @means", "I have the rope", classes));
    CHECK_FALSE(matches("(got|have) the @means", "I have the car", classes));
    // A class may be one of the choices: its words are choices too.
    CHECK(matches("take the (bottle|@means)", "take the rope", classes));
    CHECK(matches("take the (bottle|@means)", "take the bottle", classes));
    CHECK_FALSE(matches("take the (bottle|@means)", "take the means", classes));
    const CrisisPattern compiled("take ~2 pills", classes);
    REQUIRE(compiled.first_words().size() == 1);
    CHECK(compiled.first_words()[0].letters == "take");
}

TEST_CASE("crisis patterns refuse what they cannot mean, saying why") {
    CHECK(contains(pattern_error("(end|take my life"), "'(' without ')'"));
    CHECK(contains(pattern_error("(a (b))"), "inside"));
    CHECK(contains(pattern_error("@means here"), "@means is not in the [words] table"));
    CHECK(contains(pattern_error("(a|@nope) here"), "@nope is not in the [words] table"));
    CHECK(contains(pattern_error("take ~9 pills"), "~N needs N from 1 to 8"));
    CHECK(contains(pattern_error("~2 pills"), "cannot start with ~N"));
    CHECK(contains(pattern_error("take pills ~2"), "cannot end with ~N"));
    CHECK(contains(pattern_error("(really)? die"), "must start with a required word"));
    CHECK(contains(pattern_error("die | live"), "unexpected '|'"));
    CHECK(contains(pattern_error("(!!!|die)"), "has no letters"));
    CHECK(contains(pattern_error(std::string(30, 'a').insert(0, "") + " b c d e f g h i j k l m "
                                                                      "n o p q r s t u v w x y z"),
                   "more than 24 elements"));
    CHECK(pattern_error("i (really)? ~2 want to (die|be dead)").empty());
}

TEST_CASE("a rule matches within one sentence and reports its concept, rule and words") {
    const CrisisDetector detector({rules_only("en", {{"means", "(saved|saving) ~3 pills"}})});
    const auto match = detector.scan("Honestly I've SAVED up my pills. Don't tell.");
    REQUIRE(match);
    CHECK(match->concept_name == "means");
    CHECK(match->rule == "en/means/r1");
    CHECK(match->phrase == "(saved|saving) ~3 pills");
    CHECK(match->excerpt == "SAVED up my pills");
    CHECK(match->severity == CrisisSeverity::urgent);  // not classified: treated as the worst
    CHECK_FALSE(detector.scan("I saved up. Pills are expensive"));
}

TEST_CASE("the most severe match wins, then the earliest configured") {
    LocaleList list = rules_only("en", {{"hopelessness", "no future"}, {"plan", "the plan is"}});
    list.severities = {{"hopelessness", CrisisSeverity::concern}, {"plan", CrisisSeverity::urgent}};
    const CrisisDetector detector({list});
    const auto both = detector.scan("there is no future, the plan is simple");
    REQUIRE(both);
    CHECK(both->concept_name == "plan");
    const auto concern = detector.scan("there is no future for me");
    REQUIRE(concern);
    CHECK(concern->severity == CrisisSeverity::concern);
}

TEST_CASE("negation before a match, or inside what a gap skipped, undoes it") {
    LocaleList list{"en", {"kill myself", "cut myself"}, {}};
    list.rules = {{"intent", "i ~2 want to die"}, {"intent", "i (dont|don't) want to live"}};
    list.negations = {"never", "not", "don't"};
    list.negation_breakers = {"stop"};
    list.negation_window = 3;
    const CrisisDetector detector({list});
    CHECK_FALSE(detector.scan("I would never kill myself"));
    CHECK_FALSE(detector.scan("I'm not going to kill myself"));                // within 3 words
    CHECK(detector.scan("not me, but some days I could kill myself"));         // another clause
    CHECK(detector.scan("never thought I'd say it but I could kill myself"));  // too far
    CHECK(detector.scan("I can't stop, I don't stop cutting... I cut myself"));
    CHECK(detector.scan("I don't know how to stop. I don't stop, cut myself"));
    CHECK(detector.scan("I don't stop cut myself"));  // the breaker stands between
    // Inside a rule's gap: "don't" is not something "i ~2 want to die" names.
    CHECK_FALSE(detector.scan("i don't want to die"));
    CHECK(detector.scan("i really want to die"));
    // A rule that names the negation itself still matches.
    const auto named = detector.scan("i don't want to live");
    REQUIRE(named);
    CHECK(named->rule == "en/intent/r2");
}

TEST_CASE("context in the same sentence lowers a match, from its list or the post's language") {
    LocaleList english{"en", {"self harm"}, {}};
    english.contexts = {{"past_recovery", "(years|months) clean"}};
    english.common_words = {"the", "i", "from", "was"};
    LocaleList spanish{"es", {"autolesion"}, {}};
    spanish.negations = {"no"};
    spanish.common_words = {"el", "y", "hoy"};
    const CrisisDetector detector({english, spanish});
    CHECK_FALSE(detector.scan("2 years clean from self harm today!"));
    CHECK(detector.scan("2 years clean. self harm again tonight"));  // another sentence
    // Another list's negation counts only when the post is in that list's language.
    CHECK(detector.scan("no self harm today"));
    CHECK_FALSE(detector.scan("hoy y el no self harm"));
    CHECK(detector.scan("2 years clean autolesion"));
    CHECK_FALSE(detector.scan("i was 2 years clean from the autolesion"));
}

TEST_CASE("the panel follows the locale with the same fallback as resources") {
    LocaleList french{"fr", {"me tuer"}, {{"3114", "3114", "", "", ""}}};
    french.panel = {"Vous n'êtes pas seul·e", "Message", "Vous seul·e voyez ceci."};
    const CrisisDetector detector(
        {LocaleList{"en", {"kill myself"}, {{"L", "1", "", "", ""}}}, french});
    CHECK(detector.panel("fr-CA").headline == "Vous n'êtes pas seul·e");
    CHECK(detector.panel("de").headline == haven::moderation::default_crisis_panel().headline);
}

TEST_CASE("load_crisis_lists reads severity, words, rules, negation, context and panel") {
    const ScratchLists scratch;
    scratch.write("en.toml",
                  "locale = \"en\"\nphrases = [\"kill myself\"]\n"
                  "[severity]\ncrisis = \"urgent\"\nburden = \"concern\"\n"
                  "[words]\npeople = [\"everyone\", \"my family\"]\n"
                  "[rules]\nburden = [\"@people ~2 better off without me\"]\n"
                  "[negation]\nwords = [\"never\"]\nunless = [\"stop\"]\nwindow = 2\n"
                  "[context]\nnews = [\"article about\"]\n"
                  "[language]\nwords = [\"the\", \"and\"]\n"
                  "[panel]\nheadline = \"H\"\nprivate_note = \"P\"\n" +
                      kGoodResource);
    const auto lists = haven::moderation::load_crisis_lists(scratch.directory());
    REQUIRE(lists.size() == 1);
    const LocaleList& list = lists[0];
    CHECK(list.severities.at("burden") == CrisisSeverity::concern);
    CHECK(list.words.at("people").size() == 2);
    REQUIRE(list.rules.size() == 1);
    CHECK(list.rules[0].concept_name == "burden");
    CHECK(list.negation_window == 2);
    CHECK(list.negation_breakers == std::vector<std::string>{"stop"});
    REQUIRE(list.contexts.size() == 1);
    CHECK(list.contexts[0].kind == "news");
    CHECK(list.common_words == std::vector<std::string>{"the", "and"});
    CHECK(list.panel.headline == "H");
    CHECK(list.panel.message == haven::moderation::default_crisis_panel().message);
    const CrisisDetector detector(lists);
    const auto match = detector.scan("my family would be better off without me");
    REQUIRE(match);
    CHECK(match->severity == CrisisSeverity::concern);
    CHECK_FALSE(detector.scan("I read an article about how everyone is better off without me"));
}

TEST_CASE(
    "crisis signals count in pairs: two different signals of one concept, in any sentences, each "
    "not negated or in context, make a match named by both") {
    const ScratchLists scratch;
    scratch.write("en.toml",
                  "locale = \"en\"\nphrases = [\"kill myself\"]\n"
                  "[severity]\ngoodbye = \"urgent\"\nburden = \"concern\"\n"
                  "[signals]\ngoodbye = [\"thank you for everything\", \"love you all\", "
                  "\"(goodbye|bye) (everyone|all)\"]\nburden = [\"too much\"]\n"
                  "[negation]\nwords = [\"never\"]\n"
                  "[context]\nfiction = [\"in the play\"]\n" +
                      kGoodResource);
    const auto lists = haven::moderation::load_crisis_lists(scratch.directory());
    REQUIRE(lists.size() == 1);
    CHECK(lists[0].signals.size() == 4);
    const CrisisDetector detector(lists);
    // One signal alone is ordinary, however often it is said.
    CHECK_FALSE(detector.scan("thank you for everything, the party was great"));
    CHECK_FALSE(detector.scan("thank you for everything. thank you for everything!"));
    // Two different ones, in two sentences, are a farewell.
    const auto farewell = detector.scan("thank you for everything. i love you all.");
    REQUIRE(farewell);
    CHECK(farewell->concept_name == "goodbye");
    CHECK(farewell->rule == "en/goodbye/s1+s2");
    CHECK(farewell->severity == CrisisSeverity::urgent);
    CHECK(farewell->excerpt == "thank you for everything. i love you all");
    const auto reversed = detector.scan("Goodbye everyone!! Thank you for everything");
    REQUIRE(reversed);
    CHECK(reversed->rule == "en/goodbye/s3+s1");  // named in the order they were written
    // Signals of different concepts do not add up.
    CHECK_FALSE(detector.scan("it is all too much. thank you for everything"));
    // A negated or quieted signal does not count.
    CHECK_FALSE(detector.scan("i would never say goodbye everyone. thank you for everything"));
    CHECK_FALSE(detector.scan("in the play she says goodbye everyone. thank you for everything"));
}

TEST_CASE("load_crisis_lists names the key of a bad rule table") {
    struct BadTable {
        const char* contents;
        const char* expected;
    };
    const BadTable cases[] = {
        {"[severity]\ncrisis = \"high\"\n", "severity.crisis: must be \"urgent\" or \"concern\""},
        {"[severity]\ncrisis = 1\n", "severity.crisis: must be a string"},
        {"[words]\nPeople = [\"a\"]\n", "words.People: a name must be"},
        {"[words]\npeople = [\"everyone\", \"!!\"]\n", "words.people[1]: \"!!\" has no letters"},
        {"[rules]\nintent = [\"@people die\"]\n",
         "rules.intent[0]: \"@people die\": @people is not in the [words] table"},
        {"[rules]\nintent = []\n", "rules.intent: must be a non-empty array"},
        {"[rules]\nintent = \"die\"\n", "rules.intent: must be a non-empty array"},
        {"rules = 3\n", "rules: must be a table"},
        {"[negation]\nwords = [\"never\"]\nwindow = 0\n", "negation.window: must be a whole"},
        {"[negation]\nwindow = 9\n", "negation.window: must be a whole"},
        {"[negation]\nwordz = [\"never\"]\n", "negation.wordz: unknown key"},
        {"[context]\nnews = [\"(article\"]\n", "context.news[0]: \"(article\": '(' without ')'"},
        {"[panel]\nheadline = \"\"\n", "panel.headline: must not be empty"},
        {"[panel]\ntitle = \"T\"\n", "panel.title: unknown key"},
        {"[language]\nwords = [\"the end\"]\n", "language.words[0]: must be one word"},
        {"[language]\n", "language.words: missing"},
    };
    for (const BadTable& bad : cases) {
        const ScratchLists scratch;
        scratch.write("en.toml", "locale = \"en\"\nphrases = [\"kill myself\"]\n" +
                                     std::string(bad.contents) + kGoodResource);
        const std::string error = scratch.load_error();
        CHECK_MESSAGE(contains(error, bad.expected), error);
    }
}
