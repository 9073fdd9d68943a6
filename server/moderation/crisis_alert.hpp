// What a person whose post shows crisis language is shown (the support resources for the
// matched locale), and the crisis lines' numbers, which redaction leaves alone: people share
// them with each other on purpose.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "haven.pb.h"
#include "moderation/crisis_detector.hpp"

namespace haven::moderation {

// What the person is told about the human side, under the resources.
enum class HumanSide : std::uint8_t {
    untold,          // safety.tell_author is off
    moderator_told,  // a moderator on duty for the room was let know
    nobody_on_duty,  // none is: the resources are the way to get help now
};

v1::Alert crisis_alert(const CrisisDetector& detector, const std::string& room_id,
                       const CrisisMatch& match, HumanSide human_side);

// Fills a moderation item's account of a match: the words, the concept, the rule and the
// severity (urgent items go to the top of the queue; concerns follow them, by age).
void describe_crisis(const CrisisMatch& match, v1::ModerationItem& item);

// The separate numbers in a resource's phone field, e.g. "0800 111 0 111, 0800 111 0 222
// oder 116 123": runs of digits and the spacing people write inside numbers.
std::vector<std::string> phone_numbers_in(std::string_view field);

// Every number of every configured crisis line (none without a detector).
std::vector<std::string> crisis_line_numbers(const CrisisDetector* detector);

}  // namespace haven::moderation
