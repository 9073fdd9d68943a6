// Loading crisis lists (config/crisis/<locale>.toml): every key checked, every mistake one
// line naming the file and key, because a list that silently loads wrong is a safety gap.
// Over 400 lines: one loader for the one file format, each table in its own function.
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <stdexcept>
#include <system_error>
#include <utility>

#include <toml++/toml.h>

#include "config/toml_hazards.hpp"
#include "moderation/crisis_detector.hpp"

namespace haven::moderation {
namespace {

// A phrase shorter than this, once normalised, matches far too much ("me", "die" inside
// ordinary chatter) to be useful as an alert.
constexpr std::size_t kMinPhraseLetters = 3;

// Letters a phrase is searched by: spaces out, and a letter shared by two words counted once.
std::size_t joined_letter_count(std::string_view phrase) {
    std::size_t count = 0;
    char previous = '\0';
    for (const char c : normalize_for_matching(phrase)) {
        if (c == ' ' || c == previous) continue;
        previous = c;
        ++count;
    }
    return count;
}

bool is_control(char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte < 0x20 || byte == 0x7f;
}

// Errors end up in one log line; file names and values must not be able to break it.
std::string one_line(std::string text) {
    std::replace_if(text.begin(), text.end(), is_control, ' ');
    return text;
}

[[noreturn]] void fail(const std::filesystem::path& file, std::string_view key,
                       std::string_view what) {
    std::string message = "crisis list " + file.string() + ": ";
    if (!key.empty()) message.append(key).append(": ");
    message.append(what);
    throw std::runtime_error(one_line(std::move(message)));
}

std::string indexed(std::string_view key, std::size_t index) {
    return std::string(key) + "[" + std::to_string(index) + "]";
}

void allow_only(const toml::table& table, std::initializer_list<std::string_view> known,
                const std::filesystem::path& file, std::string_view prefix) {
    for (auto&& [key, node] : table) {
        if (std::find(known.begin(), known.end(), key.str()) != known.end()) continue;
        std::string expected;
        for (const std::string_view name : known) {
            expected += expected.empty() ? "" : ", ";
            expected += name;
        }
        fail(file, std::string(prefix) + std::string(key.str()),
             "unknown key (expected one of: " + expected + ")");
    }
}

std::string read_string(const toml::node& node, const std::filesystem::path& file,
                        const std::string& key) {
    const auto* value = node.as_string();
    if (value == nullptr) fail(file, key, "must be a string");
    const std::string& text = value->get();
    if (std::any_of(text.begin(), text.end(), is_control)) {
        fail(file, key, "must not contain control characters");
    }
    return text;
}

const toml::array& read_array(const toml::table& table, std::string_view key,
                              const std::filesystem::path& file) {
    const toml::node* node = table.get(key);
    if (node == nullptr) fail(file, key, "missing");
    const toml::array* array = node->as_array();
    if (array == nullptr || array->empty()) fail(file, key, "must be a non-empty array");
    return *array;
}

// The locale must repeat the file name, which catches a copied file whose locale was never
// changed (es.toml still saying "en" would hide the Spanish resources).
std::string parse_locale(const toml::table& root, const std::filesystem::path& file) {
    const toml::node* node = root.get("locale");
    if (node == nullptr) fail(file, "locale", "missing");
    std::string locale = read_string(*node, file, "locale");
    const std::string expected = file.stem().string();
    if (locale != expected) {
        fail(file, "locale",
             "is \"" + locale + "\" but the file is named for \"" + expected + "\"");
    }
    return locale;
}

// Concept names become part of rule names in the audit log: short, and safe anywhere.
constexpr std::size_t kMaxConceptBytes = 32;

bool valid_concept(std::string_view name) {
    return !name.empty() && name.size() <= kMaxConceptBytes &&
           std::all_of(name.begin(), name.end(), [](char c) {
               return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
           });
}

void append_phrases(const toml::array& array, const std::string& key,
                    const std::string& concept_name, const std::filesystem::path& file,
                    LocaleList& list) {
    if (array.empty()) fail(file, key, "must be a non-empty array");
    for (std::size_t i = 0; i < array.size(); ++i) {
        const std::string element_key = indexed(key, i);
        std::string phrase = read_string(array[i], file, element_key);
        if (joined_letter_count(phrase) < kMinPhraseLetters) {
            fail(file, element_key,
                 "\"" + phrase + "\" has fewer than " + std::to_string(kMinPhraseLetters) +
                     " letters once normalised and would match almost anything");
        }
        list.phrases.push_back(std::move(phrase));
        list.concepts.push_back(concept_name);
    }
}

// A table's entries in the order the file lists them (toml++ iterates by name), because the
// order of concepts is the order of preference among matches of equal severity.
std::vector<std::pair<std::string, const toml::node*>> in_file_order(const toml::table& table) {
    std::vector<std::pair<std::string, const toml::node*>> entries;
    for (auto&& [name, value] : table) entries.emplace_back(std::string(name.str()), &value);
    std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
        const toml::source_position& left = a.second->source().begin;
        const toml::source_position& right = b.second->source().begin;
        return left.line != right.line ? left.line < right.line : left.column < right.column;
    });
    return entries;
}

const toml::table* optional_table(const toml::table& root, std::string_view key,
                                  const std::filesystem::path& file) {
    const toml::node* node = root.get(key);
    if (node == nullptr) return nullptr;
    const toml::table* table = node->as_table();
    if (table == nullptr) fail(file, key, "must be a table");
    return table;
}

std::vector<std::string> read_strings(const toml::node& node, const std::filesystem::path& file,
                                      const std::string& key) {
    const toml::array* array = node.as_array();
    if (array == nullptr || array->empty()) fail(file, key, "must be a non-empty array");
    std::vector<std::string> strings;
    for (std::size_t i = 0; i < array->size(); ++i) {
        strings.push_back(read_string((*array)[i], file, indexed(key, i)));
    }
    return strings;
}

void check_name(std::string_view name, const std::filesystem::path& file, const std::string& key) {
    if (!valid_concept(name)) {
        fail(file, key,
             "a name must be 1 to " + std::to_string(kMaxConceptBytes) + " of a-z, 0-9 and _");
    }
}

// [words]: name = ["alternative", ...], each alternative checked as rules will read it.
void parse_words(const toml::table& root, const std::filesystem::path& file, LocaleList& list) {
    const toml::table* table = optional_table(root, "words", file);
    if (table == nullptr) return;
    for (const auto& [name, value] : in_file_order(*table)) {
        const std::string key = "words." + name;
        check_name(name, file, key);
        std::vector<WordSequence>& alternatives = list.words[name];
        const std::vector<std::string> strings = read_strings(*value, file, key);
        for (std::size_t i = 0; i < strings.size(); ++i) {
            try {
                alternatives.push_back(parse_word_sequence(strings[i]));
            } catch (const std::invalid_argument& error) {
                fail(file, indexed(key, i), error.what());
            }
        }
    }
}

void check_pattern(const std::string& pattern, const LocaleList& list,
                   const std::filesystem::path& file, const std::string& key) {
    try {
        (void)CrisisPattern(pattern, list.words);
    } catch (const std::invalid_argument& error) {
        fail(file, key, "\"" + pattern + "\": " + error.what());
    }
}

// [rules] (concept = ["pattern", ...]) and [context] (kind = ["pattern", ...]): each pattern
// checked, then handed to `add` with its group's name.
template <class Add>
void parse_pattern_groups(const toml::table& root, std::string_view table_name,
                          const std::filesystem::path& file, const LocaleList& list, Add add) {
    const toml::table* table = optional_table(root, table_name, file);
    if (table == nullptr) return;
    for (const auto& [name, value] : in_file_order(*table)) {
        const std::string key = std::string(table_name) + "." + name;
        check_name(name, file, key);
        const std::vector<std::string> patterns = read_strings(*value, file, key);
        for (std::size_t i = 0; i < patterns.size(); ++i) {
            check_pattern(patterns[i], list, file, indexed(key, i));
            add(name, patterns[i]);
        }
    }
}

// [severity]: concept = "urgent" | "concern"
void parse_severities(const toml::table& root, const std::filesystem::path& file,
                      LocaleList& list) {
    const toml::table* table = optional_table(root, "severity", file);
    if (table == nullptr) return;
    for (auto&& [name, value] : *table) {
        const std::string key = "severity." + std::string(name.str());
        check_name(name.str(), file, key);
        const std::string tier = read_string(value, file, key);
        if (tier == "urgent") {
            list.severities[std::string(name.str())] = CrisisSeverity::urgent;
        } else if (tier == "concern") {
            list.severities[std::string(name.str())] = CrisisSeverity::concern;
        } else {
            fail(file, key, "must be \"urgent\" or \"concern\"");
        }
    }
}

constexpr std::size_t kMaxNegationWindow = 8;

// [negation]: words = [...], unless = [...], window = N
void parse_negation(const toml::table& root, const std::filesystem::path& file, LocaleList& list) {
    const toml::table* table = optional_table(root, "negation", file);
    if (table == nullptr) return;
    allow_only(*table, {"words", "unless", "window"}, file, "negation.");
    const auto alternatives = [&](std::string_view name, std::vector<std::string>& out) {
        const toml::node* node = table->get(name);
        if (node == nullptr) return;
        const std::string key = "negation." + std::string(name);
        out = read_strings(*node, file, key);
        for (std::size_t i = 0; i < out.size(); ++i) {
            try {
                (void)parse_word_sequence(out[i]);
            } catch (const std::invalid_argument& error) {
                fail(file, indexed(key, i), error.what());
            }
        }
    };
    alternatives("words", list.negations);
    alternatives("unless", list.negation_breakers);
    if (const toml::node* node = table->get("window")) {
        const auto* window = node->as_integer();
        if (window == nullptr || window->get() < 1 ||
            window->get() > static_cast<std::int64_t>(kMaxNegationWindow)) {
            fail(file, "negation.window",
                 "must be a whole number from 1 to " + std::to_string(kMaxNegationWindow));
        }
        list.negation_window = static_cast<std::size_t>(window->get());
    }
}

// [language]: words = [...], the language's most common words (see CrisisDetector).
void parse_language(const toml::table& root, const std::filesystem::path& file, LocaleList& list) {
    const toml::table* table = optional_table(root, "language", file);
    if (table == nullptr) return;
    allow_only(*table, {"words"}, file, "language.");
    const toml::node* node = table->get("words");
    if (node == nullptr) fail(file, "language.words", "missing");
    list.common_words = read_strings(*node, file, "language.words");
    for (std::size_t i = 0; i < list.common_words.size(); ++i) {
        if (split_for_matching(list.common_words[i]).size() != 1) {
            fail(file, indexed("language.words", i), "must be one word");
        }
    }
}

// [panel]: headline, message, private_note, unlisted_language, moderator_told, nobody_on_duty;
// what is not given stays the default.
void parse_panel(const toml::table& root, const std::filesystem::path& file, LocaleList& list) {
    const toml::table* table = optional_table(root, "panel", file);
    if (table == nullptr) return;
    allow_only(*table,
               {"headline", "message", "private_note", "unlisted_language", "moderator_told",
                "nobody_on_duty"},
               file, "panel.");
    const auto field = [&](std::string_view name, std::string& out) {
        if (const toml::node* value = table->get(name)) {
            out = read_string(*value, file, "panel." + std::string(name));
            if (out.empty()) fail(file, "panel." + std::string(name), "must not be empty");
        }
    };
    field("headline", list.panel.headline);
    field("message", list.panel.message);
    field("private_note", list.panel.private_note);
    field("unlisted_language", list.panel.unlisted_language);
    field("moderator_told", list.panel.moderator_told);
    field("nobody_on_duty", list.panel.nobody_on_duty);
}

// `phrases = [...]` (one concept), or `[phrases]` with one array per concept, taken in the
// order the file lists them (toml++ tables iterate by name).
void parse_phrases(const toml::table& root, const std::filesystem::path& file, LocaleList& list) {
    const toml::node* node = root.get("phrases");
    if (node == nullptr) fail(file, "phrases", "missing");
    if (const toml::array* array = node->as_array()) {
        return append_phrases(*array, "phrases", kDefaultCrisisConcept, file, list);
    }
    const toml::table* table = node->as_table();
    if (table == nullptr || table->empty()) {
        fail(file, "phrases", "must be a non-empty array, or a table of concepts");
    }
    for (const auto& [name, value] : in_file_order(*table)) {
        const std::string key = "phrases." + name;
        if (!valid_concept(name)) {
            fail(file, key,
                 "a concept's name must be 1 to " + std::to_string(kMaxConceptBytes) +
                     " of a-z, 0-9 and _");
        }
        const toml::array* array = value->as_array();
        if (array == nullptr) fail(file, key, "must be a non-empty array");
        append_phrases(*array, key, name, file, list);
    }
}

CrisisResource parse_resource(const toml::node& node, const std::filesystem::path& file,
                              const std::string& key) {
    const toml::table* table = node.as_table();
    if (table == nullptr) fail(file, key, "must be a table");
    allow_only(*table, {"name", "phone", "text", "url", "hours"}, file, key + ".");

    CrisisResource resource;
    const auto field = [&](std::string_view name, std::string& out) {
        if (const toml::node* value = table->get(name)) {
            out = read_string(*value, file, key + "." + std::string(name));
        }
    };
    field("name", resource.name);
    field("phone", resource.phone);
    field("text", resource.text);
    field("url", resource.url);
    field("hours", resource.hours);
    if (resource.name.empty()) fail(file, key + ".name", "missing or empty");
    if (resource.phone.empty() && resource.text.empty() && resource.url.empty()) {
        fail(file, key, "needs at least one of phone, text or url");
    }
    return resource;
}

std::vector<CrisisResource> parse_resources(const toml::table& root,
                                            const std::filesystem::path& file) {
    const toml::array& array = read_array(root, "resources", file);
    std::vector<CrisisResource> resources;
    resources.reserve(array.size());
    for (std::size_t i = 0; i < array.size(); ++i) {
        resources.push_back(parse_resource(array[i], file, indexed("resources", i)));
    }
    return resources;
}

LocaleList parse_list_file(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in && !in.eof()) fail(file, "", "cannot be read");
    const auto at = [&](std::size_t line, std::size_t column) {
        return "line " + std::to_string(line) + ", column " + std::to_string(column) + ": ";
    };
    // What toml++ 3.3 would answer with undefined behaviour instead of a parse error.
    if (const auto hazard = config::find_toml_hazard(text)) {
        fail(file, "", at(hazard->line, hazard->column) + hazard->what);
    }
    toml::table root;
    try {
        root = toml::parse(text, file.string());
    } catch (const toml::parse_error& error) {
        const toml::source_position& where = error.source().begin;
        fail(file, "", at(where.line, where.column) + std::string(error.description()));
    }
    allow_only(root,
               {"locale", "phrases", "resources", "severity", "words", "rules", "signals",
                "negation", "context", "language", "panel"},
               file, "");
    LocaleList list;
    list.locale = parse_locale(root, file);
    parse_phrases(root, file, list);
    parse_severities(root, file, list);
    parse_words(root, file, list);  // before the patterns that use them
    parse_pattern_groups(root, "rules", file, list,
                         [&](const std::string& name, const std::string& p) {
                             list.rules.push_back({name, p});
                         });
    parse_pattern_groups(root, "signals", file, list,
                         [&](const std::string& name, const std::string& p) {
                             list.signals.push_back({name, p});
                         });
    parse_negation(root, file, list);
    parse_pattern_groups(root, "context", file, list,
                         [&](const std::string& name, const std::string& p) {
                             list.contexts.push_back({name, p});
                         });
    parse_language(root, file, list);
    parse_panel(root, file, list);
    list.resources = parse_resources(root, file);
    return list;
}

std::vector<std::filesystem::path> list_files(const std::string& directory) {
    std::vector<std::filesystem::path> files;
    std::error_code error;
    std::filesystem::directory_iterator it(directory, error);
    for (; !error && it != std::filesystem::directory_iterator(); it.increment(error)) {
        const std::filesystem::directory_entry& entry = *it;
        if (entry.path().extension() == ".toml" && entry.is_regular_file()) {
            files.push_back(entry.path());
        }
    }
    if (error) {
        throw std::runtime_error(
            one_line("crisis lists: cannot read directory " + directory + ": " + error.message()));
    }
    std::sort(files.begin(), files.end());
    return files;
}

}  // namespace

std::vector<LocaleList> load_crisis_lists(const std::string& directory) {
    const std::vector<std::filesystem::path> files = list_files(directory);
    if (files.empty()) {
        throw std::runtime_error(one_line("crisis lists: no *.toml files in " + directory));
    }
    std::vector<LocaleList> lists;
    lists.reserve(files.size());
    for (const std::filesystem::path& file : files) lists.push_back(parse_list_file(file));
    return lists;
}

}  // namespace haven::moderation
