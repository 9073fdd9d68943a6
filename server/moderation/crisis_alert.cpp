#include "moderation/crisis_alert.hpp"

namespace haven::moderation {

v1::Alert crisis_alert(const CrisisDetector& detector, const std::string& room_id,
                       const CrisisMatch& match, HumanSide human_side) {
    v1::Alert alert;
    alert.set_kind(v1::Alert::CRISIS_RESOURCES);
    alert.set_room_id(room_id);
    // A post in a language no list is for gets the default list's panel and resources (the
    // list that matched is only the one whose words the post happened to share).
    const std::string locale = match.language_unlisted ? detector.default_locale() : match.locale;
    const CrisisPanel& panel = detector.panel(locale);
    alert.set_locale(locale);
    alert.set_headline(panel.headline);
    alert.set_message(match.language_unlisted ? panel.unlisted_language + " " + panel.message
                                              : panel.message);
    alert.set_private_note(panel.private_note);
    alert.set_moderator_on_duty(human_side == HumanSide::moderator_told);
    if (human_side != HumanSide::untold) {
        alert.set_human_note(human_side == HumanSide::moderator_told ? panel.moderator_told
                                                                     : panel.nobody_on_duty);
    }
    for (const auto& resource : detector.resources(locale)) {
        v1::CrisisResource* out = alert.add_resources();
        out->set_name(resource.name);
        out->set_phone(resource.phone);
        out->set_text(resource.text);
        out->set_url(resource.url);
        out->set_hours(resource.hours);
    }
    return alert;
}

void describe_crisis(const CrisisMatch& match, v1::ModerationItem& item) {
    item.set_urgent(match.severity == CrisisSeverity::urgent);
    item.set_matched(match.excerpt);
    item.set_risk_concept(match.concept_name);
    item.set_rule(match.rule);
    item.set_severity(std::string(severity_name(match.severity)));
}

std::vector<std::string> phone_numbers_in(std::string_view field) {
    std::vector<std::string> numbers;
    std::string current;
    std::size_t digits = 0;
    const auto flush = [&] {
        if (digits >= 3) numbers.push_back(current);
        current.clear();
        digits = 0;
    };
    for (char c : field) {
        const bool digit = c >= '0' && c <= '9';
        if (digit || c == ' ' || c == '+' || c == '-' || c == '.') {
            current.push_back(c);
            digits += digit ? 1 : 0;
        } else {
            flush();
        }
    }
    flush();
    return numbers;
}

std::vector<std::string> crisis_line_numbers(const CrisisDetector* detector) {
    std::vector<std::string> numbers;
    if (detector == nullptr) return numbers;
    for (const auto& list : detector->lists()) {
        for (const auto& resource : list.resources) {
            for (std::string& number : phone_numbers_in(resource.phone)) {
                numbers.push_back(std::move(number));
            }
        }
    }
    return numbers;
}

}  // namespace haven::moderation
