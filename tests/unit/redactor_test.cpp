// Contact-detail redaction: tables of what is removed and what stays, crisis lines that must
// survive, UTF-8 safety and hostile input.
#include <doctest/doctest.h>

#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "moderation/redactor.hpp"

using haven::moderation::redact_contact_details;
using haven::moderation::RedactionResult;

namespace {

struct Redacts {
    const char* input;
    const char* expected;
    unsigned emails;
    unsigned phones;
};

const Redacts kRedacts[] = {
    // E-mail
    {"mail me at jane.doe@example.com", "mail me at [email removed]", 1, 0},
    {"JANE_DOE+chat@Mail.Example.co.uk.", "[email removed].", 1, 0},
    {"(me@x.org)", "([email removed])", 1, 0},
    {"a@b.co and c@d.io", "[email removed] and [email removed]", 2, 0},
    {"...me@x.org", "...[email removed]", 1, 0},
    {"jos\u00E9@correo.es", "[email removed]", 1, 0},
    {"user@b\u00FCcher.de", "[email removed]", 1, 0},
    {"x@xn--80ak6aa92e.com", "[email removed]", 1, 0},
    {"jo.5551234567@x.org", "[email removed]", 1, 0},  // digits go with the address
    // Phone
    {"+44 20 7946 0958", "[phone removed]", 0, 1},
    {"(555) 123-4567", "[phone removed]", 0, 1},
    {"555.123.4567", "[phone removed]", 0, 1},
    {"0612345678", "[phone removed]", 0, 1},
    {"call me on 555-1234 tonight", "call me on [phone removed] tonight", 0, 1},
    {"+1 (555) 123-4567", "[phone removed]", 0, 1},
    {"06 12 34 56 78", "[phone removed]", 0, 1},
    {"+34 612 345 678", "[phone removed]", 0, 1},
    {"1-800-273-8255", "[phone removed]", 0, 1},
    {"030/1234567", "[phone removed]", 0, 1},
    {"+44 (0) 20 7946 0958", "[phone removed]", 0, 1},
    {"06\u00A012\u00A034\u00A056\u00A078", "[phone removed]", 0, 1},  // no-break spaces
    {"wa.me/34612345678", "wa.me/[phone removed]", 0, 1},
    {"my number is 0612345678.", "my number is [phone removed].", 0, 1},
    {"Tel:0612345678", "Tel:[phone removed]", 0, 1},
    {"ring 07700 900123", "ring [phone removed]", 0, 1},
    {"call 555 1234 at 10:30", "call [phone removed] at 10:30", 0, 1},
    {"t\u00E9l.\u00A006 12 34 56 78 !", "t\u00E9l.\u00A0[phone removed] !", 0, 1},
    {"\U0001F4DE+44 20 7946 0958\U0001F4DE", "\U0001F4DE[phone removed]\U0001F4DE", 0, 1},
    // Both
    {"jane@example.com / +44 20 7946 0958", "[email removed] / [phone removed]", 1, 1},
};

// Text that must come through untouched.
const char* const kKeeps[] = {
    "see you at 10:30",
    "born 2024-05-01",
    "on 01/05/2024",
    "2024-05-01 10:30",
    "we are here 24/7",
    "back in 2019",
    "it cost $1,200",
    "it cost $1 200 000",
    "it cost \u20AC1.500.000",
    "call or text 988",
    "Samaritans: 116 123",
    "Lifeline: 13 11 14",
    "text HOME to 741741",
    "from 9 to 5",
    "I'm 25 and have 3 cats",
    "version 1.2.3",
    "room 101",
    "score 3-2",
    "12:30-13:45",
    "1,234,567 views",
    "order A1234567B",
    "user_1234567",
    "ab12345678cd",
    "@sam see you",
    "name@localhost",
    "a@b.c",
    "me@1.2.3.4",
    "foo@bar",
    "@@ @ x@ @y.com",
    "email me @ 5 pm",
    "",
    "pi is about 3.14",
    "a 20-digit id 12345678901234567890",
    "\u00E9\u00E8 \u4F60\u597D \U0001F600",
};

bool is_valid_utf8(std::string_view text) {
    std::size_t pos = 0;
    while (pos < text.size()) {
        const auto lead = static_cast<unsigned char>(text[pos]);
        std::size_t length = 1;
        if (lead >= 0xF0) {
            length = 4;
        } else if (lead >= 0xE0) {
            length = 3;
        } else if (lead >= 0xC0) {
            length = 2;
        } else if (lead >= 0x80) {
            return false;
        }
        if (pos + length > text.size()) return false;
        for (std::size_t i = 1; i < length; ++i) {
            if ((static_cast<unsigned char>(text[pos + i]) & 0xC0) != 0x80) return false;
        }
        pos += length;
    }
    return true;
}

}  // namespace

TEST_CASE("redaction removes the table of e-mail addresses and phone numbers") {
    int rows = 0;
    for (const Redacts& row : kRedacts) {
        const RedactionResult result = redact_contact_details(row.input);
        CHECK_MESSAGE(result.text == row.expected,
                      "\"" << row.input << "\" became \"" << result.text << "\"");
        CHECK_MESSAGE(result.emails == row.emails, "e-mail count for \"" << row.input << "\"");
        CHECK_MESSAGE(result.phones == row.phones, "phone count for \"" << row.input << "\"");
        ++rows;
    }
    CHECK(rows >= 25);
}

TEST_CASE("redaction leaves the table of ordinary text alone") {
    int rows = 0;
    for (const char* text : kKeeps) {
        const RedactionResult result = redact_contact_details(text);
        CHECK_MESSAGE(result.text == text, "\"" << text << "\" became \"" << result.text << "\"");
        CHECK_MESSAGE(result.emails + result.phones == 0,
                      "counted something in \"" << text << "\"");
        ++rows;
    }
    CHECK(rows >= 25);
}

TEST_CASE("crisis lines passed as phones_to_keep survive redaction") {
    const std::vector<std::string> crisis_lines = {"0800 111 0 111", "717 003 717"};
    const RedactionResult result = redact_contact_details(
        "call 0800 111 0 111, 08001110111 or 717-003-717, not 0612345678", crisis_lines);
    CHECK(result.text == "call 0800 111 0 111, 08001110111 or 717-003-717, not [phone removed]");
    CHECK(result.phones == 1);
    // Without the list, all four go.
    CHECK(redact_contact_details("call 0800 111 0 111, 08001110111 or 717-003-717").phones == 3);
}

TEST_CASE("redaction never splits a UTF-8 character") {
    const std::vector<std::string> pieces = {
        "\u00E9", "\u00A0", "\u202F", "\u4F60", "\U0001F4DE", "@", ".",   "-", " ", "+", "(",
        ")",      "0",      "5",      "9",      "a",          "Z", "com", ":", "/", "$", "\u20AC"};
    std::mt19937 rng(7);
    std::uniform_int_distribution<std::size_t> pick(0, pieces.size() - 1);
    for (int round = 0; round < 2000; ++round) {
        std::string text;
        for (int i = 0; i < 40; ++i) text += pieces[pick(rng)];
        const RedactionResult result = redact_contact_details(text);
        REQUIRE_MESSAGE(is_valid_utf8(result.text), "input: " << text);
    }
}

TEST_CASE("redaction stays linear on hostile input") {
    std::string at_signs;
    std::string digits;
    for (int i = 0; i < 200'000; ++i) {
        at_signs += "a@";
        digits += "1 ";
    }
    CHECK(redact_contact_details(at_signs).text == at_signs);
    const RedactionResult spaced = redact_contact_details(digits);
    // Every start has more than 15 digits ahead of it except the last fifteen, which do
    // read as one number.
    CHECK(spaced.phones == 1);
    CHECK(is_valid_utf8(spaced.text));
}
