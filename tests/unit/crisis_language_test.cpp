// Posts in a language none of the crisis lists is for: the panel says that the resources may
// not be the person's country's and where to turn instead, and shows the default list's
// resources rather than those of whichever list shared a word with the post.
#include <doctest/doctest.h>

#include <string>

#include "moderation/crisis_alert.hpp"
#include "moderation/crisis_detector.hpp"

using haven::moderation::crisis_alert;
using haven::moderation::CrisisDetector;
using haven::moderation::CrisisMatch;
using haven::moderation::HumanSide;
using haven::moderation::load_crisis_lists;

namespace {

const CrisisDetector& shipped() {
    static const CrisisDetector detector(load_crisis_lists(HAVEN_SOURCE_DIR "/config/crisis"));
    return detector;
}

bool starts_with_unlisted_line(const haven::v1::Alert& alert) {
    const std::string& line = shipped().panel("en").unlisted_language;
    return !line.empty() && alert.message().rfind(line, 0) == 0;
}

}  // namespace

TEST_CASE("a crisis post in an unlisted language gets the default resources and the danger line") {
    // Italian shares "suicidio" with the Spanish and Portuguese lists, and none of their
    // common words.
    const auto italian = shipped().scan("Penso ogni notte suicidio, nessuno capisce questo dolore");
    REQUIRE(italian);
    CHECK(italian->language_unlisted);
    const auto alert = crisis_alert(shipped(), "lobby", *italian, HumanSide::untold);
    CHECK(alert.locale() == "en");
    CHECK(starts_with_unlisted_line(alert));
    REQUIRE(alert.resources_size() > 0);
    CHECK(alert.resources(0).name() == shipped().resources("en").front().name);

    // Mostly Cyrillic letters around an English word: the lists read only Latin letters.
    const auto russian = shipped().scan("Я думаю про suicide каждую ночь");
    REQUIRE(russian);
    CHECK(russian->language_unlisted);
    CHECK(starts_with_unlisted_line(crisis_alert(shipped(), "lobby", *russian, HumanSide::untold)));
}

TEST_CASE("a crisis post in a listed language keeps its own list's panel") {
    const auto spanish =
        shipped().scan("Pienso en el suicidio todas las noches desde hace semanas");
    REQUIRE(spanish);
    CHECK_FALSE(spanish->language_unlisted);
    const auto alert = crisis_alert(shipped(), "lobby", *spanish, HumanSide::untold);
    CHECK(alert.locale() == "es");
    CHECK_FALSE(starts_with_unlisted_line(alert));
    CHECK(alert.message() == shipped().panel("es").message);

    const auto english = shipped().scan("I want to kill myself tonight");
    REQUIRE(english);
    CHECK_FALSE(english->language_unlisted);
    // Too few words to tell a language by: the post keeps the list that matched.
    const auto short_post = shipped().scan("suicidio ahora");
    REQUIRE(short_post);
    CHECK_FALSE(short_post->language_unlisted);
    CHECK(crisis_alert(shipped(), "lobby", *short_post, HumanSide::untold).locale() ==
          short_post->locale);
}

TEST_CASE("an unlisted-language match on lists without a [panel] line uses the built-in one") {
    CrisisMatch match;
    match.locale = "es";
    match.language_unlisted = true;
    const CrisisDetector detector({{"es", {"suicidio"}, {{"Línea", "024", "", "", ""}}}});
    const auto alert = crisis_alert(detector, "lobby", match, HumanSide::untold);
    CHECK(alert.locale() == "es");  // the only list is the default
    CHECK(alert.message().rfind(haven::moderation::default_crisis_panel().unlisted_language, 0) ==
          0);
}
