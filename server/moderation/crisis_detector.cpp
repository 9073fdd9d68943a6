// Crisis-language detection. The matching rules and their limits are described in the
// header; this file keeps each rule in its own small function so the reasoning stays
// checkable against that description.
// Over 400 lines: the normalisation, the matching rules and the list loader are one detector.
#include "moderation/crisis_detector.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <span>
#include <stdexcept>
#include <system_error>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include <toml++/toml.h>

#include "config/toml_hazards.hpp"

namespace haven::moderation {
namespace {

// ---- reading UTF-8 ---------------------------------------------------------------------------

struct CodePoint {
    char32_t value;
    std::size_t length;  // bytes consumed
};

constexpr char32_t kReplacementCharacter = 0xFFFD;

// Malformed bytes decode as U+FFFD one byte at a time: they then separate words like any
// other unknown character, and scanning never stops early on hostile input.
CodePoint decode_utf8(std::string_view text, std::size_t pos) {
    const auto lead = static_cast<unsigned char>(text[pos]);
    if (lead < 0x80) return {lead, 1};
    std::size_t length = 0;
    char32_t value = 0;
    if ((lead & 0xE0) == 0xC0) {
        length = 2;
        value = lead & 0x1F;
    } else if ((lead & 0xF0) == 0xE0) {
        length = 3;
        value = lead & 0x0F;
    } else if ((lead & 0xF8) == 0xF0) {
        length = 4;
        value = lead & 0x07;
    } else {
        return {kReplacementCharacter, 1};
    }
    if (pos + length > text.size()) return {kReplacementCharacter, 1};
    for (std::size_t i = 1; i < length; ++i) {
        const auto byte = static_cast<unsigned char>(text[pos + i]);
        if ((byte & 0xC0) != 0x80) return {kReplacementCharacter, 1};
        value = (value << 6) | (byte & 0x3F);
    }
    return {value, length};
}

// ---- classifying characters ------------------------------------------------------------------

enum class UnitKind : std::uint8_t { letter, look_alike, separator };

// One character of the post, reduced to what matching needs.
struct Unit {
    UnitKind kind = UnitKind::separator;
    char source = '\0';        // look-alikes: the character as typed ('1', '$', ...)
    char letters[2] = {0, 0};  // a-z; a second letter only for "ß" -> "ss" and the like
};

Unit letter(char first, char second = '\0') {
    return {UnitKind::letter, '\0', {first, second}};
}
Unit look_alike(char source, char reads_as) {
    return {UnitKind::look_alike, source, {reads_as, 0}};
}
Unit separator() {
    return {};
}

bool is_symbol_look_alike(const Unit& unit) {
    return unit.kind == UnitKind::look_alike && (unit.source < '0' || unit.source > '9');
}

// Characters that commonly stand in for letters when people dodge filters. 2, 6, 8 and 9
// have no single reading and separate words instead.
char look_alike_reading(char c) {
    switch (c) {
        case '0':
            return 'o';
        case '1':
        case '!':
        case '|':
            return 'i';
        case '3':
            return 'e';
        case '4':
        case '@':
            return 'a';
        case '5':
        case '$':
            return 's';
        case '7':
            return 't';
        default:
            return '\0';
    }
}

// Base letters for U+00C0..U+00FF. '*' marks characters that are not one base letter:
// Æ æ Þ þ ß become two letters, × ÷ separate words.
constexpr std::string_view kLatin1BaseLetters =
    "aaaaaa*ceeeeiiiidnooooo*ouuuuy**aaaaaa*ceeeeiiiidnooooo*ouuuuy*y";
static_assert(kLatin1BaseLetters.size() == 0x40);

// Base letters for U+0100..U+017F (Latin Extended-A); '*' marks the ligatures Ĳ ĳ Œ œ.
constexpr std::string_view kLatinExtendedABaseLetters =
    "aaaaaa"        // U+0100 Ā ā Ă ă Ą ą
    "cccccccc"      // U+0106 Ć ć Ĉ ĉ Ċ ċ Č č
    "dddd"          // U+010E Ď ď Đ đ
    "eeeeeeeeee"    // U+0112 Ē ē Ĕ ĕ Ė ė Ę ę Ě ě
    "gggggggg"      // U+011C Ĝ ĝ Ğ ğ Ġ ġ Ģ ģ
    "hhhh"          // U+0124 Ĥ ĥ Ħ ħ
    "iiiiiiiiii"    // U+0128 Ĩ ĩ Ī ī Ĭ ĭ Į į İ ı
    "**"            // U+0132 Ĳ ĳ
    "jj"            // U+0134 Ĵ ĵ
    "kkk"           // U+0136 Ķ ķ ĸ
    "llllllllll"    // U+0139 Ĺ ĺ Ļ ļ Ľ ľ Ŀ ŀ Ł ł
    "nnnnnnnnn"     // U+0143 Ń ń Ņ ņ Ň ň ŉ Ŋ ŋ
    "oooooo"        // U+014C Ō ō Ŏ ŏ Ő ő
    "**"            // U+0152 Œ œ
    "rrrrrr"        // U+0154 Ŕ ŕ Ŗ ŗ Ř ř
    "ssssssss"      // U+015A Ś ś Ŝ ŝ Ş ş Š š
    "tttttt"        // U+0162 Ţ ţ Ť ť Ŧ ŧ
    "uuuuuuuuuuuu"  // U+0168 Ũ ũ Ū ū Ŭ ŭ Ů ů Ű ű Ų ų
    "ww"            // U+0174 Ŵ ŵ
    "yyy"           // U+0176 Ŷ ŷ Ÿ
    "zzzzzz"        // U+0179 Ź ź Ż ż Ž ž
    "s";            // U+017F ſ
static_assert(kLatinExtendedABaseLetters.size() == 0x80);

Unit fold_latin1(char32_t cp) {
    switch (cp) {
        case 0xC6:  // Æ
        case 0xE6:  // æ
            return letter('a', 'e');
        case 0xDE:  // Þ
        case 0xFE:  // þ
            return letter('t', 'h');
        case 0xDF:  // ß
            return letter('s', 's');
        default:
            break;
    }
    const char base = kLatin1BaseLetters[cp - 0xC0];
    return base == '*' ? separator() : letter(base);
}

Unit fold_latin_extended_a(char32_t cp) {
    switch (cp) {
        case 0x132:  // Ĳ
        case 0x133:  // ĳ
            return letter('i', 'j');
        case 0x152:  // Œ
        case 0x153:  // œ
            return letter('o', 'e');
        default:
            return letter(kLatinExtendedABaseLetters[cp - 0x100]);
    }
}

// Characters with no visible width or that only decorate the previous letter: dropping them
// (rather than separating words) undoes "s\u200Buicide" and decomposed accents ("i\u0301").
bool is_invisible(char32_t cp) {
    return (cp >= 0x300 && cp <= 0x36F)       // combining diacritical marks
           || (cp >= 0x1AB0 && cp <= 0x1AFF)  // combining marks, extended
           || (cp >= 0x1DC0 && cp <= 0x1DFF)  // combining marks, supplement
           || (cp >= 0x20D0 && cp <= 0x20FF)  // combining marks for symbols
           || (cp >= 0xFE00 && cp <= 0xFE0F)  // variation selectors
           || (cp >= 0x200B && cp <= 0x200D)  // zero-width space, non-joiner, joiner
           || cp == 0x00AD                    // soft hyphen
           || cp == 0x2060                    // word joiner
           || cp == 0xFEFF;                   // zero-width no-break space
}

Unit classify_ascii(char c) {
    if (c >= 'A' && c <= 'Z') return letter(static_cast<char>(c - 'A' + 'a'));
    if (c >= 'a' && c <= 'z') return letter(c);
    if (const char reading = look_alike_reading(c)) return look_alike(c, reading);
    return separator();
}

// Nothing for characters to drop; otherwise the unit the character stands for.
std::optional<Unit> classify(char32_t cp) {
    constexpr char32_t kFullwidthFirst = 0xFF01;  // fullwidth '!'
    constexpr char32_t kFullwidthLast = 0xFF5E;   // fullwidth '~'
    constexpr char32_t kFullwidthOffset = 0xFEE0;
    if (cp >= kFullwidthFirst && cp <= kFullwidthLast) cp -= kFullwidthOffset;
    if (cp < 0x80) return classify_ascii(static_cast<char>(cp));
    if (is_invisible(cp)) return std::nullopt;
    if (cp >= 0xC0 && cp <= 0xFF) return fold_latin1(cp);
    if (cp >= 0x100 && cp <= 0x17F) return fold_latin_extended_a(cp);
    return separator();
}

std::vector<Unit> decode_units(std::string_view text) {
    std::vector<Unit> units;
    units.reserve(text.size());
    for (std::size_t pos = 0; pos < text.size();) {
        const CodePoint cp = decode_utf8(text, pos);
        pos += cp.length;
        if (const auto unit = classify(cp.value)) units.push_back(*unit);
    }
    return units;
}

// ---- look-alikes -----------------------------------------------------------------------------

// Decides what the look-alikes in one token (a run without separators) mean. A token with
// no real letter is a number or an emoticon and stays out of matching ("24/7", "10:30",
// "<3"). In a token with letters, digits read as letters; symbols only between letters, so
// trailing "!!!" and a leading "@" of a mention stay punctuation. A leading '$' is the one
// exception, because "$uicide" is how it is usually used.
void resolve_token(std::span<Unit> token) {
    const bool has_letter = std::any_of(token.begin(), token.end(),
                                        [](const Unit& u) { return u.kind == UnitKind::letter; });
    if (!has_letter) {
        std::fill(token.begin(), token.end(), separator());
        return;
    }
    std::size_t begin = 0;
    std::size_t end = token.size();
    while (begin < end && is_symbol_look_alike(token[begin]) && token[begin].source != '$') {
        token[begin++] = separator();
    }
    while (end > begin && is_symbol_look_alike(token[end - 1])) token[--end] = separator();
    for (std::size_t i = begin; i < end; ++i) {
        if (token[i].kind == UnitKind::look_alike) token[i] = letter(token[i].letters[0]);
    }
}

void resolve_look_alikes(std::vector<Unit>& units) {
    std::size_t start = 0;
    while (start < units.size()) {
        if (units[start].kind == UnitKind::separator) {
            ++start;
            continue;
        }
        std::size_t end = start;
        while (end < units.size() && units[end].kind != UnitKind::separator) ++end;
        resolve_token(std::span<Unit>(units).subspan(start, end - start));
        start = end;
    }
}

// Letters as words separated by single spaces, each run of one letter within a word
// collapsed to one letter.
std::string render_words(const std::vector<Unit>& units) {
    std::string words;
    words.reserve(units.size());
    bool word_ended = false;
    for (const Unit& unit : units) {
        if (unit.kind != UnitKind::letter) {
            word_ended = !words.empty();
            continue;
        }
        for (const char c : unit.letters) {
            if (c == '\0') break;
            if (word_ended) {
                words += ' ';
                word_ended = false;
            } else if (!words.empty() && words.back() == c) {
                continue;
            }
            words += c;
        }
    }
    return words;
}

// ---- searching -------------------------------------------------------------------------------

constexpr std::uint8_t kStartsWord = 1;
constexpr std::uint8_t kEndsWord = 2;

// Normalised words with the spaces taken out, and for each letter whether a word starts or
// ends there. Searching the joined letters is what makes "s u i c i d e" one word; the
// edges are what keep "skill myself" from matching "kill myself".
struct JoinedWords {
    std::string letters;
    std::vector<std::uint8_t> edges;
};

JoinedWords join_words(std::string_view words) {
    JoinedWords joined;
    joined.letters.reserve(words.size());
    joined.edges.reserve(words.size());
    bool at_word_start = true;
    for (const char c : words) {
        if (c == ' ') {
            if (!joined.edges.empty()) joined.edges.back() |= kEndsWord;
            at_word_start = true;
            continue;
        }
        if (!joined.letters.empty() && joined.letters.back() == c) {
            // One word ends with the letter the next starts with ("to overdose"). Collapse
            // them as within a word, so "k i l l" reads as "kil" too, but keep both roles
            // so a phrase may start or end on this letter.
            if (at_word_start) joined.edges.back() |= kStartsWord;
        } else {
            joined.letters += c;
            joined.edges.push_back(at_word_start ? kStartsWord : 0);
        }
        at_word_start = false;
    }
    if (!joined.edges.empty()) joined.edges.back() |= kEndsWord;
    return joined;
}

JoinedWords prepare_for_search(std::string_view text) {
    return join_words(normalize_for_matching(text));
}

// Endings accepted after a phrase's last word ("overdosed", "suicides").
constexpr std::array<std::string_view, 5> kPhraseEndings = {"s", "es", "d", "ed", "ing"};

bool ends_a_word(const JoinedWords& text, std::size_t end) {
    if (text.edges[end - 1] & kEndsWord) return true;
    const std::string_view letters = text.letters;
    return std::any_of(kPhraseEndings.begin(), kPhraseEndings.end(), [&](std::string_view ending) {
        const std::size_t last = end + ending.size() - 1;
        return last < letters.size() && letters.substr(end, ending.size()) == ending &&
               (text.edges[last] & kEndsWord) != 0;
    });
}

bool occurs_as_words(const JoinedWords& text, std::string_view phrase) {
    const std::string_view letters = text.letters;
    for (std::size_t pos = letters.find(phrase); pos != std::string_view::npos;
         pos = letters.find(phrase, pos + 1)) {
        if ((text.edges[pos] & kStartsWord) && ends_a_word(text, pos + phrase.size())) return true;
    }
    return false;
}

std::string ascii_lower(std::string_view text) {
    std::string lower(text);
    for (char& c : lower) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return lower;
}

// ---- loading ---------------------------------------------------------------------------------

// A phrase shorter than this, once normalised, matches far too much ("me", "die" inside
// ordinary chatter) to be useful as an alert.
constexpr std::size_t kMinPhraseLetters = 3;

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
        if (prepare_for_search(phrase).letters.size() < kMinPhraseLetters) {
            fail(file, element_key,
                 "\"" + phrase + "\" has fewer than " + std::to_string(kMinPhraseLetters) +
                     " letters once normalised and would match almost anything");
        }
        list.phrases.push_back(std::move(phrase));
        list.concepts.push_back(concept_name);
    }
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
    std::vector<std::pair<std::string, const toml::node*>> concepts;
    for (auto&& [name, value] : *table) concepts.emplace_back(std::string(name.str()), &value);
    std::stable_sort(concepts.begin(), concepts.end(), [](const auto& a, const auto& b) {
        const toml::source_position& left = a.second->source().begin;
        const toml::source_position& right = b.second->source().begin;
        return left.line != right.line ? left.line < right.line : left.column < right.column;
    });
    for (const auto& [name, value] : concepts) {
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
    allow_only(root, {"locale", "phrases", "resources"}, file, "");
    LocaleList list;
    list.locale = parse_locale(root, file);
    parse_phrases(root, file, list);
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

std::string normalize_for_matching(std::string_view text) {
    std::vector<Unit> units = decode_units(text);
    resolve_look_alikes(units);
    return render_words(units);
}

CrisisDetector::CrisisDetector(std::vector<LocaleList> lists) : lists_(std::move(lists)) {
    std::unordered_set<std::string> seen;
    for (std::size_t list = 0; list < lists_.size(); ++list) {
        const LocaleList& locale_list = lists_[list];
        // Rules count from 1 within each concept, skipped phrases included, so that a rule
        // name always points at the same line of the file.
        std::unordered_map<std::string, std::size_t> numbers;
        for (std::size_t phrase = 0; phrase < locale_list.phrases.size(); ++phrase) {
            const std::string& concept_name = phrase < locale_list.concepts.size()
                                                  ? locale_list.concepts[phrase]
                                                  : std::string(kDefaultCrisisConcept);
            const std::size_t number = ++numbers[concept_name];
            std::string letters = prepare_for_search(locale_list.phrases[phrase]).letters;
            // An empty phrase would match at every word; a repeat would only cost time.
            if (letters.empty() || !seen.insert(letters).second) continue;
            std::string rule =
                locale_list.locale + "/" + concept_name + "/" + std::to_string(number);
            search_phrases_.push_back({std::move(letters), list, phrase, std::move(rule)});
        }
    }
}

std::optional<CrisisMatch> CrisisDetector::scan(std::string_view text) const {
    if (search_phrases_.empty()) return std::nullopt;
    const JoinedWords words = prepare_for_search(text);
    for (const SearchPhrase& phrase : search_phrases_) {
        if (occurs_as_words(words, phrase.letters)) {
            const LocaleList& list = lists_[phrase.list_index];
            const std::size_t index = phrase.phrase_index;
            return CrisisMatch{
                list.locale, list.phrases[index],
                index < list.concepts.size() ? list.concepts[index] : kDefaultCrisisConcept,
                phrase.rule};
        }
    }
    return std::nullopt;
}

const std::vector<CrisisResource>& CrisisDetector::resources(std::string_view locale) const {
    static const std::vector<CrisisResource> kNoResources;
    const std::string wanted = ascii_lower(locale);
    const std::string language = wanted.substr(0, wanted.find_first_of("-_"));
    // Lists without resources are passed over: someone in crisis must always see something.
    for (const std::string_view candidate :
         {std::string_view(wanted), std::string_view(language), std::string_view("en")}) {
        if (candidate.empty()) continue;
        for (const LocaleList& list : lists_) {
            if (!list.resources.empty() && ascii_lower(list.locale) == candidate) {
                return list.resources;
            }
        }
    }
    for (const LocaleList& list : lists_) {
        if (!list.resources.empty()) return list.resources;
    }
    return kNoResources;
}

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
