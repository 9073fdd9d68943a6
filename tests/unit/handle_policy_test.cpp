// Handles compared by how they look: invisible characters, compatibility forms, case and
// confusable letters do not make a different name.
#include <doctest/doctest.h>

#include <string>

#include "auth/guest_names.hpp"
#include "auth/handle_policy.hpp"

namespace haven::auth {
namespace {

const std::vector<std::string> kReserved = {"moderator", "mod", "haven", "crisis line"};

TEST_SUITE_BEGIN("handles");

TEST_CASE("look-alike handles share one key") {
    const std::string sam = handle_key("Sam");
    CHECK_FALSE(sam.empty());
    CHECK(handle_key("SAM") == sam);
    CHECK(handle_key("\xEF\xBC\xB3\xEF\xBD\x81\xEF\xBD\x8D") == sam);  // full-width "Ｓａｍ"
    CHECK(handle_key("S\xE2\x80\x8B"
                     "am") == sam);  // zero-width space
    CHECK(handle_key("\xE2\x80\xAES"
                     "am") == sam);          // right-to-left override
    CHECK(handle_key("S\xD0\xB0m") == sam);  // Cyrillic "а"
    CHECK(handle_key("Sarn") == sam);        // "rn" looks like "m"
    CHECK(handle_key("S a m") == sam);
    CHECK(handle_key("Sam.") == sam);
    CHECK(handle_key("Samuel") != sam);
    CHECK(handle_key("Quiet Heron 27") != handle_key("Quiet Heron 45"));
    CHECK(handle_key("...") == "");
}

TEST_CASE("the loose key drops each word's trailing digits") {
    CHECK(loose_handle_key("Sam 2") == handle_key("Sam"));
    CHECK(loose_handle_key("Sam2") == handle_key("Sam"));
    CHECK(loose_handle_key("42") == handle_key("42"));
    CHECK(loose_handle_key("Samuel") != handle_key("Sam"));
}

TEST_CASE("reserved words are refused whole, inside a handle's words, and in disguise") {
    const HandlePolicy policy(kReserved);
    CHECK(policy.reserved("Moderator"));
    CHECK(policy.reserved("moderator"));
    CHECK(policy.reserved("\xEF\xBC\xAD\xEF\xBD\x8F\xEF\xBD\x84"));  // full-width "Ｍｏｄ"
    CHECK(policy.reserved("Moderator Sam"));
    CHECK(policy.reserved("Mod 2"));
    CHECK(
        policy.reserved("Mod\xE2\x80\x8B"
                        "erator"));
    CHECK(policy.reserved("TheModerator"));
    CHECK(policy.reserved("Crisis Line"));
    CHECK(policy.reserved("crisis-line"));
    CHECK(policy.reserved("CrisisLine"));
    CHECK(policy.reserved("haven"));
    CHECK(policy.reserved("HAVEN team"));
    CHECK_FALSE(policy.reserved("Modest Fox"));
    CHECK_FALSE(policy.reserved("Crisis survivor"));
    CHECK_FALSE(policy.reserved("Quiet Heron 27"));
    CHECK_FALSE(HandlePolicy({}).reserved("Moderator"));
}

TEST_CASE("invisible characters are stripped from a chosen handle, controls refused") {
    CHECK(clean_handle("S\xE2\x80\x8B"
                       "am") == "Sam");
    CHECK(clean_handle("\xE2\x80\xAE"
                       "Sam\xE2\x80\xAC") == "Sam");
    CHECK(clean_handle("Zo\xC3\xAB") == "Zo\xC3\xAB");
    CHECK(clean_handle("Zoe\xCC\x88") == "Zo\xC3\xAB");     // composed, one way for everyone
    CHECK_FALSE(clean_handle("\xE2\x80\x8B\xE2\x80\x8B"));  // nothing visible left
    CHECK_FALSE(clean_handle("Sam\xC2\x85"));               // a C1 control
    CHECK_FALSE(clean_handle("Sam\xEE\x80\x80"));           // private use
    CHECK(strip_invisible("O'Brien") == "O'Brien");
    CHECK_FALSE(strip_invisible("Sam\x01"));
}

TEST_SUITE_END();

}  // namespace
}  // namespace haven::auth
